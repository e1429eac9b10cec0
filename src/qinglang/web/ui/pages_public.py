"""Public pages (no login): the reporting form and ticket look-up, the disclosure page (曝光台)
and the campaign progress a jurisdiction publishes.

The reporting form does what the JSON endpoint does (`qinglang.web.api.reports`): the same
service (`reports.submit`), the same keyed client hash, the same per-client limiters kept on
`app.state` (so filing through the form and through the API share one budget per address),
and the same bounded thread pool for the triage. Pages show the public only what the services
mark public: a report's public status and result, a publication's own text and ticked fields,
a public campaign's plan and aggregate figures.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode

import anyio.to_thread
from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from qinglang.govern import campaigns as plans
from qinglang.govern import intake as intake_rules
from qinglang.govern.actors import Role
from qinglang.govern.clock import shanghai_date
from qinglang.govern.identifiers import NATIONAL_DIVISION, division_covers, provinces
from qinglang.services import campaigns as campaign_service
from qinglang.services import disclosure as disclosure_service
from qinglang.services import reports as reports_service
from qinglang.services.errors import ServiceError, invalid, not_found
from qinglang.services.intake import AttachmentIn
from qinglang.services.principal import Principal
from qinglang.taxonomy import get_taxonomy
from qinglang.web.api.reports import (
    RECEIVED_MESSAGE,
    lookup_client,
    reporting_client,
    submit_limiter,
)
from qinglang.web.auth import now
from qinglang.web.problems import ProblemError
from qinglang.web.ui.forms import FormError, choice, files, read_form, text, values
from qinglang.web.ui.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 10
MAX_TRACK_INPUT = 100  # characters of a typed ticket kept for re-display
# Attachments the form takes: screenshots and PDF documents (the API also takes video/text).
FORM_MEDIA_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")
# Pages holding a ticket are neither cached nor sent as a Referer (as the JSON endpoint).
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
# Where a refusal of the reporting service belongs on the form (JSON Pointer prefix → field).
FIELD_BY_POINTER = {
    "#/text": "text",
    "#/title": "text",
    "#/urls": "urls",
    "#/category": "category",
    "#/region": "region",
    "#/platform": "platform",
    "#/icp": "icp",
    "#/attachments": "attachments",
}

IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
PageQuery = Annotated[int, Query(ge=1, le=100_000)]


# ---------------------------------------------------------------- choices


def category_options() -> list[tuple[str, str]]:
    """The harm categories a member of the public may name (all of them, page-level too)."""
    return [(c.code, c.name) for c in get_taxonomy().categories.values()]


def region_options() -> list[tuple[str, str]]:
    """Mainland provinces as 6-digit division codes (where Chinese regulators act)."""
    return [(f"{p.code}0000", p.name) for p in provinces().values() if p.mainland]


def place_name(code: str) -> str:
    """A division for the public: the province's name, and the code below province level."""
    if code == NATIONAL_DIVISION:
        return "全国"
    province = provinces().get(code[:2])
    if province is None:
        return code
    return province.name if code.endswith("0000") else f"{province.name}（{code}）"


def _region_filter(region: str | None) -> str | None:
    """A ?region= filter: empty for all, else one of the province codes (422 otherwise)."""
    if region is None or not region.strip():
        return None
    code = region.strip()
    if code not in dict(region_options()):
        raise invalid("bad_region", f"unknown region {code[:12]!r}", "请从列表中选择地区。")
    return code


# ---------------------------------------------------------------- landing


@router.get("/public")
def landing(request: Request) -> Response:
    return render(
        request,
        "public/index.html",
        {"categories": category_options()},
        title="公众服务",
    )


# ---------------------------------------------------------------- reporting form


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


