"""The documents read back: the summary and the notice with python-docx, the workbook with
openpyxl; every figure printed equals the one in `Statistics`. Converted to PDF with
LibreOffice when it is installed."""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import docx
import openpyxl
import pytest
from docx.oxml.ns import qn
from test_statistics_service import (  # the small database of the statistics tests
    AS_OF,
    World,
    built,  # noqa: F401 (a module-scoped fixture, built once per backend)
    stats_for,
)

from qinglang.govern.statistics import percent
from qinglang.services.documents import charts, notice_docx, number, statistics_xlsx, summary_docx
from qinglang.services.errors import ServiceError
from qinglang.store.db import Database

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def database(built) -> Database:  # noqa: F811 (the imported fixture, by name)
    return built[0]


@pytest.fixture
def world(built) -> World:  # noqa: F811
    return built[1]


def texts(content: bytes) -> tuple[str, list[list[str]], docx.document.Document]:
    doc = docx.Document(io.BytesIO(content))
    body = "\n".join(p.text for p in doc.paragraphs)
    rows = [[c.text for c in row.cells] for t in doc.tables for row in t.rows]
    return body, rows, doc


def east_asian(style) -> str | None:
    fonts = style.element.rPr.find(qn("w:rFonts"))
    return None if fonts is None else fonts.get(qn("w:eastAsia"))


def test_summary_holds_the_live_figures(database, world: World) -> None:
    with database.read() as s:
        content = summary_docx.summary_for_campaign(s, world.national, world.campaign_id, at=AS_OF)
    st = stats_for(database, world.national, world.campaign_id)
    body, rows, doc = texts(content)
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings == [
        "一、基本情况", "二、存在问题", "三、典型案例", "四、主要措施与做法", "五、主要成果",
        "六、意见建议",
    ]  # fmt: skip
    assert f"共登记案件{st.total_cases}件" in body and st.total_cases == 5
    assert f"监管对象共{sum(c.n for c in st.subjects)}个" in body
    for c in st.by_category:
        assert [c.name, number(c.n), percent(c.n / st.total_cases)] in rows
    for c in st.by_region:
        assert [c.name, number(c.n), percent(c.n / st.total_cases)] in rows
    for f in st.figures:  # the counter table, every counter
        assert [f.name, number(f.value), f.unit, f.source] in rows
        if f.value:  # and the sentence in the words of seed 003
            assert f"{f.name}{number(f.value)}{f.unit}" in body
    assert "罚款金额5000.50元" in body and "处置账号100个" in body
    found, total = st.discovery_rate_basis
    disposed, accepted = st.handling_rate_basis
    assert f"发现率为{percent(st.discovery_rate)}" in body and "发现率为60.0%" in body
    assert f"发现的案件{found}件 ÷ 案件总数{total}件" in body
    assert f"处置率为{percent(st.handling_rate)}" in body
    assert f"{disposed}件 ÷ 已受理案件{accepted}件" in body
    assert f"共作出处置措施{st.dispositions_total}项" in body
    assert f"逾期未完成整改{st.overdue_total}件" in body
    # Stages, tasks, the department's report, the typical case.
    assert "第一阶段“部署摸底”（截至2020年8月31日）：本阶段新登记案件1件" in body
    assert "第二阶段“集中整治”（截至2020年11月30日）：本阶段新登记案件4件" in body
    assert "规范未成年人网络社交行为。牵头部门：公安" in body
    assert "集中整治阶段：巡查学习类网站，约谈并处罚一批。" in body
    assert "某学习网站传播低俗信息被处罚" in body
    assert "涉事平台：示例学习网" in body
    # Suggestions are marked as a draft and use the figures.
    assert summary_docx.DRAFT_MARK in body
    assert "目前仍有1件案件逾期未完成整改，最早的整改期限为2020年9月30日，已逾期10天" in body
    assert len(doc.inline_shapes) == 3  # category, trend and disposition charts
    assert east_asian(doc.styles["Normal"]) == "宋体"
    assert east_asian(doc.styles["Heading 1"]) == "黑体"


def test_summary_of_a_city_shows_its_share_only(database, world: World) -> None:
    with database.read() as s:
        content = summary_docx.summary_for_campaign(s, world.city, world.campaign_id, at=AS_OF)
    body, rows, _ = texts(content)
    assert "共登记案件3件" in body
    assert "河南" not in body
    assert ["上海市 310100", "3", "100.0%"] in rows


def test_suggestions_without_cases(database, world: World) -> None:
    st = stats_for(database, world.national, world.campaign_id)
    empty = replace(st, total_cases=0, by_category=[], by_region=[], overdue_total=0)
    assert summary_docx.suggestions(empty) == [
        "本期未登记案件，建议加强日常巡查监看，畅通举报渠道，督促平台开展自查。"
    ]


