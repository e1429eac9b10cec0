"""The audit log: verification and raw events (administrators)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from qinglang.govern.actors import Role
from qinglang.services.errors import forbidden
from qinglang.services.principal import Principal
from qinglang.store.audit_log import verify_log
from qinglang.store.models import AuditRow
from qinglang.web.auth import CurrentPrincipal, ReadSession
from qinglang.web.schemas.problem import problem_responses

router = APIRouter(tags=["audit"])

NATIONAL = "100000"


class VerifyPublic(BaseModel):
    ok: bool
    checked: int = Field(description="Records read before the verdict.")
    head_seq: int | None = Field(description="The last good record.")
    first_bad_seq: int | None = Field(description="The first missing, altered or misplaced seq.")
    reason: str | None


class AuditEventPublic(BaseModel):
    seq: int
    at: datetime
    actor: str
    kind: str
    subject: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPagePublic(BaseModel):
    items: list[AuditEventPublic]
    next_after_seq: int | None = Field(description="Pass as after_seq for the next page.")


def _national_admin(principal: Principal) -> None:
    principal.require(Role.admin)
    if principal.jurisdiction != NATIONAL:
        raise forbidden(
            "national_admin_only",
            "the whole audit log is for national administrators",
            "完整审计日志仅向国家级系统管理员开放。",
        )


@router.get(
    "/audit/verify",
    response_model=VerifyPublic,
    responses=problem_responses(401, 403),
    summary="Verify the hash chain of the audit log (administrators)",
)
def verify(principal: CurrentPrincipal, session: ReadSession) -> dict[str, Any]:
    principal.require(Role.admin)
    result = verify_log(session)
    return {
        "ok": result.ok,
        "checked": result.checked,
        "head_seq": result.head.seq if result.head else None,
        "first_bad_seq": result.first_bad_seq,
        "reason": result.reason,
    }


@router.get(
    "/audit/events",
    response_model=AuditPagePublic,
    responses=problem_responses(401, 403, 422),
    summary="Raw audit events in seq order (national administrators)",
)
def events(
    principal: CurrentPrincipal,
    session: ReadSession,
    subject: Annotated[str | None, Query(max_length=320, description="e.g. case:12")] = None,
    kind: Annotated[str | None, Query(max_length=64, description="e.g. case.transition")] = None,
    after_seq: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    _national_admin(principal)
    query = select(AuditRow).where(AuditRow.seq > after_seq)
    if subject is not None:
        query = query.where(AuditRow.subject == subject)
    if kind is not None:
        query = query.where(AuditRow.kind == kind)
    rows = list(session.execute(query.order_by(AuditRow.seq).limit(limit + 1)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        {
            "seq": r.seq,
            "at": r.at,
            "actor": r.actor,
            "kind": r.kind,
            "subject": r.subject,
            "payload": r.payload,
            "prev_hash": r.prev_hash,
            "hash": r.hash,
        }
        for r in rows
    ]
    return {"items": items, "next_after_seq": rows[-1].seq if more and rows else None}
