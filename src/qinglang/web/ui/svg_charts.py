"""Charts drawn on the server as SVG: horizontal bars, columns and lines, with their data tables.

The dashboard's charts are "rendered from local assets": plain SVG markup written here, no
JavaScript library, no CDN, nothing for the browser to fetch. Each chart is a `Chart` whose
HTML is a <figure> holding the SVG (role="img", an aria-label, <title> and <desc>) and a data
table with the same numbers, so screen-reader and keyboard users read the table, and the
page still says everything when images are off or the page is printed.

Every label and title is escaped (labels come from the database: names of departments,
regions, stages someone typed). A long label is cut to fit with "…"; its full text stays in
the <title> of its bar (a tooltip) and in the table. Colours meet WCAG 1.4.11 (≥ 3:1 against
white for graphics) and series differ by dash and marker as well as colour.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup

# Brand blue (8.6:1 on white) and a dark orange (4.9:1): distinguishable for the common
# colour-vision deficiencies, and never the only difference between two series.
PALETTE = ("#0b4f8a", "#b35900", "#1e6b34", "#6a3d9a")
DASHES = ("", "6 4", "2 3", "8 3 2 3")
INK = "#1a1a1a"
GRID = "#c9cdd2"
FONT = 13  # px, the labels' font size
EMPTY_ZH = "暂无数据"
COLLAPSE_ROWS = 15  # a longer data table folds into <details> (keyboard- and reader-friendly)
MARKERS_UP_TO = 40  # points per series drawn with a marker (and its tooltip)

Number = int | float | Decimal


@dataclass(frozen=True, slots=True)
class Chart:
    """An SVG chart and its data table; `str(chart)` / `{{ chart }}` is the <figure>."""

    chart_id: str
    title: str
    svg: Markup
    table: Markup

    def __html__(self) -> str:
        return str(
            Markup('<figure class="chart-figure" id="{id}">\n{svg}\n{table}\n</figure>').format(
                id=self.chart_id, svg=self.svg, table=self.table
            )
        )

    def __str__(self) -> str:
        return self.__html__()


@dataclass(frozen=True, slots=True)
class Series:
    """One line of a line chart: its name and one value per x label."""

    name: str
    values: Sequence[Number]


# ---------------------------------------------------------------- text and numbers


def text_width(text: str, size: float = FONT) -> float:
    """The approximate rendered width of `text`: CJK and other wide characters count one
    em, the rest about 0.6 em (no font metrics on the server)."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.6 for ch in text)


def fit(text: str, width: float, size: float = FONT) -> str:
    """`text` cut to fit `width` pixels, ending in "…" when cut."""
    if text_width(text, size) <= width:
        return text
    out = ""
    budget = width - size  # room for the ellipsis
    for ch in text:
        if text_width(out + ch, size) > budget:
            break
        out += ch
    return out + "…"


def _value(v: Number | None) -> float:
    """A drawable magnitude: None, NaN, infinities and negatives draw as 0."""
    if v is None:
        return 0.0
    f = float(v)
    return f if math.isfinite(f) and f > 0 else 0.0


def _at(values: Sequence[Number], i: int) -> Number | None:
    return values[i] if i < len(values) else None


def default_format(v: Number | None) -> str:
    if v is None:
        return "—"
    if isinstance(v, Decimal):
        return f"{v:,.2f}"
    if isinstance(v, float):
        return f"{v:,.1f}" if math.isfinite(v) else "—"
    return f"{v:,}"


def nice_step(top: float, n: int = 4) -> float:
    """A tick step of 1, 2 or 5 × 10^k giving about `n` intervals up to `top` (whole numbers
    for counts: never below 1)."""
    if top <= 0:
        return 1.0
    raw = top / n
    exp = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * exp:
            return max(1.0, m * exp)
    return max(1.0, 10 * exp)  # pragma: no cover - the loop always returns


def nice_max(top: float) -> float:
    """The axis maximum: `top` rounded up to a whole number of ticks (1 for an empty axis)."""
    step = nice_step(top)
    return max(step, math.ceil(top / step) * step)


def _ticks(top: float) -> list[float]:
    step = nice_step(top)
    return [step * i for i in range(round(top / step) + 1)]


