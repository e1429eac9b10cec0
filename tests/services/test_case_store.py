"""Cases stored and reloaded: the core's state survives a round trip through the rows."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dbfixtures import T0
from qinglang.govern import cases as core
from qinglang.govern.actors import Actor
from qinglang.govern.case_dispositions import approve_disposition, propose_disposition
from qinglang.services.case_store import create_case, load_case, save_case
from qinglang.services.errors import ServiceError
from qinglang.store.audit_log import records_for, verify_log

OFFICER = Actor("user:1", frozenset({"officer"}), "police", "410000")
ANALYST = Actor("user:2", frozenset({"analyst"}), "police", "410000")
LEADER = Actor("user:3", frozenset({"leader"}), "police", "410000")


def test_round_trip_through_a_disposition(database) -> None:
    with database.write() as s:
        row, state = create_case(
            s,
            grounds=["gambling"],
            jurisdiction="410100",
            at=T0,
            created_by="system",
            title="  博彩  引流 ",
            source="public_tip",
        )
        case_id = row.id
    assert row.title == "博彩 引流" and state.lead_department == "police"
    steps = [
        lambda c, t: core.transition(c, "open", OFFICER, t),
        lambda c, t: core.transition(c, "assess", ANALYST, t),
        lambda c, t: propose_disposition(
            c, "penalty", {"amount": "5000.50"}, ANALYST, t, "情节较重"
        ),
        lambda c, t: core.transition(c, "dispose", ANALYST, t, "建议处罚"),
    ]
    for i, step in enumerate(steps, start=1):
        with database.write() as s:
            row, old = load_case(s, case_id, for_update=True)
            new, event = step(old, T0 + timedelta(minutes=i))
            save_case(s, row, old, new, event)
    with database.write() as s:
        row, old = load_case(s, case_id, for_update=True)
        new, event = approve_disposition(old, f"{case_id}/D1", LEADER, T0 + timedelta(hours=1))
        save_case(s, row, old, new, event)
    with database.read() as s:
        row, state = load_case(s, case_id)
        assert state.state is core.State.disposing
        (d,) = state.dispositions
        assert str(d.params["amount"]) == "5000.50" and d.status.value == "approved"
        kinds = [r.kind for r in records_for(s, f"case:{case_id}")]
        assert kinds[0] == "case.created" and kinds[-1] == "disposition.approved"
        assert verify_log(s).ok


def test_stale_version_is_refused(database) -> None:
    with database.write() as s:
        row, _ = create_case(s, grounds=["abuse"], jurisdiction="410000", at=T0, created_by="x")
        case_id = row.id
    with database.write() as s:
        row, old = load_case(s, case_id)
        new, event = core.transition(old, "open", OFFICER, T0 + timedelta(minutes=1))
        stale = core.CaseState(**{**{f: getattr(old, f) for f in old.__slots__}, "version": 5})
        with pytest.raises(ServiceError) as err:
            save_case(s, row, stale, new, event)
        assert err.value.status == 409


def test_unknown_ground_is_a_422(database) -> None:
    with database.write() as s, pytest.raises(ServiceError) as err:
        create_case(s, grounds=["nonsense"], jurisdiction="410000", at=T0, created_by="x")
    assert err.value.status == 422
