"""`qinglang id check`: validate a resident ID number without storing or printing it."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Annotated

import typer

id_app = typer.Typer(help="Resident ID numbers (公民身份号码).", no_args_is_help=True)

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@id_app.command("check")
def check(
    id_number: Annotated[str, typer.Argument(help="An 18-character or 15-digit ID number.")],
    today: Annotated[
        str | None,
        typer.Option(
            "--today",
            help="Check the birth date against this day (YYYY-MM-DD), not today in Shanghai.",
        ),
    ] = None,
) -> None:
    """Check an ID number and print the result as one JSON object (exit 1 when invalid)."""
    from qinglang.guard.identity import check_id_number

    day: date | None = None
    if today is not None:
        try:
            if not _ISO_DATE.fullmatch(today):
                raise ValueError(today)
            day = date.fromisoformat(today)
        except ValueError:
            typer.echo(f"error: --today must be a date YYYY-MM-DD, not {today!r}", err=True)
            raise typer.Exit(2) from None
    result = check_id_number(id_number, today=day)
    typer.echo(json.dumps(result, ensure_ascii=False))
    if not result["valid"]:
        raise typer.Exit(1)
