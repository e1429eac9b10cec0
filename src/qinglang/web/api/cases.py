"""Cases: list and search, state transitions, dispositions and their approval, tasks.

Thin: each handler checks nothing itself and calls one function of `qinglang.services.cases`
in one transaction. Rules (docs/cases.md): 401 without credentials; 403 for a role that
never works on cases, and for a case the caller sees but may not act on; 404 for a case the
caller cannot see at all; 409 for what the state machine forbids now; 422 for unknown
actions, codes, states and bad parameters, with the allowed values in `allowed`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from qinglang.services import cases as service
from qinglang.web.auth import CurrentPrincipal, DatabaseDep, ReadSession, now
from qinglang.web.schemas.cases import (
    CaseCreate,
    CaseDetailPublic,
    CasePagePublic,
    DecisionRequest,
    DispositionCreate,
    EventPagePublic,
    OverduePublic,
    TaskDone,
    TransitionRequest,
)
from qinglang.web.schemas.problem import problem_responses

router = APIRouter(tags=["cases"])

INT_MAX = 2**31 - 1
IdPath = Annotated[int, Path(ge=1, le=INT_MAX)]
_COMMAND = problem_responses(400, 401, 403, 404, 409, 413, 415, 422)


@router.get(
    "/cases",
    response_model=CasePagePublic,
    responses=problem_responses(401, 403, 422),
    summary="List and search the cases the caller sees (newest change first)",
)
def list_cases(
    principal: CurrentPrincipal,
    session: ReadSession,
    state: Annotated[
        list[str] | None,
        Query(max_length=9, description="Case state; repeat for several."),
    ] = None,
    department: Annotated[
        str | None, Query(max_length=32, description="Takes part (lead or cooperating).")
    ] = None,
    involvement: Annotated[
        str | None,
        Query(max_length=8, description="lead or co: how `department` (or yours) takes part."),
    ] = None,
    ground: Annotated[str | None, Query(max_length=32, description="Primary ground.")] = None,
    jurisdiction: Annotated[
        str | None, Query(max_length=12, description="Inside this division (within yours).")
    ] = None,
    subject_id: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
    campaign_id: Annotated[
        int | None, Query(ge=1, le=INT_MAX, description="Filed under this campaign.")
    ] = None,
    overdue: Annotated[bool | None, Query(description="Rectifying past the deadline.")] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Title substring or a case id.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=service.PAGE_MAX)] = service.PAGE_DEFAULT,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    total: Annotated[
        bool, Query(description=f"Add a count (capped at {service.TOTAL_CAP}).")
    ] = False,
):
    return service.list_cases(
        session,
        principal,
        state=state,
        department=department,
        involvement=involvement,
        ground=ground,
        jurisdiction=jurisdiction,
        subject_id=subject_id,
        campaign_id=campaign_id,
        overdue=overdue,
        q=q,
        limit=limit,
        cursor=cursor,
        with_total=total,
        at=now(),
    )


@router.post(
    "/cases",
    response_model=CaseDetailPublic,
    status_code=201,
    responses=_COMMAND,
    summary="Open a lead by hand, e.g. from a patrol (officer, leader)",
)
def create_case(body: CaseCreate, principal: CurrentPrincipal, db: DatabaseDep, response: Response):
    with db.write() as session:
        detail = service.create_case(
            session,
            principal,
            grounds=body.grounds,
            jurisdiction=body.jurisdiction,
            at=now(),
            title=body.title,
            summary=body.summary,
            subject_id=body.subject_id,
            lead=body.lead,
            source=body.source,
            reason=body.reason,
        )
        response.headers["Location"] = f"/api/v1/cases/{detail.case.id}"
        return CaseDetailPublic.model_validate(detail)


@router.get(
    "/cases/overdue",
    response_model=OverduePublic,
    responses=problem_responses(401, 403, 422),
    summary="Cases rectifying past their deadline, and unanswered notices past theirs",
)
def overdue(
    principal: CurrentPrincipal,
    session: ReadSession,
    jurisdiction: Annotated[str | None, Query(max_length=12)] = None,
    limit: Annotated[int, Query(ge=1, le=service.PAGE_MAX)] = service.PAGE_MAX,
):
    return service.overdue_cases(session, principal, now(), limit=limit, jurisdiction=jurisdiction)


@router.get(
    "/cases/{case_id}",
    response_model=CaseDetailPublic,
    responses=problem_responses(401, 403, 404, 422),
    summary="The case file: dispositions, tasks, notices, allowed actions, event trail",
)
def get_case(case_id: IdPath, principal: CurrentPrincipal, session: ReadSession):
    return service.get_case(session, principal, case_id, at=now())


@router.get(
    "/cases/{case_id}/events",
    response_model=EventPagePublic,
    responses=problem_responses(401, 403, 404, 422),
    summary="The case's audit events, in log order",
)
def case_events(
    case_id: IdPath,
    principal: CurrentPrincipal,
    session: ReadSession,
    after_seq: Annotated[int, Query(ge=0, le=INT_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=service.EVENTS_MAX)] = 100,
):
    return service.case_events(session, principal, case_id, after_seq=after_seq, limit=limit)


@router.post(
    "/cases/{case_id}/transitions",
    response_model=CaseDetailPublic,
    responses=_COMMAND,
    summary="Take one transition of the case state machine",
)
def transition(
    case_id: IdPath, body: TransitionRequest, principal: CurrentPrincipal, db: DatabaseDep
):
    with db.write() as session:
        detail = service.act(
            session,
            principal,
            case_id,
            body.action,
            at=now(),
            reason=body.reason,
            target=body.target,
            expected_version=body.version,
            public_result=body.public_result,
        )
        return CaseDetailPublic.model_validate(detail)


@router.post(
    "/cases/{case_id}/dispositions",
    response_model=CaseDetailPublic,
    status_code=201,
    responses=_COMMAND,
    summary="Propose a disposition (a leader approves it later)",
)
def propose(case_id: IdPath, body: DispositionCreate, principal: CurrentPrincipal, db: DatabaseDep):
    with db.write() as session:
        detail = service.propose(
            session,
            principal,
            case_id,
            body.code,
            body.params,
            at=now(),
            reason=body.reason,
            expected_version=body.version,
        )
        return CaseDetailPublic.model_validate(detail)


def _decide(
    decision: str,
    case_id: int,
    n: int,
    body: DecisionRequest | None,
    principal: CurrentPrincipal,
    db: DatabaseDep,
) -> CaseDetailPublic:
    body = body or DecisionRequest()
    with db.write() as session:
        detail = service.decide(
            session,
            principal,
            case_id,
            n,
            decision,
            at=now(),
            reason=body.reason,
            expected_version=body.version,
        )
        return CaseDetailPublic.model_validate(detail)


@router.post(
    "/cases/{case_id}/dispositions/{n}/approve",
    response_model=CaseDetailPublic,
    responses=_COMMAND,
    summary="Approve a proposed disposition (leader; not the proposer)",
)
def approve(
    case_id: IdPath,
    n: IdPath,
    principal: CurrentPrincipal,
    db: DatabaseDep,
    body: DecisionRequest | None = None,
):
    return _decide("approve", case_id, n, body, principal, db)


@router.post(
    "/cases/{case_id}/dispositions/{n}/reject",
    response_model=CaseDetailPublic,
    responses=_COMMAND,
    summary="Reject a proposed disposition (leader; reason required)",
)
def reject(
    case_id: IdPath,
    n: IdPath,
    principal: CurrentPrincipal,
    db: DatabaseDep,
    body: DecisionRequest | None = None,
):
    return _decide("reject", case_id, n, body, principal, db)


@router.post(
    "/cases/{case_id}/dispositions/{n}/withdraw",
    response_model=CaseDetailPublic,
    responses=_COMMAND,
    summary="Withdraw a proposed disposition (its proposer, or a leader)",
)
def withdraw(
    case_id: IdPath,
    n: IdPath,
    principal: CurrentPrincipal,
    db: DatabaseDep,
    body: DecisionRequest | None = None,
):
    return _decide("withdraw", case_id, n, body, principal, db)


@router.post(
    "/cases/{case_id}/tasks/{task_id}/done",
    response_model=CaseDetailPublic,
    responses=_COMMAND,
    summary="Mark a cooperating department's task done (that department)",
)
def task_done(
    case_id: IdPath,
    task_id: IdPath,
    principal: CurrentPrincipal,
    db: DatabaseDep,
    body: TaskDone | None = None,
):
    body = body or TaskDone()
    with db.write() as session:
        detail = service.complete_task(
            session, principal, case_id, task_id, at=now(), note=body.note
        )
        return CaseDetailPublic.model_validate(detail)
