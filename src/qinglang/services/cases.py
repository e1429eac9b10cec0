"""Case work for regulators: lists and search, the case file, and every command on a case.

Who sees a case (the rule every query here applies):

- officers, analysts and leaders see the cases in which their department takes part (lead or
  cooperating, `case_departments`) and whose jurisdiction theirs covers (a province covers its
  cities and counties, "100000" is national);
- administrators see every case in their jurisdiction, read-only;
- platform operators see no cases at all (they see the notices sent to them, `notices.py`).

A case the caller cannot see answers 404 (its existence is not revealed); a case the caller
sees but may not act on answers 403; a role that never works on cases (operator, plain
admin) answers 403 before any case is looked up.

Commands run in the caller's transaction and write their audit events through
`case_store.save_case` / `audit_log.record`, so each one commits or rolls back whole. Side
effects of transitions:

- `open` gives each cooperating department a task (`case.task_created`);
- `notify` sends a rectification notice with the approved dispositions and the deadline to the
  platform operator of the case's subject (`notice.sent`); a case without one still gets its
  notice recorded, addressed to nobody, and the answer carries a warning;
- a failed re-check, and a disposition approved while the case is rectifying, send a new
  notice that supersedes the unanswered one;
- closing, dismissing or transferring sets the public result and publishes it to the
  reporters of the case's public tips (`case.result_published`); open notices are closed.

Lists page by keyset on (updated_at desc, id desc) with an opaque cursor and never count the
whole table; the SQL is shaped for the indexes of `qinglang.store.models` (see docs/cases.md).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

from qinglang.govern import cases as core
from qinglang.govern.actors import Actor, Role
from qinglang.govern.case_dispositions import (
    DISPOSITION_OPS,
    approve_disposition,
    propose_disposition,
    reject_disposition,
    withdraw_disposition,
)
from qinglang.govern.cases import STATE_NAMES_ZH, CaseState, State, TransitionError
from qinglang.govern.clock import shanghai_date
from qinglang.govern.dispositions import DispositionError, get_disposition, registered
from qinglang.govern.identifiers import (
    DivisionLevel,
    IdentifierError,
    division_level,
    normalize_division,
)
from qinglang.services import case_store, cursors
from qinglang.services.errors import ServiceError, conflict, forbidden, invalid, not_found
from qinglang.services.principal import CASE_ROLES, Principal
from qinglang.store import audit_log
from qinglang.store.audit_chain import OPT_STR, STR, EventKind, PayloadExample, register_kind
from qinglang.store.models import (
    AuditRow,
    Blob,
    Case,
    CaseDepartment,
    CaseDispositionRow,
    CaseTask,
    IntakeItem,
    Notice,
    Organisation,
    Rectification,
    Subject,
    User,
)
from qinglang.taxonomy import get_taxonomy

PAGE_DEFAULT = 50
PAGE_MAX = 200
TOTAL_CAP = 10_000  # `total` counts at most this many rows (and says when it stopped)
SORT_CANDIDATES = 5000  # at most this many matches: fetch and sort them (see _few_matches)
ESTIMATE_MARGIN = 2  # trust the planner's row estimate when it is this far from the bound
TRIGRAM = 3  # shortest search text the trigram index on cases.title can serve
EVENTS_MAX = 500
MAX_Q = 100
MAX_TITLE = 200
MAX_SUMMARY = 10_000
MAX_NOTE = 2000
MAX_PUBLIC_RESULT = 2000
MAX_GROUNDS = 10
INT_MAX = 2**31 - 1
TICKETS_PER_EVENT = 500  # keeps each case.result_published payload far below 64 KiB

PUBLIC_TIP = "public_tip"
MANUAL_SOURCES = ("patrol", "handoff")  # sources an officer may give a case opened by hand
INVOLVEMENTS = ("lead", "co")

# Notice statuses. Only `sent` notices wait for an answer and can become overdue.
NOTICE_SENT = "sent"
NOTICE_ANSWERED = "answered"
NOTICE_SUPERSEDED = "superseded"  # a newer notice on the same case replaced it
NOTICE_CLOSED = "closed"  # the case ended (closed, dismissed, transferred) before an answer
NOTICE_STATUSES = (NOTICE_SENT, NOTICE_ANSWERED, NOTICE_SUPERSEDED, NOTICE_CLOSED)
NOTICE_STATUS_NAMES_ZH = {
    NOTICE_SENT: "待整改",
    NOTICE_ANSWERED: "已反馈",
    NOTICE_SUPERSEDED: "已被新通知替代",
    NOTICE_CLOSED: "已终结",
}

DEFAULT_PUBLIC_RESULTS = {
    "close": "经核查，相关问题已依法处置并整改完毕，案件已办结。",
    "dismiss": "经核查，未发现需要立案查处的违法违规情形，不予立案。",
    "transfer": "已移交有关部门依法处理。",
}

NO_RECIPIENT_WARNING = (
    "该案件未关联平台运营者（案件无监管对象，或监管对象未关联运营主体），"
    "整改通知已登记但无人在线接收，请线下送达。"
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR = re.compile(r"([0-9]{1,20}):([0-9]{1,10})")
_SURROGATE = re.compile("[\ud800-\udfff]")


# ---------------------------------------------------------------- the notice status event


@register_kind
class NoticeStatusChanged(EventKind):
    kind = "notice.status_changed"
    description = (
        "A rectification notice stopped waiting for an answer: superseded by a newer notice, "
        "or closed because its case ended."
    )
    required = MappingProxyType({"notice_id": STR, "status": STR})
    optional = MappingProxyType({"by_notice_id": OPT_STR, "reason": OPT_STR})
    examples = (
        PayloadExample({"notice_id": "3", "status": "superseded", "by_notice_id": "4"}, True),
        PayloadExample({"notice_id": "3", "status": "closed", "reason": "case closed"}, True),
        PayloadExample({"notice_id": "3"}, False),
        PayloadExample({"notice_id": "3", "status": ""}, False),
    )


# ---------------------------------------------------------------- values handed to the API


@dataclass(frozen=True, slots=True)
class CaseSummary:
    id: int
    state: str
    state_name: str
    title: str
    grounds: list[str]
    primary_ground: str
    lead_department: str
    co_departments: list[str]
    jurisdiction: str
    subject_id: int | None
    source: str | None
    deadline: date | None
    overdue: bool | None  # None when no time was given to judge it
    version: int
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class CasePage:
    items: list[CaseSummary]
    has_more: bool
    next_cursor: str | None
    total: int | None = None  # only when asked for
    total_exact: bool | None = None  # False: there are more than `total` (TOTAL_CAP)


@dataclass(frozen=True, slots=True)
class ActionView:
    action: str
    name: str
    to: str
    needs_reason: bool
    needs_target: bool


@dataclass(frozen=True, slots=True)
class DispositionView:
    id: str
    n: int
    code: str
    name: str
    text: str  # the measure in words, with its parameters: what a notice says
    params: dict[str, Any]
    status: str
    proposed_by: str
    proposed_by_name: str | None
    proposed_at: datetime
    decided_by: str | None
    decided_by_name: str | None
    decided_at: datetime | None
    decision_reason: str | None
    actions: list[str]  # approve / reject / withdraw, as far as the caller may


@dataclass(frozen=True, slots=True)
class TaskView:
    id: int
    department: str
    department_name: str
    title: str
    status: str
    note: str | None
    created_at: datetime
    done_at: datetime | None
    done_by: str | None
    done_by_name: str | None
    can_complete: bool


@dataclass(frozen=True, slots=True)
class AttachmentView:
    digest: str
    size: int | None
    media_type: str | None
    name: str | None


@dataclass(frozen=True, slots=True)
class RectificationView:
    id: int
    summary: str
    attachments: list[AttachmentView]
    reported_by: str
    reported_by_name: str | None
    reported_at: datetime
    late: bool


@dataclass(frozen=True, slots=True)
class NoticeView:
    id: int
    case_id: int
    status: str
    status_name: str
    organisation_id: int | None
    organisation_name: str | None
    subject_id: int | None
    subject_name: str | None
    issuer_department: str
    issuer_department_name: str
    issuer_jurisdiction: str
    grounds: list[str]
    ground_names: list[str]
    dispositions: list[DispositionView]
    deadline: date | None
    overdue: bool | None
    sent_by: str | None  # None in what operators see
    sent_at: datetime
    answered_at: datetime | None
    rectifications: list[RectificationView]
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class EventView:
    seq: int
    at: datetime
    actor: str
    actor_name: str | None
    kind: str
    payload: dict[str, Any]
    hash: str


@dataclass(frozen=True, slots=True)
class SubjectView:
    id: int
    kind: str
    name: str
    organisation_id: int | None
    organisation_name: str | None


@dataclass(frozen=True, slots=True)
class CaseDetail:
    case: CaseSummary
    summary: str | None
    public_result: str | None
    subject: SubjectView | None
    dispositions: list[DispositionView]
    tasks: list[TaskView]
    notices: list[NoticeView]
    allowed_actions: list[ActionView]
    can_propose: bool
    intake_items: int
    public_tips: int
    events: list[EventView]
    events_truncated: bool
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class EventPage:
    items: list[EventView]
    next_after_seq: int | None


@dataclass(frozen=True, slots=True)
class OverdueReport:
    today: date
    cases: list[CaseSummary]
    cases_more: bool
    notices: list[NoticeView]
    notices_more: bool


# ---------------------------------------------------------------- small checks


def check_text(text: str | None, code: str, what_zh: str) -> None:
    """422 for text no database or audit record can hold: NUL, lone surrogates."""
    if text is None:
        return
    if not isinstance(text, str) or "\x00" in text or _SURROGATE.search(text):
        raise invalid(
            f"bad_{code}", f"{code} contains NUL or a lone surrogate", f"{what_zh}含有无效字符。"
        )


def _clean(text: str | None, limit: int, code: str, what_zh: str) -> str | None:
    if text is None:
        return None
    check_text(text, code, what_zh)
    text = text.strip()
    if not text:
        return None
    if len(text) > limit:
        raise invalid(
            f"{code}_too_long", f"{code} longer than {limit}", f"{what_zh}不能超过{limit}个字。"
        )
    return text


def _core_error(exc: TransitionError, **extra: Any) -> ServiceError:
    err = case_store.transition_error(exc)
    err.extra.update(extra)
    return err


def _department_names() -> dict[str, str]:
    return {code: d.name for code, d in get_taxonomy().departments.items()}


def _ground_name(code: str) -> str:
    return get_taxonomy().ground_name(code)


def _check_department(code: str) -> str:
    known = get_taxonomy().departments
    if code not in known:
        raise invalid(
            "unknown_department",
            f"unknown department {code!r}",
            f"未知的部门：{code[:32]}。可选：{'、'.join(known)}",
            allowed=list(known),
        )
    return code


def _division(value: str, code: str = "bad_jurisdiction") -> str:
    try:
        return normalize_division(value)
    except IdentifierError as exc:
        raise invalid(code, str(exc), exc.message_zh) from None


def within(column: Any, division: str) -> ColumnElement[bool] | None:
    """SQL for "`column` lies inside `division`" as an index-friendly range (None: national).

    Division codes nest by prefix (province "41", city "4101", county "410105"), so a
    province is the range 410000..419999: a B-tree range scan, not a function on the column.
    """
    level = division_level(division)
    if level is DivisionLevel.national:
        return None
    if level is DivisionLevel.province:
        return column.between(division[:2] + "0000", division[:2] + "9999")
    if level is DivisionLevel.city:
        return column.between(division[:4] + "00", division[:4] + "99")
    return column == division


def _overdue(state: str, deadline: date | None, at: datetime | None) -> bool | None:
    if at is None:
        return None
    return state == State.rectifying.value and deadline is not None and shanghai_date(at) > deadline


# ---------------------------------------------------------------- who may see and act


def require_case_reader(principal: Principal) -> None:
    """403 for callers who never see cases (platform operators, accounts without a role)."""
    if principal.is_operator or not principal.is_regulator:
        raise forbidden(
            "forbidden_role",
            "only regulators see cases",
            "您的角色无权查看案件（平台运营者请在“整改通知”中查看发给本单位的通知）。",
        )
    if not principal.has(Role.admin) and principal.department is None:
        raise forbidden(
            "no_department",
            "case work needs a department",
            "您的账号未归属任何部门，不能查看案件。",
        )


def case_actor(principal: Principal) -> Actor:
    """The core's actor for a command; 403 for roles that never work on cases."""
    if not principal.has(*CASE_ROLES):
        raise forbidden(
            "forbidden_role",
            "case work needs the role officer, analyst or leader",
            "您的角色无权办理案件。",
        )
    return principal.actor()


