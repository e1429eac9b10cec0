"""`qinglang lexicon check`: validate user lexicon files before deploying them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

lexicon_app = typer.Typer(help="Work with user lexicon files (TOML or TSV).", no_args_is_help=True)


@lexicon_app.command("check")
def check(
    files: Annotated[
        list[Path],
        typer.Argument(help="Lexicon files to validate.", show_default=False),
    ],
) -> None:
    """Validate lexicon files: print OK with term counts, or the error (exit code 1)."""
    from qinglang.detect import LexiconError, load_lexicon_file

    failed = False
    for path in files:
        try:
            lexicon = load_lexicon_file(path)
        except LexiconError as exc:
            typer.echo(f"error: {exc}", err=True)
            failed = True
            continue
        counts = lexicon.by_category()
        per_category = ", ".join(f"{code} {n}" for code, n in sorted(counts.items()))
        parts = [f"{sum(counts.values())} terms"]
        if per_category:
            parts.append(f"({per_category})")
        if lexicon.allow:
            parts.append(f"{len(lexicon.allow)} allow phrases")
        if lexicon.removed:
            parts.append(f"{len(lexicon.removed)} removals")
        typer.echo(f"OK {path}: " + " ".join(parts))
    if failed:
        raise typer.Exit(1)
