"""Campaign pages: list, create (template and scratch, errors kept), detail, reports, settings,
downloads; who sees what; every form field labelled."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from qinglang.govern import campaigns as core
from qinglang.govern.clock import shanghai_date
from qinglang.services import campaigns as campaign_service
from qinglang.services import cases as case_service
from qinglang.store.models import Campaign, Case
from qinglang.web import auth
from uifixtures import assert_accessible, csrf_of, ui_login

# ---------------------------------------------------------------- helpers


def login_as(ui, ui_people, *roles, department="cyberspace", jurisdiction="310000", name=None):
    person = ui_people.make(*roles, department=department, jurisdiction=jurisdiction, username=name)
    ui_login(ui, person.principal.username)
    return person


def today() -> date:
    return shanghai_date(auth.now())


def running_plan(jurisdiction="310000", name="测试专项行动", departments=None) -> core.CampaignPlan:
    """A plan running today: stage 1 ended 10 days ago, stage 2 runs, stage 3 later."""
    t = today()
    return core.CampaignPlan(
        name=name,
        jurisdiction=jurisdiction,
        departments=tuple(departments or ("cyberspace", "police", "education")),
        starts_on=t - timedelta(days=60),
        stages=(
            core.Stage(1, "部署摸底", t - timedelta(days=10)),
            core.Stage(2, "集中整治", t + timedelta(days=5)),
            core.Stage(3, "自查总结", t + timedelta(days=40)),
        ),
        tasks=(
            core.Task("1", "整治有害信息", "cyberspace", ("police",), ("porn_vulgar",)),
            core.Task("2", "规范网络社交行为", "police", ("cyberspace",), ("gambling",)),
        ),
    )


def make_campaign(ui_db, ui_people, plan=None, public=False) -> int:
    leader = ui_people.make("leader", department="cyberspace", jurisdiction="100000")
    with ui_db.write() as s:
        view = campaign_service.create_campaign(
            s, leader.principal, plan or running_plan(), at=auth.now(), public=public
        )
    return view.id


# ---------------------------------------------------------------- list and roles


def test_anonymous_is_sent_to_login(ui):
    r = ui.get("/campaigns")
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/campaigns")


def test_operator_is_refused(ui, ui_people):
    org = ui_people.organisation()
    ui_people.make("operator", jurisdiction="310000", organisation_id=org, username="op")
    ui_login(ui, "op")
    for path in ("/campaigns", "/campaigns/new"):
        r = ui.get(path)
        assert r.status_code == 403, path
        assert "无权" in r.text


def test_list_shows_visible_campaigns_and_new_link_for_leaders(ui, ui_db, ui_people):
    shanghai = make_campaign(ui_db, ui_people, running_plan("310000", "上海测试行动"))
    make_campaign(ui_db, ui_people, running_plan("410000", "河南测试行动"))
    login_as(ui, ui_people, "leader", name="boss")
    page = ui.get("/campaigns")
    assert page.status_code == 200
    assert "上海测试行动" in page.text and "河南测试行动" not in page.text
    assert "上海市" in page.text and "第2阶段：集中整治" in page.text
    assert f'href="/campaigns/{shanghai}/dashboard"' in page.text
    assert "新建专项行动" in page.text
    assert '<th scope="col">名称</th>' in page.text


def test_officer_sees_list_without_new_link_and_cannot_create(ui, ui_db, ui_people):
    make_campaign(ui_db, ui_people)
    login_as(ui, ui_people, "officer", name="wx")
    page = ui.get("/campaigns")
    assert page.status_code == 200 and "测试专项行动" in page.text
    assert 'href="/campaigns/new"' not in page.text
    assert ui.get("/campaigns/new").status_code == 403
    r = ui.post("/campaigns/new", data={"csrf": csrf_of(page.text), "mode": "template"})
    assert r.status_code == 403


def test_city_officer_sees_covering_campaign_not_other_province(ui, ui_db, ui_people):
    national = make_campaign(ui_db, ui_people, running_plan("100000", "全国测试行动"))
    other = make_campaign(ui_db, ui_people, running_plan("410000", "河南测试行动"))
    login_as(ui, ui_people, "officer", jurisdiction="310100", name="city")
    assert "全国测试行动" in ui.get("/campaigns").text
    assert ui.get(f"/campaigns/{national}").status_code == 200
    assert ui.get(f"/campaigns/{other}").status_code == 404
    assert ui.get("/campaigns/99999999999999").status_code == 404


# ---------------------------------------------------------------- create


def test_new_page_previews_templates_and_labels_every_field(ui, ui_people):
    login_as(ui, ui_people, "leader", name="boss")
    page = ui.get("/campaigns/new?template=hunan-2018")
    assert page.status_code == 200
    assert "<h1>新建专项行动</h1>" in page.text
    assert 'id="campaign-from-template"' in page.text and 'id="campaign-from-scratch"' in page.text
    assert "摸排巡查" in page.text  # Hunan's first stage in the preview
    assert 'value="310000"' in page.text  # jurisdiction defaults to the user's own
    assert_accessible(page.text)


def test_create_from_template(ui, ui_db, ui_people):
    login_as(ui, ui_people, "leader", name="boss")
    csrf = csrf_of(ui.get("/campaigns/new").text)
    form = {
        "csrf": csrf,
        "mode": "template",
        "action": "preview",
        "tpl-template": "shanghai-2020",
        "tpl-year": "2026",
        "tpl-jurisdiction": "310000",
        "tpl-name": "",
    }
    preview = ui.post("/campaigns/new", data=form)
    assert preview.status_code == 200 and "2026-10-31" in preview.text
    r = ui.post("/campaigns/new", data={**form, "action": "create"})
    assert r.status_code == 303, r.text[:800]
    detail = ui.get(r.headers["location"])
    assert detail.status_code == 200
    assert "2026年上海市未成年人网络环境专项治理行动" in detail.text
    assert "2026-12-15" in detail.text
    with ui_db.read() as s:
        row = s.scalars(select(Campaign)).one()
        assert row.template == "shanghai-2020" and row.jurisdiction == "310000"
        assert row.starts_on == date(2026, 10, 1)


TEMPLATE_ERRORS = [
    ({"tpl-jurisdiction": "999999"}, "tpl-jurisdiction", "管辖区域代码无效"),
    ({"tpl-jurisdiction": "410000"}, "tpl-jurisdiction", "不在您的管辖范围内"),
    ({"tpl-year": "abc"}, "tpl-year", "年份应为整数"),
    ({"tpl-template": "nope"}, "tpl-template", "请从列表中选择模板"),
]


def test_create_from_template_errors_keep_values(ui, ui_db, ui_people):
    login_as(ui, ui_people, "leader", name="boss")
    csrf = csrf_of(ui.get("/campaigns/new").text)
    for changes, field, message in TEMPLATE_ERRORS:
        form = {
            "csrf": csrf,
            "mode": "template",
            "action": "create",
            "tpl-template": "shanghai-2020",
            "tpl-year": "2026",
            "tpl-jurisdiction": "310000",
            "tpl-name": "我的名称<b>",
            **changes,
        }
        r = ui.post("/campaigns/new", data=form)
        assert r.status_code in (403, 422), changes
        assert f'id="f-{field}-error"' in r.text and message in r.text, changes
        assert 'value="我的名称&lt;b&gt;"' in r.text
        for key in ("tpl-year", "tpl-jurisdiction"):
            assert f'value="{form[key]}"' in r.text
    with ui_db.read() as s:
        assert s.scalars(select(Campaign)).first() is None


def scratch_form(csrf: str, **changes: str) -> dict:
    t = today()
    form = {
        "csrf": csrf,
        "mode": "scratch",
        "name": "自建专项行动",
        "jurisdiction": "310000",
        "departments": ["cyberspace", "police"],
        "starts_on": t.isoformat(),
        "stage-1-name": "摸底",
        "stage-1-deadline": (t + timedelta(days=10)).isoformat(),
        "stage-3-name": "整治",  # row 2 left blank: ignored
        "stage-3-deadline": (t + timedelta(days=20)).isoformat(),
        "task-1-code": "A",
        "task-1-name": "清理有害信息",
        "task-1-lead": "cyberspace",
        "task-1-co": ["police"],
        "task-1-grounds": ["porn_vulgar", "gambling"],
    }
    form.update(changes)
    return form


def test_create_from_scratch_ignores_blank_rows(ui, ui_db, ui_people):
    login_as(ui, ui_people, "leader", name="boss")
    csrf = csrf_of(ui.get("/campaigns/new").text)
    r = ui.post("/campaigns/new", data=scratch_form(csrf))
    assert r.status_code == 303, r.text[:800]
    with ui_db.read() as s:
        row = s.scalars(select(Campaign)).one()
        stages, tasks = row.stages, row.tasks
        departments, template = row.departments, row.template
    assert [st["name"] for st in stages] == ["摸底", "整治"]
    assert tasks == [
        {
            "code": "A",
            "name": "清理有害信息",
            "lead": "cyberspace",
            "co": ["police"],
            "grounds": ["porn_vulgar", "gambling"],
        }
    ]
    assert departments == ["cyberspace", "police"] and template is None


SCRATCH_ERRORS = [
    # the second filled row is form row 3: the core's pointer /stages/1 maps back to it
    ({"stage-3-deadline": "2000-01-01"}, "stage-3-deadline", "第2阶段的截止日期"),
    ({"stage-1-deadline": ""}, "stage-1-deadline", "请填写第1行阶段的截止日期"),
    ({"departments": []}, "departments", "请至少选择一个参与部门"),
    ({"task-1-lead": "education"}, "task-1-lead", "不在参与部门之内"),
    ({"task-1-code": ""}, "task-1-code", "请填写第1行任务的编号"),
    ({"name": ""}, "name", "请填写专项行动名称"),
    ({"jurisdiction": "31"}, "jurisdiction", "管辖区域代码无效"),
    ({"starts_on": "2026-13-01"}, "starts_on", "开始日期应为日期"),
]


def test_create_from_scratch_errors_keep_values(ui, ui_db, ui_people):
    login_as(ui, ui_people, "leader", name="boss")
    csrf = csrf_of(ui.get("/campaigns/new").text)
    for changes, field, message in SCRATCH_ERRORS:
        form = scratch_form(csrf, **changes)
        r = ui.post("/campaigns/new", data=form)
        assert r.status_code == 422, changes
        assert f'id="f-{field}-error"' in r.text and message in r.text, changes
        assert 'value="清理有害信息"' in r.text  # typed values kept
        assert 'id="f-task-1-grounds"' in r.text and 'value="gambling" selected' in r.text
        if form["departments"]:
            assert 'id="f-departments-police" name="departments" value="police" checked' in r.text
        assert_accessible(r.text)
    with ui_db.read() as s:
        assert s.scalars(select(Campaign)).first() is None


def test_create_without_csrf_is_refused(ui, ui_people):
    login_as(ui, ui_people, "leader", name="boss")
    form = scratch_form("0" * 64)
    assert ui.post("/campaigns/new", data=form).status_code == 403


# ---------------------------------------------------------------- detail


def test_detail_shows_plan_progress_reminders_and_cases(ui, ui_db, ui_people):
    campaign_id = make_campaign(ui_db, ui_people)
    officer = login_as(ui, ui_people, "officer", name="wx")
    with ui_db.write() as s:  # filed under the running campaign automatically
        case = case_service.create_case(
            s, officer.principal, grounds=["porn_vulgar"], jurisdiction="310000",
            at=auth.now(), title="某网站低俗内容",
        )  # fmt: skip
    with ui_db.write() as s:
        row = s.get(Case, case.case.id)
        assert row.campaign_id == campaign_id and row.campaign_task == "1"
        row.state, row.deadline = "rectifying", today() - timedelta(days=3)
    page = ui.get(f"/campaigns/{campaign_id}")
    assert page.status_code == 200
    html = page.text
    assert "<h1>测试专项行动</h1>" in html
    assert 'aria-current="step"' in html and "当前阶段" in html
    assert "整治有害信息" in html and "规范网络社交行为" in html
    # progress matrix: stage 1 ended unreported → 逾期未报; stage 2 running → 待报送
    assert "逾期未报" in html and "待报送" in html and "未开始" in html
    assert "进展逾期未报" in html  # a reminder
    assert "某网站低俗内容" in html and f'href="/cases/{case.case.id}"' in html
    assert 'id="campaign-overdue"' in html and "逾期天数" in html
    assert 'id="campaign-report"' in html  # the officer's department takes part
    assert "下载工作总结（Word）" in html and "导出统计（Excel）" in html
    assert 'id="campaign-public"' not in html  # officers cannot change settings
    assert_accessible(html)


def test_overdue_and_cases_follow_department_visibility(ui, ui_db, ui_people):
    campaign_id = make_campaign(ui_db, ui_people)
    officer = ui_people.make("officer", department="cyberspace", jurisdiction="310000")
    with ui_db.write() as s:
        case_service.create_case(
            s, officer.principal, grounds=["porn_vulgar"], jurisdiction="310000",
            at=auth.now(), title="网信牵头的案件",
        )  # fmt: skip
    login_as(ui, ui_people, "officer", department="education", name="edu")
    page = ui.get(f"/campaigns/{campaign_id}")
    assert page.status_code == 200 and "网信牵头的案件" not in page.text


# ---------------------------------------------------------------- reports


def test_report_submission_and_newest_first(ui, ui_db, ui_people):
    campaign_id = make_campaign(ui_db, ui_people)
    login_as(ui, ui_people, "officer", name="wx")
    page = ui.get(f"/campaigns/{campaign_id}")
    csrf = csrf_of(page.text)
    form = {
        "csrf": csrf,
        "stage": "1",
        "task": "1",
        "body": "第一份进展",
        "fig-items_cleaned": "1,200",
        "fig-accounts_handled": "",
    }
    r = ui.post(f"/campaigns/{campaign_id}/reports", data=form)
    assert r.status_code == 303
    r = ui.post(f"/campaigns/{campaign_id}/reports", data={**form, "stage": "2", "body": "第二份"})
    assert r.status_code == 303
    html = ui.get(f"/campaigns/{campaign_id}").text
    assert html.index("第二份") < html.index("第一份进展")
    assert "清理违法违规信息：1,200条" in html
    assert "逾期报送" in html  # stage 1 reported after its deadline
    with ui_db.read() as s:
        reports = campaign_service.reports(
            s, ui_people.make("admin", jurisdiction="100000").principal, campaign_id
        )
    assert reports[0].figures == {"items_cleaned": 1200} and reports[0].task_code == "1"


REPORT_ERRORS = [
    ({"fig-items_cleaned": "-5"}, "fig-items_cleaned", "应在0至"),
    ({"fig-groups_closed": "很多"}, "fig-groups_closed", "应为整数"),
    ({"body": "  "}, "body", "请填写进展内容"),
    ({"stage": "9"}, "stage", "请从列表中选择阶段"),
    ({"task": "zz"}, "task", "请从列表中选择任务"),
]


def test_report_errors_keep_values(ui, ui_db, ui_people):
    campaign_id = make_campaign(ui_db, ui_people)
    login_as(ui, ui_people, "officer", name="wx")
    csrf = csrf_of(ui.get(f"/campaigns/{campaign_id}").text)
    for changes, field, message in REPORT_ERRORS:
        form = {"csrf": csrf, "stage": "2", "body": "本阶段进展<script>", "fig-items_cleaned": "7"}
        form.update(changes)
        r = ui.post(f"/campaigns/{campaign_id}/reports", data=form)
        assert r.status_code == 422, changes
        assert f'id="f-{field}-error"' in r.text and message in r.text, changes
        if field != "body":
            assert "本阶段进展&lt;script&gt;" in r.text
        if field != "fig-items_cleaned":
            assert 'name="fig-items_cleaned" type="text" value="7"' in r.text
    with ui_db.read() as s:
        admin = ui_people.make("admin", jurisdiction="100000").principal
        assert campaign_service.reports(s, admin, campaign_id) == []


def test_report_by_non_participating_department_is_refused(ui, ui_db, ui_people):
    campaign_id = make_campaign(ui_db, ui_people)
    login_as(ui, ui_people, "officer", department="telecom", name="tel")
    page = ui.get(f"/campaigns/{campaign_id}")
    assert page.status_code == 200 and 'id="campaign-report"' not in page.text
    r = ui.post(
        f"/campaigns/{campaign_id}/reports",
        data={"csrf": csrf_of(page.text), "stage": "1", "body": "x", "fig-items_cleaned": "-1"},
    )
    assert r.status_code == 403 and "未参与" in r.text


def test_report_without_csrf_is_refused(ui, ui_db, ui_people):
    campaign_id = make_campaign(ui_db, ui_people)
    login_as(ui, ui_people, "officer", name="wx")
    r = ui.post(f"/campaigns/{campaign_id}/reports", data={"stage": "1", "body": "x"})
    assert r.status_code == 403


# ---------------------------------------------------------------- settings


def test_leader_publishes_and_archives(ui, ui_db, ui_people):
    campaign_id = make_campaign(ui_db, ui_people)
    login_as(ui, ui_people, "leader", name="boss")
    page = ui.get(f"/campaigns/{campaign_id}")
    assert 'id="campaign-public"' in page.text
    csrf = csrf_of(page.text)
    r = ui.post(f"/campaigns/{campaign_id}/settings", data={"csrf": csrf, "public": "1"})
    assert r.status_code == 303
    page = ui.get(r.headers["location"])
    assert "已在公开页面发布进展" in page.text and "取消公开进展" in page.text
    with ui_db.read() as s:
        assert [v.id for v in campaign_service.public_campaigns(s)] == [campaign_id]
    r = ui.post(f"/campaigns/{campaign_id}/settings", data={"csrf": csrf, "public": "0"})
    with ui_db.read() as s:
        assert campaign_service.public_campaigns(s) == []
    r = ui.post(f"/campaigns/{campaign_id}/settings", data={"csrf": csrf, "archived": "1"})
    assert r.status_code == 303
    assert "测试专项行动" not in ui.get("/campaigns").text
    assert "测试专项行动" in ui.get("/campaigns?archived=1").text
    assert ui.post(f"/campaigns/{campaign_id}/settings", data={"csrf": csrf}).status_code == 422


def test_officer_cannot_change_settings(ui, ui_db, ui_people):
    campaign_id = make_campaign(ui_db, ui_people)
    login_as(ui, ui_people, "officer", name="wx")
    csrf = csrf_of(ui.get(f"/campaigns/{campaign_id}").text)
    r = ui.post(f"/campaigns/{campaign_id}/settings", data={"csrf": csrf, "public": "1"})
    assert r.status_code == 403


# ---------------------------------------------------------------- downloads


def test_content_disposition_has_utf8_and_ascii_names():
    from qinglang.web.responses import content_disposition

    value = content_disposition("专项行动-工作总结.docx", "campaign-1-summary.docx")
    assert value.startswith('attachment; filename="campaign-1-summary.docx"')
    assert "filename*=UTF-8''%E4%B8%93" in value
    value.encode("latin-1")  # a header must be latin-1


def test_summary_docx_download(ui, ui_db, ui_people):
    pytest.importorskip("qinglang.services.documents.summary_docx")
    docx = pytest.importorskip("docx")
    import io

    campaign_id = make_campaign(ui_db, ui_people)
    login_as(ui, ui_people, "leader", name="boss")
    r = ui.get(f"/campaigns/{campaign_id}/summary.docx")
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(r.content)).paragraphs)
    assert "测试专项行动" in text


def test_statistics_xlsx_download(ui, ui_db, ui_people):
    pytest.importorskip("qinglang.services.documents.statistics_xlsx")
    openpyxl = pytest.importorskip("openpyxl")
    import io

    campaign_id = make_campaign(ui_db, ui_people)
    login_as(ui, ui_people, "officer", name="wx")
    r = ui.get(f"/campaigns/{campaign_id}/statistics.xlsx")
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert book.sheetnames


def test_downloads_follow_visibility(ui, ui_db, ui_people):
    other = make_campaign(ui_db, ui_people, running_plan("410000", "河南测试行动"))
    login_as(ui, ui_people, "officer", name="wx")
    assert ui.get(f"/campaigns/{other}/summary.docx").status_code == 404
    assert ui.get(f"/campaigns/{other}/statistics.xlsx").status_code == 404
