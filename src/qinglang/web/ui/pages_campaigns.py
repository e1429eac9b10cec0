"""Campaign pages (专项行动): the list, creating one from a template or from scratch, the
detail page with progress, reminders and reports, settings, and the Word/Excel downloads.

Everything is decided by `qinglang.services.campaigns` (who sees which campaign, who may
create, report or change one); the pages read forms, call the service and show its Chinese
message next to the field it names (the `pointer` of a refused plan, e.g. "/stages/1/deadline").
The forms work without JavaScript: the from-scratch form has a fixed number of stage and task
rows, and rows left blank are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from qinglang.govern import campaigns as core
from qinglang.govern.actors import Role
from qinglang.govern.clock import shanghai_date
from qinglang.govern.dispositions import counters
from qinglang.govern.statistics import region_label
from qinglang.services import campaigns as service
from qinglang.services.cases import within
from qinglang.services.errors import ServiceError, forbidden
from qinglang.services.principal import CASE_ROLES, Principal
from qinglang.store.models import Case, CaseDepartment
from qinglang.taxonomy import get_taxonomy
from qinglang.web import auth
from qinglang.web.responses import content_disposition
from qinglang.web.ui.forms import (
    FormError,
    choice,
    choices,
    day,
    integer,
    known_id,
    read_form,
    text,
    values,
)
from qinglang.web.ui.session import UiPrincipal
from qinglang.web.ui.templating import redirect, render

router = APIRouter(include_in_schema=False)

STAGE_ROWS = 5
TASK_ROWS = 6
RECENT_CASES = 20
OVERDUE_SHOWN = 50
JURISDICTION_MAX = 20  # longer than a code, so a wrong one gets the core's message
CREATORS = (Role.leader, Role.admin)
REPORTERS = (Role.officer, Role.analyst, Role.leader)
MULTI_FIELDS = ("departments",)  # plus task-{i}-co and task-{i}-grounds


# ---------------------------------------------------------------- small helpers


def department_options() -> list[tuple[str, str]]:
    return [(d.code, d.name) for d in get_taxonomy().departments.values()]


def ground_options() -> list[tuple[str, str]]:
    taxonomy = get_taxonomy()
    return [(c.code, c.name) for c in taxonomy.categories.values()] + [
        (v.code, v.name) for v in taxonomy.violations.values()
    ]


def template_options() -> list[tuple[str, str]]:
    return [
        (plan.template or "", f"{plan.name}（{plan.source or plan.template}）")
        for plan in service.templates_list()
    ]


def can_manage(principal: Principal, view: service.CampaignView) -> bool:
    """Leaders and admins whose jurisdiction covers the campaign's change its settings."""
    return principal.has(*CREATORS) and principal.covers(view.plan.jurisdiction)


def can_report(principal: Principal, view: service.CampaignView) -> bool:
    return principal.has(*REPORTERS) and principal.department in view.plan.departments


def _require_creator(principal: Principal) -> None:
    if not principal.is_regulator or not principal.has(*CREATORS):
        raise forbidden(
            "forbidden_role",
            "creating a campaign needs the role leader or admin",
            "只有领导或管理员可以新建专项行动。",
        )


def field_of_pointer(pointer: str | None, rows: Mapping[str, list[int]], prefix: str = "") -> str:
    """The form field a plan's JSON pointer names ("/stages/1/deadline" → "stage-2-deadline"
    when the second filled stage row is row 2)."""
    parts = [p for p in (pointer or "").split("/") if p]
    if not parts:
        return "form"
    head = parts[0]
    if head in ("stages", "tasks"):
        kind = head[:-1]
        used = rows.get(head, [])
        if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) < len(used):
            row = used[int(parts[1])]
        else:
            row = used[0] if used else 1
        sub = parts[2] if len(parts) >= 3 else ("name" if kind == "stage" else "code")
        return f"{kind}-{row}-{sub}"
    if head in ("name", "jurisdiction", "year", "template", "departments"):
        return prefix + head
    return "form"


# ---------------------------------------------------------------- cases of a campaign


@dataclass(frozen=True, slots=True)
class CampaignCase:
    id: int
    title: str
    state: str
    primary_ground: str
    lead_department: str
    deadline: date | None
    created_at: datetime
    days_overdue: int | None