def can_see(principal: Principal, row: Case) -> bool:
    """The visibility rule of the module docstring, for one loaded case."""
    if principal.is_operator or not principal.covers(row.jurisdiction):
        return False
    if principal.has(Role.admin):
        return True
    if not principal.has(*CASE_ROLES) or principal.department is None:
        return False
    return principal.department == row.lead_department or principal.department in (
        row.co_departments or []
    )


def load_visible(
    session: Session, principal: Principal, case_id: int, *, for_update: bool = False
) -> tuple[Case, CaseState]:
    """The case and its core state, or 404 when it does not exist or the caller cannot see it."""
    try:
        row, state = case_store.load_case(session, case_id, for_update=for_update)
    except ServiceError:
        raise not_found("case", "案件", case_id) from None
    if not can_see(principal, row):
        raise not_found("case", "案件", case_id)
    return row, state


def _check_version(state: CaseState, expected: int | None) -> None:
    if expected is not None and expected != state.version:
        raise conflict(
            "stale_case",
            f"case {state.id} is at version {state.version}, not {expected}",
            "案件已被他人更新，请刷新后重试。",
        )


# ---------------------------------------------------------------- lists


@dataclass(frozen=True, slots=True)
class _Scope:
    department: str | None  # walk case_departments of this department
    is_lead: bool | None
    other_department: tuple[str, bool | None] | None  # a second department that takes part
    division: str


