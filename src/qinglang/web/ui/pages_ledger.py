"""UI pages of the ledger (台账): search and filters, create, detail with history, edit,
(de)activate, import with its per-row report, and export.

The pages call `qinglang.services.ledger` and `ledger_io` exactly as the JSON API does
(`qinglang.web.api.ledger`): the services decide who sees and changes what (editors per
`require_editor`, readers within their jurisdiction, operators their own subjects only).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from qinglang.govern import ledger as core
from qinglang.services import cases as case_service
from qinglang.services import ledger as service
from qinglang.services import ledger_io
from qinglang.services import users as users_service
from qinglang.services.disclosure import region_name
from qinglang.services.errors import ServiceError
from qinglang.services.principal import Principal
from qinglang.store.db import Database
from qinglang.store.models import User
from qinglang.web.auth import now
from qinglang.web.responses import content_disposition
from qinglang.web.ui.forms import (
    FORM_ERROR,
    FormError,
    field_errors,
    files,
    known_id,
    query_string,
    read_form,
    values,
)
from qinglang.web.ui.session import UiPrincipal
from qinglang.web.ui.templating import redirect, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50

STATUS_OPTIONS = [("active", "在用"), ("inactive", "停用"), ("all", "全部")]
LIST_FILTERS = ("q", "kind", "region", "risk_level", "youth_mode", "anti_addiction", "status")

# The Chinese label of each value of an enumeration field.
ENUM_LABELS: dict[str, dict[str, str]] = {
    name: core.LABELS_ZH[cls] for name, cls in core.ENUM_FIELDS.items()
}

HINTS = {
    "region": "6位行政区划代码，如 310000（上海市）；全国为 100000。",
    "uscc": "18位，校验位会被核对。",
    "icp_filing": "如 沪ICP备12345678号-1；App、小程序的备案号带字母后缀（如 -1A）。",
    "domains": "一行一个，或以分号、顿号分隔；粘贴网址时只保留域名。一个域名只能属于一个主体。",
    "game_approval_no": "如 国新出审〔2021〕1234号，或 ISBN 978-7-498-01234-0。",
    "platform_url": "以 http:// 或 https:// 开头的完整网址。",
    "organisation_id": "平台运营者的账号只能看到关联到本单位的主体。",
}
TEXTAREAS = {"domains": 4, "notes": 4}


# ---------------------------------------------------------------- shared helpers


def display_value(name: str, value: Any) -> str:
    """A field's value as a person reads it (labels for codes, 是/否, lists joined)."""
    if value is None or value == "" or value == []:
        return "—"
    if name == "kind":
        kind = core.registered().get(str(value))
        return kind.name if kind else str(value)
    if name in ENUM_LABELS:
        return ENUM_LABELS[name].get(str(value), str(value))
    if name == "region":
        return f"{region_name(str(value))}（{value}）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "；".join(str(v) for v in value) or "—"
    return str(value)


def _options(name: str) -> list[tuple[str, str]]:
    return list(ENUM_LABELS[name].items())


# ---------------------------------------------------------------- list


def _filters_from(params: Mapping[str, str]) -> service.SubjectFilter:
    def get(name: str) -> str | None:
        value = (params.get(name) or "").strip()
        return value or None

    return service.SubjectFilter(
        q=get("q"),
        kind=get("kind"),
        region=get("region"),
        risk_level=get("risk_level"),
        youth_mode=get("youth_mode"),
        anti_addiction=get("anti_addiction"),
        status=get("status") or "active",
    )


def _filter_choices() -> dict[str, list[tuple[str, str]]]:
    return {
        "kind": [(code, k.name) for code, k in core.registered().items()],
        "risk_level": _options("risk_level"),
        "youth_mode": _options("youth_mode"),
        "anti_addiction": _options("anti_addiction"),
        "status": STATUS_OPTIONS,
    }


