"""UI pages of the intake queue (线索受理): the items newest first with their triage and flags,
duplicate groups (items merged into one lead), one item with its evidence, and the form an
officer files a patrol finding or a department hand-off with.

Reading goes through `qinglang.services.intake` (`list_items`, `get_item`, `visible_clause`),
filing through `prepare` + `commit`, as `POST /api/v1/intake` does; the services decide who
sees and files what (case workers within their jurisdiction; operators their self-reports).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import desc, func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from qinglang.govern import intake as rules
from qinglang.govern.clock import SHANGHAI
from qinglang.services import intake as intake_service
from qinglang.services.errors import ServiceError, forbidden
from qinglang.services.principal import CASE_ROLES, Principal
from qinglang.store.models import Case, IntakeItem
from qinglang.taxonomy import get_taxonomy
from qinglang.web.auth import now
from qinglang.web.schemas.intake import summary_fields
from qinglang.web.ui.forms import (
    ID_MAX,
    FormError,
    field_errors,
    files,
    integer,
    known_id,
    query_string,
    read_form,
    text,
    values,
)
from qinglang.web.ui.session import UiPrincipal
from qinglang.web.ui.templating import redirect, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
GROUPS_PER_PAGE = 20
MAX_PAGE = 10_000
LIST_FILTERS = (
    "source",
    "status",
    "flag",
    "category",
    "ticket",
    "received_after",
    "received_before",
)
FILED_SOURCES = (rules.PatrolFinding, rules.DepartmentHandoff)
FLAG_CLASSES = {"duplicate": "warn", "flood": "bad", "coordinated": "bad", "late": "bad"}
VERDICT_NAMES = {"block": "违规（建议处置）", "review": "疑似（需人工研判）", "pass": "未见问题"}


def ground_options() -> list[tuple[str, str]]:
    taxonomy = get_taxonomy()
    return [(c.code, c.name) for c in taxonomy.categories.values()] + [
        (v.code, f"{v.name}（合规问题）") for v in taxonomy.violations.values()
    ]


def _page_number(raw: str | None) -> int:
    try:
        return min(max(int(raw or "1"), 1), MAX_PAGE)
    except ValueError:
        return 1


def _day(params: Mapping[str, str], name: str, label: str) -> date | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FormError(name, f"{label}应为日期，格式如 2026-12-31。") from None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=SHANGHAI)


def filters_from(params: Mapping[str, str]) -> intake_service.IntakeFilter:
    """The list filters from the query string; days are China calendar days (inclusive)."""

    def get(name: str) -> str | None:
        return (params.get(name) or "").strip() or None

    after = _day(params, "received_after", "起始日期")
    before = _day(params, "received_before", "截止日期")
    return intake_service.IntakeFilter(
        source=get("source"),
        status=get("status"),
        flag=get("flag"),
        category=get("category"),
        ticket=get("ticket"),
        received_after=_start_of(after) if after else None,
        received_before=_start_of(before + timedelta(days=1)) if before else None,
    )


def _choices() -> dict[str, list[tuple[str, str]]]:
    return {
        "source": [(n, s.name_zh) for n, s in rules.registered_sources().items()],
        "status": list(rules.ITEM_STATUSES.items()),
        "flag": list(rules.FLAGS.items()),
        "category": ground_options(),
    }


def row_view(item: IntakeItem, case_state: str | None) -> dict[str, Any]:
    """An item as the list shows it: the API's summary fields plus display names."""
    row = summary_fields(item, case_state)
    row["flag_tags"] = [(f, rules.FLAGS.get(f, f), FLAG_CLASSES.get(f, "")) for f in row["flags"]]
    row["status_zh"] = rules.ITEM_STATUSES.get(row["status"], row["status"])
    row["verdict_zh"] = VERDICT_NAMES.get(row["verdict"] or "", row["verdict"] or "—")
    return row


def case_facts(case: Case) -> dict[str, Any]:
    """What the pages show of a lead's case (plain values, usable after the session)."""
    return {
        "id": case.id,
        "title": case.title,
        "state": case.state,
        "lead_department": case.lead_department,
    }


# ---------------------------------------------------------------- duplicate groups