def _campaign_case_query(principal: Principal, campaign_id: int) -> Any | None:
    """SELECT the campaign's cases the caller may see (their jurisdiction; their department's
    cases unless admin), like `services.cases.list_cases` — None when they see no cases."""
    if principal.is_operator or not principal.is_regulator:
        return None
    stmt = select(
        Case.id,
        Case.title,
        Case.state,
        Case.primary_ground,
        Case.lead_department,
        Case.deadline,
        Case.created_at,
    ).where(Case.campaign_id == campaign_id)
    clause = within(Case.jurisdiction, principal.jurisdiction)
    if clause is not None:
        stmt = stmt.where(clause)
    if not principal.has(Role.admin):
        if not principal.has(*CASE_ROLES) or principal.department is None:
            return None
        stmt = stmt.where(
            exists(
                select(CaseDepartment.case_id).where(
                    CaseDepartment.case_id == Case.id,
                    CaseDepartment.department == principal.department,
                )
            )
        )
    return stmt


def campaign_cases(
    session: Session,
    principal: Principal,
    campaign_id: int,
    *,
    today: date,
    overdue: bool = False,
    limit: int = RECENT_CASES,
) -> tuple[list[CampaignCase], int]:
    """The caller's visible cases of a campaign (newest first), or its overdue rectifications
    (state rectifying, deadline before `today`; oldest deadline first), and how many in all.

    A local query until `list_cases` takes a campaign filter."""
    stmt = _campaign_case_query(principal, campaign_id)
    if stmt is None:
        return [], 0
    if overdue:
        stmt = stmt.where(Case.state == "rectifying", Case.deadline < today)
        stmt = stmt.order_by(Case.deadline, Case.id)
    else:
        stmt = stmt.order_by(Case.created_at.desc(), Case.id.desc())
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.execute(stmt.limit(limit)).all()
    items = [
        CampaignCase(
            r.id,
            r.title,
            r.state,
            r.primary_ground,
            r.lead_department,
            r.deadline,
            r.created_at,
            (today - r.deadline).days
            if r.state == "rectifying" and r.deadline and r.deadline < today
            else None,
        )
        for r in rows
    ]
    return items, total


# ---------------------------------------------------------------- list


@router.get("/campaigns")
def campaign_list(
    request: Request, principal: UiPrincipal, archived: str | None = None
) -> Response:
    include_archived = archived == "1"
    today = shanghai_date(auth.now())
    with request.app.state.database.read() as session:
        views = service.list_campaigns(session, principal, include_archived=include_archived)
    rows = [
        {
            "view": v,
            "region": region_label(v.plan.jurisdiction),
            "stage": core.stage_on(v.plan, today),
            "running": core.is_running(v.plan, today),
            "ended": today > v.plan.ends_on,
        }
        for v in views
    ]
    return render(
        request,
        "campaigns/list.html",
        {
            "rows": rows,
            "include_archived": include_archived,
            "can_create": principal.has(*CREATORS),
        },
        title="专项行动",
    )


# ---------------------------------------------------------------- create


def _new_context(
    principal: Principal,
    form_values: dict[str, str],
    lists: dict[str, list[str]],
    errors: dict[str, str],
    mode: str,
) -> dict[str, Any]:
    codes = [code for code, _ in template_options()]
    preview = preview_error = None
    chosen = form_values.get("tpl-template") or (codes[0] if codes else "")
    try:
        year_text = form_values.get("tpl-year", "")
        year = int(year_text) if year_text.strip().isdigit() else None
        preview = core.instantiate(chosen, year=year)
    except core.CampaignError as exc:
        preview_error = exc.message_zh
    return {
        "values": form_values,
        "lists": lists,
        "errors": errors,
        "mode": mode,
        "templates": template_options(),
        "preview": preview,
        "preview_error": preview_error,
        "departments": department_options(),
        "grounds": ground_options(),
        "stage_rows": range(1, STAGE_ROWS + 1),
        "task_rows": range(1, TASK_ROWS + 1),
        "own_jurisdiction": principal.jurisdiction,
    }


def _defaults(principal: Principal, request: Request) -> tuple[dict[str, str], dict[str, list]]:
    today = shanghai_date(auth.now())
    codes = [code for code, _ in template_options()]
    template = request.query_params.get("template")
    year = request.query_params.get("year")
    form_values = {
        "tpl-template": template if template in codes else (codes[0] if codes else ""),
        "tpl-year": year if year and year.isdigit() and len(year) == 4 else str(today.year),
        "tpl-jurisdiction": principal.jurisdiction,
        "jurisdiction": principal.jurisdiction,
        "starts_on": today.isoformat(),
    }
    return form_values, {"departments": [code for code, _ in department_options()]}


