"""The campaign summary (专项行动工作总结) in Word, in the structure seed 004 asks for:

一、基本情况 — subjects in the ledger by kind, the campaign's period, stages and departments;
二、存在问题 — cases by category and by region;
三、典型案例 — the typical cases published on the disclosure page (public fields only);
四、主要措施与做法 — tasks with their lead and cooperating departments, the departments'
    progress reports stage by stage, the dispositions approved;
五、主要成果 — the counters in the words of seed 003 with a table, the discovery and handling
    rates with their basis, and three charts (cases by category, trend, dispositions);
六、意见建议 — draft text generated from the figures, marked for the official to edit.

Every number printed comes from `Statistics` (live figures); the departments' own report texts
are quoted as they wrote them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

from docx.document import Document as DocumentObject
from docx.enum.text import WD_COLOR_INDEX
from docx.shared import Cm, RGBColor
from sqlalchemy.orm import Session

from qinglang.govern import statistics as rules
from qinglang.govern.campaigns import stage_starts
from qinglang.govern.clock import to_shanghai
from qinglang.govern.identifiers import NATIONAL_DIVISION
from qinglang.services.campaigns import CampaignView, ReportView
from qinglang.services.disclosure import PublicCase
from qinglang.services.documents import (
    centered,
    china_date,
    new_document,
    number,
    to_bytes,
)
from qinglang.services.documents.charts import bar_chart, trend_chart
from qinglang.services.principal import Principal
from qinglang.services.statistics import Count, Statistics
from qinglang.taxonomy import get_taxonomy

NUMERALS = "一二三四五六七八九十"
LOW_HANDLING = 0.6  # below this 处置率 the suggestions ask to speed up disposal
LOW_DISCOVERY = 0.5  # below this 发现率 most problems were left to the public to find
TOP = 3
DRAFT_MARK = (
    "【草稿】以下意见建议由系统根据统计数据自动生成，仅供参考，请结合实际修改完善后再上报。"
)
TYPICAL_MAX = 20


def _ordinal(i: int) -> str:
    """（一）, （二）, … for 1, 2, …"""
    if i <= 10:
        return f"（{NUMERALS[i - 1]}）"
    return f"（{i}）"


def _numeral(n: int) -> str:
    return NUMERALS[n - 1] if 1 <= n <= 10 else str(n)


def _q(name: str) -> str:
    """A name in quotes, unless it holds quotes of its own (“饭圈”乱象…)."""
    return name if "“" in name or "”" in name else f"“{name}”"


def _share(n: int, total: int) -> str:
    return rules.percent(rules.rate(n, total))


def _dept_names(codes: Sequence[str]) -> str:
    names = {c: d.name for c, d in get_taxonomy().departments.items()}
    return "、".join(names.get(c, c) for c in codes)


def _table(doc: DocumentObject, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = doc.styles["Table Grid"]
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text
    doc.add_paragraph()


def _count_rows(counts: Sequence[Count], total: int) -> list[list[str]]:
    return [[c.name, number(c.n), _share(c.n, total)] for c in counts]


def _picture(doc: DocumentObject, png: bytes, caption: str) -> None:
    doc.add_picture(io.BytesIO(png), width=Cm(15.5))
    centered(doc.paragraphs[-1])
    centered(doc.add_paragraph(caption, style="Caption"))


def _top(counts: Sequence[Count], k: int = TOP) -> list[Count]:
    return [c for c in counts if c.n][:k]


# ---------------------------------------------------------------- sections


def _basic(doc: DocumentObject, stats: Statistics, campaign: CampaignView | None) -> None:
    doc.add_heading("一、基本情况", level=1)
    if campaign is not None:
        plan = campaign.plan
        stages = "；".join(
            f"第{_numeral(s.n)}阶段“{s.name}”"
            f"（{china_date(stage_starts(plan, s))}至{china_date(s.deadline)}）"
            for s in plan.stages
        )
        where = (
            "全国"
            if plan.jurisdiction == NATIONAL_DIVISION
            else rules.region_label(plan.jurisdiction)
        )
        doc.add_paragraph(
            f"“{plan.name}”"
            + (f"（依据：{plan.source}）" if plan.source else "")
            + f"在{where}范围内开展，行动时间为{china_date(plan.starts_on)}至"
            f"{china_date(plan.ends_on)}，共分{len(plan.stages)}个阶段：{stages}。"
        )
        doc.add_paragraph(
            f"参与部门：{_dept_names(plan.departments)}，共{len(plan.departments)}个部门。"
        )
    else:
        period = (
            f"{china_date(stats.start) if stats.start else '—'}至"
            f"{china_date(stats.end) if stats.end else china_date(stats.as_of)}"
        )
        doc.add_paragraph(f"统计范围：{rules.region_label(stats.jurisdiction)}，{period}。")
    total_subjects = sum(c.n for c in stats.subjects)
    kinds = "，".join(f"{c.name}{number(c.n)}个" for c in stats.subjects if c.n)
    doc.add_paragraph(
        f"截至{china_date(stats.as_of)}，{rules.region_label(stats.jurisdiction)}纳入管理台账的"
        f"监管对象共{number(total_subjects)}个" + (f"，其中{kinds}。" if kinds else "。")
    )
    if stats.subjects:
        _table(
            doc,
            ["对象类型", "数量（个）", "占比"],
            _count_rows([c for c in stats.subjects], total_subjects),
        )
    sources = "，".join(f"{c.name}{number(c.n)}件" for c in stats.by_source if c.n)
    doc.add_paragraph(
        f"专项行动期间共登记案件{number(stats.total_cases)}件"
        + (f"，按来源分：{sources}。" if sources else "。")
    )


def _problems(doc: DocumentObject, stats: Statistics) -> None:
    doc.add_heading("二、存在问题", level=1)
    total = stats.total_cases
    if not total:
        doc.add_paragraph("本期未登记案件。")
        return
    top = _top(stats.by_category)
    doc.add_paragraph(
        "从问题类型看，案件数量居前的是："
        + "、".join(f"{_q(c.name)}（{number(c.n)}件，占{_share(c.n, total)}）" for c in top)
        + "。各类问题案件数如下表。"
    )
    _table(doc, ["问题类别", "案件数（件）", "占比"], _count_rows(stats.by_category, total))
    regions = _top(stats.by_region)
    doc.add_paragraph(
        "从地区看，案件数量居前的是："
        + "、".join(f"{c.name}（{number(c.n)}件）" for c in regions)
        + "。各地区案件数如下表。"
    )
    _table(doc, ["地区", "案件数（件）", "占比"], _count_rows(stats.by_region, total))


def _typical(doc: DocumentObject, typical: Sequence[PublicCase]) -> None:
    doc.add_heading("三、典型案例", level=1)
    if not typical:
        doc.add_paragraph("本期暂无在曝光台公开发布的典型案例。")
        return
    for i, pub in enumerate(typical[:TYPICAL_MAX], start=1):
        doc.add_heading(f"{_ordinal(i)}{pub.title}", level=2)
        doc.add_paragraph(pub.body)
        for field in pub.fields:
            doc.add_paragraph(f"{field.label}：{field.value}")
        doc.add_paragraph(f"发布日期：{china_date(pub.published_at)}")


def _measures(
    doc: DocumentObject,
    stats: Statistics,
    campaign: CampaignView | None,
    reports: Sequence[ReportView],
) -> None:
    doc.add_heading("四、主要措施与做法", level=1)
    if campaign is not None:
        plan = campaign.plan
        by_task = {c.code: c.n for c in stats.by_task}
        doc.add_heading("（一）任务分工", level=2)
        for i, task in enumerate(plan.tasks, start=1):
            co = f"，配合部门：{_dept_names(task.co)}" if task.co else ""
            doc.add_paragraph(
                f"{i}. {task.name}。牵头部门：{_dept_names([task.lead])}{co}。"
                f"本项任务下登记案件{number(by_task.get(task.code, 0))}件。"
            )
        doc.add_heading("（二）分阶段推进情况", level=2)
        by_stage = {c.code: c.n for c in stats.by_stage}
        for stage in plan.stages:
            doc.add_paragraph(
                f"第{_numeral(stage.n)}阶段“{stage.name}”（截至{china_date(stage.deadline)}）："
                f"本阶段新登记案件{number(by_stage.get(str(stage.n), 0))}件。"
            )
            mine = [r for r in reports if r.stage == stage.n]
            if not mine:
                doc.add_paragraph("本阶段各部门尚未报送工作进展。")
            for r in mine:
                task = plan.task(r.task_code) if r.task_code else None
                who = _dept_names([r.department])
                about = f"（{task.name}）" if task else ""
                doc.add_paragraph(f"{who}部门{about}（{china_date(r.reported_at)}报送）：{r.body}")
    n = stats.dispositions_total
    doc.add_heading(_ordinal(3 if campaign is not None else 1) + "依法处置", level=2)
    kinds = "，".join(f"{c.name}{number(c.n)}项" for c in stats.by_disposition if c.n)
    doc.add_paragraph(
        f"经研判、审批，共作出处置措施{number(n)}项" + (f"，其中{kinds}。" if kinds else "。")
    )


def _results(doc: DocumentObject, stats: Statistics) -> None:
    doc.add_heading("五、主要成果", level=1)
    said = [f for f in stats.figures if f.value]
    if said:
        doc.add_paragraph(
            "专项行动期间，累计"
            + "，".join(f"{f.name}{number(f.value)}{f.unit}" for f in said)
            + "。"
        )
    else:
        doc.add_paragraph("专项行动期间，暂无经审批的处置成果。")
    _table(
        doc,
        ["统计项", "数量", "单位", "口径来源"],
        [[f.name, number(f.value), f.unit, f.source] for f in stats.figures],
    )
    found, total = stats.discovery_rate_basis
    disposed, accepted = stats.handling_rate_basis
    doc.add_paragraph(
        f"发现率为{rules.percent(stats.discovery_rate)}（巡查发现和平台自查报告发现的案件"
        f"{number(found)}件 ÷ 案件总数{number(total)}件）；处置率为"
        f"{rules.percent(stats.handling_rate)}（已进入整改及以后环节的案件{number(disposed)}件 ÷ "
        f"已受理案件{number(accepted)}件）。"
    )
    closed = next((c.n for c in stats.by_state if c.code == "closed"), 0)
    doc.add_paragraph(
        f"已办结案件{number(closed)}件，在曝光台发布典型案例{number(stats.typical_cases)}起，"
        f"逾期未完成整改{number(stats.overdue_total)}件。"
    )
    _picture(
        doc,
        bar_chart([(c.name, c.n) for c in stats.by_category], "各类问题案件数"),
        "图1 各类问题案件数",
    )
    _picture(
        doc,
        trend_chart(
            [(p.start, p.opened, p.ended) for p in stats.trend],
            "案件趋势（按周）" if stats.trend_unit == "week" else "案件趋势（按日）",
            stats.trend_unit,
        ),
        "图2 新增与办结案件趋势",
    )
    _picture(
        doc,
        bar_chart([(c.name, c.n) for c in stats.by_disposition], "处置措施", unit="项"),
        "图3 经审批的处置措施",
    )


def suggestions(stats: Statistics) -> list[str]:
    """Draft suggestions (意见建议) generated from the figures."""
    out: list[str] = []
    if stats.total_cases == 0:
        return ["本期未登记案件，建议加强日常巡查监看，畅通举报渠道，督促平台开展自查。"]
    if stats.overdue_total:
        oldest = stats.overdue[0] if stats.overdue else None
        since = (
            f"，最早的整改期限为{china_date(oldest.deadline)}，已逾期{oldest.days_overdue}天"
            if oldest
            else ""
        )
        out.append(
            f"目前仍有{number(stats.overdue_total)}件案件逾期未完成整改{since}。建议督促相关平台"
            "限期完成整改，对拒不整改或整改不到位的依法从严处置。"
        )
    if stats.handling_rate is not None and stats.handling_rate < LOW_HANDLING:
        out.append(
            f"处置率为{rules.percent(stats.handling_rate)}，低于{LOW_HANDLING:.0%}，"
            "建议加快案件研判和处置审批，缩短线索办理周期。"
        )
    if stats.discovery_rate is not None and stats.discovery_rate < LOW_DISCOVERY:
        out.append(
            f"发现率为{rules.percent(stats.discovery_rate)}，多数问题仍由公众举报发现，"
            "建议加强主动巡查，压实平台自查和报告责任。"
        )
    top = _top(stats.by_category)
    if top:
        n = sum(c.n for c in top)
        out.append(
            "、".join(_q(c.name) for c in top) + f"类问题案件最多（合计{number(n)}件，占"
            f"{_share(n, stats.total_cases)}），建议将其列为常态化治理重点，完善长效工作机制。"
        )
    regions = _top(stats.by_region, 1)
    if regions:
        r = regions[0]
        out.append(f"{r.name}案件最多（{number(r.n)}件），建议加强属地管理和督导。")
    return out


def _suggestions(doc: DocumentObject, stats: Statistics) -> None:
    doc.add_heading("六、意见建议", level=1)
    mark = doc.add_paragraph().add_run(DRAFT_MARK)
    mark.bold = True
    mark.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    mark.font.highlight_color = WD_COLOR_INDEX.YELLOW
    for i, text in enumerate(suggestions(stats), start=1):
        doc.add_paragraph(f"{i}. {text}")


# ---------------------------------------------------------------- the document


def build(
    stats: Statistics,
    campaign: CampaignView | None,
    reports: list[ReportView],
    typical: list[PublicCase],
    *,
    at: datetime,
) -> bytes:
    """The summary as .docx bytes."""
    title = f"{stats.title}工作总结"
    doc = new_document(title, at)
    centered(doc.add_paragraph(title, style="Title"))
    stamp = to_shanghai(stats.as_of)
    centered(
        doc.add_paragraph(
            f"（草稿  数据截至{china_date(stamp)}{stamp:%H:%M}，由清朗平台根据案件记录生成）"
        )
    )
    _basic(doc, stats, campaign)
    _problems(doc, stats)
    _typical(doc, typical)
    _measures(doc, stats, campaign, reports)
    _results(doc, stats)
    _suggestions(doc, stats)
    return to_bytes(doc)


def summary_for_campaign(
    session: Session, principal: Principal, campaign_id: int, *, at: datetime
) -> bytes:
    """Load the statistics, the campaign, its reports and typical cases; build the summary."""
    from qinglang.services import campaigns, disclosure, statistics

    stats = statistics.campaign_statistics(session, principal, campaign_id, at=at)
    campaign = campaigns.get_campaign(session, principal, campaign_id)
    reports = [
        r
        for r in campaigns.reports(session, principal, campaign_id)
        if principal.covers(r.jurisdiction) or r.jurisdiction == campaign.plan.jurisdiction
    ]
    typical, _ = disclosure.list_public(
        session,
        campaign_id=campaign_id,
        jurisdiction=stats.jurisdiction,
        limit=TYPICAL_MAX,
    )
    return build(stats, campaign, reports, typical, at=at)
