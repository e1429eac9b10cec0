"""The audit log in the database: append in the command's transaction, read back, verify.

`record(session, ...)` locks the head row (`audit_head`, PostgreSQL `FOR UPDATE`; SQLite
writers are already serialised by `Database.write`) once per transaction, builds the next
record with `audit_chain.append` and inserts it with the change it records, so the log and the data
commit or roll back together. Rows are never updated or deleted by the application.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qinglang.store import audit_chain
from qinglang.store.audit_chain import AuditRecord, VerifyResult
from qinglang.store.models import AuditHead, AuditRow

BATCH = 2000


def record(
    session: Session,
    *,
    at: datetime,
    actor: str,
    kind: str,
    subject: str,
    payload: Mapping[str, Any] | None = None,
) -> AuditRecord:
    """Append one event to the log inside the caller's transaction."""
    head = _locked_head(session)
    prev = None if head.seq == 0 else AuditRecord(head.seq, at, "", "", "", {}, "", head.hash)
    rec = audit_chain.append(prev, at=at, actor=actor, kind=kind, subject=subject, payload=payload)
    session.add(
        AuditRow(
            seq=rec.seq,
            at=rec.at,
            actor=rec.actor,
            kind=rec.kind,
            subject=rec.subject,
            payload=rec.payload,
            prev_hash=rec.prev_hash,
            hash=rec.hash,
        )
    )
    head.seq = rec.seq
    head.hash = rec.hash
    # No flush here: a command's events go to the database together at its next flush or
    # commit (one batched INSERT), while the head row stays locked until the commit.
    return rec


_HEAD = "qinglang_audit_head"


def _locked_head(session: Session) -> AuditHead:
    """The head row, locked once per transaction and then reused by later events in it."""
    transaction = session.get_transaction()
    cached = session.info.get(_HEAD)
    if cached is not None and cached[0] is transaction:
        return cached[1]
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        raise RuntimeError("audit_head row missing: run `qinglang db upgrade`")
    session.info[_HEAD] = (transaction, head)
    return head


def _to_record(row: AuditRow) -> AuditRecord:
    return AuditRecord(
        row.seq, row.at, row.actor, row.kind, row.subject, row.payload, row.prev_hash, row.hash
    )


def iter_records(session: Session, *, after_seq: int = 0) -> Iterator[AuditRecord]:
    """Every record in `seq` order, read in batches so memory stays flat on large logs."""
    last = after_seq
    while True:
        rows = (
            session.execute(
                select(AuditRow).where(AuditRow.seq > last).order_by(AuditRow.seq).limit(BATCH)
            )
            .scalars()
            .all()
        )
        if not rows:
            return
        for row in rows:
            yield _to_record(row)
        last = rows[-1].seq
        session.expunge_all()


def records_for(session: Session, subject: str, limit: int = 500) -> list[AuditRecord]:
    """The events about one subject ("case:12", "subject:3"), oldest first."""
    rows = session.execute(
        select(AuditRow).where(AuditRow.subject == subject).order_by(AuditRow.seq).limit(limit)
    ).scalars()
    return [_to_record(r) for r in rows]


def verify_log(session: Session) -> VerifyResult:
    """Verify the whole chain, and that it ends where `audit_head` says it ends.

    The head row catches a log whose newest rows were deleted (the chain alone cannot).
    """
    head = session.get(AuditHead, 1)
    anchor = audit_chain.Anchor(head.seq, head.hash) if head is not None and head.seq else None
    result = audit_chain.verify(iter_records(session), head=anchor)
    head_seq = head.seq if head is not None else 0
    if result.ok and result.head is not None and result.head.seq > head_seq:
        return VerifyResult(
            False,
            head_seq + 1,
            f"seq {head_seq + 1}: rows after the recorded head (inserted outside the app)",
            result.checked,
            result.head,
        )
    return result