def _tick_label(v: float) -> str:
    return f"{int(v):,}" if v == int(v) else f"{v:,.1f}"


def _f(x: float) -> str:
    """A coordinate, short."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------- frame and table


def _svg_open(chart_id: str, title: str, desc: str, width: int, height: int) -> Markup:
    return Markup(
        '<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" '
        'width="{w}" height="{h}" role="img" aria-label="{label}" '
        'aria-describedby="{id}-desc" font-size="{fs}">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
    ).format(w=width, h=height, label=title, id=chart_id, fs=FONT, title=title, desc=desc)


def _empty_svg(chart_id: str, title: str, width: int) -> Markup:
    height = 80
    return _svg_open(chart_id, title, f"{title}：{EMPTY_ZH}。", width, height) + Markup(
        '<text x="{x}" y="{y}" text-anchor="middle" fill="{ink}">{msg}</text></svg>'
    ).format(x=width / 2, y=height / 2 + 5, ink=INK, msg=EMPTY_ZH)


def data_table(
    chart_id: str,
    caption: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    fmt: Callable[[Number | None], str] = default_format,
) -> Markup:
    """The chart's numbers as a table: the first column the labels, the rest numbers."""
    if not rows:
        return Markup('<p class="muted chart-empty">{c}：{e}。</p>').format(c=caption, e=EMPTY_ZH)
    head = Markup("").join(
        Markup('<th scope="col"{cls}>{h}</th>').format(h=h, cls=Markup(' class="num"') if i else "")
        for i, h in enumerate(headers)
    )
    body = Markup(
        ""
    ).join(
        Markup('<tr><th scope="row">{label}</th>{cells}</tr>').format(
            label=row[0],
            cells=Markup("").join(
                Markup('<td class="num">{v}</td>').format(v=fmt(v))  # type: ignore[arg-type]
                for v in row[1:]
            ),
        )
        for row in rows
    )
    table = Markup(
        '<div class="table-wrap"><table class="chart-data" id="{id}-data">'
        "<caption>{caption}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
        "</table></div>"
    ).format(id=chart_id, caption=caption, head=head, body=body)
    if len(rows) > COLLAPSE_ROWS:
        return Markup(
            '<details class="chart-details"><summary>查看数据表（{n}行）</summary>{t}</details>'
        ).format(n=len(rows), t=table)
    return table


def _describe(title: str, data: Sequence[tuple[str, Number]], unit: str, fmt) -> str:
    """A sentence for <desc>: the largest items first (at most five)."""
    if not data:
        return f"{title}：{EMPTY_ZH}。"
    top = sorted(data, key=lambda d: -_value(d[1]))[:5]
    parts = "，".join(f"{label} {fmt(v)}{unit}" for label, v in top)
    more = f"等{len(data)}项" if len(data) > 5 else f"共{len(data)}项"
    return f"{title}：{parts}（{more}，详见下方数据表）。"


# ---------------------------------------------------------------- bar (horizontal)