@router.get("/campaigns/new")
def campaign_new(request: Request, principal: UiPrincipal) -> Response:
    _require_creator(principal)
    form_values, lists = _defaults(principal, request)
    return render(
        request,
        "campaigns/new.html",
        _new_context(principal, form_values, lists, {}, "template"),
        title="新建专项行动",
    )


def _plan_from_template(form: FormData) -> core.CampaignPlan:
    codes = dict(template_options())
    template = choice(form, "tpl-template", codes, "模板", required=True)
    year = integer(form, "tpl-year", "年份", lo=1990, hi=2100, required=True)
    jurisdiction = text(
        form, "tpl-jurisdiction", "管辖区域", max_len=JURISDICTION_MAX, required=True
    )
    name = text(form, "tpl-name", "专项行动名称", max_len=core.NAME_MAX)
    assert template is not None and jurisdiction is not None
    return core.instantiate(template, year=year, jurisdiction=jurisdiction, name=name)


def _plan_from_scratch(form: FormData, rows: dict[str, list[int]]) -> core.CampaignPlan:
    """The plan typed into the from-scratch form; `rows` learns which rows were filled."""
    departments = dict(department_options())
    grounds = dict(ground_options())
    name = text(form, "name", "专项行动名称", max_len=core.NAME_MAX, required=True)
    jurisdiction = text(form, "jurisdiction", "管辖区域", max_len=JURISDICTION_MAX, required=True)
    chosen = choices(form, "departments", departments, "参与部门")
    if not chosen:
        raise FormError("departments", "请至少选择一个参与部门。")
    starts_on = day(form, "starts_on", "开始日期", required=True)
    stages: list[core.Stage] = []
    for i in range(1, STAGE_ROWS + 1):
        stage_name = text(form, f"stage-{i}-name", f"第{i}行阶段名称", max_len=core.NAME_MAX)
        deadline = day(form, f"stage-{i}-deadline", f"第{i}行阶段截止日期")
        if stage_name is None and deadline is None:
            continue
        if stage_name is None:
            raise FormError(f"stage-{i}-name", f"请填写第{i}行阶段的名称。")
        if deadline is None:
            raise FormError(f"stage-{i}-deadline", f"请填写第{i}行阶段的截止日期。")
        rows["stages"].append(i)
        stages.append(core.Stage(len(stages) + 1, stage_name, deadline))
    if not stages:
        raise FormError("stage-1-name", "请至少填写一个阶段（名称和截止日期）。")
    tasks: list[core.Task] = []
    for i in range(1, TASK_ROWS + 1):
        code = text(form, f"task-{i}-code", f"第{i}行任务编号", max_len=16)
        task_name = text(form, f"task-{i}-name", f"第{i}行任务名称", max_len=core.NAME_MAX)
        lead = choice(form, f"task-{i}-lead", departments, f"第{i}行任务的牵头部门")
        co = choices(form, f"task-{i}-co", departments, f"第{i}行任务的配合部门")
        task_grounds = choices(form, f"task-{i}-grounds", grounds, f"第{i}行任务的问题类别")
        if not (code or task_name or lead or co or task_grounds):
            continue
        if code is None:
            raise FormError(f"task-{i}-code", f"请填写第{i}行任务的编号。")
        if task_name is None:
            raise FormError(f"task-{i}-name", f"请填写第{i}行任务的名称。")
        if lead is None:
            raise FormError(f"task-{i}-lead", f"请选择第{i}行任务的牵头部门。")
        rows["tasks"].append(i)
        tasks.append(
            core.Task(
                code,
                task_name,
                lead,
                tuple(c for c in co if c != lead),
                tuple(task_grounds),
            )
        )
    assert name is not None and jurisdiction is not None and starts_on is not None
    return core.CampaignPlan(
        name=name,
        jurisdiction=jurisdiction,
        departments=tuple(chosen),
        starts_on=starts_on,
        stages=tuple(stages),
        tasks=tuple(tasks),
    )


def _lists_of(form: FormData) -> dict[str, list[str]]:
    names = [*MULTI_FIELDS]
    for i in range(1, TASK_ROWS + 1):
        names += [f"task-{i}-co", f"task-{i}-grounds"]
    return {n: [v for v in form.getlist(n) if isinstance(v, str)] for n in names}


