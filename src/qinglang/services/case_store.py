"""Cases between the pure state machine (`qinglang.govern.cases`) and their rows.

`create_case` routes a new case (lead in state `lead`) and stores it with its departments and
its `case.created` event; `load_case` rebuilds the core's `CaseState` from the rows (locking
them for the rest of the transaction when asked); `save_case` writes back what a core function
returned together with its audit event, refusing to overwrite a newer version (optimistic
locking on `cases.version`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, make_transient_to_detached

from qinglang.govern import cases as core
from qinglang.govern.case_dispositions import rectification_deadline
from qinglang.govern.cases import CaseDisposition, CaseState, DispositionStatus, Event, State
from qinglang.govern.dispositions import DispositionSpec
from qinglang.services import campaigns, tallies
from qinglang.services.errors import ServiceError, conflict, not_found
from qinglang.store import audit_log
from qinglang.store.models import Case, CaseDepartment, CaseDispositionRow

MAX_TITLE = 200


def transition_error(exc: core.TransitionError) -> ServiceError:
    """The core's refusal as a ServiceError with the same code and HTTP status."""
    slug = {403: "forbidden", 404: "not-found", 409: "conflict"}.get(exc.http_status)
    return ServiceError(slug or "validation-error", exc.code, str(exc), exc.message_zh)


def record_event(session: Session, event: Event) -> None:
    audit_log.record(session, **event.audit_fields())


def _title(title: str | None, grounds: tuple[str, ...]) -> str:
    text = " ".join((title or "").split())
    if not text:
        text = "、".join(grounds)
    return text[:MAX_TITLE]


def insert_case(
    session: Session,
    *,
    grounds: list[str] | tuple[str, ...],
    jurisdiction: str,
    at: datetime,
    created_by: str,
    title: str | None = None,
    summary: str | None = None,
    subject_id: int | None = None,
    source: str | None = None,
    lead: str | None = None,
    reason: str | None = None,
) -> tuple[dict[str, Any], CaseState]:
    """Store a new case in state `lead`, routed by its grounds, with its departments and its
    `case.created` event; answers the row's column values (with its id) and the core's state.

    Core statements rather than unit-of-work objects: intake creates a case for nearly every
    report, and the ORM's flush machinery cost more than the SQL itself.
    """
    try:
        # Validate and route with a provisional id; the row's id is known only after insert.
        state, event = core.new_case(
            "0", grounds, jurisdiction, at, created_by=created_by, lead=lead, reason=reason
        )
    except core.TransitionError as exc:
        raise transition_error(exc) from None
    values: dict[str, Any] = {
        "state": state.state.value,
        "title": _title(title, state.grounds),
        "summary": summary,
        "grounds": list(state.grounds),
        "primary_ground": state.grounds[0],
        "lead_department": state.lead_department,
        "co_departments": list(state.co_departments),
        "jurisdiction": state.jurisdiction,
        "subject_id": subject_id,
        "source": source,
        "deadline": None,
        "public_result": None,
        "version": 0,
        "created_at": state.created_at,
        "updated_at": state.updated_at,
        "closed_at": None,
    }
    # A case found while a campaign runs in its jurisdiction belongs to it (and to a task).
    filed = campaigns.match(session, state.jurisdiction, state.grounds[0], at)
    values["campaign_id"], values["campaign_task"] = filed if filed else (None, None)
    connection = session.connection()
    case_id = connection.execute(_INSERT_CASE, values).inserted_primary_key[0]
    values["id"] = case_id
    state = replace(state, id=str(case_id))
    departments = [{"department": state.lead_department, "is_lead": True}]
    departments += [{"department": d, "is_lead": False} for d in state.co_departments]
    connection.execute(
        _INSERT_DEPARTMENT,
        [{"case_id": case_id, "updated_at": at, **d} for d in departments],
    )
    record_event(session, replace(event, case_id=str(case_id)))
    tallies.case_created(session, values)
    return values, state


_INSERT_CASE = insert(Case.__table__)
_INSERT_DEPARTMENT = insert(CaseDepartment.__table__)