def _scope(
    principal: Principal,
    department: str | None,
    involvement: str | None,
    jurisdiction: str | None,
) -> _Scope:
    require_case_reader(principal)
    if department is not None:
        _check_department(department)
    if involvement is not None and involvement not in INVOLVEMENTS:
        raise invalid(
            "unknown_involvement",
            f"involvement must be one of {INVOLVEMENTS}",
            "involvement 只能是 lead（牵头）或 co（协办）。",
            allowed=list(INVOLVEMENTS),
        )
    is_lead = None if involvement is None else involvement == "lead"
    division = principal.jurisdiction
    if jurisdiction is not None:
        division = _division(jurisdiction)
        principal.require_covers(division)
    if principal.has(Role.admin):
        if is_lead is not None and department is None:
            raise invalid(
                "involvement_needs_department",
                "involvement filters how a department takes part: name the department",
                "按牵头/协办筛选时请同时指定部门。",
            )
        return _Scope(department, is_lead, None, division)
    own = principal.department
    if department is None or department == own:
        return _Scope(own, is_lead, None, division)
    return _Scope(own, None, (department, is_lead), division)


_SUMMARY_COLUMNS = (
    Case.id,
    Case.state,
    Case.title,
    Case.grounds,
    Case.primary_ground,
    Case.lead_department,
    Case.co_departments,
    Case.jurisdiction,
    Case.subject_id,
    Case.source,
    Case.deadline,
    Case.version,
    Case.created_at,
    Case.updated_at,
    Case.closed_at,
)


def _scoped_select(
    scope: _Scope, *columns: Any, with_division: bool = True
) -> tuple[Select[Any], Any, Any]:
    """SELECT `columns` of the cases in `scope`, and the two sort-key columns.

    Department-scoped lists start from `case_departments` (index (department, updated_at))
    and sort on its copy of `updated_at`, so PostgreSQL can walk that index in order and stop
    after one page. `with_division=False` leaves the jurisdiction range to the caller.
    """
    if scope.department is not None:
        cd = aliased(CaseDepartment, name="scope_department")
        key_at, key_id = cd.updated_at, cd.case_id
        stmt = (
            select(*columns, key_at.label("k_at"), key_id.label("k_id"))
            .select_from(cd)
            .join(Case, Case.id == cd.case_id)
            .where(cd.department == scope.department)
        )
        if scope.is_lead is not None:
            stmt = stmt.where(cd.is_lead.is_(scope.is_lead))
    else:
        key_at, key_id = Case.updated_at, Case.id
        stmt = select(*columns, key_at.label("k_at"), key_id.label("k_id"))
    if scope.other_department is not None:
        dep, lead = scope.other_department
        other = select(CaseDepartment.case_id).where(
            CaseDepartment.case_id == Case.id, CaseDepartment.department == dep
        )
        if lead is not None:
            other = other.where(CaseDepartment.is_lead.is_(lead))
        stmt = stmt.where(exists(other))
    if with_division:
        clause = within(Case.jurisdiction, scope.division)
        if clause is not None:
            stmt = stmt.where(clause)
    return stmt, key_at, key_id


def _estimate(session: Session, stmt: Select[Any]) -> float:
    """PostgreSQL's own estimate of the rows `stmt` returns (planning only, no execution)."""
    compiled = stmt.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )
    plan = (
        session.connection()
        .exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params)
        .scalar_one()
    )
    if isinstance(plan, str):
        plan = json.loads(plan)
    return float(plan[0]["Plan"]["Plan Rows"])


def _few_matches(
    session: Session, indexed: Sequence[ColumnElement[bool]], *, estimable: bool = True
) -> bool:
    """True when the filters on `cases` leave few rows (PostgreSQL; about SORT_CANDIDATES).

    Walking the time-ordered index and stopping after one page is fast when matches are
    dense along it; when a selective filter (a city, a rare state, a search word) leaves
    few, the walk would visit most of the index. PostgreSQL's planner cannot tell the two
    apart under a LIMIT (it assumes matches spread evenly), so we decide: from the planner's
    estimate when it is clear by a wide margin, otherwise by a count bounded at
    SORT_CANDIDATES that reads only the filters' own indexes. `estimable=False` skips the
    estimate: for a substring search it is a guess from the pattern's length, not from data.
    """
    if not indexed or session.get_bind().dialect.name != "postgresql":
        return False
    probe = select(literal(1)).select_from(Case).where(*indexed)
    if estimable:
        estimate = _estimate(session, probe)
        if estimate * ESTIMATE_MARGIN <= SORT_CANDIDATES:
            return True
        if estimate >= SORT_CANDIDATES * ESTIMATE_MARGIN:
            return False
    bounded = probe.limit(SORT_CANDIDATES + 1).subquery()
    return session.execute(select(func.count()).select_from(bounded)).scalar_one() <= (
        SORT_CANDIDATES
    )


def encode_cursor(at: datetime, case_id: int) -> str:
    micros = (at - _EPOCH) // timedelta(microseconds=1)
    return cursors.encode(f"{micros}:{case_id}")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    bad = invalid(
        "bad_cursor", "cursor is not one this API gave out", "分页游标无效，请从第一页重新查询。"
    )
    match = cursors.decode(cursor, _CURSOR, bad, 64)
    micros, case_id = int(match[1]), int(match[2])
    try:
        at = _EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        raise bad from None
    if case_id > INT_MAX:
        raise bad
    return at, case_id


def _states(state: str | Sequence[str] | None) -> list[str]:
    if state is None:
        return []
    values = [state] if isinstance(state, str) else list(state)
    known = [s.value for s in State]
    for value in values:
        if value not in known:
            raise invalid(
                "unknown_state",
                f"unknown case state {value!r}",
                f"未知的案件状态：{str(value)[:32]}。可选：{'、'.join(known)}",
                allowed=known,
            )
    return list(dict.fromkeys(values))


def _check_ground(code: str) -> str:
    tax = get_taxonomy()
    if code not in tax.categories and code not in tax.violations:
        allowed = [*tax.categories, *tax.violations]
        raise invalid(
            "unknown_ground",
            f"unknown case ground {code!r}",
            f"未知的案件类别：{code[:32]}。",
            allowed=allowed,
        )
    return code