def dedupe_groups(
    session: Session, principal: Principal, *, page: int
) -> tuple[list[dict[str, Any]], int]:
    """Leads that more than one visible item joined, latest arrival first, with their items;
    and how many such leads there are."""
    intake_service.require_viewer(principal)
    visible = intake_service.visible_clause(principal)
    grouped = (
        select(
            IntakeItem.case_id.label("case_id"),
            func.count().label("n"),
            func.max(IntakeItem.received_at).label("last"),
        )
        .where(visible, IntakeItem.case_id.is_not(None))
        .group_by(IntakeItem.case_id)
        .having(func.count() > 1)
    )
    total = session.execute(select(func.count()).select_from(grouped.subquery())).scalar_one()
    rows = session.execute(
        grouped.order_by(desc("last"), desc("case_id"))
        .limit(GROUPS_PER_PAGE)
        .offset((page - 1) * GROUPS_PER_PAGE)
    ).all()
    case_ids = [r.case_id for r in rows]
    if not case_ids:
        return [], int(total)
    cases = {
        c.id: case_facts(c)
        for c in session.execute(select(Case).where(Case.id.in_(case_ids))).scalars()
    }
    members: dict[int, list[dict[str, Any]]] = {cid: [] for cid in case_ids}
    for item in session.execute(
        select(IntakeItem)
        .where(visible, IntakeItem.case_id.in_(case_ids))
        .order_by(IntakeItem.received_at, IntakeItem.id)
    ).scalars():
        case = cases.get(item.case_id or 0)
        members[item.case_id or 0].append(row_view(item, case["state"] if case else None))
    groups = [
        {
            "case_id": r.case_id,
            "case": cases.get(r.case_id),
            "count": r.n,
            "last": r.last,
            "members": members[r.case_id],
        }
        for r in rows
    ]
    return groups, int(total)


# ---------------------------------------------------------------- list


@router.get("/intake")
def intake_list(request: Request, principal: UiPrincipal) -> Response:
    """The queue, newest first, with filters; `group=1` shows the duplicate groups instead."""
    intake_service.require_viewer(principal)
    params = {k: request.query_params.get(k, "")[:120] for k in LIST_FILTERS}
    page = _page_number(request.query_params.get("page"))
    grouped = request.query_params.get("group") == "1"
    errors: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    groups: list[dict[str, Any]] = []
    total = 0
    status = 200
    db = request.app.state.database
    try:
        with db.read() as session:
            if grouped:
                groups, total = dedupe_groups(session, principal, page=page)
            else:
                found, total = intake_service.list_items(
                    session,
                    principal,
                    filters_from(params),
                    limit=PAGE_SIZE,
                    offset=(page - 1) * PAGE_SIZE,
                )
                rows = [row_view(item, state) for item, state in found]
    except FormError as exc:
        errors, status = {exc.field: exc.message_zh}, 422
    except ServiceError as exc:
        if exc.status == 403:
            raise
        errors = field_errors(
            exc,
            {
                "unknown_source": "source",
                "unknown_status": "status",
                "unknown_flag": "flag",
                "unknown_category": "category",
                "malformed_ticket": "ticket",
            },
        )
        status = exc.status
    base = query_string(params)
    per_page = GROUPS_PER_PAGE if grouped else PAGE_SIZE
    return render(
        request,
        "intake/list.html",
        {
            "values": params,
            "errors": errors,
            "rows": rows,
            "groups": groups,
            "grouped": grouped,
            "total": total,
            "page": page,
            "pages": max(1, math.ceil(total / per_page)),
            "pager_base": "/intake?" + ("group=1&" if grouped else (base + "&" if base else "")),
            "choices": _choices(),
            "can_file": principal.has(*CASE_ROLES),
        },
        status=status,
        title="重复线索分组" if grouped else "线索受理",
    )


# ---------------------------------------------------------------- detail


@router.get("/intake/{item_id:int}")
def intake_detail(request: Request, principal: UiPrincipal, item_id: int) -> Response:
    known_id(item_id, "intake_item", "受理记录")
    with request.app.state.database.read() as session:
        view = intake_service.get_item(session, principal, item_id)
        item = row_view(view.item, view.case_state)
        item["text"] = view.item.text
        item["created_by"] = view.item.created_by
        row = session.get(Case, view.item.case_id) if view.item.case_id else None
        case = case_facts(row) if row is not None else None
        siblings = []
        if case is not None:
            siblings = [
                row_view(other, case["state"])
                for other in session.execute(
                    select(IntakeItem)
                    .where(
                        IntakeItem.case_id == case["id"],
                        IntakeItem.id != item_id,
                        intake_service.visible_clause(principal),
                    )
                    .order_by(IntakeItem.received_at, IntakeItem.id)
                    .limit(50)
                ).scalars()
            ]
        attachments = [
            {"name": a.name, "media_type": a.media_type, "size": a.size, "digest": a.digest}
            for a in view.attachments
        ]
    filer = item["created_by"]
    return render(
        request,
        "intake/detail.html",
        {
            "item": item,
            "filer": "公众（匿名）" if filer.startswith("public:") else filer,
            "case": case,
            "siblings": siblings,
            "attachments": attachments,
            "can_open_cases": principal.has(*CASE_ROLES),
        },
        title=item["title"] or f"受理记录 {item['id']}",
    )


