"""The public reporting channel for minors' online environment (no login).

`POST /reports` files a tip and answers 201 with its ticket once the tip is committed;
`GET /reports/{ticket}` answers that report's public status and nothing else. Both are
rate-limited per client (keyed hash of the address): filing by
QINGLANG_REPORT_RATE_LIMIT_PER_HOUR, status look-ups at LOOKUP_FACTOR times that.
"""

from __future__ import annotations

import math
import threading
from functools import partial
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, Request, Response

from qinglang.services import reports as reports_service
from qinglang.services.intake import AttachmentIn
from qinglang.web.api.intake import BlobsDep
from qinglang.web.auth import DatabaseDep, now
from qinglang.web.deps import DetectorDep, SettingsDep
from qinglang.web.problems import ProblemError
from qinglang.web.rate_limit import TokenBucketLimiter
from qinglang.web.schemas.problem import problem_responses
from qinglang.web.schemas.reports import ReportCreate, ReportReceipt, ReportStatusPublic

router = APIRouter(tags=["reports"])

HOUR = 3600.0
LOOKUP_FACTOR = 10  # status look-ups allowed per hour, as a multiple of the filing limit
RECEIVED_MESSAGE = "您的举报已受理。请妥善保存受理编号，凭编号可查询办理进度和结果。"
_limiter_lock = threading.Lock()
# Threads of one process filing reports at once. Filing is CPU work (triage) and then a short
# serialised write; more threads add no CPU (one GIL per process) but queue for the GIL, and a
# thread holding the database write lock waits for the GIL after every statement, so the lock
# is held ever longer (measured: 32 threads halve throughput). Two overlap one report's
# database round trips with another's triage. More worker processes (`--workers`) use more
# cores; further reports wait on the event loop, holding no thread.
SUBMIT_THREADS = 2


def _limiter(request: Request, name: str, per_hour: int) -> TokenBucketLimiter:
    """The app's limiter `name`, created on first use (one per app, kept on app.state)."""
    state = request.app.state
    limiter = getattr(state, name, None)
    if limiter is None:
        with _limiter_lock:
            limiter = getattr(state, name, None)
            if limiter is None:
                limiter = TokenBucketLimiter(per_hour, period_seconds=HOUR)
                setattr(state, name, limiter)
    return limiter


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} 秒"
    return f"约 {math.ceil(seconds / 60)} 分钟"


def _limit(request: Request, settings: SettingsDep, name: str, per_hour: int, what: str) -> str:
    address = request.client.host if request.client is not None else None
    key = reports_service.client_hash(settings.secret_key.get_secret_value(), address)
    if per_hour > 0:
        wait = _limiter(request, name, per_hour).acquire(key)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise ProblemError(
                "rate-limited",
                f"{what}过于频繁：每个网络地址每小时最多 {per_hour} 次，"
                f"请在{_wait_text(retry_after)}后重试。",
                headers={"Retry-After": str(retry_after)},
                log_message=f"{name} exceeded",
            )
    return key


# Dependencies that do no I/O are coroutines, so FastAPI calls them on the event loop
# instead of hopping to the thread pool once each.
async def reporting_client(request: Request, settings: SettingsDep) -> str:
    """The caller's keyed address hash; 429 over QINGLANG_REPORT_RATE_LIMIT_PER_HOUR."""
    return _limit(
        request, settings, "report_limiter", settings.report_rate_limit_per_hour, "举报提交"
    )


async def lookup_client(request: Request, settings: SettingsDep) -> str:
    per_hour = settings.report_rate_limit_per_hour * LOOKUP_FACTOR
    return _limit(request, settings, "report_lookup_limiter", per_hour, "举报查询")


def submit_limiter(request: Request) -> anyio.CapacityLimiter:
    state = request.app.state
    limiter = getattr(state, "report_submit_limiter", None)
    if limiter is None:  # the event loop's thread only: no race
        limiter = anyio.CapacityLimiter(SUBMIT_THREADS)
        state.report_submit_limiter = limiter
    return limiter


ReportingClient = Annotated[str, Depends(reporting_client)]
LookupClient = Annotated[str, Depends(lookup_client)]

_PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@router.post(
    "/reports",
    response_model=ReportReceipt,
    status_code=201,
    responses=problem_responses(400, 413, 415, 422, 429),
    summary="File a public report (no login); 201 means it is committed",
)
async def submit_report(
    body: ReportCreate,
    client: ReportingClient,
    request: Request,
    response: Response,
    db: DatabaseDep,
    blobs: BlobsDep,
    detector: DetectorDep,
    settings: SettingsDep,
) -> dict[str, object]:
    work = partial(
        reports_service.submit,
        db,
        blobs,
        detector,
        settings,
        at=now(),
        text=body.text,
        urls=body.urls,
        attachments=[AttachmentIn(a.data, a.name, a.media_type) for a in body.attachments],
        title=body.title,
        category=body.category,
        region=body.region,
        platform=body.platform,
        icp=body.icp,
        client_hash=client,
    )
    receipt = await anyio.to_thread.run_sync(work, limiter=submit_limiter(request))
    response.headers.update(_PRIVATE)
    status = receipt.public_status
    return {
        "ticket": receipt.ticket,
        "status": status.code,
        "status_zh": status.name_zh,
        "received_at": receipt.received_at,
        "message": RECEIVED_MESSAGE,
    }


@router.get(
    "/reports/{ticket}",
    response_model=ReportStatusPublic,
    responses=problem_responses(404, 422, 429),
    summary="The public status and result of one report, by its ticket",
)
def report_status(
    ticket: str, _client: LookupClient, response: Response, db: DatabaseDep
) -> dict[str, object]:
    found = reports_service.status(db, ticket)
    response.headers.update(_PRIVATE)
    return {
        "ticket": found.ticket,
        "status": found.status.code,
        "status_zh": found.status.name_zh,
        "description": found.status.description_zh,
        "received_at": found.received_at,
        "updated_at": found.updated_at,
        "result": found.result,
    }