@router.get("/ledger")
def ledger_list(request: Request, principal: UiPrincipal) -> Response:
    """Search and filter the visible subjects; one page at a time, by cursor."""
    params = {k: request.query_params.get(k, "")[:200] for k in LIST_FILTERS}
    cursor = request.query_params.get("cursor") or None
    filters = _filters_from(params)
    errors: dict[str, str] = {}
    page = None
    status = 200
    try:
        with request.app.state.database.read() as session:
            page = service.list_subjects(
                session, principal, filters, limit=PAGE_SIZE, cursor=cursor
            )
    except ServiceError as exc:
        if exc.status == 403 and exc.code == "forbidden_role":
            raise
        errors = field_errors(exc, {"bad_cursor": FORM_ERROR, "bad_query": "q"})
        status = exc.status
    base = query_string(params)
    return render(
        request,
        "ledger/list.html",
        {
            "values": params,
            "errors": errors,
            "page": page,
            "choices": _filter_choices(),
            "labels": ENUM_LABELS,
            "base_query": base,
            "first_url": "/ledger" + ("?" + base if base else ""),
            "next_url": (
                "/ledger?" + query_string({**params, "cursor": page.next_cursor})
                if page is not None and page.next_cursor
                else None
            ),
            "paged": cursor is not None,
            "can_edit": _can_edit(principal),
        },
        status=status,
        title="台账",
    )


def _can_edit(principal: Principal) -> bool:
    try:
        service.require_editor(principal)
    except ServiceError:
        return False
    return True


# ---------------------------------------------------------------- export


@router.get("/ledger/export")
def ledger_export(request: Request, principal: UiPrincipal) -> Response:
    """The visible subjects matching the list's filters as XLSX (default) or CSV."""
    params = {k: request.query_params.get(k, "")[:200] for k in LIST_FILTERS}
    fmt = request.query_params.get("format", "xlsx")[:10]
    with request.app.state.database.read() as session:
        exported = ledger_io.export_subjects(
            session, principal, _filters_from(params), fmt=fmt, lang="zh", at=now()
        )
    return Response(
        exported.content,
        media_type=exported.media_type,
        headers={
            "Content-Disposition": content_disposition(exported.filename),
            "X-Total-Count": str(exported.rows),
        },
    )


# ---------------------------------------------------------------- the subject form


def _organisation_options(db: Database) -> list[tuple[str, str]]:
    with db.read() as session:
        return [(str(o.id), o.name) for o in users_service.list_organisations(session)]


def form_fields(kind: type[core.SubjectKind], db: Database) -> list[dict[str, Any]]:
    """The inputs of the form for `kind`: the fields it may fill in, in the ledger's order."""
    allowed = kind.fields()
    required = set(core.ALWAYS_REQUIRED) | set(kind.required)
    out: list[dict[str, Any]] = []
    for name in core.FIELDS:
        if name == "kind" or name not in allowed:
            continue
        spec: dict[str, Any] = {
            "name": name,
            "label": core.FIELD_LABELS_ZH[name],
            "required": name in required,
            "hint": HINTS.get(name),
            "widget": "text",
        }
        if name in ENUM_LABELS:
            spec["widget"] = "select"
            spec["options"] = _options(name)
            spec["blank"] = "（不填）" if name == "category" else None
        elif name in core.BOOL_FIELDS:
            spec["widget"] = "checkbox"
        elif name in TEXTAREAS:
            spec["widget"] = "textarea"
            spec["rows"] = TEXTAREAS[name]
            spec["maxlength"] = core.MAX_NOTES if name == "notes" else core.MAX_RAW_LIST
        elif name == "organisation_id":
            spec["widget"] = "select"
            spec["options"] = _organisation_options(db)
            spec["blank"] = "（不关联）"
        else:
            spec["maxlength"] = core.MAX_URL if name == "platform_url" else core.MAX_NAME
        out.append(spec)
    return out


def fields_from_form(form: FormData, kind: type[core.SubjectKind]) -> dict[str, Any]:
    """The submitted values of `kind`'s fields, as the service takes them (None: empty)."""
    fields: dict[str, Any] = {"kind": kind.code}
    for name in core.FIELDS:
        if name == "kind" or name not in kind.fields():
            continue
        if name in core.BOOL_FIELDS:
            fields[name] = form.get(name) == "1"
            continue
        raw = form.get(name)
        text = raw.strip() if isinstance(raw, str) else ""
        fields[name] = text or None
    return fields


