"""Case work (案件办理) in the browser: the list, the case file with every command as a form,
opening a lead by hand, the audit trail, and the rectification notice as a Word document.

Pages call `qinglang.services.cases` (and `notices`, `disclosure`, `campaigns`) exactly as the
JSON API does: one write transaction per command, the server clock, and the case version the
page was rendered with, so a page left open while a colleague acted answers 409 with the case
as it now stands. Refusals that concern the caller (403) or a case they cannot see (404) show
the error page; anything the user can correct re-renders the case file with the message next
to the form and what was typed kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from qinglang.govern.actors import Role
from qinglang.govern.cases import STATE_NAMES_ZH, TRANSITIONS, State
from qinglang.govern.clock import shanghai_date
from qinglang.govern.dispositions import DispositionError, ParamKind, registered
from qinglang.services import campaigns as campaign_service
from qinglang.services import cases as service
from qinglang.services import disclosure
from qinglang.services import notices as notice_service
from qinglang.services.cases import CaseDetail, EventView
from qinglang.services.errors import ServiceError, forbidden
from qinglang.services.principal import Principal
from qinglang.store.models import Case
from qinglang.taxonomy import get_taxonomy
from qinglang.web.auth import now
from qinglang.web.responses import content_disposition
from qinglang.web.ui.forms import FormError, choice, choices, integer, read_form, text, values
from qinglang.web.ui.session import UiPrincipal
from qinglang.web.ui.templating import department_name, ground_name, redirect, render

router = APIRouter(include_in_schema=False)

INT_MAX = 2**31 - 1
IdPath = Annotated[int, Path(ge=1, le=INT_MAX)]
PAGE = 50
EVENTS_PAGE = 100
AUDIT_TAIL = 10
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DECISIONS = {"approve": "批准", "reject": "驳回", "withdraw": "撤回"}
OVERDUE_CHOICES = {"true": "已逾期", "false": "未逾期"}
INVOLVEMENT_NAMES = {"lead": "牵头", "co": "协办"}
SOURCE_CHOICES = {"patrol": "巡查发现", "handoff": "部门移送"}
# Which cases end in a text for the public (and for reporters of public tips).
RESULT_ACTIONS = ("close", "dismiss", "transfer")

# Audit event kinds of a case's trail, in Chinese (kinds registered in qinglang.store.audit_chain,
# services.cases, services.campaigns and services.disclosure).
EVENT_LABELS: dict[str, str] = {
    "report.received": "收到举报",
    "lead.merged": "线索合并",
    "lead.flagged": "线索标记",
    "case.created": "创建线索",
    "case.transition": "办理环节变更",
    "case.task_created": "分派协办任务",
    "case.task_done": "协办任务办结",
    "case.campaign_set": "归入专项行动",
    "disposition.proposed": "提出处置措施",
    "disposition.approved": "批准处置措施",
    "disposition.rejected": "驳回处置措施",
    "disposition.withdrawn": "撤回处置措施",
    "notice.sent": "下发整改通知",
    "notice.status_changed": "整改通知状态变更",
    "evidence.added": "提交证据材料",
    "rectification.reported": "反馈整改情况",
    "case.result_published": "公开处理结果",
    "case.published": "发布典型案例",
    "case.publication_withdrawn": "撤回典型案例",
}
_TRANSITION_NAMES = {(t.source.value, t.action): t.name_zh for t in TRANSITIONS}
_ERROR_FIELDS = ("reason", "target", "public_result", "note", "title", "body", "summary")


# ---------------------------------------------------------------- small helpers


def event_label(ev: EventView) -> str:
    """The event's kind in Chinese; a transition is named by its row of the state machine."""
    if ev.kind == "case.transition":
        name = _TRANSITION_NAMES.get((ev.payload.get("from"), ev.payload.get("action")))
        if name:
            return name
    return EVENT_LABELS.get(ev.kind, ev.kind)


def _state(code: Any) -> str:
    try:
        return STATE_NAMES_ZH[State(code)]
    except ValueError:
        return str(code)


