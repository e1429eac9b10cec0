"""`qinglang stats verify | rebuild`: check or recompute the statistics tallies.

The dashboard reads national and provincial figures from tallies kept up to date as cases are
written (`qinglang.services.tallies`, docs/statistics.md). `verify` compares them with a
recomputation from the cases and exits 1 when they differ; `rebuild` recomputes them in one
transaction (PostgreSQL: case writers wait for it, readers do not).
"""

from __future__ import annotations

import time

import typer

from qinglang.cli.db import UrlOption, open_database

stats_app = typer.Typer(
    help="Statistics tallies: check them against the cases, or recompute them.",
    no_args_is_help=True,
)


@stats_app.command("verify")
def verify(url: UrlOption = None) -> None:
    """Compare the tallies with a recomputation from the cases; exit 1 on any difference."""
    from qinglang.services import tallies

    db = open_database(url)
    try:
        with db.read() as session:
            problems = tallies.verify(session)
    finally:
        db.dispose()
    if problems:
        for line in problems:
            typer.echo(line)
        more = " (the first ones)" if len(problems) >= tallies.MAX_DIFFERENCES else ""
        typer.echo(
            f"error: {len(problems)} differences{more}; run `qinglang stats rebuild`"
            "（统计计数与案件不一致，请重建）",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo("tallies agree with the cases（统计计数与案件一致）")


@stats_app.command("rebuild")
def rebuild(url: UrlOption = None) -> None:
    """Recompute the tallies from the cases and dispositions (idempotent)."""
    from qinglang.services import tallies

    db = open_database(url)
    start = time.perf_counter()
    try:
        with db.write() as session:
            counts = tallies.rebuild(session)
    finally:
        db.dispose()
    rows = ", ".join(f"{name} {n:,}" for name, n in counts.items())
    typer.echo(f"tallies rebuilt in {time.perf_counter() - start:.1f} s: {rows}")