@router.post("/campaigns/new")
async def campaign_create(request: Request, principal: UiPrincipal) -> Response:
    form = await read_form(request)
    _require_creator(principal)
    mode = "scratch" if form.get("mode") == "scratch" else "template"
    prefix = "tpl-" if mode == "template" else ""
    rows: dict[str, list[int]] = {"stages": [], "tasks": []}
    form_values, lists = values(form), _lists_of(form)
    status = 422
    try:
        if mode == "template":
            plan = _plan_from_template(form)
            if form.get("action") == "preview":
                return render(
                    request,
                    "campaigns/new.html",
                    _new_context(principal, form_values, lists, {}, mode),
                    title="新建专项行动",
                )
        else:
            plan = _plan_from_scratch(form, rows)
        with request.app.state.database.write() as session:
            view = service.create_campaign(session, principal, plan, at=auth.now())
    except FormError as exc:
        errors = {exc.field: exc.message_zh}
    except core.CampaignError as exc:
        errors = {field_of_pointer(exc.pointer, rows, prefix): exc.message_zh}
    except ServiceError as exc:
        if exc.code == "out_of_jurisdiction":
            field = prefix + "jurisdiction"
        else:
            field = field_of_pointer(exc.extra.get("pointer"), rows, prefix)
        errors = {field: exc.message_zh}
        status = exc.status
    else:
        return redirect(f"/campaigns/{view.id}", flash=f"专项行动“{view.name}”已创建。")
    return render(
        request,
        "campaigns/new.html",
        _new_context(principal, form_values, lists, errors, mode),
        status=status,
        title="新建专项行动",
    )


# ---------------------------------------------------------------- detail


def _report_rows(
    reports: Sequence[service.ReportView], plan: core.CampaignPlan
) -> list[dict[str, Any]]:
    known = counters()
    out = []
    for r in reversed(reports):  # newest first
        task = plan.task(r.task_code) if r.task_code else None
        figures = [
            (known[c].name if c in known else c, n, known[c].unit if c in known else "")
            for c, n in r.figures.items()
        ]
        out.append({"report": r, "task": task, "figures": figures})
    return out