def event_detail(ev: EventView) -> str:
    """One line of what happened, from the event's payload (never the raw JSON)."""
    p = ev.payload
    parts: list[str] = []
    if ev.kind == "case.created":
        parts.append("类别：" + "、".join(ground_name(g) for g in p.get("grounds", [])))
        parts.append("牵头：" + department_name(p.get("lead_department")))
    elif ev.kind == "case.transition":
        parts.append(f"{_state(p.get('from'))} → {_state(p.get('to'))}")
        if p.get("target"):
            parts.append(f"移交至：{p['target']}")
    elif ev.kind in ("case.task_created", "case.task_done"):
        parts.append(department_name(p.get("department")))
        if p.get("note"):
            parts.append(str(p["note"]))
    elif ev.kind.startswith("disposition."):
        d_id = str(p.get("disposition_id", ""))
        label = "D" + d_id.rsplit("/D", 1)[-1] if "/D" in d_id else d_id
        parts.append(f"{label} {service.disposition_text(p.get('code', ''), p.get('params', {}))}")
    elif ev.kind == "notice.sent":
        recipient = "无在线接收单位，须线下送达" if p.get("recipient") == "none" else "已送达运营者"
        parts.append(f"通知编号 {p.get('notice_id')}（{recipient}）")
    elif ev.kind == "notice.status_changed":
        status = service.NOTICE_STATUS_NAMES_ZH.get(p.get("status", ""), p.get("status"))
        parts.append(f"通知编号 {p.get('notice_id')}：{status}")
    elif ev.kind == "evidence.added":
        parts.append(f"{p.get('name') or '证据文件'}（{p.get('media_type')}）")
    elif ev.kind == "rectification.reported":
        parts.append(f"通知编号 {p.get('notice_id')}：{str(p.get('summary', ''))[:80]}")
    elif ev.kind == "case.result_published":
        parts.append(str(p.get("result", ""))[:120])
    elif ev.kind == "case.published":
        parts.append(str(p.get("title", "")))
    elif ev.kind == "case.campaign_set":
        parts.append("移出专项行动" if p.get("campaign") is None else str(p.get("campaign")))
    if p.get("reason"):
        parts.append(f"理由：{p['reason']}")
    return "；".join(x for x in parts if x)


def actor_label(ev: EventView) -> str:
    if ev.actor_name:
        return ev.actor_name
    if ev.actor.startswith("public:"):
        return "公众举报人"
    if ev.actor.startswith("system:"):
        return "系统"
    return ev.actor


def _grounds() -> list[tuple[str, list[tuple[str, str]]]]:
    tax = get_taxonomy()
    return [
        ("有害信息类别", [(c, v.name) for c, v in tax.categories.items()]),
        ("合规问题", [(c, v.name) for c, v in tax.violations.items()]),
    ]


def _ground_codes() -> dict[str, str]:
    return {c: n for _, group in _grounds() for c, n in group}


def _departments() -> dict[str, str]:
    return {c: d.name for c, d in get_taxonomy().departments.items()}


@dataclass(frozen=True)
class ParamField:
    """One input of the propose form: a parameter name shared by one or more kinds."""

    name: str
    kind: str
    label: str
    hint: str


def param_fields() -> list[ParamField]:
    """The parameter inputs of the propose-disposition form, from the registered kinds.

    Without JavaScript one form carries every parameter any kind has; each input says which
    measures it is for, and only the chosen kind's parameters are sent to the service.
    """
    by_name: dict[str, list[tuple[str, Any]]] = {}
    for kind in registered().values():
        for p in kind.params:
            by_name.setdefault(p.name, []).append((kind.name, p))
    generic = {ParamKind.date: "日期", ParamKind.count: "数量", ParamKind.amount: "金额（元）"}
    out = []
    for name, uses in by_name.items():
        labels = {p.label for _, p in uses}
        label = uses[0][1].label if len(labels) == 1 else generic[uses[0][1].kind]
        hint = "用于：" + "、".join(
            f"{k}（{p.label}{'' if p.required else '，可不填'}）" for k, p in uses
        )
        out.append(ParamField(name, uses[0][1].kind.value, label, hint))
    return out


def _field_of(exc: ServiceError, names: tuple[str, ...]) -> str | None:
    for name in names:
        if exc.code in (f"{name}_required", f"{name}_too_long", f"bad_{name}"):
            return name
    return None


# ---------------------------------------------------------------- the list