def form_values(subject: service.SubjectView) -> dict[str, str]:
    """A subject's fields as the form shows them."""
    out: dict[str, str] = {}
    for name, value in subject.record().items():
        if name == "domains":
            out[name] = "\n".join(subject.domains_unicode)
        elif isinstance(value, bool):
            out[name] = "1" if value else ""
        else:
            out[name] = "" if value is None else str(value)
    return out


def _kind_or_none(code: str | None) -> type[core.SubjectKind] | None:
    return core.registered().get((code or "").strip())


def _render_form(
    request: Request,
    *,
    kind: type[core.SubjectKind],
    values_: Mapping[str, str],
    errors: Mapping[str, str],
    subject: service.SubjectView | None = None,
    status: int = 200,
) -> Response:
    editing = subject is not None
    return render(
        request,
        "ledger/form.html",
        {
            "kind": kind,
            "fields": form_fields(kind, request.app.state.database),
            "values": values_,
            "errors": errors,
            "subject": subject,
            "action": f"/ledger/{subject.id}/edit" if editing else f"/ledger/new?kind={kind.code}",
        },
        status=status,
        title=f"修改台账主体：{subject.name}" if editing else f"新增台账主体（{kind.name}）",
    )


@router.get("/ledger/new")
def ledger_new(request: Request, principal: UiPrincipal, kind: str | None = None) -> Response:
    """Choose the kind first (its fields differ), then fill in the form."""
    service.require_editor(principal)
    chosen = _kind_or_none(kind)
    if chosen is None:
        return render(
            request,
            "ledger/choose_kind.html",
            {"kinds": list(core.registered().values()), "unknown": kind is not None},
            status=422 if kind else 200,
            title="新增台账主体",
        )
    defaults = {"region": principal.jurisdiction, "youth_mode": "unknown"}
    return _render_form(request, kind=chosen, values_=defaults, errors={})


@router.post("/ledger/new")
async def ledger_create(request: Request, principal: UiPrincipal) -> Response:
    form = await read_form(request)
    service.require_editor(principal)
    kind = _kind_or_none(request.query_params.get("kind") or _str(form.get("kind")))
    if kind is None:
        return redirect("/ledger/new")
    fields = fields_from_form(form, kind)
    try:
        with request.app.state.database.write() as session:
            created = service.create_subject(session, principal, fields, at=now())
    except ServiceError as exc:
        if exc.status == 403 and exc.code == "forbidden_role":
            raise
        return _render_form(
            request,
            kind=kind,
            values_=values(form),
            errors=field_errors(exc, {"out_of_jurisdiction": "region"}),
            status=exc.status,
        )
    return redirect(f"/ledger/{created.id}", flash=f"已新增台账主体“{created.name}”。")


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


# ---------------------------------------------------------------- detail


def _actor_names(db: Database, actors: set[str]) -> dict[str, str]:
    ids = [int(a[5:]) for a in actors if a.startswith("user:") and a[5:].isdigit()]
    if not ids:
        return {}
    with db.read() as session:
        rows = session.execute(
            select(User.id, User.username, User.display_name).where(User.id.in_(ids))
        ).all()
    return {f"user:{i}": f"{name}（{username}）" for i, username, name in rows}


HISTORY_TITLES = {
    "ledger.subject_created": "登记",
    "ledger.subject_updated": "修改",
    "ledger.subject_deactivated": "停用",
    "ledger.subject_reactivated": "恢复在用",
}


