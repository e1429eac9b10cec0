"""`qinglang demo`: load the fictional demo campaign into an empty database (docs/demo.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from qinglang.cli.db import UrlOption, open_database

if TYPE_CHECKING:
    from qinglang.services.demo import DemoResult

NOT_EMPTY = (
    "error: the database already holds users or ledger subjects; demo data goes only into an "
    "empty database, never next to real data (数据库非空，不能写入演示数据)"
)


def demo(
    url: UrlOption = None,
    if_empty: Annotated[
        bool,
        typer.Option(
            "--if-empty", help="Load only into an empty database; otherwise say so and exit 0."
        ),
    ] = False,
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            help="One password for every demo user (at least 10 characters). "
            "[default: a random one each]",
        ),
    ] = None,
) -> None:
    """Fill an empty database with a fictional campaign, users, cases and tips; print the
    logins once."""
    from sqlalchemy.exc import SQLAlchemyError

    from qinglang.services import demo as demo_data
    from qinglang.services.errors import ServiceError
    from qinglang.settings import get_settings
    from qinglang.store import migrate
    from qinglang.store.blobs import BlobStore
    from qinglang.store.passwords import PasswordPolicyError, check_policy
    from qinglang.web.detector_provider import DetectorProvider

    if password is not None:
        try:
            check_policy(password)
        except PasswordPolicyError as exc:
            typer.echo(f"error: --password: {exc} ({exc.message_zh})", err=True)
            raise typer.Exit(2) from None
    db = open_database(url)
    try:
        try:
            revision = migrate.current_revision(db)
        except SQLAlchemyError as exc:
            typer.echo(f"error: cannot read the database: {exc}", err=True)
            raise typer.Exit(1) from None
        if revision != migrate.head_revision():
            typer.echo(
                "error: the database schema is not current: run `qinglang db upgrade` first",
                err=True,
            )
            raise typer.Exit(1)
        if not demo_data.is_empty(db):
            if if_empty:
                typer.echo("demo: the database already holds data; nothing loaded")
                return
            typer.echo(NOT_EMPTY, err=True)
            raise typer.Exit(1)
        settings = get_settings()
        try:
            result = demo_data.load(
                db,
                BlobStore(settings.blob_dir),
                settings,
                at=datetime.now(UTC),
                password=password,
                detector=DetectorProvider(settings).get(),
            )
        except ServiceError as exc:
            if exc.code == "database_not_empty":  # filled by someone else meanwhile
                typer.echo(NOT_EMPTY, err=True)
                raise typer.Exit(1) from None
            typer.echo(f"error: {exc} ({exc.message_zh})", err=True)
            raise typer.Exit(2) from None
    finally:
        db.dispose()
    _print(result, f"http://{settings.host}:{settings.port}")


def _print(result: DemoResult, address: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from qinglang.govern.actors import ROLE_NAMES_ZH, Role
    from qinglang.govern.cases import STATE_NAMES_ZH, State
    from qinglang.taxonomy import get_taxonomy

    departments = {code: d.name for code, d in get_taxonomy().departments.items()}
    counts = result.counts
    typer.echo(
        f"demo loaded: campaign {result.campaign_id}, {counts['users']} users, "
        f"{counts['subjects']} subjects, {counts['intake_items']} intake items, "
        f"{counts['cases']} cases, {counts['dispositions']} dispositions, "
        f"{counts['publications']} published cases, {counts['audit_events']} audit events"
    )
    table = Table(title=f"演示账号 demo logins — {address}", title_justify="left")
    for header in ("username", "角色 role", "部门/单位 department", "辖区", "password"):
        table.add_column(header, no_wrap=True)
    for login in result.logins:
        roles = "、".join(ROLE_NAMES_ZH[Role(r)] for r in login.roles)
        department = login.organisation or departments.get(login.department or "", "—")
        table.add_row(login.username, roles, department, login.jurisdiction, login.password)
    console = Console(width=120, soft_wrap=True, highlight=False)
    console.print(table)
    typer.echo(
        "These passwords are shown only this once and are stored only as hashes: save them now. "
        "（以上密码只显示这一次，数据库只保存其哈希值，请立即妥善保存。）"
    )
    closed = next((t for t in result.tickets if t.case_state == "closed"), None)
    if closed is not None:
        name = STATE_NAMES_ZH[State(closed.case_state)]
        typer.echo(f"public ticket to try on the reporting page: {closed.ticket} ({name})")