def _search(q: str) -> tuple[ColumnElement[bool], bool] | None:
    """The search clause for `q`, and whether an index serves it (trigrams need 3 characters)."""
    text = unicodedata.normalize("NFKC", q).strip()
    if not text:
        return None
    if len(text) > MAX_Q:
        raise invalid("q_too_long", f"q longer than {MAX_Q}", f"搜索词不能超过{MAX_Q}个字。")
    check_text(text, "q", "搜索词")
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    title = Case.title.ilike(f"%{escaped}%", escape="\\")
    indexed = len(text) >= TRIGRAM
    digits = text.removeprefix("#")
    if digits.isdigit() and 1 <= int(digits) <= INT_MAX:
        if digits != text:
            return Case.id == int(digits), True
        return or_(Case.id == int(digits), title), indexed
    return title, indexed


def _summary(row: Any, at: datetime | None) -> CaseSummary:
    return CaseSummary(
        id=row.id,
        state=row.state,
        state_name=STATE_NAMES_ZH[State(row.state)],
        title=row.title,
        grounds=list(row.grounds or []),
        primary_ground=row.primary_ground,
        lead_department=row.lead_department,
        co_departments=list(row.co_departments or []),
        jurisdiction=row.jurisdiction,
        subject_id=row.subject_id,
        source=row.source,
        deadline=row.deadline,
        overdue=_overdue(row.state, row.deadline, at),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        closed_at=row.closed_at,
    )


def list_cases(
    session: Session,
    principal: Principal,
    *,
    state: str | Sequence[str] | None = None,
    department: str | None = None,
    involvement: str | None = None,
    ground: str | None = None,
    jurisdiction: str | None = None,
    subject_id: int | None = None,
    campaign_id: int | None = None,
    overdue: bool | None = None,
    q: str | None = None,
    limit: int = PAGE_DEFAULT,
    cursor: str | None = None,
    with_total: bool = False,
    at: datetime | None = None,
) -> CasePage:
    """One page of the cases the caller sees, newest change first.

    Filters: `state` (one or several), `department` (takes part, as lead or cooperating;
    `involvement` "lead"/"co" says how — of `department`, or of the caller's own department),
    `ground` (the primary ground), `jurisdiction` (inside this division, which must lie in the
    caller's), `subject_id`, `campaign_id` (filed under that campaign), `overdue` (rectifying
    past its deadline on the China calendar day of `at`; needs `at`), `q` (title substring, or
    an exact case id). `cursor` is the
    `next_cursor` of the previous page. `with_total` adds a count capped at TOTAL_CAP.
    """
    scope = _scope(principal, department, involvement, jurisdiction)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= PAGE_MAX:
        raise invalid(
            "bad_limit", f"limit must be 1..{PAGE_MAX}", f"每页条数应在1至{PAGE_MAX}之间。"
        )
    position = decode_cursor(cursor) if cursor else None
    # Filters on `cases` that one of its indexes serves, and the rest.
    indexed: list[ColumnElement[bool]] = []
    residual: list[ColumnElement[bool]] = []
    division = within(Case.jurisdiction, scope.division)
    if division is not None:
        indexed.append(division)
    states = _states(state)
    if states:
        indexed.append(Case.state == states[0] if len(states) == 1 else Case.state.in_(states))
    if ground is not None:
        indexed.append(Case.primary_ground == _check_ground(ground))
    if subject_id is not None:
        if not isinstance(subject_id, int) or not 1 <= subject_id <= INT_MAX:
            raise invalid("bad_subject_id", "subject_id out of range", "监管对象编号无效。")
        indexed.append(Case.subject_id == subject_id)
    if campaign_id is not None:
        if not isinstance(campaign_id, int) or not 1 <= campaign_id <= INT_MAX:
            raise invalid("bad_campaign_id", "campaign_id out of range", "专项行动编号无效。")
        indexed.append(Case.campaign_id == campaign_id)
    if overdue is not None:
        if at is None:
            raise ValueError("the overdue filter needs `at`")
        late = and_(Case.state == State.rectifying.value, Case.deadline < shanghai_date(at))
        if overdue:
            indexed.append(late)
        else:
            residual.append(or_(not_(late), Case.deadline.is_(None)))
    searched = False
    if q is not None:
        search = _search(q)
        if search is not None:
            (indexed if search[1] else residual).append(search[0])
            searched = search[1]
    stmt, key_at, key_id = _scoped_select(scope, *_SUMMARY_COLUMNS, with_division=False)
    stmt = stmt.where(*indexed, *residual)
    few = _few_matches(session, indexed, estimable=not searched)
    total = total_exact = None
    if with_total:
        counted = session.execute(
            select(func.count()).select_from(stmt.limit(TOTAL_CAP + 1).subquery())
        ).scalar_one()
        total, total_exact = min(counted, TOTAL_CAP), counted <= TOTAL_CAP
    if position is not None:
        c_at, c_id = position
        stmt = stmt.where(key_at <= c_at, or_(key_at < c_at, key_id < c_id))
    if not few:
        stmt = stmt.order_by(key_at.desc(), key_id.desc())
    else:
        # Few matches: fetch them all and sort. OFFSET 0 fences the subquery so the
        # planner cannot turn back to walking the time-ordered index.
        inner = stmt.offset(0).subquery("candidate_cases")
        stmt = select(inner).order_by(inner.c.k_at.desc(), inner.c.k_id.desc())
    rows = session.execute(stmt.limit(limit + 1)).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].k_at, rows[-1].k_id) if has_more else None
    return CasePage(
        items=[_summary(r, at) for r in rows],
        has_more=has_more,
        next_cursor=next_cursor,
        total=total,
        total_exact=total_exact,
    )


# ---------------------------------------------------------------- the case file


def _actor_names(session: Session, actors: Iterable[str | None]) -> dict[str, str]:
    ids = set()
    for actor in actors:
        if actor and actor.startswith("user:") and actor[5:].isdigit():
            ids.add(int(actor[5:]))
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()
    return {f"user:{r.id}": r.display_name for r in rows}


def disposition_text(code: str, params: Mapping[str, Any]) -> str:
    """The measure in Chinese with its parameters, e.g. "责令限期整改（整改期限：2020-11-30）"."""
    try:
        kind = get_disposition(code)
    except DispositionError:
        return code
    parts = [f"{p.label}：{params[p.name]}" for p in kind.params if params.get(p.name) is not None]
    return f"{kind.name}（{'；'.join(parts)}）" if parts else kind.name


def _try(check: Any) -> bool:
    try:
        check()
    except TransitionError:
        return False
    return True


