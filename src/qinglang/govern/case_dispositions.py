"""Dispositions on a case: proposed by case handlers, decided by a leader; deadlines.

The small table `DISPOSITION_OPS` says in which case states and by which roles each operation
may happen. A leader never approves their own proposal (four eyes), and a case leaves
disposing (see `Guard.dispositions_approved` in `cases`) only once every live disposition is
approved, so no measure reaches a platform without a leader's approval. Like `cases`, every
function returns the new `CaseState` and the `Event` to audit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from qinglang.govern.actors import Actor, Role
from qinglang.govern.cases import (
    STATE_NAMES_ZH,
    CaseDisposition,
    CaseState,
    DispositionStatus,
    Event,
    State,
    TransitionError,
    check_actor,
    check_time,
    clean_reason,
)
from qinglang.govern.clock import shanghai_date
from qinglang.govern.dispositions import DispositionError, DispositionSpec, ParamKind

_O, _A, _L = Role.officer, Role.analyst, Role.leader


@dataclass(frozen=True, slots=True)
class DispositionOp:
    action: str
    states: frozenset[State]
    roles: tuple[Role, ...]
    needs_reason: bool
    name_zh: str


_DECIDING = frozenset({State.disposing, State.rectifying})
_PROPOSING = frozenset({State.assessing, State.disposing, State.rectifying})

# Proposals may come during assessment; approval happens once the case is in disposing (or in
# rectifying, when a failed re-check calls for a new deadline or a heavier measure).
DISPOSITION_OPS: dict[str, DispositionOp] = {
    op.action: op
    for op in (
        DispositionOp("propose", _PROPOSING, (_A, _O, _L), False, "提出处置措施"),
        DispositionOp("approve", _DECIDING, (_L,), False, "批准处置措施"),
        DispositionOp("reject", _DECIDING, (_L,), True, "驳回处置措施"),
        # The proposer withdraws their own; a leader may withdraw anyone's.
        DispositionOp("withdraw", _PROPOSING, (_A, _O, _L), False, "撤回处置措施"),
    )
}


# ---------------------------------------------------------------- dispositions on a case


def _op(case: CaseState, action: str, actor: Actor) -> tuple[DispositionOp, Role]:
    op = DISPOSITION_OPS[action]
    if case.terminal:
        raise TransitionError(
            "terminal", f"case {case.id} is {case.state}", "案件已结束，不能再变更处置措施。"
        )
    if case.state not in op.states:
        raise TransitionError(
            "invalid_from_state",
            f"cannot {action} a disposition while the case is {case.state}",
            f"案件当前为“{STATE_NAMES_ZH[case.state]}”，不能{op.name_zh}。",
        )
    return op, check_actor(case, actor, op.roles, f"{action} a disposition")


def _check_deadlines(spec: DispositionSpec, day: date) -> None:
    try:
        spec.kind.check_decided_on(spec.params, day)
    except DispositionError as exc:
        raise TransitionError("invalid_disposition", str(exc), exc.message_zh) from None


def _disposition_event(
    kind: str,
    case: CaseState,
    d: CaseDisposition,
    actor: Actor,
    role: Role,
    at: datetime,
    text: str | None,
    **extra: Any,
) -> Event:
    payload = {
        "disposition_id": d.id,
        "code": d.code,
        "role": role.value,
        "department": actor.department,
        "reason": text,
        **extra,
    }
    return Event(kind, case.id, actor.id, at, text, payload)


def propose_disposition(
    case: CaseState,
    code: str,
    params: Mapping[str, Any] | None,
    actor: Actor,
    at: datetime,
    reason: str | None = None,
) -> tuple[CaseState, Event]:
    """Add a proposed disposition of kind `code` (raw or typed parameters, validated here).

    Date parameters (a rectification deadline) must fall after the day of the proposal in
    China; they are checked again on approval.
    """
    op, role = _op(case, "propose", actor)
    at = check_time(case, at)
    text = clean_reason(reason, op.needs_reason, "propose")
    try:
        spec = DispositionSpec.parse(code, params)
    except DispositionError as exc:
        raise TransitionError("invalid_disposition", str(exc), exc.message_zh) from None
    _check_deadlines(spec, shanghai_date(at))
    d = CaseDisposition(
        id=f"{case.id}/D{len(case.dispositions) + 1}",
        code=spec.code,
        params=dict(spec.params),
        status=DispositionStatus.proposed,
        proposed_by=actor.id,
        proposed_at=at,
    )
    new = replace(
        case, dispositions=(*case.dispositions, d), updated_at=at, version=case.version + 1
    )
    event = _disposition_event(
        "disposition.proposed", case, d, actor, role, at, text, params=spec.dump()
    )
    return new, event


def _decide(
    case: CaseState,
    action: str,
    disposition_id: str,
    actor: Actor,
    at: datetime,
    reason: str | None,
    status: DispositionStatus,
) -> tuple[CaseState, Event]:
    op, role = _op(case, action, actor)
    d = case.disposition(disposition_id)
    if d.status is not DispositionStatus.proposed:
        raise TransitionError(
            "disposition_not_pending",
            f"disposition {d.id} is already {d.status}",
            "该处置措施已处理，不能重复操作。",
        )
    if action == "approve" and d.proposed_by == actor.id:
        # Four eyes: whoever proposes a measure does not approve it.
        raise TransitionError(
            "self_approval",
            "a leader may not approve their own proposal",
            "不能批准本人提出的处置措施。",
        )
    if action == "withdraw" and d.proposed_by != actor.id and not actor.has(Role.leader):
        raise TransitionError(
            "not_proposer",
            "only the proposer or a leader may withdraw a disposition",
            "只有提出人或领导可以撤回处置措施。",
        )
    at = check_time(case, at)
    text = clean_reason(reason, op.needs_reason, action)
    if action == "approve":
        _check_deadlines(d.spec, shanghai_date(at))
    decided = replace(d, status=status, decided_by=actor.id, decided_at=at, decision_reason=text)
    dispositions = tuple(decided if x.id == d.id else x for x in case.dispositions)
    new = replace(case, dispositions=dispositions, updated_at=at, version=case.version + 1)
    return new, _disposition_event(f"disposition.{status.value}", case, d, actor, role, at, text)


def approve_disposition(
    case: CaseState, disposition_id: str, actor: Actor, at: datetime, reason: str | None = None
) -> tuple[CaseState, Event]:
    """A leader (not the proposer) approves a proposed disposition."""
    return _decide(case, "approve", disposition_id, actor, at, reason, DispositionStatus.approved)


def reject_disposition(
    case: CaseState, disposition_id: str, actor: Actor, at: datetime, reason: str | None = None
) -> tuple[CaseState, Event]:
    """A leader rejects a proposed disposition (reason required)."""
    return _decide(case, "reject", disposition_id, actor, at, reason, DispositionStatus.rejected)


def withdraw_disposition(
    case: CaseState, disposition_id: str, actor: Actor, at: datetime, reason: str | None = None
) -> tuple[CaseState, Event]:
    """The proposer (or a leader) withdraws a disposition not yet decided."""
    return _decide(case, "withdraw", disposition_id, actor, at, reason, DispositionStatus.withdrawn)


# ---------------------------------------------------------------- deadlines


def rectification_deadline(case: CaseState) -> date | None:
    """The deadline of the most recently approved disposition with a date parameter.

    A failed re-check may approve a new `rectify` with a later date; that one then counts.
    """
    latest: tuple[datetime, date] | None = None
    for d in case.dispositions:
        if d.status is not DispositionStatus.approved or d.decided_at is None:
            continue
        for param in d.spec.kind.params:
            value = d.params.get(param.name)
            newer = latest is None or d.decided_at >= latest[0]
            if param.kind is ParamKind.date and value is not None and newer:
                latest = (d.decided_at, value)
    return latest[1] if latest else None


def is_overdue(case: CaseState, at: datetime) -> bool:
    """True when the case waits for rectification past its deadline (a China calendar day)."""
    deadline = rectification_deadline(case)
    return case.state is State.rectifying and deadline is not None and shanghai_date(at) > deadline
