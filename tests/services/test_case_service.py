"""Case work through the services: scope, lists, commands, notices, overdue, the full journey.

Principals are plain values here (the services never look users up to authorise), so the
tests create only the rows the commands need: organisations, subjects and intake items.
"""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from qinglang.govern.actors import Role
from qinglang.services import cases, notices
from qinglang.services.errors import ServiceError
from qinglang.services.principal import Principal
from qinglang.services.users import create_organisation
from qinglang.store.audit_chain import AuditError, event_kind
from qinglang.store.audit_log import records_for, verify_log
from qinglang.store.blobs import BlobStore
from qinglang.store.models import Case, CaseDepartment, IntakeItem, Subject

T0 = datetime(2020, 9, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def P(uid: int, *roles: str, department: str | None = None, jurisdiction: str = "410000",
      org: int | None = None) -> Principal:  # fmt: skip
    return Principal(
        user_id=uid,
        username=f"u{uid}",
        roles=frozenset(Role(r) for r in roles),
        department=department,
        jurisdiction=jurisdiction,
        organisation_id=org,
    )


OFFICER = P(1, "officer", department="police")
ANALYST = P(2, "analyst", department="police")
LEADER = P(3, "leader", department="police")
LEADER2 = P(4, "leader", department="police", jurisdiction="100000")
CO_OFFICER = P(5, "officer", department="cyberspace")
OTHER_DEPT = P(6, "officer", department="education")
ELSEWHERE = P(7, "officer", department="police", jurisdiction="310000")
CITY_OFFICER = P(8, "officer", department="police", jurisdiction="410100")
ADMIN = P(9, "admin", jurisdiction="410000")


def t(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def code_of(exc: pytest.ExceptionInfo[ServiceError]) -> tuple[int, str]:
    return exc.value.status, exc.value.code


@pytest.fixture
def org(database) -> int:
    with database.write() as s:
        return create_organisation(
            s, name="某游戏公司", uscc=None, region="410100", by="system:test", at=T0
        ).id


@pytest.fixture
def subject(database, org) -> int:
    with database.write() as s:
        row = Subject(
            kind="game",
            name="某某传奇",
            organisation_id=org,
            region="410100",
            created_at=T0,
            updated_at=T0,
        )
        s.add(row)
        s.flush()
        return row.id


@pytest.fixture(params=["planner", "walk", "sort", "count"])
def plan(request, database, monkeypatch) -> str:
    """How list_cases reads on PostgreSQL: walk the time-ordered index, or fetch the few
    matches and sort them, as decided by the planner's estimate or by the bounded count.
    Each mode must give the same answers; SQLite always walks."""
    if request.param != "planner":
        if database.dialect != "postgresql":
            pytest.skip("SQLite has a single way to read")
        if request.param == "walk":
            monkeypatch.setattr(cases, "SORT_CANDIDATES", 0)
        elif request.param == "sort":
            monkeypatch.setattr(cases, "SORT_CANDIDATES", 10**9)
        else:  # an estimate in the grey zone forces the count
            monkeypatch.setattr(cases, "_estimate", lambda session, stmt: cases.SORT_CANDIDATES)
            monkeypatch.setattr(cases, "SORT_CANDIDATES", 3)
    return request.param


def new_case(database, who=OFFICER, *, at=T0, **kw) -> int:
    kw.setdefault("grounds", ["gambling"])
    kw.setdefault("jurisdiction", "410100")
    with database.write() as s:
        return cases.create_case(s, who, at=at, **kw).case.id


def act(database, who, case_id, action, at, **kw) -> cases.CaseDetail:
    with database.write() as s:
        return cases.act(s, who, case_id, action, at=at, **kw)


def propose(database, who, case_id, code, params, at, **kw) -> cases.CaseDetail:
    with database.write() as s:
        return cases.propose(s, who, case_id, code, params, at=at, **kw)


def decide(database, who, case_id, n, decision, at, **kw) -> cases.CaseDetail:
    with database.write() as s:
        return cases.decide(s, who, case_id, n, decision, at=at, **kw)


def add_tip(database, case_id: int, ticket: str, source: str = "public_tip") -> None:
    with database.write() as s:
        s.add(
            IntakeItem(
                ticket=ticket,
                source=source,
                status="linked",
                urls=[],
                jurisdiction="410100",
                categories=["gambling"],
                flags=[],
                created_by=f"public:{ticket}",
                case_id=case_id,
                received_at=T0,
                updated_at=T0,
            )
        )


def to_rectifying(database, case_id: int, deadline: str = "2020-09-30", start: float = 1) -> None:
    """open → assess → propose rectify → dispose → approve → notify."""
    act(database, OFFICER, case_id, "open", t(start))
    act(database, ANALYST, case_id, "assess", t(start + 1))
    propose(database, ANALYST, case_id, "rectify", {"deadline": deadline}, t(start + 2))
    act(database, ANALYST, case_id, "dispose", t(start + 3), reason="情节属实")
    detail = decide(
        database, LEADER, case_id, len(cases_of(database, case_id)), "approve", t(start + 4)
    )
    assert detail.case.state == "disposing"
    act(database, OFFICER, case_id, "notify", t(start + 5))


def cases_of(database, case_id: int) -> list[cases.DispositionView]:
    with database.read() as s:
        return cases.get_case(s, LEADER2, case_id).dispositions


# ---------------------------------------------------------------- the journey


def test_journey_from_lead_to_published_result(database, subject, org, tmp_path) -> None:
    operator = P(20, "operator", jurisdiction="410000", org=org)
    case_id = new_case(database, title="某某传奇 博彩引流", subject_id=subject, summary="巡查发现")
    add_tip(database, case_id, "QL-TIP-0001")

    opened = act(database, OFFICER, case_id, "open", t(1))
    assert opened.case.state == "opened"
    assert [(x.department, x.status) for x in opened.tasks] == [("cyberspace", "open")]
    task_id = opened.tasks[0].id
    with database.write() as s, pytest.raises(ServiceError) as err:
        cases.complete_task(s, OFFICER, case_id, task_id, at=t(2))
    assert code_of(err) == (403, "wrong_department")
    with database.write() as s:
        done = cases.complete_task(s, CO_OFFICER, case_id, task_id, at=t(2), note="已协查账号")
    assert done.tasks[0].status == "done" and done.tasks[0].note == "已协查账号"

    act(database, ANALYST, case_id, "assess", t(3))
    propose(database, ANALYST, case_id, "rectify", {"deadline": "2020-09-30"}, t(4))
    propose(database, ANALYST, case_id, "penalty", {"amount": "50000"}, t(5), reason="情节较重")
    d = act(database, ANALYST, case_id, "dispose", t(6), reason="研判属实，建议整改并处罚")
    assert d.case.state == "disposing"
    assert [x.action for x in d.allowed_actions] == []  # the analyst may not notify
    with database.write() as s, pytest.raises(ServiceError) as err:
        cases.act(s, OFFICER, case_id, "notify", at=t(7))
    assert code_of(err) == (409, "dispositions_pending")

    # Four eyes: the leader who proposes a measure cannot approve it; another leader can.
    propose(database, LEADER, case_id, "warning", {}, t(8))
    with database.write() as s, pytest.raises(ServiceError) as err:
        cases.decide(s, LEADER, case_id, 3, "approve", at=t(9))
    assert code_of(err) == (403, "self_approval")
    with database.write() as s, pytest.raises(ServiceError) as err:
        cases.decide(s, ANALYST, case_id, 1, "approve", at=t(9))
    assert code_of(err) == (403, "forbidden_role")
    for n in (1, 2):
        decide(database, LEADER, case_id, n, "approve", t(9 + n))
    approved = decide(database, LEADER2, case_id, 3, "approve", t(12), reason="同意")
    assert [x.status for x in approved.dispositions] == ["approved"] * 3
    assert approved.case.deadline == date(2020, 9, 30)

    notified = act(database, OFFICER, case_id, "notify", t(13))
    assert notified.case.state == "rectifying" and notified.warnings == []
    (notice,) = notified.notices
    assert notice.organisation_id == org and notice.status == "sent"
    assert notice.deadline == date(2020, 9, 30)
    assert [m.text for m in notice.dispositions] == [
        "责令限期整改（整改期限：2020-09-30）",
        "行政处罚（罚款金额（元）：50000.00）",
        "警告",
    ]

    # The operator sees the notice, another operator does not.
    with database.read() as s:
        page = notices.list_notices(s, operator, at=t(14))
        assert [n.id for n in page.items] == [notice.id]
        assert page.items[0].sent_by is None  # operators see the department, not the official
        assert page.items[0].issuer_department_name == "公安"
        with pytest.raises(ServiceError) as err:
            notices.get_notice(s, P(21, "operator", org=org + 1000), notice.id)
        assert code_of(err) == (404, "notice_not_found")
    blobs = BlobStore(tmp_path / "blobs")
    with database.write() as s:
        answered = notices.report_rectification(
            s,
            blobs,
            operator,
            notice.id,
            "已下架博彩引流内容，封禁相关账号",
            [notices.Attachment("../../整改截图.png", "image/png", PNG)],
            at=t(60 * 24),
        )
    assert answered.status == "answered" and answered.answered_at is not None
    (report,) = answered.rectifications
    assert report.attachments[0].name == "整改截图.png" and report.attachments[0].size == len(PNG)
    assert not report.late
    assert blobs.get(report.attachments[0].digest) == PNG

    act(database, OFFICER, case_id, "recheck", t(60 * 48))
    with database.write() as s, pytest.raises(ServiceError) as err:
        cases.act(s, OFFICER, case_id, "close", at=t(60 * 49))
    assert code_of(err) == (422, "public_result_required")
    closed = act(
        database,
        OFFICER,
        case_id,
        "close",
        t(60 * 49),
        public_result="经查属实，已责令整改并处罚。",
    )
    assert closed.case.state == "closed" and closed.case.closed_at is not None
    assert closed.public_result == "经查属实，已责令整改并处罚。"
    assert closed.public_tips == 1 and closed.intake_items == 1

    with database.read() as s:
        kinds = [r.kind for r in records_for(s, f"case:{case_id}")]
        published = [
            r for r in records_for(s, f"case:{case_id}") if r.kind == "case.result_published"
        ]
        assert published[0].payload == {
            "tickets": ["QL-TIP-0001"],
            "result": "经查属实，已责令整改并处罚。",
        }
        assert s.get(Case, case_id).public_result == "经查属实，已责令整改并处罚。"
        assert verify_log(s).ok
    assert kinds[:3] == ["case.created", "case.transition", "case.task_created"]
    for kind in (
        "case.task_done",
        "disposition.proposed",
        "disposition.approved",
        "notice.sent",
        "evidence.added",
        "rectification.reported",
        "case.result_published",
    ):
        assert kind in kinds
    assert kinds[-2:] == ["case.transition", "case.result_published"]


# ---------------------------------------------------------------- who sees what


def test_visibility_by_department_and_jurisdiction(database) -> None:
    zhengzhou = new_case(database, jurisdiction="410100")
    luoyang = new_case(database, jurisdiction="410300", at=t(1))
    national = new_case(database, LEADER2, jurisdiction="100000", at=t(2))

    def seen(who) -> list[int]:
        with database.read() as s:
            return [c.id for c in cases.list_cases(s, who).items]

    assert seen(OFFICER) == [luoyang, zhengzhou]  # province covers its cities, not the nation
    assert seen(LEADER2) == [national, luoyang, zhengzhou]
    assert seen(CITY_OFFICER) == [zhengzhou]
    assert seen(CO_OFFICER) == [luoyang, zhengzhou]  # cooperating department sees
    assert seen(OTHER_DEPT) == []
    assert seen(ELSEWHERE) == []
    assert seen(ADMIN) == [luoyang, zhengzhou]  # admins: everything in their jurisdiction
    with database.read() as s:
        for who in (OTHER_DEPT, ELSEWHERE):
            with pytest.raises(ServiceError) as err:
                cases.get_case(s, who, zhengzhou)
            assert code_of(err) == (404, "case_not_found")
        with pytest.raises(ServiceError) as err:
            cases.get_case(s, CITY_OFFICER, luoyang)
        assert code_of(err) == (404, "case_not_found")
        with pytest.raises(ServiceError) as err:
            cases.list_cases(s, P(30, "operator", org=1))
        assert code_of(err) == (403, "forbidden_role")
        admin_view = cases.get_case(s, ADMIN, zhengzhou)
        assert admin_view.allowed_actions == [] and not admin_view.can_propose
        co_view = cases.get_case(s, CO_OFFICER, zhengzhou)
        assert co_view.allowed_actions == []
        lead_view = cases.get_case(s, OFFICER, zhengzhou)
        assert [a.action for a in lead_view.allowed_actions] == ["open", "dismiss", "transfer"]
    # Seeing is not acting: the cooperating department and the admin get 403, others 404.
    for who, expected in (
        (CO_OFFICER, (403, "wrong_department")),
        (ADMIN, (403, "forbidden_role")),
        (OTHER_DEPT, (404, "case_not_found")),
        (ELSEWHERE, (404, "case_not_found")),
    ):
        with database.write() as s, pytest.raises(ServiceError) as err:
            cases.act(s, who, zhengzhou, "open", at=t(5))
        assert code_of(err) == expected, who


def test_filters_and_search(database, plan) -> None:
    a = new_case(
        database,
        CO_OFFICER,
        title="某直播平台 诱导未成年人打赏",
        grounds=["minor_tipping"],
        at=t(0),
    )
    b = new_case(database, title="博彩引流群组", grounds=["gambling"], at=t(1))
    c = new_case(
        database, title="赌博 100% 返利_群", grounds=["gambling"], jurisdiction="410300", at=t(2)
    )
    act(database, OFFICER, b, "open", t(3))

    def ids(who=LEADER2, **kw) -> list[int]:
        with database.read() as s:
            return [x.id for x in cases.list_cases(s, who, **kw).items]

    # minor_tipping is led by cyberspace: police takes no part; the national leader is police.
    assert ids() == [b, c]
    cyber = P(40, "leader", department="cyberspace", jurisdiction="100000")
    assert ids(cyber) == [b, c, a]
    assert ids(cyber, involvement="lead") == [a]
    assert ids(cyber, involvement="co") == [b, c]
    assert ids(cyber, department="police") == [b, c]
    assert ids(cyber, department="press", involvement="co") == [a]
    assert ids(cyber, state="opened") == [b]
    assert ids(cyber, state=["lead", "opened"]) == [b, c, a]
    assert ids(cyber, ground="minor_tipping") == [a]
    assert ids(cyber, jurisdiction="410300") == [c]
    assert ids(cyber, q="博彩") == [b]
    assert ids(cyber, q="100%") == [c]  # LIKE wildcards are literal
    assert ids(cyber, q="_") == [c]
    assert ids(cyber, q=str(a)) == [c, a]  # case a by id, case c by the "1" in its title
    assert ids(cyber, q=f"#{a}") == [a]
    assert ids(cyber, q="  ") == [b, c, a]
    assert ids(ADMIN, department="cyberspace", involvement="lead") == [a]
    with database.read() as s:
        for kw, expected in (
            ({"state": "open"}, (422, "unknown_state")),
            ({"ground": "nonsense"}, (422, "unknown_ground")),
            ({"department": "army"}, (422, "unknown_department")),
            ({"involvement": "both"}, (422, "unknown_involvement")),
            ({"jurisdiction": "310000"}, (403, "out_of_jurisdiction")),
            ({"jurisdiction": "12"}, (422, "bad_jurisdiction")),
            ({"q": "x" * 101}, (422, "q_too_long")),
            ({"limit": 0}, (422, "bad_limit")),
            ({"limit": 201}, (422, "bad_limit")),
            ({"cursor": "bm90IGEgY3Vyc29y"}, (422, "bad_cursor")),
            ({"cursor": "!!!"}, (422, "bad_cursor")),
            (
                {"cursor": base64.urlsafe_b64encode(b"99999999999999999999:1").decode()},
                (422, "bad_cursor"),
            ),
        ):
            with pytest.raises(ServiceError) as err:
                cases.list_cases(s, OFFICER, **kw)
            assert code_of(err) == expected, kw
        with pytest.raises(ServiceError) as err:
            cases.list_cases(s, ADMIN, involvement="lead")
        assert code_of(err) == (422, "involvement_needs_department")
        assert cases.list_cases(s, LEADER2, state="closed").items == []


def test_keyset_pagination_is_stable_across_ties(database, plan) -> None:
    # Seven cases share one timestamp: the id breaks the tie, no row is lost or repeated.
    made = [new_case(database, at=T0) for _ in range(7)]
    made += [new_case(database, at=t(1)) for _ in range(3)]
    expected = sorted(made[7:], reverse=True) + sorted(made[:7], reverse=True)
    for who in (OFFICER, ADMIN):
        seen: list[int] = []
        cursor = None
        with database.read() as s:
            first = cases.list_cases(s, who, limit=3, with_total=True)
            assert first.total == 10 and first.total_exact
            while True:
                page = cases.list_cases(s, who, limit=3, cursor=cursor)
                seen += [c.id for c in page.items]
                if not page.has_more:
                    assert page.next_cursor is None
                    break
                cursor = page.next_cursor
        assert seen == expected, who


def test_total_is_capped(database, monkeypatch) -> None:
    monkeypatch.setattr(cases, "TOTAL_CAP", 3)
    for _ in range(5):
        new_case(database)
    with database.read() as s:
        page = cases.list_cases(s, OFFICER, limit=2, with_total=True)
    assert (page.total, page.total_exact, len(page.items)) == (3, False, 2)


def test_department_rows_follow_the_case(database) -> None:
    case_id = new_case(database)
    act(database, OFFICER, case_id, "open", t(5))
    with database.read() as s:
        stamps = set(
            s.execute(
                select(CaseDepartment.updated_at).where(CaseDepartment.case_id == case_id)
            ).scalars()
        )
        assert stamps == {s.get(Case, case_id).updated_at}


# ---------------------------------------------------------------- commands


def test_create_case_rules(database, subject) -> None:
    detail = new_case(database, subject_id=subject, lead="cyberspace", grounds=["gambling"])
    with database.read() as s:
        view = cases.get_case(s, OFFICER, detail)
        assert view.case.lead_department == "cyberspace" and "police" in view.case.co_departments
        assert view.subject is not None and view.subject.organisation_name == "某游戏公司"
        assert view.case.source == "patrol" and view.case.title == "gambling"
    for who, kw, expected in (
        (OTHER_DEPT, {}, (403, "department_not_involved")),
        (ANALYST, {}, (403, "forbidden_role")),
        (ADMIN, {}, (403, "forbidden_role")),
        (P(50, "operator", org=1), {}, (403, "forbidden_role")),
        (OFFICER, {"jurisdiction": "310000"}, (403, "out_of_jurisdiction")),
        (OFFICER, {"jurisdiction": "4101"}, (422, "bad_jurisdiction")),
        (OFFICER, {"grounds": []}, (422, "no_grounds")),
        (OFFICER, {"grounds": ["nonsense"]}, (422, "unknown_ground")),
        (OFFICER, {"lead": "army"}, (422, "unknown_department")),
        (OFFICER, {"source": "public_tip"}, (422, "bad_source")),
        (OFFICER, {"subject_id": 999999}, (422, "unknown_subject")),
        (OFFICER, {"title": "x" * 201}, (422, "title_too_long")),
    ):
        with pytest.raises(ServiceError) as err:
            new_case(database, who, **kw)
        assert code_of(err) == expected, (who.username, kw)


def test_transition_errors(database) -> None:
    case_id = new_case(database)
    for who, action, kw, expected in (
        (OFFICER, "fly", {}, (422, "unknown_action")),
        (OFFICER, "assess", {}, (409, "invalid_from_state")),
        (ANALYST, "open", {}, (403, "forbidden_role")),
        (OFFICER, "dismiss", {}, (422, "reason_required")),
        (OFFICER, "transfer", {"reason": "不属本部门"}, (422, "target_required")),
        (OFFICER, "open", {"expected_version": 7}, (409, "stale_case")),
        (OFFICER, "open", {"at": T0 - timedelta(days=1)}, (409, "time_order")),
    ):
        with database.write() as s, pytest.raises(ServiceError) as err:
            cases.act(s, who, case_id, action, **{"at": t(1), **kw})
        assert code_of(err) == expected, action
        if expected[1] == "unknown_action":
            assert "open" in err.value.extra["allowed"]
        if expected[1] == "invalid_from_state":
            assert err.value.extra["allowed"] == ["open", "dismiss", "transfer"]
    with database.write() as s, pytest.raises(ServiceError) as err:
        cases.act(s, OFFICER, 999999, "open", at=t(1))
    assert code_of(err) == (404, "case_not_found")
    # Nothing was half-written: the case is still a lead at version 0 with one event.
    with database.read() as s:
        assert s.get(Case, case_id).version == 0
        assert len(records_for(s, f"case:{case_id}")) == 1
    detail = act(database, OFFICER, case_id, "open", t(2), expected_version=0)
    assert detail.case.version == 1


def test_disposition_errors_and_withdrawal(database) -> None:
    case_id = new_case(database)
    act(database, OFFICER, case_id, "open", t(1))
    act(database, ANALYST, case_id, "assess", t(2))
    for code, params, expected in (
        ("fine", {}, (422, "unknown_disposition_code")),
        ("rectify", {}, (422, "invalid_disposition")),
        ("rectify", {"deadline": "2020-09-01"}, (422, "invalid_disposition")),  # not after today
        ("penalty", {"amount": 100.5}, (422, "invalid_disposition")),
        ("warning", {"count": 1}, (422, "invalid_disposition")),
    ):
        with database.write() as s, pytest.raises(ServiceError) as err:
            cases.propose(s, ANALYST, case_id, code, params, at=t(3))
        assert code_of(err) == expected, code
        if code == "fine":
            assert (
                "rectify" in err.value.extra["allowed"] and "责令限期整改" in err.value.message_zh
            )
    detail = propose(database, ANALYST, case_id, "close_accounts", {"count": "120"}, t(3))
    assert detail.dispositions[0].id == f"{case_id}/D1"
    assert detail.dispositions[0].params == {"count": 120}
    assert detail.dispositions[0].actions == ["withdraw"]  # the proposer may only withdraw
    with database.read() as s:
        assert cases.get_case(s, LEADER, case_id, at=t(4)).dispositions[0].actions == ["withdraw"]
        assert cases.get_case(s, OFFICER, case_id, at=t(4)).dispositions[0].actions == []
    with database.write() as s, pytest.raises(ServiceError) as err:
        cases.decide(s, OFFICER, case_id, 1, "withdraw", at=t(4))
    assert code_of(err) == (403, "not_proposer")
    with database.write() as s, pytest.raises(ServiceError) as err:
        cases.decide(s, LEADER, case_id, 1, "approve", at=t(4))
    assert code_of(err) == (409, "invalid_from_state")  # approval waits for disposing
    with database.write() as s, pytest.raises(ServiceError) as err:
        cases.decide(s, LEADER, case_id, 9, "withdraw", at=t(4))
    assert code_of(err) == (404, "unknown_disposition")
    withdrawn = decide(database, ANALYST, case_id, 1, "withdraw", t(5))
    assert withdrawn.dispositions[0].status == "withdrawn"
    propose(database, ANALYST, case_id, "warning", {}, t(6))
    act(database, ANALYST, case_id, "dispose", t(7), reason="建议警告")
    with database.write() as s, pytest.raises(ServiceError) as err:
        cases.decide(s, LEADER, case_id, 2, "reject", at=t(8))
    assert code_of(err) == (422, "reason_required")
    rejected = decide(database, LEADER, case_id, 2, "reject", t(8), reason="措施过轻")
    assert rejected.dispositions[1].status == "rejected"
    with database.write() as s, pytest.raises(ServiceError) as err:
        cases.act(s, OFFICER, case_id, "notify", at=t(9))
    assert code_of(err) == (409, "no_dispositions")


def test_notice_without_an_operator_is_recorded_and_says_so(database) -> None:
    case_id = new_case(database)  # no subject
    to_rectifying(database, case_id)
    with database.read() as s:
        detail = cases.get_case(s, OFFICER, case_id)
    (notice,) = detail.notices
    assert notice.organisation_id is None and notice.warnings == [cases.NO_RECIPIENT_WARNING]
    with database.read() as s:
        (event,) = [r for r in records_for(s, f"case:{case_id}") if r.kind == "notice.sent"]
        assert event.payload["recipient"] == "none"


def test_failed_recheck_and_a_new_deadline_renotify(database, subject, org, tmp_path) -> None:
    operator = P(20, "operator", org=org)
    case_id = new_case(database, subject_id=subject)
    to_rectifying(database, case_id)
    blobs = BlobStore(tmp_path)
    with database.read() as s:
        first = cases.get_case(s, OFFICER, case_id).notices[0]
    with database.write() as s:
        notices.report_rectification(s, blobs, operator, first.id, "已整改", at=t(30))
    act(database, OFFICER, case_id, "recheck", t(40))
    failed = act(database, LEADER, case_id, "fail_recheck", t(41), reason="仍可访问博彩页面")
    assert failed.case.state == "rectifying"
    assert [(n.id, n.status) for n in failed.notices] == [
        (first.id, "answered"),
        (first.id + 1, "sent"),
    ]
    # A new, later deadline approved while rectifying goes out in a notice of its own and
    # supersedes the unanswered one.
    propose(database, ANALYST, case_id, "rectify", {"deadline": "2020-10-31"}, t(42))
    renewed = decide(database, LEADER, case_id, 2, "approve", t(43))
    assert renewed.case.deadline == date(2020, 10, 31)
    assert [n.status for n in renewed.notices] == ["answered", "superseded", "sent"]
    assert renewed.notices[-1].deadline == date(2020, 10, 31)
    with database.write() as s, pytest.raises(ServiceError) as err:
        notices.report_rectification(s, blobs, operator, first.id + 1, "补充", at=t(44))
    assert code_of(err) == (409, "notice_closed")
    transferred = act(
        database, LEADER, case_id, "transfer", t(45), reason="涉嫌犯罪", target="市公安局"
    )
    assert [n.status for n in transferred.notices] == ["answered", "superseded", "closed"]
    assert transferred.public_result == cases.DEFAULT_PUBLIC_RESULTS["transfer"]
    with database.read() as s:
        changed = [
            r.payload
            for r in records_for(s, f"case:{case_id}")
            if r.kind == "notice.status_changed"
        ]
        assert [p["status"] for p in changed] == ["superseded", "closed"]
        assert verify_log(s).ok


def test_dismissing_a_public_tip_lead_publishes_a_default_result(database) -> None:
    case_id = new_case(database)
    add_tip(database, case_id, "QL-A")
    add_tip(database, case_id, "QL-B")
    add_tip(database, case_id, "QL-P", source="patrol")
    detail = act(database, OFFICER, case_id, "dismiss", t(1), reason="经核查不属实")
    assert detail.public_result == cases.DEFAULT_PUBLIC_RESULTS["dismiss"]
    with database.read() as s:
        (event,) = [
            r for r in records_for(s, f"case:{case_id}") if r.kind == "case.result_published"
        ]
    assert event.payload["tickets"] == ["QL-A", "QL-B"]


def test_tasks(database) -> None:
    case_id = new_case(database, grounds=["abuse"])  # police leads; cyberspace, telecom, market
    detail = act(database, OFFICER, case_id, "open", t(1))
    assert sorted(x.department for x in detail.tasks) == ["cyberspace", "market", "telecom"]
    telecom = P(60, "analyst", department="telecom")
    task = next(x for x in detail.tasks if x.department == "telecom")
    with database.read() as s:
        view = cases.get_case(s, telecom, case_id)
        assert [x.can_complete for x in view.tasks if x.id == task.id] == [True]
        assert not any(x.can_complete for x in view.tasks if x.id != task.id)
    with database.write() as s:
        cases.complete_task(s, telecom, case_id, task.id, at=t(2))
    for who, task_id, expected in (
        (telecom, task.id, (409, "task_done")),
        (telecom, 999999, (404, "task_not_found")),
        (
            P(61, "officer", department="market", jurisdiction="310000"),
            task.id,
            (404, "case_not_found"),
        ),
        (ADMIN, task.id, (403, "forbidden_role")),
    ):
        with database.write() as s, pytest.raises(ServiceError) as err:
            cases.complete_task(s, who, case_id, task_id, at=t(3))
        assert code_of(err) == expected


# ---------------------------------------------------------------- overdue


def test_overdue_turns_on_the_day_after_the_deadline_in_china(database, subject, org) -> None:
    case_id = new_case(database, subject_id=subject)
    to_rectifying(database, case_id, deadline="2020-09-30")
    last_minute = datetime(2020, 9, 30, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai
    first_minute = datetime(2020, 9, 30, 16, 0, tzinfo=UTC)  # 00:00 on 1 October
    with database.read() as s:
        before = cases.overdue_cases(s, OFFICER, last_minute)
        after = cases.overdue_cases(s, OFFICER, first_minute)
        assert before.cases == [] and before.notices == []
        assert [c.id for c in after.cases] == [case_id] and after.cases[0].overdue
        assert [n.case_id for n in after.notices] == [case_id] and after.notices[0].overdue
        assert after.today == date(2020, 10, 1)
        assert [
            c.id for c in cases.list_cases(s, OFFICER, overdue=True, at=first_minute).items
        ] == [case_id]
        assert cases.list_cases(s, OFFICER, overdue=False, at=first_minute).items == []
        assert cases.list_cases(s, OFFICER, overdue=True, at=last_minute).items == []
        assert cases.overdue_cases(s, OTHER_DEPT, first_minute).cases == []
        operator = P(20, "operator", org=org)
        assert [
            n.id for n in notices.list_notices(s, operator, at=first_minute, overdue=True).items
        ]
    with database.write() as s:
        notices.report_rectification(
            s,
            BlobStore("/nonexistent-unused"),
            operator,
            after.notices[0].id,
            "已整改",
            at=first_minute,
        )
    with database.read() as s:
        late = cases.overdue_cases(s, OFFICER, first_minute)
        # The notice is answered (late), the case still waits for its re-check.
        assert late.notices == [] and [c.id for c in late.cases] == [case_id]
        (report,) = notices.get_notice(s, OFFICER, after.notices[0].id).rectifications
        assert report.late


def test_notice_status_kind_examples() -> None:
    kind = event_kind("notice.status_changed")
    for example in kind.examples:
        if example.valid:
            kind.check(example.payload)
        else:
            with pytest.raises(AuditError):
                kind.check(example.payload)
