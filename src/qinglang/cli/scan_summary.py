"""Counts for the table `qinglang scan` prints on stderr at the end."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from qinglang.taxonomy import get_taxonomy

VERDICT_ORDER = ("pass", "review", "block")


@dataclass
class ScanSummary:
    items: int = 0
    skipped: int = 0
    by_verdict: Counter[str] = field(default_factory=Counter)
    # Items whose verdict lists the category (any score above zero).
    by_category: Counter[str] = field(default_factory=Counter)

    def add(self, verdict: dict[str, Any]) -> None:
        self.items += 1
        self.by_verdict[verdict["verdict"]] += 1
        for cat in verdict.get("categories", ()):
            self.by_category[cat["code"]] += 1

    def render(self, console: Console) -> None:
        verdicts = Table(title="Verdicts", title_justify="left")
        verdicts.add_column("verdict")
        verdicts.add_column("items", justify="right")
        for name in VERDICT_ORDER:
            verdicts.add_row(name, str(self.by_verdict.get(name, 0)))
        verdicts.add_row("total", str(self.items), style="bold")
        if self.skipped:
            verdicts.add_row("skipped lines", str(self.skipped))
        console.print(verdicts)
        if not self.by_category:
            return
        names = get_taxonomy().categories
        categories = Table(title="Categories", title_justify="left")
        categories.add_column("category")
        categories.add_column("名称")
        categories.add_column("items", justify="right")
        for code, count in sorted(self.by_category.items(), key=lambda kv: (-kv[1], kv[0])):
            name = names[code].name if code in names else ""
            categories.add_row(code, name, str(count))
        console.print(categories)