# ---------------------------------------------------------------- filing


def _require_filer(principal: Principal) -> None:
    if not principal.has(*CASE_ROLES):
        raise forbidden(
            "forbidden_role",
            "patrol findings and hand-offs are filed by case workers",
            "只有办案人员、研判人员和审批领导可以录入巡查发现或部门移交线索。",
        )


def _form_page(
    request: Request,
    principal: Principal,
    *,
    values_: Mapping[str, str],
    errors: Mapping[str, str],
    status: int = 200,
) -> Response:
    return render(
        request,
        "intake/new.html",
        {
            "values": values_,
            "errors": errors,
            "sources": [(s.name, s.name_zh) for s in FILED_SOURCES],
            "source_notes": [(s.name_zh, s.description) for s in FILED_SOURCES],
            "grounds": ground_options(),
            "max_attachments": rules.PatrolFinding.max_attachments,
            "max_kib": request.app.state.settings.max_attachment_bytes // 1024,
        },
        status=status,
        title="录入线索",
    )


@router.get("/intake/new")
def intake_new(request: Request, principal: UiPrincipal) -> Response:
    _require_filer(principal)
    return _form_page(
        request,
        principal,
        values_={"source": rules.PatrolFinding.name, "jurisdiction": principal.jurisdiction},
        errors={},
    )


async def _attachments(form: FormData, max_bytes: int) -> list[intake_service.AttachmentIn]:
    out = []
    for upload in files(form, "attachments"):
        content = await upload.read(max_bytes + 1)
        out.append(
            intake_service.AttachmentIn(
                base64.b64encode(content).decode("ascii"),
                upload.filename,
                upload.content_type or None,
            )
        )
    return out


@router.post("/intake/new")
async def intake_file(request: Request, principal: UiPrincipal) -> Response:
    """File a patrol finding or hand-off: the same prepare → commit path as the API."""
    form = await read_form(request)
    _require_filer(principal)
    app = request.app
    try:
        source = text(form, "source", "线索来源", max_len=32, required=True) or ""
        if source not in {s.name for s in FILED_SOURCES}:
            raise FormError("source", "请选择线索来源：巡查发现或部门移交。")
        subject_id = integer(form, "subject_id", "台账主体编号", lo=1, hi=ID_MAX)
        raw_urls = form.get("urls")
        urls = [u.strip() for u in (raw_urls if isinstance(raw_urls, str) else "").splitlines()]
        attachments = await _attachments(form, app.state.settings.max_attachment_bytes)
        detector = app.state.detector_provider.get()
        prepared = await run_in_threadpool(
            lambda: intake_service.prepare(
                detector,
                app.state.settings,
                source=source,
                principal=principal,
                at=now(),
                text=_raw(form, "text"),
                urls=[u for u in urls if u],
                attachments=attachments,
                title=_raw(form, "title"),
                category=_raw(form, "category"),
                jurisdiction=_raw(form, "jurisdiction"),
                subject_id=subject_id,
                subject_name=_raw(form, "platform"),
            )
        )
        receipt = await run_in_threadpool(
            intake_service.commit, app.state.database, app.state.blobs, prepared
        )
    except FormError as exc:
        return _form_page(
            request, principal, values_=values(form), errors={exc.field: exc.message_zh}, status=422
        )
    except ServiceError as exc:
        errors = field_errors(
            exc,
            {
                "source_not_allowed": "source",
                "out_of_jurisdiction": "jurisdiction",
                "bad_jurisdiction": "jurisdiction",
            },
        )
        return _form_page(
            request, principal, values_=values(form), errors=errors, status=exc.status
        )
    if receipt.status == "merged":
        flash = f"已受理（编号 {receipt.ticket}），与已有线索重复，已并入案件 {receipt.case_id}。"
    else:
        flash = f"已受理（编号 {receipt.ticket}），已生成新线索（案件 {receipt.case_id}）。"
    return redirect(f"/intake/{receipt.item_id}", flash=flash)


def _raw(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) and value.strip() else None
