"""`NppaState` over the database (tables nppa_partners, nppa_auth_records, nppa_behaviours).

Partners are registered with `add_partner` (`qinglang nppa partner-add`). Check results keep
the person only as a keyed hash; behaviour events are inserted with ON CONFLICT DO NOTHING on
(app_id, si, bt, ot), so a batch sent twice (a client retrying after a lost answer) is taken
once and not refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from qinglang.guard.nppa.crypto import is_secret_key
from qinglang.guard.nppa.protocol import Event
from qinglang.guard.nppa.server import AuthRecord, Partner
from qinglang.services.errors import conflict, invalid
from qinglang.store.db import Database
from qinglang.store.models import NppaAuthRecord, NppaBehaviour, NppaPartner

MAX_ID = 32


def _partner(row: NppaPartner) -> Partner:
    return Partner(
        app_id=row.app_id,
        biz_id=row.biz_id,
        secret_key=row.secret_key,
        enabled=row.enabled,
        name=row.name,
    )


def _record(row: NppaAuthRecord) -> AuthRecord:
    return AuthRecord(ai=row.ai, id_hash=row.id_hash, status=row.status, pi=row.pi)


def add_partner(
    session: Session,
    *,
    app_id: str,
    biz_id: str,
    secret_key: str,
    name: str,
    at: datetime,
    enabled: bool = True,
) -> Partner:
    """Register a game company; raises ServiceError (invalid / conflict)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise invalid("bad_name", "a partner name is 1 to 200 characters", "名称须为1至200个字符。")
    for field, value in (("app_id", app_id), ("biz_id", biz_id)):
        if not value or len(value) > MAX_ID or not value.isascii() or not value.isprintable():
            raise invalid(
                f"bad_{field}",
                f"{field} is 1 to {MAX_ID} printable ASCII characters",
                f"{field} 须为1至{MAX_ID}个可打印 ASCII 字符。",
            )
    if not is_secret_key(secret_key):
        raise invalid(
            "bad_secret_key",
            "a secret key is 32 hex characters",
            "secretKey 须为32位十六进制字符。",
        )
    if session.get(NppaPartner, app_id) is not None:
        raise conflict(
            "duplicate_app_id", "an NPPA partner with this appId exists", "该 appId 已存在。"
        )
    row = NppaPartner(
        app_id=app_id,
        biz_id=biz_id,
        secret_key=secret_key,  # as given: the text itself is hashed into every sign
        name=name,
        enabled=enabled,
        created_at=at,
    )
    session.add(row)
    session.flush()
    return _partner(row)


class SqlNppaState:
    """The records of the NPPA-compatible endpoint in `db` (SQLite or PostgreSQL)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def partner(self, app_id: str) -> Partner | None:
        with self.db.read() as session:
            row = session.get(NppaPartner, app_id)
            return _partner(row) if row is not None else None

    def auth_record(self, app_id: str, ai: str) -> AuthRecord | None:
        with self.db.read() as session:
            row = session.scalar(
                select(NppaAuthRecord).where(
                    NppaAuthRecord.app_id == app_id, NppaAuthRecord.ai == ai
                )
            )
            return _record(row) if row is not None else None

    def auth_count(self, app_id: str) -> int:
        with self.db.read() as session:
            query = select(func.count()).where(NppaAuthRecord.app_id == app_id)
            return int(session.scalar(query.select_from(NppaAuthRecord)) or 0)

    def claim_auth(self, app_id: str, record: AuthRecord, at: datetime) -> AuthRecord:
        try:
            with self.db.write() as session:
                existing = session.scalar(
                    select(NppaAuthRecord).where(
                        NppaAuthRecord.app_id == app_id, NppaAuthRecord.ai == record.ai
                    )
                )
                if existing is not None:
                    return _record(existing)
                session.add(
                    NppaAuthRecord(
                        app_id=app_id,
                        ai=record.ai,
                        id_hash=record.id_hash,
                        status=record.status,
                        pi=record.pi,
                        created_at=at,
                    )
                )
                session.flush()
                return record
        except IntegrityError:
            # Another replica stored this ai between our select and insert: theirs stands.
            stored = self.auth_record(app_id, record.ai)
            if stored is None:
                raise
            return stored

    def pi_issued(self, pi: str) -> bool:
        with self.db.read() as session:
            query = select(NppaAuthRecord.id).where(NppaAuthRecord.pi == pi).limit(1)
            return session.scalar(query) is not None

    def add_events(self, app_id: str, events: Sequence[Event], at: datetime) -> int:
        rows: dict[tuple[str, int, int], dict[str, object]] = {}
        for e in events:
            rows.setdefault(
                (e.si, e.bt, e.ot),
                {
                    "app_id": app_id,
                    "si": e.si,
                    "bt": e.bt,
                    "ot": e.ot,
                    "ct": e.ct,
                    "di": e.di,
                    "pi": e.pi,
                    "received_at": at,
                },
            )
        if not rows:
            return 0
        dialect = postgresql if self.db.dialect == "postgresql" else sqlite
        statement = (
            dialect.insert(NppaBehaviour)
            .values(list(rows.values()))
            .on_conflict_do_nothing(index_elements=["app_id", "si", "bt", "ot"])
        )
        with self.db.write() as session:
            result = session.execute(statement)
            return max(int(result.rowcount or 0), 0)
