"""The statistics as one XLSX workbook: 概况, 分类, 地区, 部门, 阶段, 处置, 成果, 趋势, 逾期整改.

Numbers are numeric cells (money as a decimal with two places, rates as percentages); every
text cell is escaped against formula injection (`ledger_io.escape_cell`) and typed as text.
The ledger has its own export (`ledger_io.export_subjects`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from qinglang.govern import statistics as rules
from qinglang.govern.clock import to_shanghai
from qinglang.services.ledger_io import escape_cell
from qinglang.services.statistics import Count, Statistics

SHEETS = ("概况", "分类", "地区", "部门", "阶段", "处置", "成果", "趋势", "逾期整改")


def _cell(sheet: Any, value: Any, *, bold: bool = False, fmt: str | None = None) -> Any:
    if isinstance(value, str):
        value = escape_cell(value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text, even when it looks like a formula or a number
    if bold:
        cell.font = Font(bold=True)
    if fmt:
        cell.number_format = fmt
    elif isinstance(value, Decimal):
        cell.number_format = "#,##0.00"
    return cell


def _sheet(
    wb: Workbook,
    name: str,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    widths: Sequence[int] = (),
    formats: dict[int, str] | None = None,
) -> None:
    sheet = wb.create_sheet(name)
    sheet.freeze_panes = "A2"
    for i in range(len(header)):
        sheet.column_dimensions[get_column_letter(i + 1)].width = (
            widths[i] if i < len(widths) else 14
        )
    sheet.append([_cell(sheet, h, bold=True) for h in header])
    for row in rows:
        sheet.append([_cell(sheet, v, fmt=(formats or {}).get(i)) for i, v in enumerate(row)])


def _counts(counts: Sequence[Count], total: int) -> list[list[Any]]:
    return [[c.code, c.name, c.n, rules.rate(c.n, total)] for c in counts]


COUNT_HEADER = ("代码", "名称", "案件数（件）", "占比")
PERCENT = {3: "0.0%"}


def build(stats: Statistics) -> bytes:
    """The workbook as .xlsx bytes."""
    wb = Workbook(write_only=True)
    stamp = to_shanghai(stats.as_of)
    found, total = stats.discovery_rate_basis
    disposed, accepted = stats.handling_rate_basis
    summary: list[list[Any]] = [
        ["标题", stats.title, None],
        ["统计范围（行政区划）", stats.jurisdiction, rules.region_label(stats.jurisdiction)],
        ["开始日期", stats.start.isoformat() if stats.start else "", None],
        ["截止日期", stats.end.isoformat() if stats.end else "", None],
        ["数据截至", f"{stamp:%Y-%m-%d %H:%M}", "北京时间"],
        ["案件总数（件）", stats.total_cases, None],
        ["发现率", stats.discovery_rate, f"巡查发现和平台自查 {found} ÷ 案件总数 {total}"],
        ["处置率", stats.handling_rate, f"进入整改及以后环节 {disposed} ÷ 已受理 {accepted}"],
        ["经审批的处置措施（项）", stats.dispositions_total, None],
        ["逾期整改（件）", stats.overdue_total, None],
        ["公开典型案例（起）", stats.typical_cases, None],
    ]
    summary += [[f"监管对象：{c.name}（个）", c.n, c.code] for c in stats.subjects]
    summary += [[f"案件状态：{c.name}（件）", c.n, c.code] for c in stats.by_state]
    summary += [[f"案件来源：{c.name}（件）", c.n, c.code] for c in stats.by_source]
    sheet = wb.create_sheet(SHEETS[0])
    for letter, width in (("A", 26), ("B", 30), ("C", 44)):
        sheet.column_dimensions[letter].width = width
    for row in summary:
        fmt = "0.0%" if row[0] in ("发现率", "处置率") else None
        sheet.append(
            [_cell(sheet, row[0], bold=True), _cell(sheet, row[1], fmt=fmt), _cell(sheet, row[2])]
        )
    n = stats.total_cases
    _sheet(wb, "分类", COUNT_HEADER, _counts(stats.by_category, n), (20, 40), PERCENT)
    _sheet(wb, "地区", COUNT_HEADER, _counts(stats.by_region, n), (12, 24), PERCENT)
    _sheet(wb, "部门", COUNT_HEADER, _counts(stats.by_department, n), (12, 16), PERCENT)
    stage_rows = _counts(stats.by_stage, n) + [
        [f"task:{c.code}", f"任务：{c.name}", c.n, rules.rate(c.n, n)] for c in stats.by_task
    ]
    _sheet(wb, "阶段", ("阶段", "名称", "案件数（件）", "占比"), stage_rows, (12, 30), PERCENT)
    _sheet(
        wb,
        "处置",
        ("代码", "处置措施", "数量（项）"),
        [[c.code, c.name, c.n] for c in stats.by_disposition],
        (18, 20),
    )
    _sheet(
        wb,
        "成果",
        ("代码", "统计项", "数量", "单位", "口径来源"),
        [[f.code, f.name, f.value, f.unit, f.source] for f in stats.figures],
        (24, 30, 16, 8, 16),
    )
    _sheet(
        wb,
        "趋势",
        ("起始日期（周一）" if stats.trend_unit == "week" else "日期", "新增案件", "办结/终结案件"),
        [[p.start, p.opened, p.ended] for p in stats.trend],
        (18, 12, 14),
        {0: "yyyy-mm-dd"},
    )
    _sheet(
        wb,
        "逾期整改",
        ("案件编号", "标题", "整改期限", "牵头部门", "逾期天数"),
        [
            [o.id, o.title, o.deadline, o.lead_department_name, o.days_overdue]
            for o in stats.overdue
        ]
        + ([[f"共{stats.overdue_total}件，列出最早到期的{len(stats.overdue)}件"]]
           if stats.overdue_total > len(stats.overdue) else []),
        (10, 40, 12, 12, 10),
        {2: "yyyy-mm-dd"},
    )  # fmt: skip
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
