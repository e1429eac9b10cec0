"""The Alembic migrations and the SQLAlchemy models describe the same schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from qinglang.store import migrate
from qinglang.store.db import Database
from qinglang.store.models import Base

# Created by the migration on PostgreSQL only (trigram search needs pg_trgm): not a model index.
POSTGRES_ONLY = {"ix_cases_title_trgm"}


def _include(obj, name, type_, reflected, compare_to) -> bool:
    return not (type_ == "index" and name in POSTGRES_ONLY)


def test_models_match_the_migrations(database: Database) -> None:
    with database.engine.connect() as conn:
        opts = {"compare_type": True, "include_object": _include}
        context = MigrationContext.configure(conn, opts=opts)
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent_and_reversible(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    migrate.upgrade(db)
    migrate.upgrade(db)
    assert migrate.is_current(db)
    migrate.downgrade(db, "base")
    assert migrate.current_revision(db) is None
    migrate.upgrade(db)
    assert migrate.is_current(db)
    db.dispose()
