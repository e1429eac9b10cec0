"""`qinglang user create | list` and `qinglang token create`: accounts from the command line."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Annotated

import typer

from qinglang.cli.db import UrlOption, open_database

user_app = typer.Typer(
    help="User accounts (the first admin is created here).", no_args_is_help=True
)
token_app = typer.Typer(help="API tokens for machines.", no_args_is_help=True)


def _fail(exc: Exception) -> typer.Exit:
    message = getattr(exc, "message_zh", "") or str(exc)
    typer.echo(f"error: {exc} ({message})", err=True)
    return typer.Exit(2)


@user_app.command("create")
def create(
    username: Annotated[str, typer.Argument(help="Login name: lower-case letters, digits, . _ -")],
    role: Annotated[
        list[str],
        typer.Option("--role", help="admin, officer, analyst, leader or operator (repeatable)."),
    ],
    jurisdiction: Annotated[
        str, typer.Option("--jurisdiction", help="Division code, e.g. 100000 (national), 310000.")
    ] = "100000",
    department: Annotated[
        str | None,
        typer.Option("--department", help="cyberspace, education, police, press, market, ..."),
    ] = None,
    organisation: Annotated[
        int | None, typer.Option("--organisation", help="Organisation id (operators only).")
    ] = None,
    display_name: Annotated[
        str | None, typer.Option("--display-name", help="Name shown in the UI.")
    ] = None,
    password_env: Annotated[
        str | None,
        typer.Option(
            "--password-env",
            help="Read the password from this environment variable instead of a prompt.",
        ),
    ] = None,
    url: UrlOption = None,
) -> None:
    """Create a user (prompting for the password) and print it as JSON."""
    from qinglang.services.errors import ServiceError
    from qinglang.services.users import create_user

    if password_env:
        password = os.environ.get(password_env)
        if not password:
            typer.echo(f"error: environment variable {password_env} is empty", err=True)
            raise typer.Exit(2)
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    db = open_database(url)
    try:
        with db.write() as session:
            user = create_user(
                session,
                username=username,
                password=password,
                roles=role,
                jurisdiction=jurisdiction,
                department=department,
                display_name=display_name,
                organisation_id=organisation,
                by="system:cli",
                at=datetime.now(UTC),
            )
            out = {
                "id": user.id,
                "username": user.username,
                "roles": user.roles,
                "department": user.department,
                "jurisdiction": user.jurisdiction,
            }
    except ServiceError as exc:
        raise _fail(exc) from None
    finally:
        db.dispose()
    typer.echo(json.dumps(out, ensure_ascii=False))


@user_app.command("list")
def list_(url: UrlOption = None) -> None:
    """Print every user as one JSON object per line."""
    from qinglang.services.users import list_users

    db = open_database(url)
    try:
        with db.read() as session:
            for u in list_users(session):
                row = {
                    "id": u.id,
                    "username": u.username,
                    "roles": u.roles,
                    "department": u.department,
                    "jurisdiction": u.jurisdiction,
                    "active": u.active,
                }
                typer.echo(json.dumps(row, ensure_ascii=False))
    finally:
        db.dispose()


@token_app.command("create")
def token_create(
    username: Annotated[str, typer.Argument(help="The user the token acts as.")],
    name: Annotated[str, typer.Option("--name", help="What the token is for.")] = "cli",
    url: UrlOption = None,
) -> None:
    """Create an API token and print it once (only its hash is stored)."""
    from sqlalchemy import select

    from qinglang.services.errors import ServiceError
    from qinglang.services.users import create_token
    from qinglang.store.models import User

    db = open_database(url)
    try:
        with db.write() as session:
            user = session.execute(
                select(User).where(User.username == username.strip().lower())
            ).scalar_one_or_none()
            if user is None:
                typer.echo(f"error: no user {username!r}", err=True)
                raise typer.Exit(2)
            value, row = create_token(session, user.id, name, datetime.now(UTC))
            out = {"id": row.id, "token": value, "user": user.username}
    except ServiceError as exc:
        raise _fail(exc) from None
    finally:
        db.dispose()
    typer.echo(json.dumps(out))
