"""`qinglang nppa partner-add`: register a game company with the NPPA-compatible endpoint."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from qinglang.cli.db import UrlOption, open_database

nppa_app = typer.Typer(
    help="NPPA-compatible endpoint (/nppa): partners (appId, bizId, secretKey).",
    no_args_is_help=True,
)


@nppa_app.command("partner-add")
def partner_add(
    name: Annotated[str, typer.Option("--name", help="The game company's name.")],
    app_id: Annotated[
        str | None, typer.Option("--app-id", help="appId. [default: 32 random hex characters]")
    ] = None,
    biz_id: Annotated[
        str | None, typer.Option("--biz-id", help="bizId. [default: 32 random hex characters]")
    ] = None,
    secret_key: Annotated[
        str | None,
        typer.Option("--secret-key", help="secretKey, 32 hex characters. [default: a random one]"),
    ] = None,
    url: UrlOption = None,
) -> None:
    """Register a partner and print it (with its secretKey) as one JSON object."""
    from qinglang.guard.nppa.crypto import new_secret_key
    from qinglang.services.errors import ServiceError
    from qinglang.services.nppa_state import add_partner

    db = open_database(url)
    try:
        with db.write() as session:
            partner = add_partner(
                session,
                app_id=app_id or new_secret_key(),
                biz_id=biz_id or new_secret_key(),
                secret_key=secret_key or new_secret_key(),
                name=name,
                at=datetime.now(UTC),
            )
    except ServiceError as exc:
        message = getattr(exc, "message_zh", "") or str(exc)
        typer.echo(f"error: {exc} ({message})", err=True)
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    out = {
        "app_id": partner.app_id,
        "biz_id": partner.biz_id,
        "secret_key": partner.secret_key,
        "name": partner.name,
        "enabled": partner.enabled,
    }
    typer.echo(json.dumps(out, ensure_ascii=False))
