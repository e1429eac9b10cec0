"""Rectification notices to platform operators and their reports back.

Operators see only their organisation's notices (any other answers 404); regulators see the
notices of the cases they see. Only operators report rectification.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from qinglang.services import notices as service
from qinglang.services.cases import PAGE_DEFAULT, PAGE_MAX
from qinglang.web.auth import CurrentPrincipal, DatabaseDep, ReadSession, now
from qinglang.web.deps import SettingsDep
from qinglang.web.responses import content_disposition
from qinglang.web.schemas.cases import NoticePublic
from qinglang.web.schemas.notices import NoticePagePublic, RectificationCreate
from qinglang.web.schemas.problem import problem_responses

router = APIRouter(tags=["notices"])

INT_MAX = 2**31 - 1
IdPath = Annotated[int, Path(ge=1, le=INT_MAX)]


@router.get(
    "/notices",
    response_model=NoticePagePublic,
    responses=problem_responses(401, 403, 422),
    summary="Notices: an operator's own, or those of the cases a regulator sees",
)
def list_notices(
    principal: CurrentPrincipal,
    session: ReadSession,
    status: Annotated[
        str | None, Query(max_length=16, description="sent, answered, superseded, closed")
    ] = None,
    overdue: Annotated[bool | None, Query(description="Sent, unanswered, past deadline")] = None,
    case_id: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = PAGE_DEFAULT,
    cursor: Annotated[str | None, Query(max_length=32)] = None,
):
    return service.list_notices(
        session,
        principal,
        at=now(),
        status=status,
        overdue=overdue,
        case_id=case_id,
        limit=limit,
        cursor=cursor,
    )


@router.get(
    "/notices/{notice_id}",
    response_model=NoticePublic,
    responses=problem_responses(401, 403, 404, 422),
    summary="One notice: measures, deadline and the reports back",
)
def get_notice(notice_id: IdPath, principal: CurrentPrincipal, session: ReadSession):
    return service.get_notice(session, principal, notice_id, at=now())


@router.post(
    "/notices/{notice_id}/rectifications",
    response_model=NoticePublic,
    status_code=201,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
    summary="Report rectification with evidence (platform operator)",
)
def report(
    notice_id: IdPath,
    body: RectificationCreate,
    principal: CurrentPrincipal,
    db: DatabaseDep,
    settings: SettingsDep,
    request: Request,
):
    attachments = [
        service.decode_attachment(a.name, a.media_type, a.content_base64) for a in body.attachments
    ]
    with db.write() as session:
        view = service.report_rectification(
            session,
            request.app.state.blobs,
            principal,
            notice_id,
            body.summary,
            attachments,
            at=now(),
            max_attachment_bytes=settings.max_attachment_bytes,
        )
        return NoticePublic.model_validate(view)


@router.get(
    "/notices/{notice_id}/evidence/{digest}",
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The file"},
        **problem_responses(401, 403, 404, 422),
    },
    response_class=Response,
    summary="Download one piece of evidence reported on the notice",
)
def evidence(
    notice_id: IdPath,
    digest: Annotated[str, Path(min_length=1, max_length=64)],
    principal: CurrentPrincipal,
    session: ReadSession,
    request: Request,
) -> Response:
    content, media_type, name = service.evidence(
        session, request.app.state.blobs, principal, notice_id, digest
    )
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": content_disposition(name),
            "X-Content-Type-Options": "nosniff",
        },
    )
