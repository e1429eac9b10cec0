"""The platform operators' portal (整改通知): the notices sent to the operator's organisation,
each notice with its measures and deadline, and the rectification report with evidence.

Operators only: regulators read notices in the case file (403 here), anonymous callers go to
the login page, and a notice of another organisation answers 404 like one that does not
exist. What an operator sees comes from `qinglang.services.notices`, which already leaves out
who sent the notice; these pages add nothing internal (no case events, no officers' names).
"""

from __future__ import annotations

import mimetypes
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from qinglang.services import notices as service
from qinglang.services.cases import NOTICE_ANSWERED, NOTICE_SENT, NOTICE_STATUS_NAMES_ZH
from qinglang.services.errors import ServiceError, forbidden
from qinglang.services.principal import Principal
from qinglang.web.auth import now
from qinglang.web.ui.forms import FormError, files, read_form, text, values
from qinglang.web.ui.pages_cases import docx_response, evidence_response
from qinglang.web.ui.session import UiPrincipal
from qinglang.web.ui.templating import redirect, render

router = APIRouter(include_in_schema=False)

INT_MAX = 2**31 - 1
IdPath = Annotated[int, Path(ge=1, le=INT_MAX)]
PAGE = 50
OPEN_STATUSES = (NOTICE_SENT, NOTICE_ANSWERED)


def require_operator(principal: Principal) -> None:
    """403 for anyone but a platform operator (regulators read notices in the case file)."""
    if not principal.is_operator:
        raise forbidden(
            "forbidden_role",
            "the portal is for platform operators",
            "“整改通知”栏目仅供平台运营者使用；监管人员请在“案件办理”的案件页面查看整改通知。",
        )


@router.get("/portal")
def portal(request: Request, principal: UiPrincipal) -> Response:
    """The notices sent to the caller's organisation, newest first."""
    require_operator(principal)
    qp = request.query_params
    status = (qp.get("status") or "").strip()[:16] or None
    overdue = {"true": True, "false": False}.get((qp.get("overdue") or "").strip())
    cursor = (qp.get("cursor") or "").strip()[:32] or None
    error = None
    page = None
    code = 200
    try:
        with request.app.state.database.read() as session:
            page = service.list_notices(
                session,
                principal,
                at=now(),
                status=status,
                overdue=overdue,
                limit=PAGE,
                cursor=cursor,
            )
    except ServiceError as exc:
        if exc.status == 403:
            raise
        error, code = exc.message_zh, exc.status
    query = [(k, v) for k, v in (("status", status), ("overdue", qp.get("overdue"))) if v]
    next_url = None
    if page is not None and page.next_cursor:
        next_url = "/portal?" + urlencode([*query, ("cursor", page.next_cursor)])
    return render(
        request,
        "portal/list.html",
        {
            "page": page,
            "error": error,
            "status": status,
            "overdue": qp.get("overdue") or "",
            "statuses": list(NOTICE_STATUS_NAMES_ZH.items()),
            "first_url": ("/portal?" + urlencode(query)) if cursor else None,
            "next_url": next_url,
        },
        status=code,
        title="整改通知",
    )


def _notice_page(
    request: Request,
    principal: Principal,
    notice_id: int,
    *,
    form_values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    with request.app.state.database.read() as session:
        notice = service.get_notice(session, principal, notice_id, at=now())
    return render(
        request,
        "portal/notice.html",
        {
            "n": notice,
            "can_report": notice.status in OPEN_STATUSES
            and len(notice.rectifications) < service.MAX_REPORTS,
            "v": form_values or {},
            "errors": errors or {},
            "message": message,
            "max_files": service.MAX_ATTACHMENTS,
            "max_bytes": request.app.state.settings.max_attachment_bytes,
            "max_total": request.app.state.settings.max_body_bytes,
            "accept": ",".join(service.MEDIA_TYPES),
            "media_types": service.MEDIA_TYPES,
        },
        status=status,
        title=f"整改通知 编号 {notice_id}",
    )


@router.get("/portal/notices/{notice_id}.docx")
def notice_docx(notice_id: IdPath, request: Request, principal: UiPrincipal) -> Response:
    """The same notice as a Word document (责令整改通知书)."""
    require_operator(principal)
    with request.app.state.database.read() as session:
        service.get_notice(session, principal, notice_id)  # 404 unless it is the caller's
    return docx_response(request, principal, notice_id)


@router.get("/portal/notices/{notice_id}")
def notice_page(notice_id: IdPath, request: Request, principal: UiPrincipal) -> Response:
    """One notice: grounds, measures, deadline, issuing department, previous reports, the form."""
    require_operator(principal)
    return _notice_page(request, principal, notice_id)


@router.get("/portal/notices/{notice_id}/evidence/{digest}")
def notice_evidence(
    notice_id: IdPath, digest: str, request: Request, principal: UiPrincipal
) -> Response:
    require_operator(principal)
    return evidence_response(request, principal, notice_id, digest)


def _media_type(upload: UploadFile) -> str:
    """The declared type if it is one we accept, else a guess from the file name.

    Browsers send application/octet-stream for names they do not know; the service still
    checks that the bytes look like the type.
    """
    declared = (upload.content_type or "").split(";", 1)[0].strip().lower()
    if declared in service.MEDIA_TYPES:
        return declared
    guessed, _ = mimetypes.guess_type(upload.filename or "")
    return guessed or declared or "application/octet-stream"


async def _attachments(uploads: list[UploadFile], limit: int) -> list[service.Attachment]:
    if len(uploads) > service.MAX_ATTACHMENTS:
        raise FormError("attachments", f"证据文件最多{service.MAX_ATTACHMENTS}个。")
    out = []
    for i, upload in enumerate(uploads, 1):
        content = await upload.read(limit + 1)
        if len(content) > limit:
            raise FormError(
                "attachments",
                f"第{i}个证据文件（{(upload.filename or '')[:60]}）过大：每个最多{limit:,}字节。",
            )
        out.append(service.Attachment(upload.filename, _media_type(upload), content))
    return out


@router.post("/portal/notices/{notice_id}/rectifications")
async def report(notice_id: IdPath, request: Request, principal: UiPrincipal) -> Response:
    """The operator reports what it did, with evidence files (multipart form)."""
    require_operator(principal)
    form = await read_form(request)
    settings: Any = request.app.state.settings
    try:
        summary = text(form, "summary", "整改情况说明", max_len=service.MAX_SUMMARY, required=True)
        attachments = await _attachments(files(form, "attachments"), settings.max_attachment_bytes)
        with request.app.state.database.write() as session:
            service.report_rectification(
                session,
                request.app.state.blobs,
                principal,
                notice_id,
                summary or "",
                attachments,
                at=now(),
                max_attachment_bytes=settings.max_attachment_bytes,
            )
    except FormError as exc:
        return _notice_page(
            request,
            principal,
            notice_id,
            form_values=values(form),
            errors={exc.field: exc.message_zh},
            message=exc.message_zh,
            status=422,
        )
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        field = "summary" if "summary" in exc.code else "attachments"
        if exc.code in ("notice_closed", "too_many_reports"):
            field = ""
        return _notice_page(
            request,
            principal,
            notice_id,
            form_values=values(form),
            errors={field: exc.message_zh} if field else {},
            message=exc.message_zh,
            status=exc.status,
        )
    return redirect(f"/portal/notices/{notice_id}", flash="整改情况已提交，监管部门将进行复查。")
