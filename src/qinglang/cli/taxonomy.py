"""`qinglang taxonomy`: the harm categories and who owns them."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from qinglang.taxonomy import get_taxonomy


def taxonomy(
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print the whole taxonomy (departments, categories, violations) as JSON."
        ),
    ] = False,
) -> None:
    """Show the content categories with their departments and thresholds.

    Columns: code, Chinese name, lead and cooperating departments, review and block thresholds.
    """
    tax = get_taxonomy()
    if as_json:
        typer.echo(json.dumps(tax.to_dict(), ensure_ascii=False, indent=2))
        return
    table = Table(title="Qinglang content categories 内容类别")
    for column in ("code", "名称", "lead 牵头", "co 配合"):
        table.add_column(column, overflow="fold")
    table.add_column("review", justify="right")
    table.add_column("block", justify="right")
    for cat in tax.categories.values():
        table.add_row(
            cat.code,
            cat.name,
            tax.departments[cat.lead].name,
            "、".join(tax.departments[d].name for d in cat.co),
            f"{cat.review:g}",
            f"{cat.block:g}",
        )
    Console().print(table)
