"""Connections to the governance database, and the one-transaction-per-command rule.

`Database(url)` opens SQLite (embedded default) or PostgreSQL (psycopg 3). Every command runs
in `db.write()`: one transaction, committed before the caller answers (so an HTTP 201 means
the row is on disk), rolled back whole on any error. Reads use `db.read()`.

SQLite: WAL journal, `synchronous=NORMAL` (a committed transaction survives a killed process;
set `synchronous=FULL` with `?synchronous=full` in the URL to survive power loss too),
foreign keys on, and one writer: `write()` takes a process-wide lock and starts with
`BEGIN IMMEDIATE`, so two writers never both read the audit head and collide. PostgreSQL:
writers serialise on the audit head row (`SELECT ... FOR UPDATE`) only.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker


class DatabaseURLError(ValueError):
    """A database URL this platform does not support."""


def normalize_url(url: str | URL) -> URL:
    """`postgresql://` means psycopg 3; only SQLite and PostgreSQL are supported."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with the URL in it
        raise DatabaseURLError(f"cannot parse database URL: {exc}") from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        elif parsed.drivername != "postgresql+psycopg":
            raise DatabaseURLError("PostgreSQL is supported through psycopg 3 only")
    elif backend != "sqlite":
        raise DatabaseURLError(f"unsupported database {backend!r}: use sqlite or postgresql")
    return parsed


class Database:
    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        self.url = normalize_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self._write_lock = threading.Lock()
        if self.is_sqlite:
            self.engine = self._sqlite_engine(echo)
        else:
            self.engine = create_engine(
                self.url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True
            )
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    def _sqlite_engine(self, echo: bool) -> Engine:
        query = dict(self.url.query)
        synchronous = str(query.pop("synchronous", "normal")).upper()
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise DatabaseURLError(f"unknown SQLite synchronous mode {synchronous!r}")
        url = self.url.set(query=query)
        database = url.database or ""
        memory = database in ("", ":memory:")
        if not memory:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {"echo": echo, "connect_args": {"check_same_thread": False}}
        if memory:
            from sqlalchemy.pool import StaticPool

            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            mode = conn.info.get("qinglang_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: commit on success, roll back everything on any error."""
        if self.is_sqlite:
            with self._write_lock:
                yield from self._transaction(immediate=True)
        else:
            yield from self._transaction(immediate=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work (rolled back at the end)."""
        session = self._sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def _transaction(self, *, immediate: bool) -> Iterator[Session]:
        connection = self.engine.connect()
        if immediate:
            connection.info["qinglang_begin"] = "IMMEDIATE"
        session = self._sessions(bind=connection)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            connection.info.pop("qinglang_begin", None)
            connection.close()

    def dispose(self) -> None:
        self.engine.dispose()
