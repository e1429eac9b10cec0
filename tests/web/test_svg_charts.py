"""Server-side SVG charts: well-formed, accessible, escaped, and sane with empty or zero data."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qinglang.web.ui import svg_charts as charts

SVG = "{http://www.w3.org/2000/svg}"


def parse_svg(chart: charts.Chart) -> ET.Element:
    """The chart's SVG as XML (fails on broken markup or unescaped text)."""
    return ET.fromstring(str(chart.svg))


def all_charts(data):
    labels = [label for label, _ in data]
    return [
        charts.bar_chart("b", "条形图", data),
        charts.column_chart("c", "柱形图", data),
        charts.line_chart("l", "折线图", labels, [charts.Series("新增", [v for _, v in data])]),
    ]


def test_svg_is_accessible_and_has_a_data_table():
    for chart in all_charts([("网信", 3), ("公安", 5)]):
        root = parse_svg(chart)
        assert root.get("role") == "img" and root.get("aria-label") == chart.title
        assert root.find(f"{SVG}title").text == chart.title
        desc = root.find(f"{SVG}desc").text
        assert desc and "详见下方数据表" in desc
        html = str(chart)
        assert html.startswith(f'<figure class="chart-figure" id="{chart.chart_id}">')
        assert '<th scope="col">' in html and '<th scope="row">公安</th>' in html
        assert "<script" not in html


def test_labels_are_escaped():
    evil = '<script>alert("x")</script>&"'
    for chart in all_charts([(evil, 1)]):
        html = str(chart)
        assert "<script>" not in html
        assert "&lt;script&gt;" in html
        parse_svg(chart)  # still well-formed XML
    evil_title = charts.bar_chart("t", "<img src=x onerror=alert(1)>", [("a", 1)])
    assert "<img" not in str(evil_title) and "&lt;img" in str(evil_title)
    line = charts.line_chart("l", "t", ["d"], [charts.Series("<b>系列</b>", [1])])
    assert "<b>" not in str(line)


def test_empty_data_says_so():
    for chart in [
        charts.bar_chart("b", "条形图", []),
        charts.column_chart("c", "柱形图", []),
        charts.line_chart("l", "折线图", [], []),
        charts.line_chart("l2", "折线图", ["2026-01-01"], []),
    ]:
        root = parse_svg(chart)
        assert root.get("role") == "img"
        assert "暂无数据" in str(chart.svg) and "暂无数据" in str(chart.table)
        assert root.find(f"{SVG}rect") is None


def test_zero_values_draw_empty_bars_and_keep_the_numbers():
    chart = charts.bar_chart("b", "条形图", [("甲", 0), ("乙", 0)])
    root = parse_svg(chart)
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert widths == [0.0, 0.0]
    assert '<td class="num">0</td>' in str(chart.table)
    column = charts.column_chart("c", "柱形图", [("甲", 0), ("乙", 4)])
    heights = [float(r.get("height")) for r in parse_svg(column).iter(f"{SVG}rect")]
    assert heights[0] == 0.0 and heights[1] > 0


def test_bars_are_proportional():
    root = parse_svg(charts.bar_chart("b", "t", [("a", 10), ("b", 5)]))
    a, b = (float(r.get("width")) for r in root.iter(f"{SVG}rect"))
    assert a == pytest.approx(2 * b)


def test_long_chinese_labels_are_cut_with_the_full_text_in_title():
    long = "诱导未成年人充值打赏以及学习平台推送游戏低俗小说娱乐直播等无关信息"
    chart = charts.bar_chart("b", "条形图", [(long, 7)], label_width=120)
    root = parse_svg(chart)
    bar = root.find(f"{SVG}g")
    assert bar.find(f"{SVG}title").text == f"{long}：7"
    shown = next(t.text for t in bar.iter(f"{SVG}text"))
    assert shown.endswith("…") and long.startswith(shown[:-1]) and len(shown) < len(long)
    assert charts.text_width(shown) <= 120
    assert f'<th scope="row">{long}</th>' in str(chart.table)  # the table has it whole
    column = charts.column_chart("c", "t", [(long, 1), ("短", 2)], width=300)
    assert "…" in str(column.svg) and long in str(column.svg)


def test_fit_counts_wide_characters():
    assert charts.fit("abc", 100) == "abc"
    assert charts.text_width("中文", 10) == 20
    assert charts.text_width("ab", 10) == pytest.approx(12)
    assert charts.fit("中文中文中文", 40, 10) == "中文中…"


def test_decimal_values_and_axis():
    chart = charts.bar_chart("b", "罚款", [("甲", Decimal("1234.50"))])
    assert "1,234.50" in str(chart)
    assert charts.nice_max(0) == 1
    assert charts.nice_max(4) == 4
    assert charts.nice_max(12.5) == 15
    assert charts.nice_max(999) == 1000


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=30))
def test_axis_covers_the_data(values):
    top = max(values)
    axis = charts.nice_max(top)
    assert axis >= top and axis >= 1
    assert charts.nice_step(top) >= 1


@given(
    st.lists(
        st.tuples(st.text(min_size=0, max_size=40), st.integers(min_value=0, max_value=10**6)),
        max_size=8,
    )
)
def test_any_labels_give_well_formed_svg(data):
    # XML 1.0 cannot carry most control characters at all: labels come from our own tables
    data = [("".join(ch for ch in label if ch.isprintable()), v) for label, v in data]
    for chart in all_charts(data):
        parse_svg(chart)


def test_line_chart_marks_series_by_dash_and_marker_not_only_colour():
    chart = charts.line_chart(
        "l",
        "趋势",
        ["2026-01-01", "2026-01-02", "2026-01-03"],
        [charts.Series("新增", [1, 2, 0]), charts.Series("办结", [0, 1, 1])],
    )
    root = parse_svg(chart)
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 2
    assert lines[0].get("stroke-dasharray") is None and lines[1].get("stroke-dasharray")
    assert len(list(root.iter(f"{SVG}circle"))) == 3  # first series: circles
    html = str(chart.table)
    assert '<th scope="col" class="num">办结</th>' in html
    assert "<details" not in html  # short tables stay open


def test_long_tables_fold_into_details():
    labels = [f"2026-01-{d:02d}" for d in range(1, 31)]
    chart = charts.line_chart("l", "趋势", labels, [charts.Series("新增", [1] * 30)])
    assert "<details" in str(chart.table) and "查看数据表（30行）" in str(chart.table)
    assert len(list(parse_svg(chart).iter(f"{SVG}circle"))) == 30