def create_case(
    session: Session,
    *,
    grounds: list[str] | tuple[str, ...],
    jurisdiction: str,
    at: datetime,
    created_by: str,
    title: str | None = None,
    summary: str | None = None,
    subject_id: int | None = None,
    source: str | None = None,
    lead: str | None = None,
    reason: str | None = None,
) -> tuple[Case, CaseState]:
    """A new case in state `lead`, routed by its grounds; its event is in the audit log.
    The returned row belongs to the session, as if it had been loaded."""
    values, state = insert_case(
        session,
        grounds=grounds,
        jurisdiction=jurisdiction,
        at=at,
        created_by=created_by,
        title=title,
        summary=summary,
        subject_id=subject_id,
        source=source,
        lead=lead,
        reason=reason,
    )
    row = Case(**values)
    make_transient_to_detached(row)
    session.add(row)
    return row, state


def _disposition(row: CaseDispositionRow) -> CaseDisposition:
    spec = DispositionSpec.parse(row.code, row.params)
    return CaseDisposition(
        id=row.id,
        code=row.code,
        params=dict(spec.params),
        status=DispositionStatus(row.status),
        proposed_by=row.proposed_by,
        proposed_at=row.proposed_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        decision_reason=row.decision_reason,
    )


def state_of(row: Case, dispositions: list[CaseDispositionRow]) -> CaseState:
    return CaseState(
        id=str(row.id),
        state=State(row.state),
        grounds=tuple(row.grounds),
        lead_department=row.lead_department,
        co_departments=tuple(row.co_departments),
        jurisdiction=row.jurisdiction,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
        dispositions=tuple(_disposition(d) for d in sorted(dispositions, key=lambda d: d.n)),
    )


def load_case(
    session: Session, case_id: int, *, for_update: bool = False
) -> tuple[Case, CaseState]:
    """The row and the core's state of case `case_id` (404 when absent)."""
    query = select(Case).where(Case.id == case_id)
    if for_update:
        query = query.with_for_update()
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        raise not_found("case", "案件", case_id)
    dispositions = list(
        session.execute(
            select(CaseDispositionRow).where(CaseDispositionRow.case_id == case_id)
        ).scalars()
    )
    return row, state_of(row, dispositions)


def save_case(session: Session, row: Case, old: CaseState, new: CaseState, event: Event) -> None:
    """Persist `new` (returned by a core function applied to `old`) and its audit event."""
    before = tallies.facts_of(row)
    changed = session.execute(
        update(Case)
        .where(Case.id == row.id, Case.version == old.version)
        .values(
            state=new.state.value,
            version=new.version,
            updated_at=new.updated_at,
            deadline=rectification_deadline(new),
            closed_at=new.updated_at if new.state is State.closed else row.closed_at,
        )
        .execution_options(synchronize_session="fetch")
    )
    if changed.rowcount != 1:
        raise conflict(
            "stale_case", f"case {row.id} changed meanwhile", "案件已被他人更新，请刷新后重试。"
        )
    session.execute(
        update(CaseDepartment)
        .where(CaseDepartment.case_id == row.id)
        .values(updated_at=new.updated_at)
    )
    existing = {
        d.id: d
        for d in session.execute(
            select(CaseDispositionRow).where(CaseDispositionRow.case_id == row.id)
        ).scalars()
    }
    approved_before = tallies.approved(existing.values())
    for n, d in enumerate(new.dispositions, start=1):
        stored = existing.get(d.id)
        if stored is None:
            session.add(
                CaseDispositionRow(
                    id=d.id,
                    case_id=row.id,
                    n=n,
                    code=d.code,
                    params=d.spec.dump(),
                    status=d.status.value,
                    proposed_by=d.proposed_by,
                    proposed_at=d.proposed_at,
                    decided_by=d.decided_by,
                    decided_at=d.decided_at,
                    decision_reason=d.decision_reason,
                )
            )
        elif stored.status != d.status.value:
            stored.status = d.status.value
            stored.decided_by = d.decided_by
            stored.decided_at = d.decided_at
            stored.decision_reason = d.decision_reason
    record_event(session, event)
    tallies.case_saved(session, before, approved_before, new)
    session.flush()
