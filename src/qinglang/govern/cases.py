"""The case state machine of DESIGN.md, as data plus pure functions.

States: lead → opened → assessing → disposing → rectifying → rechecking → closed, with the
exits dismissed and transferred. Only the rows of `TRANSITIONS` exist; each names who may take
it (by role), whether it needs a reason, and any guard. Dispositions live on the case
(`CaseState.dispositions`; operations on them in `case_dispositions`). A case leaves disposing
(and rectifying) only when every live disposition has been approved by a leader, so nothing
reaches the platform without approval.

Every function takes the current `CaseState` and returns the new one with the `Event` to
append to the audit log; nothing is mutated and nothing is stored here. Anything not allowed
raises `TransitionError` with a stable `code`, an English `args[0]` and `message_zh`.
Only the lead department drives a case (cooperating departments see it and get tasks) and
only from a jurisdiction that covers the case's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from qinglang.govern.actors import Actor, Role
from qinglang.govern.clock import require_aware, to_shanghai
from qinglang.govern.dispositions import DispositionSpec
from qinglang.govern.identifiers import IdentifierError, normalize_division
from qinglang.govern.routing import RoutingError, route

MAX_REASON = 2000
MAX_TARGET = 200


class State(StrEnum):
    lead = "lead"
    opened = "opened"
    assessing = "assessing"
    disposing = "disposing"
    rectifying = "rectifying"
    rechecking = "rechecking"
    closed = "closed"
    dismissed = "dismissed"
    transferred = "transferred"


STATE_NAMES_ZH: dict[State, str] = {
    State.lead: "线索",
    State.opened: "已立案",
    State.assessing: "研判中",
    State.disposing: "处置中",
    State.rectifying: "整改中",
    State.rechecking: "复查中",
    State.closed: "已办结",
    State.dismissed: "已撤销",
    State.transferred: "已移交",
}

TERMINAL: frozenset[State] = frozenset({State.closed, State.dismissed, State.transferred})


class Guard(StrEnum):
    # At least one live disposition, and every live one approved by a leader.
    dispositions_approved = "dispositions_approved"


@dataclass(frozen=True, slots=True)
class Transition:
    action: str
    source: State
    target: State
    roles: tuple[Role, ...]  # any one suffices; the first the actor holds is recorded
    needs_reason: bool
    name_zh: str
    needs_target: bool = False  # transfers name who receives the case
    guard: Guard | None = None


_O, _A, _L = Role.officer, Role.analyst, Role.leader

TRANSITIONS: tuple[Transition, ...] = (
    Transition("open", State.lead, State.opened, (_O, _L), False, "立案"),
    Transition("assess", State.opened, State.assessing, (_A, _O), False, "开始研判"),
    # The reason is the assessment's conclusion (研判意见).
    Transition("dispose", State.assessing, State.disposing, (_A, _O, _L), True, "提出处置意见"),
    Transition(
        "notify",
        State.disposing,
        State.rectifying,
        (_O, _L),
        False,
        "下发整改通知",
        guard=Guard.dispositions_approved,
    ),
    Transition(
        "recheck",
        State.rectifying,
        State.rechecking,
        (_O, _A),
        False,
        "开始复查",
        guard=Guard.dispositions_approved,
    ),
    Transition("close", State.rechecking, State.closed, (_O, _L), False, "复查合格，办结"),
    Transition(
        "fail_recheck", State.rechecking, State.rectifying, (_O, _A, _L), True, "复查不合格"
    ),
    # Screening out a lead is routine; dropping an opened case is a leader's decision.
    Transition("dismiss", State.lead, State.dismissed, (_O, _L), True, "不予立案"),
    Transition("dismiss", State.opened, State.dismissed, (_L,), True, "撤销案件"),
    Transition("dismiss", State.assessing, State.dismissed, (_L,), True, "撤销案件"),
    Transition("transfer", State.lead, State.transferred, (_O, _L), True, "移交", True),
    Transition("transfer", State.opened, State.transferred, (_O, _L), True, "移交", True),
    Transition("transfer", State.assessing, State.transferred, (_O, _L), True, "移交", True),
    Transition("transfer", State.disposing, State.transferred, (_L,), True, "移交", True),
    Transition("transfer", State.rectifying, State.transferred, (_L,), True, "移交", True),
    Transition("transfer", State.rechecking, State.transferred, (_L,), True, "移交", True),
)

TABLE: dict[tuple[State, str], Transition] = {}
for _t in TRANSITIONS:
    if (_t.source, _t.action) in TABLE:
        raise RuntimeError(f"duplicate transition {_t.action} from {_t.source}")
    if _t.source in TERMINAL:
        raise RuntimeError(f"transition {_t.action} leaves terminal state {_t.source}")
    TABLE[(_t.source, _t.action)] = _t
ACTIONS: frozenset[str] = frozenset(t.action for t in TRANSITIONS)


class DispositionStatus(StrEnum):
    proposed = "proposed"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"


LIVE = frozenset({DispositionStatus.proposed, DispositionStatus.approved})


# ---------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class CaseDisposition:
    id: str  # "<case id>/D<n>", n counting from 1 in proposal order
    code: str
    params: Mapping[str, Any]  # typed (date, int, Decimal), as DispositionSpec.params
    status: DispositionStatus
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None

    @property
    def spec(self) -> DispositionSpec:
        return DispositionSpec(self.code, self.params)


@dataclass(frozen=True, slots=True)
class CaseState:
    id: str
    state: State
    grounds: tuple[str, ...]  # category / violation codes, primary first
    lead_department: str
    co_departments: tuple[str, ...]
    jurisdiction: str  # division code
    created_at: datetime
    updated_at: datetime
    version: int = 0  # events applied since creation: use it for optimistic locking
    dispositions: tuple[CaseDisposition, ...] = ()

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL

    def disposition(self, disposition_id: str) -> CaseDisposition:
        for d in self.dispositions:
            if d.id == disposition_id:
                return d
        raise TransitionError(
            "unknown_disposition",
            f"case {self.id} has no disposition {disposition_id!r}",
            "该案件中没有此处置措施。",
        )

    def live_dispositions(self) -> tuple[CaseDisposition, ...]:
        return tuple(d for d in self.dispositions if d.status in LIVE)


@dataclass(frozen=True, slots=True)
class Event:
    """What happened, for the audit log: append it with `audit_fields()`."""

    kind: str  # an audit event kind (qinglang.store.audit_chain), e.g. "case.transition"
    case_id: str
    actor: str
    at: datetime  # Asia/Shanghai
    reason: str | None
    payload: Mapping[str, Any] = field(default_factory=dict)  # JSON-native; includes reason

    @property
    def subject(self) -> str:
        return f"case:{self.case_id}"

    def audit_fields(self) -> dict[str, Any]:
        """Keyword arguments for `qinglang.store.audit_chain.append`."""
        return {
            "at": self.at,
            "actor": self.actor,
            "kind": self.kind,
            "subject": self.subject,
            "payload": dict(self.payload),
        }


# ---------------------------------------------------------------- errors

# HTTP status the API layer should answer each error code with.
_HTTP = {
    "forbidden_role": 403,
    "wrong_department": 403,
    "out_of_jurisdiction": 403,
    "self_approval": 403,
    "not_proposer": 403,
    "terminal": 409,
    "invalid_from_state": 409,
    "no_dispositions": 409,
    "dispositions_pending": 409,
    "disposition_not_pending": 409,
    "time_order": 409,
    "unknown_disposition": 404,
}


class TransitionError(ValueError):
    """An action the state machine does not allow; `code` is stable for API clients."""

    def __init__(self, code: str, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.code = code
        self.message_zh = message_zh

    @property
    def http_status(self) -> int:
        return _HTTP.get(self.code, 422)


# ---------------------------------------------------------------- checks shared by all actions


def _clean_text(text: str | None, limit: int, what: str, what_zh: str) -> str | None:
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    if len(text) > limit:
        raise TransitionError(
            f"{what}_too_long",
            f"{what} longer than {limit} characters",
            f"{what_zh}不能超过{limit}个字。",
        )
    return text


def check_time(case: CaseState, at: datetime) -> datetime:
    """`at` in Asia/Shanghai; refuses naive times and times before the case's last event."""
    try:
        require_aware(at)
    except (TypeError, ValueError) as exc:
        raise TransitionError("bad_time", str(exc), "时间无效：必须带时区。") from None
    if at < case.updated_at:
        raise TransitionError(
            "time_order",
            f"{at.isoformat()} is before the case's last event {case.updated_at.isoformat()}",
            "操作时间早于案件的上一次记录，请重试。",
        )
    return to_shanghai(at)


