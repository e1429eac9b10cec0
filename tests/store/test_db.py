"""The database layer on SQLite and PostgreSQL: migrations, transactions, the audit log."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from qinglang.store import audit_log, migrate
from qinglang.store.db import Database, DatabaseURLError
from qinglang.store.models import AuditRow, Organisation

AT = datetime(2020, 9, 1, 8, 0, 0, 123456, tzinfo=UTC)


def test_migrated_to_head(database: Database) -> None:
    assert migrate.is_current(database)


def test_one_transaction_per_command(database: Database) -> None:
    with pytest.raises(RuntimeError), database.write() as session:
        session.add(Organisation(name="甲", created_at=AT))
        audit_log.record(
            session,
            at=AT,
            actor="system",
            kind="organisation.created",
            subject="organisation:1",
            payload={"name": "甲"},
        )
        raise RuntimeError("boom")
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Organisation)) == 0
        assert session.scalar(select(func.count()).select_from(AuditRow)) == 0
        assert audit_log.verify_log(session).ok


def test_audit_round_trip_keeps_hashes(database: Database) -> None:
    with database.write() as session:
        for i in range(5):
            audit_log.record(
                session,
                at=AT,
                actor="system",
                kind="organisation.created",
                subject=f"organisation:{i}",
                payload={"name": f"公司{i}", "uscc": None},
            )
    with database.read() as session:
        result = audit_log.verify_log(session)
        assert result.ok and result.checked == 5
        rows = audit_log.records_for(session, "organisation:3")
        assert rows[0].at == AT


@pytest.mark.parametrize(
    ("tamper", "bad_seq"),
    [
        ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3", 3),
        ("DELETE FROM audit_log WHERE seq = 2", 2),
        ("DELETE FROM audit_log WHERE seq = 4", 4),  # the newest row: caught by the head
        ("UPDATE audit_log SET seq = 99 WHERE seq = 1", 1),
    ],
)
def test_tampering_is_caught(database: Database, tamper: str, bad_seq: int) -> None:
    with database.write() as session:
        for i in range(4):
            audit_log.record(
                session,
                at=AT,
                actor="system",
                kind="organisation.created",
                subject=f"organisation:{i}",
                payload={"name": f"公司{i}"},
            )
    with database.engine.begin() as conn:
        conn.execute(text(tamper))
    with database.read() as session:
        result = audit_log.verify_log(session)
    assert not result.ok
    assert result.first_bad_seq == bad_seq


def test_unsupported_urls_are_refused() -> None:
    with pytest.raises(DatabaseURLError):
        Database("mysql://root@localhost/test")
    with pytest.raises(DatabaseURLError):
        Database("not a url")
    with pytest.raises(DatabaseURLError):
        Database("sqlite:///x.db?synchronous=sometimes")