def bar_chart(
    chart_id: str,
    title: str,
    data: Sequence[tuple[str, Number]],
    *,
    label_header: str = "项目",
    value_header: str = "数量",
    unit: str = "",
    width: int = 640,
    label_width: int = 170,
    fmt: Callable[[Number | None], str] = default_format,
) -> Chart:
    """Horizontal bars, one per (label, value), in the order given."""
    table = data_table(
        chart_id, f"{title}（数据表）", (label_header, value_header), list(data), fmt
    )
    if not data:
        return Chart(chart_id, title, _empty_svg(chart_id, title, width), table)
    bar_h, gap, top_pad, bottom_pad = 22, 8, 8, 26
    value_room = 70
    plot_x = label_width + 8
    plot_w = width - plot_x - value_room
    height = top_pad + len(data) * (bar_h + gap) + bottom_pad
    axis = nice_max(max(_value(v) for _, v in data))
    parts = [_svg_open(chart_id, title, _describe(title, data, unit, fmt), width, height)]
    plot_bottom = top_pad + len(data) * (bar_h + gap)
    for t in _ticks(axis):
        x = plot_x + plot_w * t / axis
        parts.append(
            Markup(
                '<line x1="{x}" y1="{y1}" x2="{x}" y2="{y2}" stroke="{g}" stroke-width="1"/>'
                '<text x="{x}" y="{ty}" text-anchor="middle" fill="{ink}">{t}</text>'
            ).format(
                x=_f(x), y1=top_pad - 4, y2=plot_bottom, g=GRID, ty=plot_bottom + 16, ink=INK,
                t=_tick_label(t),
            )
        )  # fmt: skip
    for i, (label, v) in enumerate(data):
        y = top_pad + i * (bar_h + gap)
        w = plot_w * _value(v) / axis
        parts.append(
            Markup(
                '<g class="bar"><title>{full}：{val}{unit}</title>'
                '<text x="{lx}" y="{ty}" text-anchor="end" fill="{ink}">{short}</text>'
                '<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{c}"/>'
                '<text x="{vx}" y="{ty}" fill="{ink}">{val}</text></g>'
            ).format(
                full=label, val=fmt(v), unit=unit, lx=label_width, ty=_f(y + bar_h / 2 + 4.5),
                ink=INK, short=fit(label, label_width), x=plot_x, y=y, w=_f(w), h=bar_h,
                c=PALETTE[0], vx=_f(plot_x + w + 5),
            )
        )  # fmt: skip
    parts.append(Markup("</svg>"))
    return Chart(chart_id, title, Markup("").join(parts), table)


# ---------------------------------------------------------------- column (vertical)


def column_chart(
    chart_id: str,
    title: str,
    data: Sequence[tuple[str, Number]],
    *,
    label_header: str = "项目",
    value_header: str = "数量",
    unit: str = "",
    width: int = 640,
    height: int = 280,
    fmt: Callable[[Number | None], str] = default_format,
) -> Chart:
    """Vertical columns, one per (label, value), left to right in the order given."""
    table = data_table(
        chart_id, f"{title}（数据表）", (label_header, value_header), list(data), fmt
    )
    if not data:
        return Chart(chart_id, title, _empty_svg(chart_id, title, width), table)
    left, right, top, bottom = 48, 12, 20, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / len(data)
    col_w = max(4.0, min(64.0, slot * 0.6))
    axis = nice_max(max(_value(v) for _, v in data))
    parts = [_svg_open(chart_id, title, _describe(title, data, unit, fmt), width, height)]
    for t in _ticks(axis):
        y = top + plot_h - plot_h * t / axis
        parts.append(
            Markup(
                '<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{g}" stroke-width="1"/>'
                '<text x="{tx}" y="{ty}" text-anchor="end" fill="{ink}">{t}</text>'
            ).format(
                x1=left, x2=width - right, y=_f(y), g=GRID, tx=left - 6, ty=_f(y + 4.5), ink=INK,
                t=_tick_label(t),
            )
        )  # fmt: skip
    for i, (label, v) in enumerate(data):
        cx = left + slot * i + slot / 2
        h = plot_h * _value(v) / axis
        y = top + plot_h - h
        parts.append(
            Markup(
                '<g class="column"><title>{full}：{val}{unit}</title>'
                '<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{c}"/>'
                '<text x="{cx}" y="{vy}" text-anchor="middle" fill="{ink}">{val}</text>'
                '<text x="{cx}" y="{ly}" text-anchor="middle" fill="{ink}">{short}</text></g>'
            ).format(
                full=label, val=fmt(v), unit=unit, x=_f(cx - col_w / 2), y=_f(y), w=_f(col_w),
                h=_f(h), c=PALETTE[0], cx=_f(cx), vy=_f(y - 5), ink=INK,
                ly=top + plot_h + 18, short=fit(label, slot - 4),
            )
        )  # fmt: skip
    parts.append(Markup("</svg>"))
    return Chart(chart_id, title, Markup("").join(parts), table)


# ---------------------------------------------------------------- line


