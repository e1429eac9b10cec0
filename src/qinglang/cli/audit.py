"""`qinglang audit verify`: check the hash chain of the audit log."""

from __future__ import annotations

import json

import typer

from qinglang.cli.db import UrlOption, open_database

audit_app = typer.Typer(help="The append-only audit log.", no_args_is_help=True)


@audit_app.command("verify")
def verify(url: UrlOption = None) -> None:
    """Exit 0 when the log is intact; otherwise exit 1 naming the first bad entry."""
    from qinglang.store.audit_log import verify_log

    db = open_database(url)
    try:
        with db.read() as session:
            result = verify_log(session)
    finally:
        db.dispose()
    report = {
        "ok": result.ok,
        "checked": result.checked,
        "head_seq": result.head.seq if result.head else None,
        "first_bad_seq": result.first_bad_seq,
        "reason": result.reason,
    }
    typer.echo(json.dumps(report, ensure_ascii=False))
    if not result.ok:
        typer.echo(
            f"error: audit log broken at seq {result.first_bad_seq}: {result.reason}", err=True
        )
        raise typer.Exit(1)
