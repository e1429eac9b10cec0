"""Database fixtures shared by the storage, service and API tests (imported by conftest.py).

`database` is parametrised over SQLite and PostgreSQL: the SQLite run uses a fresh file per
test (copied from one migrated template); the PostgreSQL run uses
QINGLANG_TEST_DATABASE_URL, a schema of its own per pytest process (so parallel runs on one
server do not meet) and truncates the tables between tests. It skips with a reason when the
variable is unset. Use `sqlite_database` for tests that need only one backend.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from qinglang.govern.actors import Role
from qinglang.services.principal import Principal
from qinglang.services.users import create_organisation, create_token, create_user, principal_of
from qinglang.store import migrate
from qinglang.store.db import Database, schema_url
from qinglang.store.models import Base

PG_ENV = "QINGLANG_TEST_DATABASE_URL"
T0 = datetime(2020, 9, 1, 2, 0, tzinfo=UTC)
PASSWORD = "Correct-horse-9"


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dbtemplate") / "template.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_url() -> Iterator[str]:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set: PostgreSQL tests run in CI (.ci/run sets it)")
    schema = f"qltest_{os.getpid()}"
    admin = create_engine(Database(base).url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = schema_url(base, schema)
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    admin.dispose()


def _truncate(db: Database) -> None:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(
            text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :h)"), {"h": "0" * 64}
        )


def _sqlite_db(template: Path, tmp_path: Path) -> Database:
    path = tmp_path / "qinglang.db"
    shutil.copyfile(template, path)
    return Database(f"sqlite:///{path}")


@pytest.fixture
def sqlite_database(_sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    db = _sqlite_db(_sqlite_template, tmp_path)
    yield db
    db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        db = _sqlite_db(request.getfixturevalue("_sqlite_template"), tmp_path)
    else:
        db = Database(request.getfixturevalue("_pg_url"))
        _truncate(db)
    yield db
    db.dispose()


# ---------------------------------------------------------------- people


@dataclass(frozen=True)
class Person:
    """A user made for a test: who they are, and the headers that authenticate them."""

    principal: Principal
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def id(self) -> int:
        return self.principal.user_id


class People:
    """Makes users with roles in a database: `people.make("officer", "cyberspace")`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._n = 0

    def organisation(self, name: str = "示例网络科技有限公司", region: str = "310000") -> int:
        with self.db.write() as session:
            return create_organisation(
                session, name=name, uscc=None, region=region, by="system:test", at=T0
            ).id

    def make(
        self,
        *roles: str,
        department: str | None = None,
        jurisdiction: str = "100000",
        organisation_id: int | None = None,
        username: str | None = None,
    ) -> Person:
        self._n += 1
        name = username or f"{'-'.join(roles)}{self._n}"
        with self.db.write() as session:
            user = create_user(
                session,
                username=name,
                password=PASSWORD,
                roles=roles,
                jurisdiction=jurisdiction,
                department=department,
                organisation_id=organisation_id,
                by="system:test",
                at=T0,
            )
            token, _ = create_token(session, user.id, "test", T0)
            return Person(principal_of(user), token)


@pytest.fixture
def people(database: Database) -> People:
    return People(database)


ROLES = tuple(Role)


@pytest.fixture
def app_settings(tmp_path: Path):
    from qinglang.settings import Settings

    return Settings(
        blob_dir=tmp_path / "blobs", rate_limit_per_minute=0, report_rate_limit_per_hour=0
    )


@pytest.fixture
def api(database: Database, app_settings):
    """A TestClient on an app over `database` (both backends)."""
    from fastapi.testclient import TestClient

    from qinglang.web.app import create_app

    return TestClient(create_app(app_settings, database), raise_server_exceptions=False)