def _report_page(
    request: Request,
    kept: dict[str, str],
    errors: dict[str, str],
    *,
    problem: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    settings = request.app.state.settings
    limits = {
        "max_text": intake_rules.PublicTip.max_text,
        "max_urls": intake_rules.PublicTip.max_urls,
        "max_files": intake_rules.PublicTip.max_attachments,
        "file_size": _mib(settings.max_attachment_bytes),
        "body_size": _mib(settings.max_body_bytes),
        "accept": ",".join(FORM_MEDIA_TYPES),
    }
    response = render(
        request,
        "public/report.html",
        {
            "values": kept,
            "errors": errors,
            "problem": problem,
            "categories": category_options(),
            "regions": [(NATIONAL_DIVISION, "不确定（由全国受理）"), *region_options()],
            "limits": limits,
        },
        status=status,
        title="我要举报",
    )
    response.headers.update(PRIVATE_HEADERS)
    if headers:
        response.headers.update(headers)
    return response


@router.get("/public/report")
def report_form(request: Request) -> Response:
    return _report_page(request, {}, {})


def _urls(form: FormData) -> list[str]:
    raw = form.get("urls")
    lines = raw.splitlines() if isinstance(raw, str) else []
    urls = [line.strip() for line in lines if line.strip()]
    limit = intake_rules.PublicTip.max_urls
    if len(urls) > limit:
        raise FormError("urls", f"网址最多填写 {limit} 个（现有 {len(urls)} 个），每行一个。")
    return urls


async def _attachments(form: FormData, max_bytes: int) -> list[AttachmentIn]:
    """The uploaded files as the service takes them (Base64), each read at most once and
    no further than one byte past the limit."""
    uploads: list[UploadFile] = files(form, "attachments")
    limit = intake_rules.PublicTip.max_attachments
    if len(uploads) > limit:
        raise FormError("attachments", f"附件最多 {limit} 个（现有 {len(uploads)} 个）。")
    out: list[AttachmentIn] = []
    for i, upload in enumerate(uploads):
        name = (upload.filename or "")[:200]
        content = await upload.read(max_bytes + 1)
        if len(content) > max_bytes:
            raise FormError(
                "attachments", f"第 {i + 1} 个附件「{name}」过大：每个附件最多 {_mib(max_bytes)}。"
            )
        if not content:
            raise FormError("attachments", f"第 {i + 1} 个附件「{name}」是空文件。")
        if intake_rules.sniff_media_type(content) not in FORM_MEDIA_TYPES:
            raise FormError(
                "attachments",
                f"第 {i + 1} 个附件「{name}」的类型不受支持：仅接受 PNG、JPEG、GIF、WebP 图片"
                "和 PDF 文档。",
            )
        data = base64.b64encode(content).decode("ascii")
        out.append(AttachmentIn(data, name or None, upload.content_type))
    return out


def field_of(exc: ServiceError) -> str | None:
    """The form field a service refusal names (by its JSON Pointer), if any."""
    for item in exc.extra.get("errors") or ():
        pointer = str(item.get("pointer") or "")
        for prefix, field in FIELD_BY_POINTER.items():
            if pointer == prefix or pointer.startswith(prefix + "/"):
                return field
    return None


@router.post("/public/report")
async def report_submit(request: Request) -> Response:
    """File a public tip; the receipt page shows the ticket once."""
    form = await read_form(request, csrf=False)
    kept = values(form)
    state = request.app.state
    settings = state.settings
    try:
        client = await reporting_client(request, settings)
    except ProblemError as exc:
        return _report_page(
            request, kept, {}, problem=exc.detail, status=exc.status, headers=exc.headers
        )
    errors: dict[str, str] = {}
    fields: dict[str, Any] = {}
    readers = {
        "category": lambda: choice(form, "category", dict(category_options()), "问题类别"),
        "text": lambda: text(
            form,
            "text",
            "问题描述",
            max_len=intake_rules.PublicTip.max_text,
            required=True,
        ),
        "urls": lambda: _urls(form),
        "platform": lambda: text(form, "platform", "平台或应用名称", max_len=100),
        "icp": lambda: text(form, "icp", "ICP备案号", max_len=40),
        "region": lambda: choice(
            form,
            "region",
            [NATIONAL_DIVISION, *dict(region_options())],
            "问题所在地区",
            required=True,
        ),
    }
    for key, read in readers.items():
        try:
            fields[key] = read()
        except FormError as exc:
            errors[exc.field] = exc.message_zh
    try:
        fields["attachments"] = await _attachments(form, settings.max_attachment_bytes)
    except FormError as exc:
        errors[exc.field] = exc.message_zh
    if errors:
        return _report_page(request, kept, errors, status=422)
    work = partial(
        reports_service.submit,
        state.database,
        state.blobs,
        state.detector_provider.get(),
        settings,
        at=now(),
        text=fields["text"],
        urls=fields["urls"],
        attachments=fields["attachments"],
        category=fields["category"],
        region=fields["region"],
        platform=fields["platform"],
        icp=fields["icp"],
        client_hash=client,
    )
    try:
        receipt = await anyio.to_thread.run_sync(work, limiter=submit_limiter(request))
    except ServiceError as exc:
        field = field_of(exc)
        if field is None:
            return _report_page(request, kept, {}, problem=exc.message_zh, status=exc.status)
        return _report_page(request, kept, {field: exc.message_zh}, status=exc.status)
    response = render(
        request,
        "public/receipt.html",
        {
            "ticket": receipt.ticket,
            "status": receipt.public_status,
            "received_at": receipt.received_at,
            "message": RECEIVED_MESSAGE,
        },
        title="举报已受理",
    )
    response.headers.update(PRIVATE_HEADERS)
    return response


# ---------------------------------------------------------------- ticket look-up


@router.get("/public/track")
async def track(request: Request, ticket: str | None = None) -> Response:
    """The look-up form; with ?ticket= the report's public status and result."""
    typed = (ticket or "").strip()[:MAX_TRACK_INPUT]
    context: dict[str, Any] = {"ticket": typed, "error": None, "found": None}
    status = 200
    headers: dict[str, str] = {}
    if typed:
        try:
            await lookup_client(request, request.app.state.settings)
            context["found"] = await anyio.to_thread.run_sync(
                reports_service.status, request.app.state.database, typed
            )
        except ProblemError as exc:
            context["error"], status, headers = exc.detail, exc.status, exc.headers
        except ServiceError as exc:
            context["error"], status = exc.message_zh, exc.status
    elif ticket is not None:
        context["error"], status = "请填写受理编号。", 422
    response = render(request, "public/track.html", context, status=status, title="举报查询")
    response.headers.update(PRIVATE_HEADERS)
    response.headers.update(headers)
    return response


# ---------------------------------------------------------------- disclosure (曝光台)


def _public_campaign(session: Session, campaign_id: int) -> campaign_service.CampaignView:
    """A campaign whose progress is published; 404 for any other (unknown, private, archived)."""
    found = next(
        (c for c in campaign_service.public_campaigns(session) if c.id == campaign_id), None
    )
    if found is None:
        raise not_found("campaign", "专项行动", campaign_id)
    return found


def _query(**params: object) -> str:
    """`?a=1&b=2&` of the non-empty params, ready for `page=N` to be appended."""
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return "?" + (urlencode(kept) + "&" if kept else "")


@router.get("/public/disclosure")
def disclosure(
    request: Request,
    page: PageQuery = 1,
    region: str | None = None,
    campaign: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """Typical cases, newest first: each publication's own text and its ticked fields only."""
    context: dict[str, Any] = {"regions": region_options(), "region": region or "", "error": None}
    try:
        code = _region_filter(region)
    except ServiceError as exc:
        context.update(error=exc.message_zh, items=[], total=0, page=1, pages=1, campaign=None)
        return render(request, "public/disclosure.html", context, status=422, title="曝光台")
    with request.app.state.database.read() as session:
        chosen = _public_campaign(session, campaign) if campaign is not None else None
        items, total = disclosure_service.list_public(
            session,
            jurisdiction=code,
            campaign_id=campaign,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
    pages = max(1, -(-total // PAGE_SIZE))
    context.update(
        items=items,
        total=total,
        page=page,
        pages=pages,
        campaign=chosen,
        region_label=place_name(code) if code else None,
        base_url="/public/disclosure" + _query(region=code, campaign=campaign),
    )
    return render(request, "public/disclosure.html", context, title="曝光台")


# ---------------------------------------------------------------- campaign progress


@dataclass(frozen=True, slots=True)
class StageRow:
    n: int
    name: str
    starts_on: date
    deadline: date
    status: str  # 已结束 | 进行中 | 未开始
    current: bool


@dataclass(frozen=True, slots=True)
class PublicFigure:
    name: str
    unit: str
    value: int | Decimal


@dataclass(frozen=True, slots=True)
class PublicFigures:
    """The aggregate numbers of a campaign the public may see."""

    total_cases: int
    typical_cases: int
    figures: list[PublicFigure]
    as_of: datetime


def stage_rows(plan: plans.CampaignPlan, today: date) -> list[StageRow]:
    current = plans.stage_on(plan, today)
    rows = []
    for stage in plan.stages:
        starts = plans.stage_starts(plan, stage)
        if today > stage.deadline:
            status = "已结束"
        elif today >= starts:
            status = "进行中"
        else:
            status = "未开始"
        rows.append(StageRow(stage.n, stage.name, starts, stage.deadline, status, stage == current))
    return rows


def public_reader(campaign: campaign_service.CampaignView) -> Principal:
    """A read-only analyst over the campaign's whole jurisdiction: figures for the public are
    the campaign's own aggregates, read with the same scope rules as an official's."""
    return Principal(
        user_id=0,
        username="public",
        roles=frozenset({Role.analyst}),
        department=None,
        jurisdiction=campaign.plan.jurisdiction,
    )


def public_figures(
    session: Session, campaign: campaign_service.CampaignView, *, at: datetime
) -> PublicFigures:
    """Total cases and result figures (qinglang.services.statistics), typical cases published."""
    from qinglang.services import statistics

    stats = statistics.campaign_statistics(session, public_reader(campaign), campaign.id, at=at)
    _, typical = disclosure_service.list_public(session, campaign_id=campaign.id, limit=1)
    return PublicFigures(
        total_cases=stats.total_cases,
        typical_cases=typical,
        figures=[PublicFigure(f.name, f.unit, f.value) for f in stats.figures],
        as_of=at,
    )


@router.get("/public/campaigns")
def campaigns(request: Request, region: str | None = None) -> Response:
    """Campaigns whose progress is published; ?region= keeps those reaching that province."""
    context: dict[str, Any] = {"regions": region_options(), "region": region or "", "error": None}
    status = 200
    try:
        code = _region_filter(region)
    except ServiceError as exc:
        code, status = None, exc.status
        context["error"] = exc.message_zh
    today = shanghai_date(now())
    rows = []
    with request.app.state.database.read() as session:
        found = campaign_service.public_campaigns(session) if status == 200 else []
    for view in found:
        j = view.plan.jurisdiction
        if code is not None and not (division_covers(j, code) or division_covers(code, j)):
            continue
        rows.append(
            {
                "view": view,
                "place": place_name(j),
                "current": plans.stage_on(view.plan, today),
                "running": plans.is_running(view.plan, today),
                "ended": today > view.plan.ends_on,
            }
        )
    context["rows"] = rows
    return render(request, "public/campaigns.html", context, status=status, title="专项行动进展")


@router.get("/public/campaigns/{campaign_id}")
def campaign_detail(request: Request, campaign_id: IdPath) -> Response:
    """One public campaign: plan, stages and the current one, tasks, aggregate figures."""
    at = now()
    today = shanghai_date(at)
    with request.app.state.database.read() as session:
        view = _public_campaign(session, campaign_id)
        figures = public_figures(session, view, at=at)
    plan = view.plan
    tasks = [{"name": t.name, "lead": t.lead, "co": list(t.co)} for t in plan.tasks]
    return render(
        request,
        "public/campaign.html",
        {
            "view": view,
            "plan": plan,
            "place": place_name(plan.jurisdiction),
            "stages": stage_rows(plan, today),
            "current": plans.stage_on(plan, today),
            "today": today,
            "ended": today > plan.ends_on,
            "tasks": tasks,
            "figures": figures,
        },
        title=plan.name,
    )
