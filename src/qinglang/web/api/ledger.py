"""Ledger (台账) of supervised subjects: CRUD, history, CSV/XLSX import and export."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from qinglang.govern import ledger as core
from qinglang.services import ledger as service
from qinglang.services import ledger_io
from qinglang.services.principal import Principal
from qinglang.store.db import Database
from qinglang.web.auth import CurrentPrincipal, DatabaseDep, ReadSession, now
from qinglang.web.problems import ProblemError
from qinglang.web.responses import content_disposition
from qinglang.web.schemas.ledger import (
    MAX_ID,
    ExportFormat,
    HeaderLanguage,
    HistoryEntryPublic,
    ImportReportPublic,
    LedgerMeta,
    StatusChange,
    StatusFilter,
    SubjectCreate,
    SubjectKindCode,
    SubjectPage,
    SubjectPublic,
    SubjectUpdate,
)
from qinglang.web.schemas.problem import problem_responses

router = APIRouter(tags=["ledger"])

IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Subject id")]
_DIVISION = r"^\s*[0-9０-９]{6}\s*$"

# Media types accepted as a raw upload body (besides multipart/form-data). Excel on Windows
# labels CSV files application/vnd.ms-excel.
_RAW_UPLOAD_TYPES = frozenset(
    {
        "text/csv",
        "text/plain",
        "application/csv",
        "application/vnd.ms-excel",
        "application/octet-stream",
        ledger_io.XLSX_MEDIA_TYPE,
    }
)


def subject_filters(
    kind: Annotated[SubjectKindCode | None, Query(description="Subject kind")] = None,  # type: ignore[valid-type]
    region: Annotated[
        str | None,
        Query(
            pattern=_DIVISION,
            description="Division code; subjects in it or below it (within your jurisdiction)",
        ),
    ] = None,
    risk_level: core.RiskLevel | None = None,
    youth_mode: core.YouthMode | None = None,
    anti_addiction: core.AntiAddiction | None = None,
    category: core.Category | None = None,
    education_app: bool | None = None,
    school_cooperation: bool | None = None,
    organisation_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    q: Annotated[
        str | None,
        Query(max_length=service.MAX_QUERY, description="Name, operator, ICP number or domain"),
    ] = None,
    status: StatusFilter = StatusFilter.active,
) -> service.SubjectFilter:
    return service.SubjectFilter(
        kind=kind.value if kind is not None else None,
        region=region,
        risk_level=risk_level.value if risk_level else None,
        youth_mode=youth_mode.value if youth_mode else None,
        anti_addiction=anti_addiction.value if anti_addiction else None,
        category=category.value if category else None,
        education_app=education_app,
        school_cooperation=school_cooperation,
        organisation_id=organisation_id,
        q=q,
        status=status.value,
    )


FiltersDep = Annotated[service.SubjectFilter, Depends(subject_filters)]


@router.get(
    "/subjects",
    response_model=SubjectPage,
    responses=problem_responses(401, 403, 422),
    summary="List ledger subjects (filters, pagination)",
)
def list_subjects(
    principal: CurrentPrincipal,
    session: ReadSession,
    filters: FiltersDep,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = service.DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=service.MAX_OFFSET)] = 0,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
):
    return service.list_subjects(
        session, principal, filters, limit=limit, offset=offset, cursor=cursor
    )


@router.post(
    "/subjects",
    response_model=SubjectPublic,
    status_code=201,
    responses=problem_responses(400, 401, 403, 409, 413, 415, 422),
    summary="Add a subject to the ledger (admin, officer, analyst)",
)
def create_subject(
    body: SubjectCreate, principal: CurrentPrincipal, db: DatabaseDep, response: Response
):
    with db.write() as session:
        subject = service.create_subject(session, principal, body.model_dump(mode="json"), at=now())
    response.headers["Location"] = f"/api/v1/subjects/{subject.id}"
    return subject


@router.get(
    "/subjects/meta",
    response_model=LedgerMeta,
    responses=problem_responses(401),
    summary="Kinds, enumerations and import columns of the ledger (for forms)",
)
def ledger_meta(principal: CurrentPrincipal) -> dict[str, Any]:
    return {
        "kinds": [
            {
                "code": k.code,
                "name": k.name,
                "description": k.description,
                "required": [*core.ALWAYS_REQUIRED, *sorted(k.required)],
                "allowed": [f for f in core.FIELDS if f in k.fields()],
            }
            for k in core.registered().values()
        ],
        "fields": dict(core.FIELD_LABELS_ZH),
        "enums": {
            name: [{"code": code, "label": label} for code, label in core.LABELS_ZH[cls].items()]
            for name, cls in core.ENUM_FIELDS.items()
        },
        "columns": [
            {
                "code": c.code,
                "header_zh": c.header_zh,
                "aliases": list(c.aliases),
                "export_only": c.export_only,
            }
            for c in ledger_io.COLUMNS
        ],
    }


@router.get(
    "/subjects/lookup",
    response_model=SubjectPublic,
    responses=problem_responses(401, 403, 404, 422),
    summary="Find the subject a domain, URL, ICP number or name belongs to",
)
def lookup_subject(
    principal: CurrentPrincipal,
    session: ReadSession,
    domain: Annotated[str | None, Query(max_length=2048, description="Domain or URL")] = None,
    icp: Annotated[str | None, Query(max_length=64)] = None,
    name: Annotated[str | None, Query(max_length=200)] = None,
):
    return service.lookup_subject(session, principal, domain=domain, icp=icp, name=name)


@router.get(
    "/subjects/export",
    response_class=Response,
    responses={
        200: {
            "description": "The file (CSV UTF-8 with BOM, or XLSX)",
            "content": {"text/csv": {}, ledger_io.XLSX_MEDIA_TYPE: {}},
        },
        **problem_responses(401, 403, 422),
    },
    summary="Export the ledger (the same filters as the list) as CSV or XLSX",
)
def export_subjects(
    principal: CurrentPrincipal,
    session: ReadSession,
    filters: FiltersDep,
    fmt: Annotated[ExportFormat, Query(alias="format")] = ExportFormat.xlsx,
    header: HeaderLanguage = HeaderLanguage.zh,
) -> Response:
    at = now()
    exported = ledger_io.export_subjects(
        session, principal, filters, fmt=fmt.value, lang=header.value, at=at
    )
    return Response(
        exported.content,
        media_type=exported.media_type,
        headers={
            "Content-Disposition": content_disposition(exported.filename),
            "X-Total-Count": str(exported.rows),
        },
    )


def _bad_upload(detail: str, log_message: str) -> ProblemError:
    return ProblemError("validation-error", detail, code="bad_upload", log_message=log_message)


async def _uploaded_file(request: Request) -> tuple[bytes, str | None]:
    """The file of a multipart upload (field `file`) or a raw CSV/XLSX body."""
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    limit = ledger_io.MAX_FILE_BYTES + 1
    if media == "multipart/form-data":
        try:
            form = await request.form(max_files=2, max_fields=10)
        except (MultiPartException, StarletteHTTPException, ValueError):
            raise ProblemError(
                "bad-request",
                "multipart/form-data 请求体格式有误。",
                log_message="malformed multipart body",
            ) from None
        try:
            files = [v for k, v in form.multi_items() if k == "file"]
            if len(files) != 1 or not isinstance(files[0], UploadFile):
                raise _bad_upload(
                    "请在表单字段 file 中上传一个文件（.xlsx 或 CSV）。", "no single file field"
                )
            upload = files[0]
            return await upload.read(limit), upload.filename
        finally:
            await form.close()
    if media in _RAW_UPLOAD_TYPES:
        return (await request.body())[:limit], None
    raise ProblemError(
        "unsupported-media-type",
        "请以 multipart/form-data 上传文件（字段 file），或直接以 text/csv、"
        f"{ledger_io.XLSX_MEDIA_TYPE} 作为请求体发送。",
        log_message=f"import with content type {media or 'none'}",
    )


def _run_import(
    db: Database, principal: Principal, data: bytes, filename: str | None, dry_run: bool
) -> ledger_io.ImportReport:
    with db.write() as session:
        return ledger_io.import_subjects(
            session, principal, data, at=now(), filename=filename, dry_run=dry_run
        )


_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "The ledger file (.xlsx or CSV)",
                        }
                    },
                }
            },
            "text/csv": {"schema": {"type": "string", "format": "binary"}},
            ledger_io.XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.post(
    "/subjects/import",
    response_model=ImportReportPublic,
    responses=problem_responses(400, 401, 403, 413, 415, 422),
    openapi_extra=_UPLOAD_BODY,
    summary="Import a CSV or XLSX ledger file (per-row report; dry_run checks only)",
)
async def import_subjects(
    request: Request,
    principal: CurrentPrincipal,
    db: DatabaseDep,
    dry_run: Annotated[bool, Query(description="Check every row, keep nothing")] = False,
):
    service.require_editor(principal)
    data, filename = await _uploaded_file(request)
    try:
        return await run_in_threadpool(_run_import, db, principal, data, filename, dry_run)
    except ledger_io.ImportFileError as exc:
        raise ProblemError(
            exc.slug, exc.message_zh, code=exc.code, log_message=f"{exc.code}: {exc}"
        ) from None


@router.get(
    "/subjects/{subject_id}",
    response_model=SubjectPublic,
    responses=problem_responses(401, 403, 404, 422),
    summary="One ledger subject",
)
def get_subject(subject_id: IdPath, principal: CurrentPrincipal, session: ReadSession):
    return service.get_subject(session, principal, subject_id)


@router.patch(
    "/subjects/{subject_id}",
    response_model=SubjectPublic,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
    summary="Change a subject (send the version you saw; a newer one answers 409)",
)
def update_subject(
    subject_id: IdPath, body: SubjectUpdate, principal: CurrentPrincipal, db: DatabaseDep
):
    changes = body.model_dump(mode="json", exclude_unset=True)
    version = changes.pop("version")
    with db.write() as session:
        subject, _ = service.update_subject(
            session, principal, subject_id, changes, version=version, at=now()
        )
    return subject


@router.get(
    "/subjects/{subject_id}/history",
    response_model=list[HistoryEntryPublic],
    responses=problem_responses(401, 403, 404, 422),
    summary="The subject's history: creation and every change (old and new values)",
)
def subject_history(subject_id: IdPath, principal: CurrentPrincipal, session: ReadSession):
    return service.history(session, principal, subject_id)


def _set_active(
    subject_id: int, body: StatusChange, principal: Principal, db: Database, active: bool
) -> service.SubjectView:
    with db.write() as session:
        return service.set_active(
            session,
            principal,
            subject_id,
            active=active,
            version=body.version,
            reason=body.reason,
            at=now(),
        )


@router.post(
    "/subjects/{subject_id}/deactivate",
    response_model=SubjectPublic,
    responses=problem_responses(400, 401, 403, 404, 409, 422),
    summary="Mark a subject inactive (closed, delisted); it stays in the ledger",
)
def deactivate_subject(
    subject_id: IdPath, body: StatusChange, principal: CurrentPrincipal, db: DatabaseDep
):
    return _set_active(subject_id, body, principal, db, active=False)


@router.post(
    "/subjects/{subject_id}/reactivate",
    response_model=SubjectPublic,
    responses=problem_responses(400, 401, 403, 404, 409, 422),
    summary="Mark an inactive subject active again",
)
def reactivate_subject(
    subject_id: IdPath, body: StatusChange, principal: CurrentPrincipal, db: DatabaseDep
):
    return _set_active(subject_id, body, principal, db, active=True)