def check_actor(case: CaseState, actor: Actor, roles: tuple[Role, ...], what: str) -> Role:
    """The first of `roles` the actor holds, if the actor's department leads the case and the
    actor's jurisdiction covers it; otherwise a 403-class `TransitionError`."""
    role = next((r for r in roles if actor.has(r)), None)
    if role is None:
        wanted = ", ".join(roles)
        raise TransitionError(
            "forbidden_role",
            f"{what} needs one of the roles: {wanted}",
            "您的角色无权执行此操作。",
        )
    if actor.department != case.lead_department:
        raise TransitionError(
            "wrong_department",
            f"only the lead department ({case.lead_department}) may {what}",
            "只有牵头部门可以办理此案件。",
        )
    if not actor.covers(case.jurisdiction):
        raise TransitionError(
            "out_of_jurisdiction",
            f"case jurisdiction {case.jurisdiction} is outside {actor.jurisdiction}",
            "该案件不在您的管辖范围内。",
        )
    return role


def clean_reason(reason: str | None, required: bool, what: str) -> str | None:
    """The stripped reason (None when blank); required ones must not be blank."""
    text = _clean_text(reason, MAX_REASON, "reason", "理由")
    if required and text is None:
        raise TransitionError("reason_required", f"{what} needs a reason", "请填写理由。")
    return text