def _filters(request: Request) -> dict[str, Any]:
    qp = request.query_params

    def one(name: str, max_len: int = 100) -> str | None:
        value = (qp.get(name) or "").strip()
        return value[:max_len] or None

    return {
        "state": [s for s in qp.getlist("state") if s][:9],
        "department": one("department", 32),
        "involvement": one("involvement", 8),
        "ground": one("ground", 32),
        "jurisdiction": one("jurisdiction", 12),
        "overdue": one("overdue", 5),
        "q": one("q", 200),
    }


@router.get("/cases")
def case_list(request: Request, principal: UiPrincipal) -> Response:
    """Cases the caller sees, newest change first, with filters and cursor paging."""
    service.require_case_reader(principal)
    f = _filters(request)
    cursor = (request.query_params.get("cursor") or "")[:64] or None
    overdue = {"true": True, "false": False}.get(f["overdue"] or "")
    page = None
    error = None
    status = 200
    try:
        with request.app.state.database.read() as session:
            page = service.list_cases(
                session,
                principal,
                state=f["state"] or None,
                department=f["department"],
                involvement=f["involvement"],
                ground=f["ground"],
                jurisdiction=f["jurisdiction"],
                overdue=overdue,
                q=f["q"],
                limit=PAGE,
                cursor=cursor,
                with_total=True,
                at=now(),
            )
    except ServiceError as exc:
        if exc.code in ("forbidden_role", "no_department"):
            raise
        error, status = exc.message_zh, exc.status
    query = [(k, v) for k, v in f.items() if v and k != "state"]
    query += [("state", s) for s in f["state"]]
    base = urlencode(query)
    next_url = None
    if page is not None and page.next_cursor:
        next_url = "/cases?" + urlencode([*query, ("cursor", page.next_cursor)])
    return render(
        request,
        "cases/list.html",
        {
            "page": page,
            "error": error,
            "f": f,
            "states": [(s.value, STATE_NAMES_ZH[s]) for s in State],
            "departments": list(_departments().items()),
            "involvements": list(INVOLVEMENT_NAMES.items()),
            "grounds": _grounds(),
            "overdue_choices": list(OVERDUE_CHOICES.items()),
            "first_url": "/cases?" + base if cursor else None,
            "next_url": next_url,
            "can_create": principal.has(Role.officer, Role.leader),
        },
        status=status,
        title="案件办理",
    )


# ---------------------------------------------------------------- opening a lead by hand


def _require_creator(principal: Principal) -> None:
    service.require_case_reader(principal)
    if not principal.has(Role.officer, Role.leader):
        raise forbidden(
            "forbidden_role", "opening a case needs officer or leader", "您的角色无权新建案件。"
        )


