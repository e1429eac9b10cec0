"""`qinglang campaign templates | list | remind`: campaigns from the command line.

`remind` is meant for a daily job (cron, systemd timer): it prints today's reminders of every
running campaign — reports due within `--days` days, reports overdue, a stage ending — one
line each, or as JSON lines for a mailer or an SMS gateway to send on. It only reads.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Annotated

import typer

from qinglang.cli.db import UrlOption, open_database
from qinglang.cli.report import AsOption, principal_for

campaign_app = typer.Typer(
    help="Campaigns (专项行动): templates, the campaigns in the database, reminders.",
    no_args_is_help=True,
)


@campaign_app.command("templates")
def templates() -> None:
    """List the campaign templates of the seed documents with their stages and tasks."""
    from qinglang.govern.campaigns import templates as all_templates

    for code, plan in all_templates().items():
        typer.echo(f"{code}\t{plan.name}\t{plan.jurisdiction}\t{plan.source}")
        for s in plan.stages:
            typer.echo(f"  stage {s.n}\t{s.name}\tby {s.deadline.isoformat()}")
        for t in plan.tasks:
            co = ",".join(t.co) or "-"
            typer.echo(f"  task {t.code}\t{t.name}\tlead {t.lead}\tco {co}")


def _at(day: str | None) -> datetime:
    if day is None:
        return datetime.now(UTC)
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        typer.echo(f"error: --at must be a date like 2026-12-03, not {day!r}", err=True)
        raise typer.Exit(2) from None
    # Noon in China on that day: the day is the same in UTC and in Asia/Shanghai.
    return datetime.combine(parsed, time(4, 0), UTC)


@campaign_app.command("list")
def list_campaigns(
    as_user: AsOption = None,
    archived: Annotated[bool, typer.Option("--archived", help="Include archived ones.")] = False,
    url: UrlOption = None,
) -> None:
    """List the campaigns the user sees (default: all), with their period and current stage."""
    from qinglang.govern.campaigns import stage_on
    from qinglang.govern.clock import shanghai_date
    from qinglang.services import campaigns

    db = open_database(url)
    try:
        with db.read() as session:
            principal = principal_for(session, as_user)
            views = campaigns.list_campaigns(session, principal, include_archived=archived)
            today = shanghai_date(datetime.now(UTC))
            for v in views:
                stage = stage_on(v.plan, today)
                where = f"stage {stage.n} {stage.name}" if stage else "not running"
                typer.echo(
                    f"{v.id}\t{v.name}\t{v.plan.jurisdiction}\t"
                    f"{v.plan.starts_on.isoformat()}..{v.plan.ends_on.isoformat()}\t{where}"
                )
    finally:
        db.dispose()


@campaign_app.command("remind")
def remind(
    days: Annotated[
        int, typer.Option("--days", min=0, max=90, help="Remind this many days ahead.")
    ] = 7,
    at: Annotated[
        str | None,
        typer.Option("--at", help="The day to remind for (YYYY-MM-DD). [default: today]"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line.")] = False,
    url: UrlOption = None,
) -> None:
    """Print today's reminders of every running campaign (exit 0 even when there are none)."""
    from qinglang.govern.campaigns import is_running
    from qinglang.govern.clock import shanghai_date
    from qinglang.services import campaigns

    moment = _at(at)
    today = shanghai_date(moment)
    db = open_database(url)
    try:
        with db.read() as session:
            principal = principal_for(session, None)
            for view in campaigns.list_campaigns(session, principal):
                if not is_running(view.plan, today):
                    continue
                progress = campaigns.progress(
                    session, principal, view.id, at=moment, days_before=days
                )
                for r in progress.reminders:
                    if as_json:
                        record = {
                            "campaign_id": view.id,
                            "campaign": view.name,
                            "kind": r.kind,
                            "department": r.department,
                            "stage": r.stage,
                            "deadline": r.deadline.isoformat(),
                            "days_left": r.days_left,
                            "message": r.message_zh,
                        }
                        typer.echo(json.dumps(record, ensure_ascii=False))
                    else:
                        typer.echo(f"[{view.id} {view.name}] {r.kind}: {r.message_zh}")
    finally:
        db.dispose()