def test_notice_document(database, world: World) -> None:
    with database.read() as s:
        content = notice_docx.notice_for(s, world.police_sh, world.notice_a, at=AS_OF)
        as_operator = notice_docx.notice_for(s, world.operator, world.notice_a, at=AS_OF)
        with pytest.raises(ServiceError) as err:
            notice_docx.notice_for(s, world.henan, world.notice_a, at=AS_OF)
        assert err.value.status in (403, 404)
    body, _, doc = texts(content)
    assert doc.paragraphs[0].text == "责令整改通知书"
    assert f"公安责改〔2020〕{world.notice_a}号" in body
    assert "某网络科技有限公司：" in body
    assert "运营的“示例学习网”存在“赌博、博彩引流”等问题" in body
    assert f"案件编号：{world.case_a}" in body
    assert "一、关闭账号（账号数量：100）" in body
    assert "二、责令限期整改（整改期限：2020-09-30）" in body
    assert "三、约谈" in body and "警告" not in body  # the rejected warning is not there
    assert "请你单位于2020年9月30日前完成整改" in body
    assert "运营者门户" in body
    assert "上海市 310100 公安部门" in body and "2020年8月20日" in body
    assert texts(as_operator)[0] == body


def test_statistics_workbook(database, world: World) -> None:
    st = stats_for(database, world.national, world.campaign_id)
    wb = openpyxl.load_workbook(io.BytesIO(statistics_xlsx.build(st)))
    assert wb.sheetnames == list(statistics_xlsx.SHEETS)
    summary = {row[0]: row[1] for row in wb["概况"].iter_rows(values_only=True)}
    assert summary["案件总数（件）"] == 5
    assert summary["发现率"] == pytest.approx(0.6)
    assert summary["处置率"] == pytest.approx(2 / 3)
    assert summary["逾期整改（件）"] == 1
    assert wb["概况"]["B8"].number_format == "0.0%"
    figures = {r[0]: r[2] for r in wb["成果"].iter_rows(min_row=2, values_only=True)}
    assert Decimal(str(figures["fines_yuan"])) == Decimal("5000.50")
    assert figures["accounts_handled"] == 100 and len(figures) == 16
    categories = {r[0]: r[2] for r in wb["分类"].iter_rows(min_row=2, values_only=True)}
    assert categories == {c.code: c.n for c in st.by_category}
    trend = list(wb["趋势"].iter_rows(min_row=2, values_only=True))
    assert sum(r[1] for r in trend) == 5 and len(trend) == len(st.trend)
    overdue = list(wb["逾期整改"].iter_rows(min_row=2, values_only=True))
    assert overdue[0][0] == world.case_a and overdue[0][4] == 10


def test_workbook_cells_are_never_formulas(database, world: World) -> None:
    st = stats_for(database, world.national, world.campaign_id)
    evil = replace(st, title='=HYPERLINK("http://evil.example","x")')
    sheet = openpyxl.load_workbook(io.BytesIO(statistics_xlsx.build(evil)))["概况"]
    assert sheet["B1"].value == "'" + evil.title
    assert sheet["B1"].data_type == "s"


def test_charts_are_png_with_a_cjk_font() -> None:
    assert charts.bar_chart([("色情低俗", 3), ("赌博", 0)], "各类问题案件数").startswith(PNG)
    assert charts.bar_chart([], "空").startswith(PNG)
    assert charts.trend_chart([], "空").startswith(PNG)
    if not any("CJK" in f.name for f in charts.font_manager.fontManager.ttflist):
        pytest.skip("no CJK font installed (fonts-noto-cjk)")
    assert charts.cjk_font() is not None


def test_documents_convert_to_pdf(database, world: World, tmp_path: Path) -> None:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        pytest.skip("LibreOffice (soffice) is not installed: PDF conversion not checked")
    if not database.is_sqlite:
        pytest.skip("the documents are the same on both backends: converted once, on SQLite")
    with database.read() as s:
        files = {
            "summary.docx": summary_docx.summary_for_campaign(
                s, world.national, world.campaign_id, at=AS_OF
            ),
            "notice.docx": notice_docx.notice_for(s, world.police_sh, world.notice_a, at=AS_OF),
        }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    subprocess.run(
        [office, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
         "--convert-to", "pdf", "--outdir", str(tmp_path), *(str(tmp_path / n) for n in files)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    for name in files:
        pdf = tmp_path / name.replace(".docx", ".pdf")
        assert pdf.read_bytes().startswith(b"%PDF-")