def _disposition_actions(
    state: CaseState, d_id: str, actor: Actor | None, at: datetime
) -> list[str]:
    if actor is None:
        return []
    out = []
    if _try(lambda: approve_disposition(state, d_id, actor, at)):
        out.append("approve")
    if _try(lambda: reject_disposition(state, d_id, actor, at, "-")):
        out.append("reject")
    if _try(lambda: withdraw_disposition(state, d_id, actor, at)):
        out.append("withdraw")
    return out


def _can_propose(state: CaseState, actor: Actor | None) -> bool:
    op = DISPOSITION_OPS["propose"]
    if actor is None or state.terminal or state.state not in op.states:
        return False
    return _try(lambda: core.check_actor(state, actor, op.roles, "propose"))


def _disposition_views(
    session: Session,
    state: CaseState,
    rows: Sequence[CaseDispositionRow],
    actor: Actor | None,
    at: datetime,
    names: Mapping[str, str],
) -> list[DispositionView]:
    out = []
    for r in sorted(rows, key=lambda r: r.n):
        out.append(
            DispositionView(
                id=r.id,
                n=r.n,
                code=r.code,
                name=get_disposition(r.code).name,
                text=disposition_text(r.code, r.params),
                params=dict(r.params),
                status=r.status,
                proposed_by=r.proposed_by,
                proposed_by_name=names.get(r.proposed_by),
                proposed_at=r.proposed_at,
                decided_by=r.decided_by,
                decided_by_name=names.get(r.decided_by or ""),
                decided_at=r.decided_at,
                decision_reason=r.decision_reason,
                actions=_disposition_actions(state, r.id, actor, at),
            )
        )
    return out


def _evidence_names(session: Session, case_id: int) -> dict[str, str]:
    rows = session.execute(
        select(AuditRow.payload).where(
            AuditRow.subject == f"case:{case_id}", AuditRow.kind == "evidence.added"
        )
    ).scalars()
    return {p["digest"]: p["name"] for p in rows if p.get("name")}


def notice_views(
    session: Session,
    notices: Sequence[Notice],
    at: datetime | None,
    *,
    with_reports: bool = True,
) -> list[NoticeView]:
    """Notices in words: recipient, measures in Chinese, deadline, reports back."""
    if not notices:
        return []
    case_ids = {n.case_id for n in notices}
    cases = {c.id: c for c in session.execute(select(Case).where(Case.id.in_(case_ids))).scalars()}
    org_ids = {n.organisation_id for n in notices if n.organisation_id is not None}
    orgs = {
        o.id: o.name
        for o in session.execute(select(Organisation).where(Organisation.id.in_(org_ids))).scalars()
    }
    subject_ids = {n.subject_id for n in notices if n.subject_id is not None}
    subjects = {
        s.id: s.name
        for s in session.execute(select(Subject).where(Subject.id.in_(subject_ids))).scalars()
    }
    d_ids = {d for n in notices for d in (n.disposition_ids or [])}
    d_rows = {
        d.id: d
        for d in session.execute(
            select(CaseDispositionRow).where(CaseDispositionRow.id.in_(d_ids))
        ).scalars()
    }
    reports: dict[int, list[Rectification]] = {n.id: [] for n in notices}
    if with_reports:
        for r in session.execute(
            select(Rectification)
            .where(Rectification.notice_id.in_(reports))
            .order_by(Rectification.id)
        ).scalars():
            reports[r.notice_id].append(r)
    digests = {dg for rs in reports.values() for r in rs for dg in (r.digests or [])}
    blobs = {
        b.digest: b for b in session.execute(select(Blob).where(Blob.digest.in_(digests))).scalars()
    }
    evidence_names: dict[str, str] = {}
    if digests:
        for case_id in case_ids:
            evidence_names.update(_evidence_names(session, case_id))
    names = _actor_names(
        session,
        [n.sent_by for n in notices] + [r.reported_by for rs in reports.values() for r in rs],
    )
    departments = _department_names()
    out = []
    for n in notices:
        case = cases[n.case_id]
        dispositions = []
        for d_id in n.disposition_ids or []:
            d = d_rows.get(d_id)
            if d is None:
                continue
            dispositions.append(
                DispositionView(
                    id=d.id,
                    n=d.n,
                    code=d.code,
                    name=get_disposition(d.code).name,
                    text=disposition_text(d.code, d.params),
                    params=dict(d.params),
                    status=d.status,
                    proposed_by=d.proposed_by,
                    proposed_by_name=None,
                    proposed_at=d.proposed_at,
                    decided_by=d.decided_by,
                    decided_by_name=None,
                    decided_at=d.decided_at,
                    decision_reason=None,
                    actions=[],
                )
            )
        rect_views = []
        for r in reports[n.id]:
            rect_views.append(
                RectificationView(
                    id=r.id,
                    summary=r.summary,
                    attachments=[
                        AttachmentView(
                            digest=dg,
                            size=blobs[dg].size if dg in blobs else None,
                            media_type=blobs[dg].media_type if dg in blobs else None,
                            name=evidence_names.get(dg),
                        )
                        for dg in (r.digests or [])
                    ],
                    reported_by=r.reported_by,
                    reported_by_name=names.get(r.reported_by),
                    reported_at=r.reported_at,
                    late=n.deadline is not None and shanghai_date(r.reported_at) > n.deadline,
                )
            )
        warnings = [] if n.organisation_id is not None else [NO_RECIPIENT_WARNING]
        out.append(
            NoticeView(
                id=n.id,
                case_id=n.case_id,
                status=n.status,
                status_name=NOTICE_STATUS_NAMES_ZH.get(n.status, n.status),
                organisation_id=n.organisation_id,
                organisation_name=orgs.get(n.organisation_id or 0),
                subject_id=n.subject_id,
                subject_name=subjects.get(n.subject_id or 0),
                issuer_department=case.lead_department,
                issuer_department_name=departments.get(case.lead_department, case.lead_department),
                issuer_jurisdiction=case.jurisdiction,
                grounds=list(case.grounds or []),
                ground_names=[_ground_name(g) for g in case.grounds or []],
                dispositions=dispositions,
                deadline=n.deadline,
                overdue=(
                    None
                    if at is None
                    else n.status == NOTICE_SENT
                    and n.deadline is not None
                    and shanghai_date(at) > n.deadline
                ),
                sent_by=n.sent_by,
                sent_at=n.sent_at,
                answered_at=n.answered_at,
                rectifications=rect_views,
                warnings=warnings,
            )
        )
    return out


def _event_views(session: Session, rows: Sequence[AuditRow]) -> list[EventView]:
    names = _actor_names(session, [r.actor for r in rows])
    return [
        EventView(
            seq=r.seq,
            at=r.at,
            actor=r.actor,
            actor_name=names.get(r.actor),
            kind=r.kind,
            payload=dict(r.payload),
            hash=r.hash,
        )
        for r in rows
    ]


