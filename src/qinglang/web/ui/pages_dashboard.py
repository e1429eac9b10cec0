"""The dashboard (数据看板) of a campaign: cards, charts with their data tables, result figures
and overdue rectifications, all from `qinglang.services.statistics.campaign_statistics`.

Charts are SVG drawn on the server (`svg_charts`): no script, no CDN. Each has a data table
with the same numbers. "/dashboard" opens the most recent running campaign the caller sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from qinglang.govern import campaigns as core
from qinglang.govern import statistics as rules
from qinglang.govern.clock import shanghai_date
from qinglang.govern.statistics import region_label
from qinglang.services import campaigns as campaign_service
from qinglang.services.statistics import Count, Statistics, campaign_statistics
from qinglang.web import auth
from qinglang.web.ui import svg_charts
from qinglang.web.ui.forms import known_id
from qinglang.web.ui.session import UiPrincipal
from qinglang.web.ui.templating import redirect, render, source_name, state_name

router = APIRouter(include_in_schema=False)

TOP_BARS = 12  # a bar chart shows the largest items, the rest summed as "其他"; tables all


def top_items(counts: Sequence[Count], limit: int = TOP_BARS) -> list[tuple[str, int]]:
    """(name, n) of the `limit` largest non-zero items, the rest summed into one "其他（k项）"
    bar (the data table lists every item, zeros included)."""
    items = [(c.name, c.n) for c in sorted(counts, key=lambda c: -c.n) if c.n]
    if len(items) <= limit:
        return items
    rest = items[limit - 1 :]
    return [*items[: limit - 1], (f"其他（{len(rest)}项）", sum(n for _, n in rest))]


def _bar(
    chart_id: str,
    title: str,
    counts: Sequence[Count],
    label: str,
    value: str = "案件数",
    unit: str = "件",
) -> svg_charts.Chart:
    """A bar chart of the largest items over a data table of every item."""
    chart = svg_charts.bar_chart(
        chart_id, title, top_items(counts), label_header=label, value_header=value, unit=unit
    )
    table = svg_charts.data_table(
        chart_id, f"{title}（数据表）", (label, value), [(c.name, c.n) for c in counts]
    )
    return svg_charts.Chart(chart.chart_id, chart.title, chart.svg, table)


def charts_of(stats: Statistics) -> dict[str, svg_charts.Chart]:
    unit_zh = "周（起始日）" if stats.trend_unit == "week" else "日期"
    return {
        "category": _bar("chart-category", "案件按问题类别", stats.by_category, "问题类别"),
        "disposition": _bar(
            "chart-disposition", "处置措施", stats.by_disposition, "处置措施", "次数", "次"
        ),
        "department": _bar("chart-department", "案件按牵头部门", stats.by_department, "牵头部门"),
        "stage": svg_charts.column_chart(
            "chart-stage",
            "案件按阶段（登记时所处阶段）",
            [(c.name, c.n) for c in stats.by_stage],
            label_header="阶段",
            value_header="案件数",
            unit="件",
        ),
        "region": _bar("chart-region", "案件按地区", stats.by_region, "地区"),
        "trend": svg_charts.line_chart(
            "chart-trend",
            "案件趋势：新增与办结" + ("（按周）" if stats.trend_unit == "week" else "（按日）"),
            [p.start.isoformat() for p in stats.trend],
            [
                svg_charts.Series("新增案件", [p.opened for p in stats.trend]),
                svg_charts.Series("办结案件", [p.ended for p in stats.trend]),
            ],
            label_header=unit_zh,
            unit="件",
            width=1000,
        ),
    }


def definitions() -> dict[str, str]:
    """The 统计口径 in words, built from the same constants the statistics use."""
    sources = "或".join(f"“{source_name(s)}”" for s in rules.DISCOVERY_SOURCES)
    disposed = "、".join(state_name(s) for s in rules.DISPOSED_STATES)
    not_accepted = "、".join(state_name(s) for s in rules.NOT_ACCEPTED_STATES)
    ended = "".join(f"“{state_name(s)}”" for s in rules.ENDED_STATES)
    return {
        "discovery": (
            f"发现率 = 来源为{sources}的案件数 ÷ 全部案件数，即监管部门和平台主动发现问题的比例。"
        ),
        "handling": (
            f"处置率 = 已进入整改及以后阶段（{disposed}）的案件数 ÷ 已受理案件数"
            f"（全部案件中除{not_accepted}以外的案件）。"
        ),
        "overdue": "整改逾期：处于“整改中”且整改期限（按北京时间日历日）早于今天的案件。",
        "trend": f"趋势：新增按案件登记日计，办结按案件进入{ended}状态之日计。",
        "scope": (
            "统计范围：归入本专项行动、且位于您管辖区域内的案件；部门不限（统计为汇总数，不含案件详情）。"
            "比率在分母为0时显示为“—”（无数据，不是0%）。"
        ),
    }


@router.get("/dashboard")
def dashboard_home(request: Request, principal: UiPrincipal) -> Response:
    today = shanghai_date(auth.now())
    with request.app.state.database.read() as session:
        views = campaign_service.list_campaigns(session, principal)
    running = [v for v in views if core.is_running(v.plan, today)]
    if running:
        latest = max(running, key=lambda v: (v.plan.starts_on, v.id))
        return redirect(f"/campaigns/{latest.id}/dashboard")
    rows = [{"view": v, "region": region_label(v.plan.jurisdiction)} for v in views]
    return render(request, "dashboard/index.html", {"rows": rows}, title="数据看板")


@router.get("/campaigns/{campaign_id:int}/dashboard")
def campaign_dashboard(request: Request, principal: UiPrincipal, campaign_id: int) -> Response:
    known_id(campaign_id, "campaign", "专项行动")
    at = auth.now()
    with request.app.state.database.read() as session:
        view = campaign_service.get_campaign(session, principal, campaign_id)
        stats = campaign_statistics(session, principal, campaign_id, at=at)
    today = shanghai_date(at)
    context: dict[str, Any] = {
        "view": view,
        "stats": stats,
        "region": region_label(stats.jurisdiction),
        "stage": core.stage_on(view.plan, today),
        "charts": charts_of(stats),
        "definitions": definitions(),
    }
    return render(request, "dashboard/campaign.html", context, title=f"数据看板 · {view.name}")