def _detail_context(
    session: Session,
    principal: Principal,
    campaign_id: int,
    *,
    at: datetime,
    form_values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    view = service.get_campaign(session, principal, campaign_id)
    plan = view.plan
    progress = service.progress(session, principal, campaign_id, at=at)
    reports = service.reports(session, principal, campaign_id)
    today = progress.today
    overdue, overdue_total = campaign_cases(
        session, principal, campaign_id, today=today, overdue=True, limit=OVERDUE_SHOWN
    )
    recent, case_total = campaign_cases(session, principal, campaign_id, today=today)
    cells = {(c.department, c.stage): c for c in progress.cells}
    reporting = can_report(principal, view)
    default_stage = progress.current_stage.n if progress.current_stage else len(plan.stages)
    return {
        "view": view,
        "plan": plan,
        "region": region_label(plan.jurisdiction),
        "progress": progress,
        "cells": cells,
        "status_names": core.STATUS_NAMES_ZH,
        "reports": _report_rows(reports, plan),
        "counters": list(counters().values()),
        "overdue": overdue,
        "overdue_total": overdue_total,
        "recent": recent,
        "case_total": case_total,
        "can_manage": can_manage(principal, view),
        "can_report": reporting,
        "stage_options": [(str(s.n), f"第{s.n}阶段：{s.name}") for s in plan.stages],
        "task_options": [(t.code, f"{t.code}. {t.name}") for t in plan.tasks],
        "values": form_values or {"stage": str(default_stage)},
        "errors": errors or {},
    }


@router.get("/campaigns/{campaign_id:int}")
def campaign_detail(request: Request, principal: UiPrincipal, campaign_id: int) -> Response:
    known_id(campaign_id, "campaign", "专项行动")
    with request.app.state.database.read() as session:
        ctx = _detail_context(session, principal, campaign_id, at=auth.now())
    return render(request, "campaigns/detail.html", ctx, title=ctx["view"].name)


def _report_input(form: FormData, plan: core.CampaignPlan) -> dict[str, Any]:
    stages = {str(s.n): s.name for s in plan.stages}
    stage = choice(form, "stage", stages, "阶段", required=True)
    task = choice(form, "task", {t.code: t.name for t in plan.tasks}, "任务")
    body = text(form, "body", "进展内容", max_len=service.BODY_MAX, required=True)
    figures: dict[str, int] = {}
    for counter in counters().values():
        value = integer(
            form, f"fig-{counter.code}", f"“{counter.name}”", lo=0, hi=service.FIGURE_MAX
        )
        if value is not None:
            figures[counter.code] = value
    assert stage is not None and body is not None
    return {"stage": int(stage), "task_code": task, "body": body, "figures": figures}


REPORT_FIELDS = {
    "bad_stage": "stage",
    "unknown_task": "task",
    "bad_body": "body",
    "unknown_counter": "body",
    "bad_figure": "body",
}


@router.post("/campaigns/{campaign_id:int}/reports")
async def campaign_report(request: Request, principal: UiPrincipal, campaign_id: int) -> Response:
    form = await read_form(request)
    known_id(campaign_id, "campaign", "专项行动")
    db = request.app.state.database
    at = auth.now()
    with db.read() as session:
        view = service.get_campaign(session, principal, campaign_id)
    if not can_report(principal, view):
        raise forbidden(
            "not_participating",
            f"user {principal.user_id} may not report for campaign {campaign_id}",
            "您所在部门未参与该专项行动，或您的角色不能报送进展。",
        )
    status = 422
    try:
        data = _report_input(form, view.plan)
        with db.write() as session:
            service.add_report(session, principal, campaign_id, at=at, **data)
    except FormError as exc:
        errors = {exc.field: exc.message_zh}
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        errors = {REPORT_FIELDS.get(exc.code, "body"): exc.message_zh}
        status = exc.status
    else:
        return redirect(f"/campaigns/{campaign_id}#reports", flash="进展已报送。")
    with db.read() as session:
        ctx = _detail_context(
            session, principal, campaign_id, at=at, form_values=values(form), errors=errors
        )
    return render(request, "campaigns/detail.html", ctx, status=status, title=ctx["view"].name)


@router.post("/campaigns/{campaign_id:int}/settings")
async def campaign_settings(request: Request, principal: UiPrincipal, campaign_id: int) -> Response:
    form = await read_form(request)
    known_id(campaign_id, "campaign", "专项行动")
    flags: dict[str, bool | None] = {"public": None, "archived": None}
    for key in flags:
        raw = form.get(key)
        if raw in ("0", "1"):
            flags[key] = raw == "1"
    if flags["public"] is None and flags["archived"] is None:
        raise ServiceError(
            "validation-error", "no_setting", "nothing to change", "请选择要更改的设置。"
        )
    with request.app.state.database.write() as session:
        view = service.change_campaign(session, principal, campaign_id, at=auth.now(), **flags)
    if flags["public"] is not None:
        message = "已在公开页面发布进展。" if view.public else "已取消公开进展。"
    else:
        message = "专项行动已归档。" if view.archived else "专项行动已恢复。"
    return redirect(f"/campaigns/{campaign_id}", flash=message)


# ---------------------------------------------------------------- documents


def _document_unavailable(what: str) -> ServiceError:
    return ServiceError(
        "service-unavailable",
        "documents_unavailable",
        f"{what} generation is not installed",
        "文档生成功能暂不可用，请稍后再试。",
    )


def _safe_name(name: str) -> str:
    return "".join(ch for ch in name if ch not in '\\/:*?"<>|\r\n\t')[:80] or "campaign"


@router.get("/campaigns/{campaign_id:int}/summary.docx")
def campaign_summary(request: Request, principal: UiPrincipal, campaign_id: int) -> Response:
    known_id(campaign_id, "campaign", "专项行动")
    try:
        from qinglang.services.documents.summary_docx import summary_for_campaign
    except ImportError:
        raise _document_unavailable("summary") from None
    with request.app.state.database.read() as session:
        view = service.get_campaign(session, principal, campaign_id)
        data = summary_for_campaign(session, principal, campaign_id, at=auth.now())
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={
            "Content-Disposition": content_disposition(
                f"{_safe_name(view.name)}-工作总结.docx", f"campaign-{campaign_id}-summary.docx"
            )
        },
    )


@router.get("/campaigns/{campaign_id:int}/statistics.xlsx")
def campaign_statistics_xlsx(
    request: Request, principal: UiPrincipal, campaign_id: int
) -> Response:
    known_id(campaign_id, "campaign", "专项行动")
    try:
        from qinglang.services.documents.statistics_xlsx import build
        from qinglang.services.statistics import campaign_statistics
    except ImportError:
        raise _document_unavailable("statistics") from None
    with request.app.state.database.read() as session:
        view = service.get_campaign(session, principal, campaign_id)
        stats = campaign_statistics(session, principal, campaign_id, at=auth.now())
    return Response(
        build(stats),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": content_disposition(
                f"{_safe_name(view.name)}-统计.xlsx", f"campaign-{campaign_id}-statistics.xlsx"
            )
        },
    )