def get_case(
    session: Session,
    principal: Principal,
    case_id: int,
    *,
    at: datetime | None = None,
    warnings: Sequence[str] = (),
) -> CaseDetail:
    """The case file: dispositions, tasks, notices with reports, what the caller may do now,
    linked intake counts and the event trail (oldest first, at most EVENTS_MAX events)."""
    require_case_reader(principal)
    row, state = load_visible(session, principal, case_id)
    return _detail(session, principal, row, state, at, warnings)


def _detail(
    session: Session,
    principal: Principal,
    row: Case,
    state: CaseState,
    at: datetime | None,
    warnings: Sequence[str] = (),
) -> CaseDetail:
    actor: Actor | None = None
    if principal.has(*CASE_ROLES) and principal.department is not None:
        actor = principal.actor()
    when = max(at, state.updated_at) if at is not None else state.updated_at
    d_rows = list(
        session.execute(
            select(CaseDispositionRow).where(CaseDispositionRow.case_id == row.id)
        ).scalars()
    )
    tasks = list(
        session.execute(
            select(CaseTask).where(CaseTask.case_id == row.id).order_by(CaseTask.id)
        ).scalars()
    )
    notices = list(
        session.execute(
            select(Notice).where(Notice.case_id == row.id).order_by(Notice.id)
        ).scalars()
    )
    event_rows = list(
        session.execute(
            select(AuditRow)
            .where(AuditRow.subject == f"case:{row.id}")
            .order_by(AuditRow.seq)
            .limit(EVENTS_MAX + 1)
        ).scalars()
    )
    truncated = len(event_rows) > EVENTS_MAX
    event_rows = event_rows[:EVENTS_MAX]
    names = _actor_names(
        session,
        [d.proposed_by for d in d_rows]
        + [d.decided_by for d in d_rows]
        + [t.done_by for t in tasks],
    )
    intake = session.execute(
        select(
            func.count(IntakeItem.id),
            func.count(IntakeItem.id).filter(IntakeItem.source == PUBLIC_TIP),
        ).where(IntakeItem.case_id == row.id)
    ).one()
    subject = None
    if row.subject_id is not None:
        s = session.get(Subject, row.subject_id)
        if s is not None:
            org = session.get(Organisation, s.organisation_id) if s.organisation_id else None
            subject = SubjectView(
                s.id, s.kind, s.name, s.organisation_id, org.name if org else None
            )
    departments = _department_names()
    task_views = [
        TaskView(
            id=t.id,
            department=t.department,
            department_name=departments.get(t.department, t.department),
            title=t.title,
            status=t.status,
            note=t.note,
            created_at=t.created_at,
            done_at=t.done_at,
            done_by=t.done_by,
            done_by_name=names.get(t.done_by or ""),
            can_complete=(
                actor is not None and t.status == TASK_OPEN and t.department == actor.department
            ),
        )
        for t in tasks
    ]
    allowed = (
        [
            ActionView(t.action, t.name_zh, t.target.value, t.needs_reason, t.needs_target)
            for t in core.allowed_actions(state, actor)
        ]
        if actor is not None
        else []
    )
    return CaseDetail(
        case=_summary(row, at),
        summary=row.summary,
        public_result=row.public_result,
        subject=subject,
        dispositions=_disposition_views(session, state, d_rows, actor, when, names),
        tasks=task_views,
        notices=notice_views(session, notices, at),
        allowed_actions=allowed,
        can_propose=_can_propose(state, actor),
        intake_items=intake[0],
        public_tips=intake[1],
        events=_event_views(session, event_rows),
        events_truncated=truncated,
        warnings=list(warnings),
    )


