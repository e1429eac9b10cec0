"""`qinglang db upgrade | current`: migrate the governance database (QINGLANG_DATABASE_URL)."""

from __future__ import annotations

from typing import Annotated

import typer

db_app = typer.Typer(help="Governance database: migrations.", no_args_is_help=True)

UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="Database URL. [default: QINGLANG_DATABASE_URL]"),
]


def open_database(url: str | None):  # -> Database (imports kept lazy for a fast --help)
    from qinglang.settings import get_settings
    from qinglang.store.db import Database, DatabaseURLError

    try:
        return Database(url or get_settings().database_url)
    except DatabaseURLError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@db_app.command("upgrade")
def upgrade(
    url: UrlOption = None,
    revision: Annotated[
        str, typer.Option("--revision", help="Target revision. [default: head]")
    ] = "head",
) -> None:
    """Create or migrate the schema to the newest revision (idempotent)."""
    from sqlalchemy.exc import OperationalError

    from qinglang.store import migrate

    db = open_database(url)
    try:
        migrate.upgrade(db, revision)
        typer.echo(f"database at revision {migrate.current_revision(db)}")
    except OperationalError as exc:
        typer.echo(f"error: cannot migrate the database: {exc.orig}", err=True)
        raise typer.Exit(1) from None
    finally:
        db.dispose()


@db_app.command("current")
def current(url: UrlOption = None) -> None:
    """Print the schema revision of the database and whether it is the newest."""
    from qinglang.store import migrate

    db = open_database(url)
    try:
        rev = migrate.current_revision(db)
        head = migrate.head_revision()
        typer.echo(f"{rev or '(empty)'} ({'current' if rev == head else f'newest is {head}'})")
        if rev != head:
            raise typer.Exit(1)
    finally:
        db.dispose()