def check_guard(case: CaseState, guard: Guard | None) -> None:
    """Raise when the transition's guard does not hold for `case`."""
    if guard is not Guard.dispositions_approved:
        return
    live = case.live_dispositions()
    if not live:
        raise TransitionError(
            "no_dispositions", "no disposition has been decided", "尚未提出处置措施。"
        )
    pending = [d.id for d in live if d.status is not DispositionStatus.approved]
    if pending:
        raise TransitionError(
            "dispositions_pending",
            f"dispositions not yet approved by a leader: {', '.join(pending)}",
            "还有处置措施未经领导批准。",
        )


# ---------------------------------------------------------------- creating a case


def new_case(
    case_id: str,
    grounds: Iterable[str],
    jurisdiction: str,
    at: datetime,
    *,
    created_by: str,
    lead: str | None = None,
    reason: str | None = None,
) -> tuple[CaseState, Event]:
    """A case in state `lead`, routed to its lead and cooperating departments.

    Intake decides who may create a lead (the public, a patrol, an officer), so no role is
    checked here: `created_by` is recorded as given ("system", "public:<ticket>", a user id).
    """
    grounds = tuple(dict.fromkeys(grounds))
    if not case_id or not case_id.strip():
        raise TransitionError("bad_case_id", "case id must not be empty", "案件编号不能为空。")
    if not created_by or not created_by.strip():
        raise TransitionError("bad_actor", "created_by must not be empty", "创建人不能为空。")
    try:
        require_aware(at)
        routing = route(grounds, lead)
        jurisdiction = normalize_division(jurisdiction)
    except (RoutingError, IdentifierError) as exc:
        raise TransitionError("bad_case", str(exc), exc.message_zh) from None
    except (TypeError, ValueError) as exc:
        raise TransitionError("bad_time", str(exc), "时间无效：必须带时区。") from None
    text = clean_reason(reason, False, "create")
    at = to_shanghai(at)
    case = CaseState(
        id=case_id,
        state=State.lead,
        grounds=grounds,
        lead_department=routing.lead,
        co_departments=routing.co,
        jurisdiction=jurisdiction,
        created_at=at,
        updated_at=at,
    )
    payload = {
        "state": case.state.value,
        "grounds": list(case.grounds),
        "lead_department": case.lead_department,
        "co_departments": list(case.co_departments),
        "jurisdiction": case.jurisdiction,
        "reason": text,
    }
    return case, Event("case.created", case_id, created_by, at, text, payload)


# ---------------------------------------------------------------- transitions


def transition_for(case: CaseState, action: str) -> Transition:
    """The table row for `action` from the case's state, or `TransitionError`."""
    if action not in ACTIONS:
        raise TransitionError("unknown_action", f"unknown action {action!r}", "未知的操作。")
    if case.terminal:
        raise TransitionError(
            "terminal",
            f"case {case.id} is {case.state} and can no longer change",
            f"案件已{STATE_NAMES_ZH[case.state].removeprefix('已')}，不能再变更。",
        )
    row = TABLE.get((case.state, action))
    if row is None:
        raise TransitionError(
            "invalid_from_state",
            f"action {action!r} is not allowed from state {case.state}",
            f"案件当前为“{STATE_NAMES_ZH[case.state]}”，不能执行此操作。",
        )
    return row


def transition(
    case: CaseState,
    action: str,
    actor: Actor,
    at: datetime,
    reason: str | None = None,
    *,
    target: str | None = None,
) -> tuple[CaseState, Event]:
    """Take `action` on `case`; `target` names the receiver of a transfer."""
    row = transition_for(case, action)
    role = check_actor(case, actor, row.roles, action)
    at = check_time(case, at)
    text = clean_reason(reason, row.needs_reason, action)
    receiver = _clean_text(target, MAX_TARGET, "target", "移交对象")
    if row.needs_target and receiver is None:
        raise TransitionError(
            "target_required", f"{action} needs a target", "请填写移交对象（部门或机关）。"
        )
    if not row.needs_target:
        receiver = None
    check_guard(case, row.guard)
    new = replace(case, state=row.target, updated_at=at, version=case.version + 1)
    payload = {
        "action": action,
        "from": case.state.value,
        "to": row.target.value,
        "role": role.value,
        "department": actor.department,
        "reason": text,
        "target": receiver,
    }
    return new, Event("case.transition", case.id, actor.id, at, text, payload)


def allowed_actions(case: CaseState, actor: Actor) -> tuple[Transition, ...]:
    """The transitions `actor` could take now (reasons aside): the buttons a UI shows."""
    out = []
    for row in TRANSITIONS:
        if row.source is not case.state:
            continue
        try:
            check_actor(case, actor, row.roles, row.action)
            check_guard(case, row.guard)
        except TransitionError:
            continue
        out.append(row)
    return tuple(out)
