"""Writers of several processes on one SQLite file, and PostgreSQL connections that died idle."""

from __future__ import annotations

import multiprocessing
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from qinglang.store import audit_log
from qinglang.store import db as db_module
from qinglang.store.db import Database
from qinglang.store.models import AuditRow

AT = datetime(2020, 9, 1, 8, 0, 0, tzinfo=UTC)
fcntl = pytest.importorskip("fcntl")


def _append_events(url: str, start: int, n: int) -> None:
    db = Database(url)
    try:
        for i in range(start, start + n):
            with db.write() as session:
                audit_log.record(
                    session,
                    at=AT,
                    actor="system",
                    kind="organisation.created",
                    subject=f"organisation:{i}",
                    payload={"name": f"公司{i}"},
                )
    finally:
        db.dispose()


def test_processes_take_turns_through_the_lock_file(sqlite_database: Database) -> None:
    url = sqlite_database.url.render_as_string(hide_password=False)
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_append_events, args=(url, k * 100, 40)) for k in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    database = Path(sqlite_database.url.database or "")
    assert database.with_name(database.name + ".lock").exists()
    with sqlite_database.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditRow)) == 120
        assert audit_log.verify_log(session).ok


def test_a_writer_holds_the_lock_file_against_other_processes(
    sqlite_database: Database,
) -> None:
    database = Path(sqlite_database.url.database or "")
    lock_file = database.with_name(database.name + ".lock")
    with sqlite_database.write():
        fd = os.open(lock_file, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):  # a new open file: as another process sees it
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    fd = os.open(lock_file, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released after the transaction
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def test_the_lock_is_released_when_the_transaction_fails(sqlite_database: Database) -> None:
    with pytest.raises(RuntimeError), sqlite_database.write():
        raise RuntimeError("boom")
    with sqlite_database.write() as session:
        assert session.execute(text("SELECT 1")).scalar_one() == 1


def test_memory_database_needs_no_lock_file() -> None:
    db = Database("sqlite://")
    try:
        assert db._process_lock is None
        with db.write() as session:
            assert session.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        db.dispose()


def test_a_connection_killed_while_idle_is_replaced(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if database.is_sqlite:
        pytest.skip("PostgreSQL pool only")
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_S", 0.0)
    with database.read() as session:
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    other = Database(database.url)
    try:
        with other.write() as session:
            session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        other.dispose()
    with database.read() as session:  # the pooled connection is dead: pinged and replaced
        assert session.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