def history_view(entries: list[service.HistoryEntry], names: Mapping[str, str]) -> list[dict]:
    """History entries as the page shows them: title, who, when, and old → new per field."""
    out = []
    for e in entries:
        changes: list[tuple[str, str, str]] = []
        if e.kind == "ledger.subject_updated":
            for name, change in (e.payload.get("changes") or {}).items():
                changes.append(
                    (
                        core.FIELD_LABELS_ZH.get(name, name),
                        display_value(name, change.get("old")),
                        display_value(name, change.get("new")),
                    )
                )
        elif e.kind == "ledger.subject_created":
            for name, value in (e.payload.get("fields") or {}).items():
                if value not in (None, [], False, "unknown"):
                    changes.append(
                        (core.FIELD_LABELS_ZH.get(name, name), "", display_value(name, value))
                    )
        out.append(
            {
                "title": HISTORY_TITLES.get(e.kind, e.kind),
                "at": e.at,
                "actor": names.get(e.actor, e.actor),
                "changes": changes,
                "reason": e.payload.get("reason"),
                "created": e.kind == "ledger.subject_created",
            }
        )
    return out


def _detail(
    request: Request,
    principal: Principal,
    subject_id: int,
    *,
    errors: Mapping[str, str] | None = None,
    reason: str = "",
    status: int = 200,
) -> Response:
    db = request.app.state.database
    with db.read() as session:
        subject = service.get_subject(session, principal, subject_id)
        entries = service.history(session, principal, subject_id)
        cases_page = None
        cases_note = None
        try:
            cases_page = case_service.list_cases(
                session, principal, subject_id=subject_id, limit=50, at=now()
            )
        except ServiceError as exc:
            cases_note = exc.message_zh
    names = _actor_names(db, {e.actor for e in entries})
    facts = [
        (core.FIELD_LABELS_ZH[name], display_value(name, getattr(subject, name)))
        for name in core.FIELDS
        if name not in ("domains", "notes")
    ]
    return render(
        request,
        "ledger/detail.html",
        {
            "subject": subject,
            "facts": facts,
            "history": history_view(entries, names),
            "cases": cases_page,
            "cases_note": cases_note,
            "can_edit": _can_edit(principal),
            "errors": errors or {},
            "reason": reason,
        },
        status=status,
        title=subject.name,
    )


@router.get("/ledger/{subject_id:int}")
def ledger_detail(request: Request, principal: UiPrincipal, subject_id: int) -> Response:
    return _detail(request, principal, known_id(subject_id, "subject", "台账主体"))


# ---------------------------------------------------------------- edit


@router.get("/ledger/{subject_id:int}/edit")
def ledger_edit_form(request: Request, principal: UiPrincipal, subject_id: int) -> Response:
    service.require_editor(principal)
    subject_id = known_id(subject_id, "subject", "台账主体")
    with request.app.state.database.read() as session:
        subject = service.get_subject(session, principal, subject_id)
    kind = _kind_or_none(subject.kind) or core.registered()["website"]
    values_ = {**form_values(subject), "version": str(subject.version)}
    return _render_form(request, kind=kind, values_=values_, errors={}, subject=subject)


def _version(form: FormData) -> int:
    raw = _str(form.get("version")) or ""
    if not raw.strip().isdigit() or not 1 <= int(raw) <= core.MAX_ID:
        raise FormError(FORM_ERROR, "表单缺少版本号，请刷新页面后重新修改。")
    return int(raw)


@router.post("/ledger/{subject_id:int}/edit")
async def ledger_edit(request: Request, principal: UiPrincipal, subject_id: int) -> Response:
    """Replace the kind's fields if the version the form was opened at is still current."""
    form = await read_form(request)
    service.require_editor(principal)
    db = request.app.state.database
    subject_id = known_id(subject_id, "subject", "台账主体")
    with db.read() as session:
        current = service.get_subject(session, principal, subject_id)
    kind = _kind_or_none(current.kind) or core.registered()["website"]
    try:
        version = _version(form)
        changes = fields_from_form(form, kind)
        with db.write() as session:
            subject, diff = service.update_subject(
                session, principal, subject_id, changes, version=version, at=now()
            )
    except FormError as exc:
        return _render_form(
            request,
            kind=kind,
            values_=values(form),
            errors={exc.field: exc.message_zh},
            subject=current,
            status=422,
        )
    except ServiceError as exc:
        if exc.status == 403 and exc.code == "forbidden_role":
            raise
        errors = field_errors(exc, {"out_of_jurisdiction": "region"})
        if exc.code == "stale_version":
            errors = {
                FORM_ERROR: "保存失败：该台账主体在您打开表单后已被他人修改"
                f"（当前版本 {current.version}，您的表单基于版本 {form.get('version')}）。"
                "您填写的内容仍保留在下方；请记下修改，再打开最新版本重新修改。"
            }
        return _render_form(
            request,
            kind=kind,
            values_=values(form),
            errors=errors,
            subject=current,
            status=exc.status,
        )
    flash = "已保存修改。" if diff else "内容没有变化，未保存新版本。"
    return redirect(f"/ledger/{subject.id}", flash=flash)