def case_events(
    session: Session,
    principal: Principal,
    case_id: int,
    *,
    after_seq: int = 0,
    limit: int = 100,
) -> EventPage:
    """The case's audit events in log order, paged by `seq`."""
    require_case_reader(principal)
    load_visible(session, principal, case_id)
    limit = max(1, min(limit, EVENTS_MAX))
    rows = list(
        session.execute(
            select(AuditRow)
            .where(AuditRow.subject == f"case:{case_id}", AuditRow.seq > after_seq)
            .order_by(AuditRow.seq)
            .limit(limit + 1)
        ).scalars()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return EventPage(_event_views(session, rows), rows[-1].seq if more and rows else None)


# ---------------------------------------------------------------- creating a case

TASK_OPEN = "open"
TASK_DONE = "done"


def create_case(
    session: Session,
    principal: Principal,
    *,
    grounds: Sequence[str],
    jurisdiction: str,
    at: datetime,
    title: str | None = None,
    summary: str | None = None,
    subject_id: int | None = None,
    lead: str | None = None,
    source: str = "patrol",
    reason: str | None = None,
) -> CaseDetail:
    """An officer (or leader) opens a lead by hand, e.g. from a patrol finding.

    The case's jurisdiction must lie in the caller's, and the caller's department must take
    part in it (as routed by the grounds, or as the `lead` override) — otherwise the caller
    could not see what they created: hand such a lead to the right department through intake.
    """
    actor = case_actor(principal)
    if not principal.has(Role.officer, Role.leader):
        raise forbidden(
            "forbidden_role",
            "opening a case needs the role officer or leader",
            "您的角色无权新建案件。",
        )
    grounds = [g for g in dict.fromkeys(grounds)]
    if not grounds:
        raise invalid("no_grounds", "a case needs at least one ground", "请至少选择一个案件类别。")
    if len(grounds) > MAX_GROUNDS:
        raise invalid("too_many_grounds", "too many grounds", f"案件类别最多{MAX_GROUNDS}个。")
    for g in grounds:
        _check_ground(g)
    if lead is not None:
        _check_department(lead)
    if source not in MANUAL_SOURCES:
        raise invalid(
            "bad_source",
            f"source must be one of {MANUAL_SOURCES}",
            "案件来源只能是 patrol（巡查发现）或 handoff（部门移送）。",
            allowed=list(MANUAL_SOURCES),
        )
    division = _division(jurisdiction)
    principal.require_covers(division)
    title = _clean(title, MAX_TITLE, "title", "案件标题")
    summary = _clean(summary, MAX_SUMMARY, "summary", "案情摘要")
    check_text(reason, "reason", "理由")
    if subject_id is not None and session.get(Subject, subject_id) is None:
        raise invalid("unknown_subject", f"no subject {subject_id}", "未找到该监管对象。")
    try:
        routed = core.new_case("0", grounds, division, at, created_by=actor.id, lead=lead)[0]
    except TransitionError as exc:
        raise _core_error(exc) from None
    if actor.department not in (routed.lead_department, *routed.co_departments):
        raise forbidden(
            "department_not_involved",
            f"{actor.department} takes no part in a case led by {routed.lead_department}",
            "您所在部门不参与此类案件，不能新建；请通过线索移送交由主办部门处理。",
        )
    row, state = case_store.create_case(
        session,
        grounds=grounds,
        jurisdiction=division,
        at=at,
        created_by=actor.id,
        title=title,
        summary=summary,
        subject_id=subject_id,
        source=source,
        lead=lead,
        reason=reason,
    )
    return _detail(session, principal, row, state, at)


# ---------------------------------------------------------------- transitions


def _public_tip_tickets(session: Session, case_id: int) -> list[str]:
    return list(
        session.execute(
            select(IntakeItem.ticket)
            .where(IntakeItem.case_id == case_id, IntakeItem.source == PUBLIC_TIP)
            .order_by(IntakeItem.id)
        ).scalars()
    )


def _has_public_tips(session: Session, case_id: int) -> bool:
    return (
        session.execute(
            select(IntakeItem.id)
            .where(IntakeItem.case_id == case_id, IntakeItem.source == PUBLIC_TIP)
            .limit(1)
        ).first()
        is not None
    )


def _open_tasks(session: Session, row: Case, state: CaseState, actor: Actor, at: datetime) -> None:
    grounds = "、".join(_ground_name(g) for g in state.grounds)
    lead = _department_names().get(state.lead_department, state.lead_department)
    existing = set(
        session.execute(select(CaseTask.department).where(CaseTask.case_id == row.id)).scalars()
    )
    for dep in state.co_departments:
        if dep in existing:
            continue
        title = f"协助{lead}部门办理：{grounds}"[:MAX_TITLE]
        task = CaseTask(
            case_id=row.id, department=dep, title=title, status=TASK_OPEN, created_at=at
        )
        session.add(task)
        session.flush()
        audit_log.record(
            session,
            at=at,
            actor=actor.id,
            kind="case.task_created",
            subject=f"case:{row.id}",
            payload={"task_id": task.id, "department": dep, "title": title},
        )


def _retire_notices(
    session: Session,
    case_id: int,
    status: str,
    actor_id: str,
    at: datetime,
    *,
    statuses: Sequence[str] = (NOTICE_SENT,),
    by_notice: int | None = None,
    reason: str | None = None,
) -> None:
    query = select(Notice).where(Notice.case_id == case_id, Notice.status.in_(statuses))
    if by_notice is not None:
        query = query.where(Notice.id != by_notice)
    for n in session.execute(query.order_by(Notice.id)).scalars():
        n.status = status
        payload: dict[str, Any] = {"notice_id": str(n.id), "status": status}
        if by_notice is not None:
            payload["by_notice_id"] = str(by_notice)
        if reason is not None:
            payload["reason"] = reason
        audit_log.record(
            session,
            at=at,
            actor=actor_id,
            kind="notice.status_changed",
            subject=f"case:{case_id}",
            payload=payload,
        )


def issue_notice(
    session: Session, row: Case, state: CaseState, actor_id: str, at: datetime
) -> tuple[Notice, list[str]]:
    """A rectification notice with the approved dispositions to the subject's operator.

    Older unanswered notices of the case are superseded by it. Without an operator the
    notice is still recorded (organisation NULL) and a warning says it must go on paper.
    """
    approved = [d.id for d in state.live_dispositions() if d.status.value == "approved"]
    org_id = None
    if row.subject_id is not None:
        subject = session.get(Subject, row.subject_id)
        org_id = subject.organisation_id if subject is not None else None
    notice = Notice(
        case_id=row.id,
        organisation_id=org_id,
        subject_id=row.subject_id,
        disposition_ids=approved,
        deadline=row.deadline,
        status=NOTICE_SENT,
        sent_by=actor_id,
        sent_at=at,
    )
    session.add(notice)
    session.flush()
    audit_log.record(
        session,
        at=at,
        actor=actor_id,
        kind="notice.sent",
        subject=f"case:{row.id}",
        payload={
            "notice_id": str(notice.id),
            "recipient": f"organisation:{org_id}" if org_id is not None else "none",
            "disposition_ids": approved,
        },
    )
    _retire_notices(session, row.id, NOTICE_SUPERSEDED, actor_id, at, by_notice=notice.id)
    return notice, [] if org_id is not None else [NO_RECIPIENT_WARNING]


def _publish_result(
    session: Session, row: Case, action: str, text: str | None, actor_id: str, at: datetime
) -> None:
    result = text or DEFAULT_PUBLIC_RESULTS[action]
    row.public_result = result
    tickets = _public_tip_tickets(session, row.id)
    chunks = [tickets[i : i + TICKETS_PER_EVENT] for i in range(0, len(tickets), TICKETS_PER_EVENT)]
    for chunk in chunks or [[]]:
        audit_log.record(
            session,
            at=at,
            actor=actor_id,
            kind="case.result_published",
            subject=f"case:{row.id}",
            payload={"tickets": chunk, "result": result},
        )


def act(
    session: Session,
    principal: Principal,
    case_id: int,
    action: str,
    *,
    at: datetime,
    reason: str | None = None,
    target: str | None = None,
    expected_version: int | None = None,
    public_result: str | None = None,
) -> CaseDetail:
    """Take one transition of the state machine, with its side effects (module docstring).

    `public_result` is the text reporters see when the case ends (close, dismiss, transfer);
    closing a case with public tips requires it, otherwise a default text is used.
    """
    actor = case_actor(principal)
    if not isinstance(action, str) or action not in core.ACTIONS:
        known = sorted(core.ACTIONS)
        raise invalid(
            "unknown_action",
            f"unknown action {str(action)[:32]!r}",
            f"未知的操作：{str(action)[:32]}。可选：{'、'.join(known)}",
            allowed=known,
        )
    check_text(reason, "reason", "理由")
    check_text(target, "target", "移交对象")
    row, old = load_visible(session, principal, case_id, for_update=True)
    _check_version(old, expected_version)
    try:
        new, event = core.transition(old, action, actor, at, reason, target=target)
    except TransitionError as exc:
        now_allowed = [t.action for t in core.allowed_actions(old, actor)]
        raise _core_error(exc, allowed=now_allowed) from None
    text = _clean(public_result, MAX_PUBLIC_RESULT, "public_result", "公开结果")
    if action == "close" and text is None and _has_public_tips(session, row.id):
        raise invalid(
            "public_result_required",
            "closing a case with public tips needs the public result",
            "该案件有公众举报，办结时请填写向举报人公开的处理结果。",
        )
    case_store.save_case(session, row, old, new, event)
    at = event.at
    warnings: list[str] = []
    if action == "open":
        _open_tasks(session, row, new, actor, at)
    elif action in ("notify", "fail_recheck"):
        _, warnings = issue_notice(session, row, new, actor.id, at)
    if new.terminal:
        _retire_notices(
            session,
            row.id,
            NOTICE_CLOSED,
            actor.id,
            at,
            statuses=(NOTICE_SENT,),
            reason=f"case {new.state.value}",
        )
        _publish_result(session, row, action, text, actor.id, at)
    session.flush()
    return _detail(session, principal, row, new, at, warnings)


# ---------------------------------------------------------------- dispositions


def _disposition_id(case_id: int, n: int) -> str:
    return f"{case_id}/D{n}"


def propose(
    session: Session,
    principal: Principal,
    case_id: int,
    code: str,
    params: Mapping[str, Any] | None,
    *,
    at: datetime,
    reason: str | None = None,
    expected_version: int | None = None,
) -> CaseDetail:
    """Propose a disposition of kind `code` with its parameters (approval comes later)."""
    actor = case_actor(principal)
    kinds = registered()
    if not isinstance(code, str) or code not in kinds:
        raise invalid(
            "unknown_disposition_code",
            f"unknown disposition {str(code)[:32]!r}",
            f"未知的处置措施：{str(code)[:32]}。可选："
            + "、".join(f"{c}（{k.name}）" for c, k in kinds.items()),
            allowed=list(kinds),
        )
    if params is not None and not isinstance(params, Mapping):
        raise invalid("bad_params", "params must be an object", "处置参数应为 JSON 对象。")
    check_text(reason, "reason", "理由")
    row, old = load_visible(session, principal, case_id, for_update=True)
    _check_version(old, expected_version)
    try:
        new, event = propose_disposition(old, code, params, actor, at, reason)
    except TransitionError as exc:
        raise _core_error(exc) from None
    case_store.save_case(session, row, old, new, event)
    return _detail(session, principal, row, new, event.at)


_DECISIONS = {
    "approve": approve_disposition,
    "reject": reject_disposition,
    "withdraw": withdraw_disposition,
}


def decide(
    session: Session,
    principal: Principal,
    case_id: int,
    n: int,
    decision: str,
    *,
    at: datetime,
    reason: str | None = None,
    expected_version: int | None = None,
) -> CaseDetail:
    """Approve, reject or withdraw disposition `n` of the case (`"<case>/D<n>"`).

    Approving while the case is already rectifying (a new deadline or a heavier measure after
    a failed re-check) sends the operator a new notice.
    """
    actor = case_actor(principal)
    if decision not in _DECISIONS:
        raise invalid(
            "unknown_decision",
            f"unknown decision {decision!r}",
            "未知的操作：只能是 approve、reject 或 withdraw。",
            allowed=list(_DECISIONS),
        )
    check_text(reason, "reason", "理由")
    row, old = load_visible(session, principal, case_id, for_update=True)
    _check_version(old, expected_version)
    try:
        new, event = _DECISIONS[decision](old, _disposition_id(row.id, n), actor, at, reason)
    except TransitionError as exc:
        raise _core_error(exc) from None
    case_store.save_case(session, row, old, new, event)
    warnings: list[str] = []
    if decision == "approve" and new.state is State.rectifying:
        _, warnings = issue_notice(session, row, new, actor.id, event.at)
    return _detail(session, principal, row, new, event.at, warnings)


# ---------------------------------------------------------------- tasks


def complete_task(
    session: Session,
    principal: Principal,
    case_id: int,
    task_id: int,
    *,
    at: datetime,
    note: str | None = None,
) -> CaseDetail:
    """A user of the cooperating department marks its task on the case done."""
    actor = case_actor(principal)
    row, state = load_visible(session, principal, case_id, for_update=True)
    task = session.execute(
        select(CaseTask).where(CaseTask.id == task_id, CaseTask.case_id == row.id).with_for_update()
    ).scalar_one_or_none()
    if task is None:
        raise not_found("task", "协办任务", task_id)
    if task.department != actor.department:
        raise forbidden(
            "wrong_department",
            f"task {task_id} belongs to {task.department}",
            "只有承办该协办任务的部门可以办结此任务。",
        )
    if task.status != TASK_OPEN:
        raise conflict("task_done", f"task {task_id} is {task.status}", "该协办任务已办结。")
    note = _clean(note, MAX_NOTE, "note", "办理情况")
    try:
        at = core.check_time(replace(state, updated_at=task.created_at), at)
    except TransitionError as exc:
        raise _core_error(exc) from None
    task.status, task.note, task.done_at, task.done_by = TASK_DONE, note, at, actor.id
    payload: dict[str, Any] = {"task_id": task.id, "department": task.department}
    if note is not None:
        payload["note"] = note
    audit_log.record(
        session,
        at=at,
        actor=actor.id,
        kind="case.task_done",
        subject=f"case:{row.id}",
        payload=payload,
    )
    session.flush()
    return _detail(session, principal, row, state, at)


# ---------------------------------------------------------------- overdue


def scoped_notices(principal: Principal, scope: _Scope | None = None) -> Select[Any]:
    """SELECT Notice for the notices of the cases a regulator sees."""
    scope = scope or _scope(principal, None, None, None)
    stmt = select(Notice).join(Case, Case.id == Notice.case_id)
    if scope.department is not None:
        stmt = stmt.where(
            exists(
                select(CaseDepartment.case_id).where(
                    CaseDepartment.case_id == Case.id,
                    CaseDepartment.department == scope.department,
                )
            )
        )
    clause = within(Case.jurisdiction, scope.division)
    if clause is not None:
        stmt = stmt.where(clause)
    return stmt


def overdue_cases(
    session: Session,
    principal: Principal,
    at: datetime,
    *,
    limit: int = PAGE_MAX,
    jurisdiction: str | None = None,
) -> OverdueReport:
    """Cases rectifying past their deadline and notices sent but unanswered past theirs,
    most overdue first. A deadline is a China calendar day: overdue from the day after."""
    scope = _scope(principal, None, None, jurisdiction)
    limit = max(1, min(limit, PAGE_MAX))
    today = shanghai_date(at)
    stmt, _, _ = _scoped_select(scope, *_SUMMARY_COLUMNS)
    rows = session.execute(
        stmt.where(Case.state == State.rectifying.value, Case.deadline < today)
        .order_by(Case.deadline, Case.id)
        .limit(limit + 1)
    ).all()
    notices = list(
        session.execute(
            scoped_notices(principal, scope)
            .where(Notice.status == NOTICE_SENT, Notice.deadline < today)
            .order_by(Notice.deadline, Notice.id)
            .limit(limit + 1)
        ).scalars()
    )
    return OverdueReport(
        today=today,
        cases=[_summary(r, at) for r in rows[:limit]],
        cases_more=len(rows) > limit,
        notices=notice_views(session, notices[:limit], at, with_reports=False),
        notices_more=len(notices) > limit,
    )
