"""Connections to the governance database, and the one-transaction-per-command rule.

`Database(url)` opens SQLite (embedded default) or PostgreSQL (psycopg 3). Every command runs
in `db.write()`: one transaction, committed before the caller answers (so an HTTP 201 means
the row is on disk), rolled back whole on any error. Reads use `db.read()`.

SQLite: WAL journal, `synchronous=NORMAL` (a committed transaction survives a killed process;
set `synchronous=FULL` with `?synchronous=full` in the URL to survive power loss too),
foreign keys on, and one writer: `write()` takes a process-wide lock and starts with
`BEGIN IMMEDIATE`, so two writers never both read the audit head and collide. A file-backed
database is also shared by other processes (`qinglang serve --workers N`, the CLI): there
`write()` first takes an exclusive `flock` on `<database>.lock`, so writers of all processes
queue in the kernel and the next one wakes as soon as the lock is released, instead of
polling in SQLite's busy handler, which sleeps with growing back-off and leaves a second worker
slower than one. Where `fcntl` is missing the busy handler alone arbitrates, as before.
PostgreSQL: writers serialise on the audit head row (`SELECT ... FOR UPDATE`) only.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

try:
    import fcntl
except ImportError:  # not on Windows: SQLite's busy handler arbitrates between processes
    fcntl = None  # type: ignore[assignment]


PING_AFTER_IDLE_S = 2.0  # a pooled PostgreSQL connection idle this long is pinged first


class DatabaseURLError(ValueError):
    """A database URL this platform does not support."""


def schema_url(base: str, schema: str) -> str:
    """`base` (a PostgreSQL URL) with every connection's search path set to `schema` alone.

    Tests and benchmarks use it to keep their tables in a schema of their own, so that runs
    sharing one server never meet.
    """
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


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


class ProcessLock:
    """An exclusive `flock` on a file, shared by every process that opens the same path.

    The descriptor is opened on first use in each process and reopened after a fork: a
    descriptor inherited across `fork` shares its lock with the parent, which would let both
    processes hold it at once. Callers serialise their own threads (a `flock` is held by the
    open file, not by a thread).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._pid = 0

    def _descriptor(self) -> int:
        pid = os.getpid()
        if self._fd is None or self._pid != pid:
            if self._fd is not None:  # inherited: closing our copy leaves the parent's lock
                os.close(self._fd)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = pid
        return self._fd

    def acquire(self) -> None:
        fcntl.flock(self._descriptor(), fcntl.LOCK_EX)

    def release(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None


class Database:
    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        self.url = normalize_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self._write_lock = threading.Lock()
        self._process_lock: ProcessLock | None = None
        if self.is_sqlite:
            self.engine = self._sqlite_engine(echo)
        else:
            self.engine = self._postgresql_engine(echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    def _postgresql_engine(self, echo: bool) -> Engine:
        # pool_size: a connection closed on check-in (overflow) costs a new backend on the next
        # check-out; keep as many as the workers' threads use at once.
        engine = create_engine(self.url, echo=echo, pool_size=20, max_overflow=20)

        # Instead of pool_pre_ping (a round trip on every check-out, i.e. on every request),
        # ping only a connection that sat idle for a while: that is when the server may have
        # restarted or dropped it. A dead one is replaced by the pool (DisconnectionError).
        @event.listens_for(engine, "checkin")
        def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
            if record is not None:
                record.info["qinglang_idle_since"] = time.monotonic()

        @event.listens_for(engine, "checkout")
        def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
            since = record.info.get("qinglang_idle_since")
            if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
                return
            try:
                alive = engine.dialect.do_ping(dbapi_connection)
            except Exception:
                alive = False
            if not alive:
                raise exc.DisconnectionError("connection lost while idle in the pool")

        return engine

    def _sqlite_engine(self, echo: bool) -> Engine:
        query = dict(self.url.query)
        synchronous = str(query.pop("synchronous", "normal")).upper()
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise DatabaseURLError(f"unknown SQLite synchronous mode {synchronous!r}")
        url = self.url.set(query=query)
        database = url.database or ""
        memory = database in ("", ":memory:")
        if not memory:
            path = Path(database).expanduser()
            path.parent.mkdir(parents=True, exist_ok=True)
            if fcntl is not None:
                self._process_lock = ProcessLock(path.with_name(path.name + ".lock"))
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
                lock = self._process_lock
                if lock is None:
                    yield from self._transaction(immediate=True)
                    return
                lock.acquire()
                try:
                    yield from self._transaction(immediate=True)
                finally:
                    lock.release()
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
        if self._process_lock is not None:
            with self._write_lock:
                self._process_lock.close()
