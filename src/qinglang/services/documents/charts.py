"""PNG charts for the documents, drawn with matplotlib's Agg canvas (no display, no pyplot
and its global state: safe in a web worker's threads).

Chinese labels need a CJK font: the first of CJK_FONTS that matplotlib's font manager knows
is used (fonts-noto-cjk on Debian gives "Noto Sans CJK SC"). Without one the charts are still
drawn, with the labels in the fallback font (the characters may show as boxes) and a warning
in the log, rather than failing the whole document.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from functools import cache
from typing import Any

import matplotlib
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

log = logging.getLogger(__name__)

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK", "WenQuanYi", "Droid Sans Fallback")
DPI = 150
WIDTH_IN = 6.3  # the text width of an A4 page with 2.5 cm margins
BAR_COLOR = "#3a6ea5"
ENDED_COLOR = "#d9822b"
MAX_BARS = 12


@cache
def cjk_font() -> str | None:
    """The family name of an installed CJK font, or None when there is none."""
    names = sorted({f.name for f in font_manager.fontManager.ttflist})
    for wanted in CJK_FONTS:
        exact = [n for n in names if n == wanted]
        partial = [n for n in names if n.startswith(wanted)]
        if exact or partial:
            return (exact or partial)[0]
    log.warning("no CJK font found (tried %s): chart labels may not render", ", ".join(CJK_FONTS))
    return None


def _figure(height: float) -> tuple[Figure, Any]:
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _fonts() -> dict[str, Any]:
    family = cjk_font()
    return {"family": [family, "DejaVu Sans"] if family else ["DejaVu Sans"]}


def _short(label: str, limit: int = 14) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bar_chart(items: Sequence[tuple[str, int]], title: str, unit: str = "件") -> bytes:
    """A horizontal bar chart of (label, value), largest at the top (at most MAX_BARS)."""
    data = [(label, n) for label, n in items if n][:MAX_BARS]
    with matplotlib.rc_context({"font.family": _fonts()["family"], "axes.unicode_minus": False}):
        fig, ax = _figure(max(2.2, 0.42 * len(data) + 1.2))
        if not data:
            ax.text(0.5, 0.5, "暂无数据", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
        else:
            labels = [_short(label) for label, _ in reversed(data)]
            values = [n for _, n in reversed(data)]
            bars = ax.barh(labels, values, color=BAR_COLOR)
            ax.bar_label(bars, labels=[f"{v}" for v in values], padding=3, fontsize=8)
            ax.set_xlabel(unit)
            ax.margins(x=0.12)
        ax.set_title(title, fontsize=11)
        return _png(fig)


def trend_chart(points: Sequence[tuple[Any, int, int]], title: str, unit: str = "day") -> bytes:
    """Lines of cases opened and ended per bucket: (bucket start date, opened, ended)."""
    with matplotlib.rc_context({"font.family": _fonts()["family"], "axes.unicode_minus": False}):
        fig, ax = _figure(3.0)
        if not points:
            ax.text(0.5, 0.5, "暂无数据", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
        else:
            xs = [p[0] for p in points]
            ax.plot(xs, [p[1] for p in points], marker="o", markersize=3, color=BAR_COLOR,
                    label="新增案件")  # fmt: skip
            ax.plot(xs, [p[2] for p in points], marker="s", markersize=3, color=ENDED_COLOR,
                    label="办结/终结案件")  # fmt: skip
            ax.set_ylabel("件/周" if unit == "week" else "件/日")
            ax.legend(frameon=False, fontsize=8)
            ax.tick_params(axis="x", labelsize=7)
            fig.autofmt_xdate()
        ax.set_title(title, fontsize=11)
        return _png(fig)
