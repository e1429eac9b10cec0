"""The audit log in the database: append in the command's transaction, read back, verify.

`record(session, ...)` validates an event at once (unknown kind, bad payload, naive time:
`AuditError` before anything is written) and queues it on the session. Just before the
transaction commits — or before anything in it reads the log — the queued events are chained:
the head row (`audit_head`) is locked (PostgreSQL `SELECT ... FOR UPDATE`; SQLite writers are
already serialised by `Database.write`), each event gets the next `seq` and its hash, and the
rows go in with one batched INSERT. The log and the change it records commit or roll back
together, and the head stays locked only for the last moments of a transaction, so
concurrent writers on PostgreSQL wait for each other briefly. Rows are never updated or
deleted by the application.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from qinglang.store import audit_chain
from qinglang.store.audit_chain import AuditRecord, VerifyResult
from qinglang.store.models import AuditHead, AuditRow

BATCH = 2000
_PENDING = "qinglang_audit_pending"
_HEAD = "qinglang_audit_head"


def record(
    session: Session,
    *,
    at: datetime,
    actor: str,
    kind: str,
    subject: str,
    payload: Mapping[str, Any] | None = None,
) -> None:
    """Queue one event for the log of the caller's transaction (validated now)."""
    checked = audit_chain.append(
        None, at=at, actor=actor, kind=kind, subject=subject, payload=payload
    )
    session.info.setdefault(_PENDING, []).append(checked)


def write_pending(session: Session) -> list[AuditRecord]:
    """Chain and insert the queued events now (commit and log reads do it by themselves)."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return []
    head = _locked_head(session)
    seq, prev_hash = head
    out = []
    for queued in pending:
        # `record` validated and normalised the event: only its place in the chain is new.
        seq += 1
        fields = {
            "seq": seq,
            "at": queued.at,
            "actor": queued.actor,
            "kind": queued.kind,
            "subject": queued.subject,
            "payload": queued.payload,
        }
        digest = audit_chain.chain_hash(prev_hash, fields)
        out.append(
            AuditRecord(
                seq,
                queued.at,
                queued.actor,
                queued.kind,
                queued.subject,
                queued.payload,
                prev_hash,
                digest,
            )
        )
        prev_hash = digest
    # Core statements, not unit-of-work objects: the rows are never modified afterwards and
    # this runs once per command, so the ORM's bookkeeping would be pure cost.
    connection = session.connection()
    connection.execute(
        _INSERT_ROWS,
        [
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
            for r in out
        ],
    )
    connection.execute(_UPDATE_HEAD, {"new_seq": seq, "new_hash": prev_hash})
    head[0], head[1] = seq, prev_hash
    # A head object loaded earlier in this session (verify_log, session.get) must not show the
    # old values.
    loaded = session.identity_map.get(_HEAD_IDENTITY)
    if loaded is not None:
        set_committed_value(loaded, "seq", seq)
        set_committed_value(loaded, "hash", prev_hash)
    return out


_AUDIT = AuditRow.__table__
_HEAD_TABLE = AuditHead.__table__
_HEAD_IDENTITY = identity_key(AuditHead, 1)
_INSERT_ROWS = insert(_AUDIT)
_SELECT_HEAD = (
    select(_HEAD_TABLE.c.seq, _HEAD_TABLE.c.hash).where(_HEAD_TABLE.c.id == 1).with_for_update()
)
_UPDATE_HEAD = (
    update(_HEAD_TABLE)
    .where(_HEAD_TABLE.c.id == 1)
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)


def _locked_head(session: Session) -> list[Any]:
    """[seq, hash] of the head row, locked once per transaction and then kept up to date by
    later writes in it."""
    transaction = session.get_transaction()
    cached = session.info.get(_HEAD)
    if cached is not None and cached[0] is transaction:
        return cached[1]
    row = session.connection().execute(_SELECT_HEAD).first()
    if row is None:
        raise RuntimeError("audit_head row missing: run `qinglang db upgrade`")
    head = [row[0], row[1]]
    session.info[_HEAD] = (transaction, head)
    return head


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    write_pending(session)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_HEAD, None)


@event.listens_for(Session, "do_orm_execute")
def _before_log_read(state: ORMExecuteState) -> None:
    """A read of the log inside a transaction sees the events queued before it."""
    if not state.is_select or not state.session.info.get(_PENDING):
        return
    if any(m.class_ in (AuditRow, AuditHead) for m in state.all_mappers):
        write_pending(state.session)


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