def line_chart(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    label_header: str = "时间",
    unit: str = "",
    width: int = 640,
    height: int = 280,
    fmt: Callable[[Number | None], str] = default_format,
) -> Chart:
    """Lines over the x `labels` (dates, weeks), one per series, with a legend."""
    rows = (
        [(label, *(_at(s.values, i) for s in series)) for i, label in enumerate(labels)]
        if series
        else []
    )
    table = data_table(
        chart_id, f"{title}（数据表）", (label_header, *(s.name for s in series)), rows, fmt
    )
    if not labels or not series:
        return Chart(chart_id, title, _empty_svg(chart_id, title, width), table)
    widest = max(text_width(label) for label in labels) + 8
    left, right, top, bottom = 48, max(12, widest / 2), 34, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(labels)
    step = plot_w / max(n - 1, 1)
    axis = nice_max(max(_value(v) for s in series for v in s.values))
    totals = "，".join(f"{s.name}合计{fmt(sum(_value(v) for v in s.values))}{unit}" for s in series)
    desc = f"{title}：{labels[0]}至{labels[-1]}，{totals}（详见下方数据表）。"
    parts = [_svg_open(chart_id, title, desc, width, height)]
    for t in _ticks(axis):
        y = top + plot_h - plot_h * t / axis
        parts.append(
            Markup(
                '<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{g}" stroke-width="1"/>'
                '<text x="{tx}" y="{ty}" text-anchor="end" fill="{ink}">{t}</text>'
            ).format(
                x1=left, x2=width - right, y=_f(y), g=GRID, tx=left - 6, ty=_f(y + 4.5), ink=INK,
                t=_tick_label(t),
            )
        )  # fmt: skip
    # x labels: as many as fit without overlapping, always the first and the last.
    every = max(1, math.ceil(widest / step)) if n > 1 else 1
    shown = list(range(0, n, every))
    if shown[-1] != n - 1 and (n - 1 - shown[-1]) * step >= widest:
        shown.append(n - 1)
    for i in shown:
        x = left + step * i if n > 1 else left + plot_w / 2
        parts.append(
            Markup('<text x="{x}" y="{y}" text-anchor="middle" fill="{ink}">{t}</text>').format(
                x=_f(x), y=top + plot_h + 18, ink=INK, t=labels[i]
            )
        )
    for k, s in enumerate(series):
        colour, dash = PALETTE[k % len(PALETTE)], DASHES[k % len(DASHES)]
        points = [
            (
                left + step * i if n > 1 else left + plot_w / 2,
                top + plot_h - plot_h * _value(v) / axis,
            )
            for i, v in enumerate(s.values[:n])
        ]
        path = " ".join(f"{_f(x)},{_f(y)}" for x, y in points)
        parts.append(
            Markup(
                '<g class="series"><polyline points="{p}" fill="none" stroke="{c}" '
                'stroke-width="2.5"{dash}/>'
            ).format(
                p=path,
                c=colour,
                dash=Markup(' stroke-dasharray="{d}"').format(d=dash) if dash else "",
            )
        )
        for (x, y), label, v in zip(points, labels, s.values, strict=False):
            if n > MARKERS_UP_TO:
                break
            marker = (
                Markup('<circle cx="{x}" cy="{y}" r="3.5" fill="{c}"/>')
                if k % 2 == 0
                else Markup('<rect x="{x0}" y="{y0}" width="7" height="7" fill="{c}"/>')
            )
            parts.append(
                Markup('<g><title>{label} {name}：{val}{unit}</title>{m}</g>').format(
                    label=label, name=s.name, val=fmt(v), unit=unit,
                    m=marker.format(x=_f(x), y=_f(y), x0=_f(x - 3.5), y0=_f(y - 3.5), c=colour),
                )
            )  # fmt: skip
        parts.append(Markup("</g>"))
        # legend, top left, one entry per series
        lx = left + k * 150
        parts.append(
            Markup(
                '<g class="legend"><line x1="{x1}" y1="14" x2="{x2}" y2="14" stroke="{c}" '
                'stroke-width="2.5"{dash}/><text x="{tx}" y="18" fill="{ink}">{name}</text></g>'
            ).format(
                x1=lx, x2=lx + 28, c=colour, tx=lx + 34, ink=INK, name=fit(s.name, 110),
                dash=Markup(' stroke-dasharray="{d}"').format(d=dash) if dash else "",
            )
        )  # fmt: skip
    parts.append(Markup("</svg>"))
    return Chart(chart_id, title, Markup("").join(parts), table)
