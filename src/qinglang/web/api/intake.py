"""Intake of tips, platform self-reports, patrol findings and hand-offs; evidence."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from qinglang.services import intake as intake_service
from qinglang.services.intake import AttachmentIn, IntakeFilter
from qinglang.store.blobs import BlobError, BlobStore
from qinglang.web.auth import CurrentPrincipal, DatabaseDep, ReadSession, now
from qinglang.web.deps import DetectorDep, SettingsDep
from qinglang.web.problems import ProblemError
from qinglang.web.responses import content_disposition
from qinglang.web.schemas.intake import (
    IntakeCreate,
    IntakePage,
    IntakePublic,
    IntakeReceiptPublic,
    summary_fields,
)
from qinglang.web.schemas.problem import problem_responses

router = APIRouter(tags=["intake"])

IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
MAX_PAGE = 200


async def get_blobs(request: Request) -> BlobStore:
    return request.app.state.blobs


BlobsDep = Annotated[BlobStore, Depends(get_blobs)]


@router.post(
    "/intake",
    response_model=IntakeReceiptPublic,
    status_code=201,
    responses=problem_responses(400, 401, 403, 413, 415, 422),
    summary="File a self-report, patrol finding, hand-off or hotline tip",
)
def file_intake(
    body: IntakeCreate,
    principal: CurrentPrincipal,
    db: DatabaseDep,
    blobs: BlobsDep,
    detector: DetectorDep,
    settings: SettingsDep,
) -> dict[str, object]:
    prepared = intake_service.prepare(
        detector,
        settings,
        source=body.source.value,
        principal=principal,
        at=now(),
        text=body.text,
        urls=body.urls,
        attachments=[AttachmentIn(a.data, a.name, a.media_type) for a in body.attachments],
        title=body.title,
        category=body.category,
        jurisdiction=body.jurisdiction,
        discovered_at=body.discovered_at,
        subject_id=body.subject_id,
        subject_name=body.platform,
        icp=body.icp,
    )
    receipt = intake_service.commit(db, blobs, prepared)
    return {
        "id": receipt.item_id,
        "ticket": receipt.ticket,
        "source": receipt.source,
        "status": receipt.status,
        "case_id": receipt.case_id,
        "case_state": receipt.case_state,
        "merged_by": receipt.merged_by,
        "flags": list(receipt.flags),
        "subject_id": receipt.subject_id,
        "received_at": receipt.received_at,
    }


@router.get(
    "/intake",
    response_model=IntakePage,
    responses=problem_responses(401, 403, 422),
    summary="List intake items in your scope, newest first",
)
def list_intake(
    principal: CurrentPrincipal,
    session: ReadSession,
    source: Annotated[str | None, Query(max_length=32)] = None,
    status: Annotated[str | None, Query(max_length=16, description="lead or merged")] = None,
    flag: Annotated[
        str | None, Query(max_length=16, description="duplicate, flood, coordinated, late")
    ] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    case_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    subject_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    jurisdiction: Annotated[str | None, Query(max_length=12)] = None,
    ticket: Annotated[str | None, Query(max_length=120)] = None,
    received_after: datetime | None = None,
    received_before: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, object]:
    filters = IntakeFilter(
        source=source,
        status=status,
        flag=flag,
        category=category,
        case_id=case_id,
        subject_id=subject_id,
        jurisdiction=jurisdiction,
        ticket=ticket,
        received_after=received_after,
        received_before=received_before,
    )
    rows, total = intake_service.list_items(session, principal, filters, limit=limit, offset=offset)
    return {
        "items": [summary_fields(item, state) for item, state in rows],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


@router.get(
    "/intake/{item_id}",
    response_model=IntakePublic,
    responses=problem_responses(401, 403, 404, 422),
    summary="One intake item with its attachments",
)
def get_intake(item_id: IdPath, principal: CurrentPrincipal, session: ReadSession):
    view = intake_service.get_item(session, principal, item_id)
    return {
        **summary_fields(view.item, view.case_state),
        "text": view.item.text,
        "created_by": view.item.created_by,
        "attachments": list(view.attachments),
    }


@router.get(
    "/evidence/{digest}",
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The file"},
        **problem_responses(401, 403, 404, 422),
    },
    summary="Download a piece of evidence by its SHA-256 (if an item you may see holds it)",
)
def get_evidence(
    digest: Annotated[str, Path(max_length=128)],
    principal: CurrentPrincipal,
    session: ReadSession,
    blobs: BlobsDep,
) -> Response:
    try:
        found = intake_service.evidence(session, blobs, principal, digest)
    except BlobError as exc:
        raise ProblemError(
            "internal-error",
            "证据文件校验失败（内容与摘要不符），已记录，请联系系统管理员。",
            log_message=str(exc),
        ) from None
    return Response(
        found.content,
        media_type=found.media_type,
        headers={
            "Content-Disposition": content_disposition(found.name, default="evidence"),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
            "ETag": f'"{found.digest}"',
        },
    )