# ---------------------------------------------------------------- (de)activate


async def _set_active(
    request: Request, principal: Principal, subject_id: int, active: bool
) -> Response:
    form = await read_form(request)
    service.require_editor(principal)
    subject_id = known_id(subject_id, "subject", "台账主体")
    reason = (_str(form.get("reason")) or "").strip()
    try:
        version = _version(form)
        with request.app.state.database.write() as session:
            subject = service.set_active(
                session,
                principal,
                subject_id,
                active=active,
                version=version,
                reason=reason or None,
                at=now(),
            )
    except FormError as exc:
        return _detail(
            request, principal, subject_id, errors={"reason": exc.message_zh}, status=422
        )
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        return _detail(
            request,
            principal,
            subject_id,
            errors={"reason": exc.message_zh},
            reason=reason,
            status=exc.status,
        )
    flash = "已恢复为在用。" if active else "已停用该台账主体（记录仍保留）。"
    return redirect(f"/ledger/{subject.id}", flash=flash)


@router.post("/ledger/{subject_id:int}/deactivate")
async def ledger_deactivate(request: Request, principal: UiPrincipal, subject_id: int) -> Response:
    return await _set_active(request, principal, subject_id, active=False)


@router.post("/ledger/{subject_id:int}/reactivate")
async def ledger_reactivate(request: Request, principal: UiPrincipal, subject_id: int) -> Response:
    return await _set_active(request, principal, subject_id, active=True)


# ---------------------------------------------------------------- import


def _import_page(
    request: Request,
    *,
    report: ledger_io.ImportReport | None = None,
    errors: Mapping[str, str] | None = None,
    dry_run: bool = False,
    filename: str | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "ledger/import.html",
        {
            "report": report,
            "errors": errors or {},
            "dry_run": dry_run,
            "filename": filename,
            "columns": [c for c in ledger_io.COLUMNS if not c.export_only],
            "max_rows": ledger_io.MAX_ROWS,
            "max_mib": ledger_io.MAX_FILE_BYTES // (1024 * 1024),
        },
        status=status,
        title="导入台账",
    )


@router.get("/ledger/import")
def ledger_import_form(request: Request, principal: UiPrincipal) -> Response:
    service.require_editor(principal)
    return _import_page(request)


def _run_import(
    db: Database, principal: Principal, data: bytes, filename: str | None, dry_run: bool
) -> ledger_io.ImportReport:
    with db.write() as session:
        return ledger_io.import_subjects(
            session, principal, data, at=now(), filename=filename, dry_run=dry_run
        )


@router.post("/ledger/import")
async def ledger_import(request: Request, principal: UiPrincipal) -> Response:
    """Import an uploaded CSV/XLSX file; the page shows what each row became."""
    form = await read_form(request)
    service.require_editor(principal)
    dry_run = form.get("dry_run") == "1"
    uploads = files(form, "file")
    if len(uploads) != 1:
        return _import_page(
            request,
            errors={"file": "请选择一个要导入的文件（.xlsx 或 CSV）。"},
            dry_run=dry_run,
            status=422,
        )
    upload = uploads[0]
    data = await upload.read(ledger_io.MAX_FILE_BYTES + 1)
    filename = upload.filename
    try:
        report = await run_in_threadpool(
            _run_import, request.app.state.database, principal, data, filename, dry_run
        )
    except ledger_io.ImportFileError as exc:
        return _import_page(
            request,
            errors={"file": exc.message_zh},
            dry_run=dry_run,
            filename=filename,
            status=exc.status,
        )
    return _import_page(request, report=report, dry_run=dry_run, filename=filename)