def _new_page(
    request: Request,
    principal: Principal,
    *,
    form_values: Mapping[str, Any] | None = None,
    grounds: list[str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "cases/new.html",
        {
            "v": form_values or {"jurisdiction": principal.jurisdiction, "source": "patrol"},
            "more": grounds or [],
            "errors": errors or {},
            "grounds": _grounds(),
            "departments": list(_departments().items()),
            "sources": list(SOURCE_CHOICES.items()),
        },
        status=status,
        title="新建线索",
    )


@router.get("/cases/new")
def new_case_form(request: Request, principal: UiPrincipal) -> Response:
    _require_creator(principal)
    return _new_page(request, principal)


_NEW_FIELDS = ("title", "summary", "jurisdiction", "subject_id", "lead", "source", "reason")


@router.post("/cases/new")
async def new_case(request: Request, principal: UiPrincipal) -> Response:
    """An officer or leader opens a lead by hand (a patrol finding, a hand-off)."""
    _require_creator(principal)
    form = await read_form(request)
    more = [g for g in form.getlist("more_grounds") if isinstance(g, str)]
    try:
        codes = _ground_codes()
        primary = choice(form, "ground", codes, "主要类别", required=True)
        others = choices(form, "more_grounds", codes, "其他类别")
        jurisdiction = text(form, "jurisdiction", "属地", max_len=12, required=True)
        title = text(form, "title", "标题", max_len=service.MAX_TITLE)
        summary = text(form, "summary", "案情摘要", max_len=service.MAX_SUMMARY)
        subject_id = integer(form, "subject_id", "监管对象编号", lo=1, hi=INT_MAX)
        lead = choice(form, "lead", _departments(), "牵头部门")
        source = choice(form, "source", SOURCE_CHOICES, "来源") or "patrol"
        reason = text(form, "reason", "说明", max_len=2000)
        with request.app.state.database.write() as session:
            detail = service.create_case(
                session,
                principal,
                grounds=[primary, *[g for g in others if g != primary]],
                jurisdiction=jurisdiction or "",
                at=now(),
                title=title,
                summary=summary,
                subject_id=subject_id,
                lead=lead,
                source=source,
                reason=reason,
            )
    except FormError as exc:
        return _new_page(
            request,
            principal,
            form_values=values(form),
            grounds=more,
            errors={exc.field: exc.message_zh},
            status=422,
        )
    except ServiceError as exc:
        if exc.code in ("forbidden_role", "no_department"):
            raise
        field = (
            {
                "unknown_subject": "subject_id",
                "bad_jurisdiction": "jurisdiction",
                "out_of_jurisdiction": "jurisdiction",
                "unknown_department": "lead",
                "department_not_involved": "ground",
                "no_grounds": "ground",
                "too_many_grounds": "more_grounds",
                "unknown_ground": "ground",
                "bad_source": "source",
            }.get(exc.code)
            or _field_of(exc, _NEW_FIELDS)
            or "ground"
        )
        return _new_page(
            request,
            principal,
            form_values=values(form),
            grounds=more,
            errors={field: exc.message_zh},
            status=exc.status,
        )
    return redirect(
        f"/cases/{detail.case.id}", flash=f"线索已创建（编号 {detail.case.id}），请立案或处理。"
    )


# ---------------------------------------------------------------- the case file


@dataclass(frozen=True)
class Failed:
    """A form that was refused: which one, the message per field, and what was typed."""

    form: str
    errors: dict[str, str]
    values: dict[str, str]
    lists: dict[str, list[str]]
    message: str


@dataclass(frozen=True)
class PublicationRow:
    id: int
    title: str
    published_at: datetime
    withdrawn_at: datetime | None


def _campaign_options(session: Session, principal: Principal) -> list[tuple[str, list]]:
    """(campaign name, [(value "id:task", label)]) for the file-under-campaign select."""
    out = []
    for c in campaign_service.list_campaigns(session, principal):
        options = [(f"{c.id}:", f"{c.name}（不指定任务）")]
        options += [(f"{c.id}:{t.code}", f"{c.name} · {t.name}") for t in c.plan.tasks]
        out.append((c.name, options))
    return out


def _campaign_of(session: Session, principal: Principal, row: Case) -> dict[str, Any] | None:
    if row.campaign_id is None:
        return None
    info: dict[str, Any] = {"id": row.campaign_id, "name": f"专项行动 {row.campaign_id}"}
    info["task_code"] = row.campaign_task
    info["task"] = row.campaign_task
    try:
        view = campaign_service.get_campaign(session, principal, row.campaign_id)
    except ServiceError:
        return info
    info["name"] = view.name
    task = view.plan.task(row.campaign_task) if row.campaign_task else None
    if task is not None:
        info["task"] = task.name
    return info


def _case_context(
    session: Session, principal: Principal, case_id: int, detail: CaseDetail | None = None
) -> dict[str, Any]:
    at = now()
    detail = detail or service.get_case(session, principal, case_id, at=at)
    row = session.get(Case, case_id)
    assert row is not None  # get_case has just read it
    c = detail.case
    is_leader = principal.has(Role.leader) and principal.department == c.lead_department
    pubs = [
        PublicationRow(p.id, p.title, p.published_at, p.withdrawn_at)
        for p in disclosure.publications_of_case(session, case_id)
    ]
    live = [p for p in pubs if p.withdrawn_at is None]
    can_file = principal.has(Role.officer, Role.leader) and principal.department is not None
    sent_by = {
        str(ev.payload.get("notice_id")): actor_label(ev)
        for ev in detail.events
        if ev.kind == "notice.sent"
    }
    return {
        "d": detail,
        "c": c,
        "campaign": _campaign_of(session, principal, row),
        "campaign_value": f"{row.campaign_id}:{row.campaign_task or ''}" if row.campaign_id else "",
        "campaign_options": _campaign_options(session, principal) if can_file else [],
        "can_file": can_file,
        "publications": pubs,
        "can_publish": is_leader and c.state in disclosure.PUBLISHABLE_STATES and not live,
        "can_withdraw_publication": principal.has(Role.leader),
        "public_fields": list(disclosure.PUBLIC_FIELDS.items()),
        "default_fields": list(disclosure.DEFAULT_FIELDS),
        "kinds": [(code, k.name) for code, k in registered().items()],
        "param_fields": param_fields(),
        "decisions": DECISIONS,
        "result_actions": RESULT_ACTIONS,
        "events": [
            (ev, event_label(ev), actor_label(ev), event_detail(ev)) for ev in detail.events
        ],
        "audit_tail": [(ev, event_label(ev)) for ev in detail.events[-AUDIT_TAIL:]],
        "sent_by": sent_by,
        "today": shanghai_date(at),
    }


def _case_page(
    request: Request,
    principal: Principal,
    case_id: int,
    *,
    failed: Failed | None = None,
    status: int = 200,
) -> Response:
    with request.app.state.database.read() as session:
        ctx = _case_context(session, principal, case_id)
    ctx["failed"] = failed
    return render(
        request, "cases/detail.html", ctx, status=status, title=f"案件 {case_id}：{ctx['c'].title}"
    )


@router.get("/cases/{case_id}")
def case_page(case_id: IdPath, request: Request, principal: UiPrincipal) -> Response:
    """The case file: facts, what the caller may do now, dispositions, tasks, notices, trail."""
    service.require_case_reader(principal)
    return _case_page(request, principal, case_id)


async def _command(
    request: Request,
    principal: Principal,
    case_id: int,
    form_id: str | Callable[[FormData], str],
    run: Callable[[Session, FormData], str],
    *,
    fields: tuple[str, ...] = _ERROR_FIELDS,
    anchor: str = "",
) -> Response:
    """Read the form, run one command in one transaction, redirect with the flash it returns.

    FormError and correctable ServiceErrors (409, 413, 422) re-render the case file with the
    message next to form `form_id` and the typed values; 403 and 404 show the error page.
    """
    service.require_case_reader(principal)
    form = await read_form(request)
    if callable(form_id):
        form_id = form_id(form)
    try:
        with request.app.state.database.write() as session:
            flash = run(session, form)
    except FormError as exc:
        failed = _failed(form_id, form, {exc.field: exc.message_zh}, exc.message_zh)
        return _case_page(request, principal, case_id, failed=failed, status=422)
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        field = _field_of(exc, fields)
        message = exc.message_zh
        if exc.code == "stale_case":
            message += "下方已显示案件的最新情况，请核对后重新操作。"
        failed = _failed(form_id, form, {field: exc.message_zh} if field else {}, message)
        return _case_page(request, principal, case_id, failed=failed, status=exc.status)
    return redirect(f"/cases/{case_id}{anchor}", flash=flash)


def _failed(form_id: str, form: FormData, errors: dict[str, str], message: str) -> Failed:
    lists = {
        key: [v for v in form.getlist(key) if isinstance(v, str)]
        for key in {k for k, _ in form.multi_items()}
    }
    return Failed(form_id, errors, values(form), lists, message)


def _version(form: FormData) -> int | None:
    return integer(form, "version", "案件版本", lo=0, hi=INT_MAX)


@router.post("/cases/{case_id}/transitions")
async def transition(case_id: IdPath, request: Request, principal: UiPrincipal) -> Response:
    """Take one transition (立案, 开始研判 …) with its reason, target and public result."""

    def action_of(form: FormData) -> str:
        raw = form.get("action")
        ok = isinstance(raw, str) and raw.isidentifier() and len(raw) <= 32
        return raw if ok and isinstance(raw, str) else "unknown"

    def run(session: Session, form: FormData) -> str:
        detail = service.act(
            session,
            principal,
            case_id,
            action_of(form),
            at=now(),
            reason=text(form, "reason", "理由", max_len=2000),
            target=text(form, "target", "移交对象", max_len=200),
            expected_version=_version(form),
            public_result=text(form, "public_result", "公开结果", max_len=2000),
        )
        return "；".join([f"案件已进入“{detail.case.state_name}”环节。", *detail.warnings])

    return await _command(
        request, principal, case_id, lambda form: f"transition-{action_of(form)}", run
    )


@router.post("/cases/{case_id}/dispositions")
async def propose(case_id: IdPath, request: Request, principal: UiPrincipal) -> Response:
    """Propose a disposition: the chosen kind's parameters only, checked field by field."""
    kinds = registered()

    def run(session: Session, form: FormData) -> str:
        code = choice(form, "code", kinds, "处置措施", required=True)
        assert code is not None
        kind = kinds[code]
        params = {}
        for p in kind.params:
            raw = form.get(f"param-{p.name}")
            if isinstance(raw, str) and raw.strip():
                params[p.name] = raw.strip()
        # The same checks the core makes, here so the message lands next to its input.
        try:
            checked = kind.validate(params)
            kind.check_decided_on(checked, shanghai_date(now()))
        except DispositionError as exc:
            raise FormError(f"param-{exc.param}" if exc.param else "code", exc.message_zh) from None
        service.propose(
            session,
            principal,
            case_id,
            code,
            params,
            at=now(),
            reason=text(form, "reason", "理由", max_len=2000),
            expected_version=_version(form),
        )
        return f"已提出处置措施“{kind.name}”，待领导审批。"

    return await _command(request, principal, case_id, "propose", run, anchor="#h-dispositions")


@router.post("/cases/{case_id}/dispositions/{n}/{decision}")
async def decide(
    case_id: IdPath, n: IdPath, decision: str, request: Request, principal: UiPrincipal
) -> Response:
    """Approve, reject or withdraw disposition `n` (D1, D2 … of the case)."""
    if decision not in DECISIONS:
        raise ServiceError(
            "not-found", "unknown_decision", f"no decision {decision[:16]!r}", "页面不存在。"
        )

    def run(session: Session, form: FormData) -> str:
        detail = service.decide(
            session,
            principal,
            case_id,
            n,
            decision,
            at=now(),
            reason=text(form, "reason", "理由", max_len=2000),
            expected_version=_version(form),
        )
        return "；".join([f"已{DECISIONS[decision]}处置措施 D{n}。", *detail.warnings])

    return await _command(
        request, principal, case_id, f"disposition-{n}-{decision}", run, anchor="#h-dispositions"
    )


@router.post("/cases/{case_id}/tasks/{task_id}/done")
async def task_done(
    case_id: IdPath, task_id: IdPath, request: Request, principal: UiPrincipal
) -> Response:
    """A cooperating department marks its task done, with a note."""

    def run(session: Session, form: FormData) -> str:
        service.complete_task(
            session,
            principal,
            case_id,
            task_id,
            at=now(),
            note=text(form, "note", "办理情况", max_len=service.MAX_NOTE),
        )
        return "协办任务已办结。"

    return await _command(
        request, principal, case_id, f"task-{task_id}-done", run, anchor="#h-tasks"
    )


@router.post("/cases/{case_id}/publish")
async def publish(case_id: IdPath, request: Request, principal: UiPrincipal) -> Response:
    """A leader of the lead department publishes the case as a typical case (曝光台)."""

    def run(session: Session, form: FormData) -> str:
        fields = choices(form, "fields", disclosure.PUBLIC_FIELDS, "公开字段")
        disclosure.publish(
            session,
            principal,
            case_id,
            title=text(form, "title", "标题", max_len=disclosure.TITLE_MAX, required=True) or "",
            body=text(form, "body", "公开内容", max_len=disclosure.BODY_MAX, required=True) or "",
            at=now(),
            fields=fields,
        )
        return "已作为典型案例公开发布。"

    return await _command(request, principal, case_id, "publish", run, anchor="#h-publish")


@router.post("/cases/{case_id}/publications/{publication_id}/withdraw")
async def withdraw_publication(
    case_id: IdPath, publication_id: IdPath, request: Request, principal: UiPrincipal
) -> Response:
    def run(session: Session, form: FormData) -> str:
        service.load_visible(session, principal, case_id)
        ids = {p.id for p in disclosure.publications_of_case(session, case_id)}
        if publication_id not in ids:
            raise ServiceError(
                "not-found",
                "publication_not_found",
                f"no publication {publication_id} on case {case_id}",
                "未找到该典型案例。",
            )
        reason = text(form, "reason", "撤回理由", max_len=500, required=True) or ""
        disclosure.withdraw(session, principal, publication_id, reason=reason, at=now())
        return "典型案例已撤回（记录仍保留）。"

    return await _command(
        request,
        principal,
        case_id,
        f"withdraw-publication-{publication_id}",
        run,
        anchor="#h-publish",
    )


@router.post("/cases/{case_id}/campaign")
async def file_under_campaign(
    case_id: IdPath, request: Request, principal: UiPrincipal
) -> Response:
    """File the case under a campaign and task (or take it out of one)."""

    def run(session: Session, form: FormData) -> str:
        value = text(form, "campaign", "专项行动", max_len=40) or ""
        campaign_id: int | None = None
        task: str | None = None
        if value:
            head, _, tail = value.partition(":")
            if not head.isdigit() or not 1 <= int(head) <= INT_MAX:
                raise FormError("campaign", "请从列表中选择专项行动。")
            campaign_id, task = int(head), tail or None
        campaign_service.set_case_campaign(session, principal, case_id, campaign_id, task, at=now())
        return "已移出专项行动。" if campaign_id is None else "已归入专项行动。"

    return await _command(
        request, principal, case_id, "campaign", run, fields=("campaign",), anchor="#h-campaign"
    )


# ---------------------------------------------------------------- the audit trail


@router.get("/cases/{case_id}/events")
def case_events(
    case_id: IdPath, request: Request, principal: UiPrincipal, after_seq: int = 0
) -> Response:
    """Every audit event of the case in log order, with its hash, paged by sequence number."""
    after_seq = max(0, min(after_seq, INT_MAX))
    with request.app.state.database.read() as session:
        page = service.case_events(
            session, principal, case_id, after_seq=after_seq, limit=EVENTS_PAGE
        )
        row = session.get(Case, case_id)
        assert row is not None
        title = row.title
    rows = [(ev, event_label(ev), actor_label(ev), event_detail(ev)) for ev in page.items]
    return render(
        request,
        "cases/events.html",
        {"case_id": case_id, "case_title": title, "rows": rows, "page": page, "after": after_seq},
        title=f"案件 {case_id} 审计记录",
    )


# ---------------------------------------------------------------- documents and evidence


def docx_response(request: Request, principal: Principal, notice_id: int) -> Response:
    """The rectification notice (责令整改通知书) as a Word file, for whoever may read it."""
    try:
        from qinglang.services.documents.notice_docx import notice_for
    except ImportError:
        raise ServiceError(
            "service-unavailable",
            "documents_unavailable",
            "qinglang.services.documents.notice_docx is not installed",
            "整改通知书（Word）暂时无法生成，请稍后再试。",
        ) from None
    with request.app.state.database.read() as session:
        content = notice_for(session, principal, notice_id, at=now())
    return Response(
        content,
        media_type=DOCX_TYPE,
        headers={
            "Content-Disposition": content_disposition(
                f"整改通知书-{notice_id}.docx", f"notice-{notice_id}.docx"
            ),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


def evidence_response(
    request: Request, principal: Principal, notice_id: int, digest: str
) -> Response:
    """One piece of evidence reported on a notice, as a download (never rendered inline)."""
    with request.app.state.database.read() as session:
        content, media_type, name = notice_service.evidence(
            session, request.app.state.blobs, principal, notice_id, digest[:64]
        )
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": content_disposition(name),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


def _notice_of_case(request: Request, principal: Principal, case_id: int, notice_id: int) -> None:
    """404 unless the notice belongs to this case and the caller sees it."""
    service.require_case_reader(principal)
    with request.app.state.database.read() as session:
        view = notice_service.get_notice(session, principal, notice_id)
    if view.case_id != case_id:
        raise ServiceError(
            "not-found", "notice_not_found", f"notice {notice_id} not on case", "未找到该整改通知。"
        )


@router.get("/cases/{case_id}/notices/{notice_id}.docx")
def notice_docx(
    case_id: IdPath, notice_id: IdPath, request: Request, principal: UiPrincipal
) -> Response:
    _notice_of_case(request, principal, case_id, notice_id)
    return docx_response(request, principal, notice_id)


@router.get("/cases/{case_id}/notices/{notice_id}/evidence/{digest}")
def notice_evidence(
    case_id: IdPath, notice_id: IdPath, digest: str, request: Request, principal: UiPrincipal
) -> Response:
    _notice_of_case(request, principal, case_id, notice_id)
    return evidence_response(request, principal, notice_id, digest)
