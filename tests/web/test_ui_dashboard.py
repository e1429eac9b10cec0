"""The campaign dashboard: cards, SVG charts each with a data table, figures, overdue list,
统计口径; /dashboard picks the running campaign; regulators only."""

from __future__ import annotations

import re
from datetime import timedelta

from qinglang.govern import campaigns as core
from qinglang.govern.clock import shanghai_date
from qinglang.services import campaigns as campaign_service
from qinglang.services import cases as case_service
from qinglang.web import auth
from uifixtures import ui_login


def running_plan(jurisdiction="310000", name="看板测试行动", days_ago=60) -> core.CampaignPlan:
    t = shanghai_date(auth.now())
    return core.CampaignPlan(
        name=name,
        jurisdiction=jurisdiction,
        departments=("cyberspace", "police", "telecom", "market"),
        starts_on=t - timedelta(days=days_ago),
        stages=(
            core.Stage(1, "部署摸底", t - timedelta(days=days_ago - 20)),
            core.Stage(2, "集中整治", t + timedelta(days=10)),
        ),
        tasks=(
            core.Task("1", "整治有害信息", "cyberspace", ("police",), ("porn_vulgar",)),
            core.Task("2", "规范网络社交行为", "police", ("cyberspace",), ("gambling",)),
        ),
    )


def make_campaign(ui_db, ui_people, plan) -> int:
    leader = ui_people.make("leader", department="cyberspace", jurisdiction="100000")
    with ui_db.write() as s:
        return campaign_service.create_campaign(s, leader.principal, plan, at=auth.now()).id


def seed_cases(ui_db, ui_people) -> tuple[int, int]:
    """Three cases in the campaign: one taken to rectification (overdue) with dispositions."""
    officer = ui_people.make("officer", department="cyberspace", jurisdiction="310000").principal
    analyst = ui_people.make("analyst", department="cyberspace", jurisdiction="310000").principal
    leader = ui_people.make("leader", department="cyberspace", jurisdiction="310000").principal
    start = auth.now() - timedelta(days=30)

    def t(minutes: int):
        return start + timedelta(minutes=minutes)

    with ui_db.write() as s:
        first = case_service.create_case(
            s, officer, grounds=["porn_vulgar"], jurisdiction="310000", at=t(0),
            title="某直播平台低俗内容",
        ).case.id  # fmt: skip
        case_service.create_case(
            s, officer, grounds=["gambling"], jurisdiction="310100", at=t(1),
            title="某论坛博彩引流",
        )  # fmt: skip
        case_service.create_case(
            s, officer, grounds=["porn_vulgar"], jurisdiction="310000", at=t(2), title="第三件"
        )
    deadline = (shanghai_date(start) + timedelta(days=10)).isoformat()
    steps = [
        (officer, "act", ("open",), {}),
        (analyst, "act", ("assess",), {}),
        (analyst, "propose", ("rectify", {"deadline": deadline}), {}),
        (analyst, "propose", ("remove_content", {"count": 1500}), {}),
        (analyst, "act", ("dispose",), {"reason": "情节属实"}),
        (leader, "decide", (1, "approve"), {}),
        (leader, "decide", (2, "approve"), {}),
        (officer, "act", ("notify",), {}),
    ]
    for i, (who, fn, args, kw) in enumerate(steps, start=10):
        with ui_db.write() as s:
            getattr(case_service, fn)(s, who, first, *args, at=t(i), **kw)
    return first, 3


def test_anonymous_goes_to_login(ui):
    assert ui.get("/dashboard").status_code == 303
    assert ui.get("/campaigns/1/dashboard").headers["location"].startswith("/login")


def test_operator_is_refused(ui, ui_people, ui_db):
    campaign_id = make_campaign(ui_db, ui_people, running_plan())
    org = ui_people.organisation()
    ui_people.make("operator", jurisdiction="310000", organisation_id=org, username="op")
    ui_login(ui, "op")
    assert ui.get("/dashboard").status_code == 403
    assert ui.get(f"/campaigns/{campaign_id}/dashboard").status_code == 403


def test_dashboard_home_redirects_to_running_campaign_or_lists(ui, ui_db, ui_people):
    ui_people.make("officer", department="police", jurisdiction="310000", username="wx")
    ui_login(ui, "wx")
    page = ui.get("/dashboard")
    assert page.status_code == 200 and "<h1>数据看板</h1>" in page.text
    begun = shanghai_date(auth.now()) - timedelta(days=800)
    old = core.CampaignPlan(
        name="往年行动",
        jurisdiction="310000",
        departments=("police",),
        starts_on=begun,
        stages=(core.Stage(1, "整治", begun + timedelta(days=30)),),
        tasks=(),
    )
    ended = make_campaign(ui_db, ui_people, old)
    page = ui.get("/dashboard")
    assert page.status_code == 200 and f'href="/campaigns/{ended}/dashboard"' in page.text
    running = make_campaign(ui_db, ui_people, running_plan())
    r = ui.get("/dashboard")
    assert r.status_code == 303 and r.headers["location"] == f"/campaigns/{running}/dashboard"


def test_dashboard_renders_cards_charts_tables_and_overdue(ui, ui_db, ui_people):
    campaign_id = make_campaign(ui_db, ui_people, running_plan())
    overdue_case, total = seed_cases(ui_db, ui_people)
    ui_people.make("officer", department="police", jurisdiction="310000", username="wx")
    ui_login(ui, "wx")
    page = ui.get(f"/campaigns/{campaign_id}/dashboard")
    assert page.status_code == 200, page.text[:1000]
    html = page.text
    assert "<h1>数据看板：看板测试行动</h1>" in html
    cards = html[html.index('id="dashboard-cards"') : html.index('id="h-figures"')]
    assert re.search(r'<div class="value"[^>]*>3</div><div class="label">案件总数', cards)
    assert "发现率" in cards and "处置率" in cards and "已受理" in cards
    assert re.search(r'<div class="value">1</div><div class="label">整改逾期', cards)
    # every chart is an accessible SVG with a data table
    for chart in ("category", "disposition", "department", "stage", "region", "trend"):
        assert f'<figure class="chart-figure" id="chart-{chart}">' in html
        assert f'id="chart-{chart}-title"' in html and f'id="chart-{chart}-data"' in html
    assert html.count('role="img"') == 6
    assert "色情低俗" in html and "清理信息" in html and "部署摸底" in html
    assert "新增案件" in html and "办结案件" in html
    # figures in the words of seed 003
    figures = html[html.index('id="dashboard-figures"') : html.index('id="h-charts"')]
    assert re.search(r"清理违法违规信息</th><td class=\"num\">1,500</td><td>条", figures)
    # overdue rectifications link to their cases
    assert f'href="/cases/{overdue_case}"' in html and "某直播平台低俗内容" in html
    assert "统计口径" in html and "发现率 =" in html and "处置率 =" in html
    assert "<script" not in html  # charts need no JavaScript
    assert total == 3


def test_dashboard_of_unseen_campaign_is_404(ui, ui_db, ui_people):
    other = make_campaign(ui_db, ui_people, running_plan("410000", "河南行动"))
    ui_people.make("officer", department="police", jurisdiction="310000", username="wx")
    ui_login(ui, "wx")
    assert ui.get(f"/campaigns/{other}/dashboard").status_code == 404
    assert ui.get("/campaigns/123456/dashboard").status_code == 404
