"""Public pages (no login): reporting form and ticket look-up, disclosure page, campaign
progress; labels on every field, a viewport for phones, Chinese errors that keep the input."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from qinglang.govern import campaigns as core
from qinglang.govern.actors import Role
from qinglang.govern.tickets import new_ticket
from qinglang.services import campaigns, cases, disclosure, intake
from qinglang.services.principal import Principal
from qinglang.store.models import Case
from qinglang.web.auth import now
from qinglang.web.ui.pages_public import stage_rows
from uifixtures import assert_accessible

T0 = datetime(2020, 10, 1, 2, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
TIP_TEXT = "某网站在学生学习页面插入博彩广告，举报人自述内容甲乙丙"


def P(uid: int, *roles: str, department: str | None = "police", jurisdiction: str = "410000"):
    return Principal(uid, f"u{uid}", frozenset(Role(r) for r in roles), department, jurisdiction)


OFFICER = P(1, "officer")
ANALYST = P(2, "analyst")
LEADER = P(3, "leader")
SH_LEADER = P(4, "leader", jurisdiction="310000")


# ---------------------------------------------------------------- helpers


def tip(**changes: str) -> dict[str, str]:
    data = {
        "category": "gambling",
        "text": TIP_TEXT,
        "urls": "https://example.cn/learn/1\nhttps://example.cn/learn/2",
        "platform": "某某学习网",
        "region": "410000",
    }
    data.update(changes)
    return data


def ticket_of(html: str) -> str:
    match = re.search(r'<output id="ticket">([^<]+)</output>', html)
    assert match, "no ticket on the receipt page"
    return match.group(1)


def file_tip(client, **changes: str) -> str:
    r = client.post("/public/report", data=tip(**changes))
    assert r.status_code == 200, r.text[:2000]
    return ticket_of(r.text)


# ---------------------------------------------------------------- landing and form


def test_landing_cites_the_notice_and_links_every_service(ui):
    r = ui.get("/public")
    assert r.status_code == 200
    assert "教基〔2020〕6号" in r.text
    for href in ("/public/report", "/public/track", "/public/disclosure", "/public/campaigns"):
        assert f'href="{href}"' in r.text
    assert "赌博、博彩引流" in r.text and "恶意弹窗" in r.text  # page-level categories too
    assert_accessible(r.text)


def test_report_form_labels_every_field_and_needs_no_login(ui):
    r = ui.get("/public/report")
    assert r.status_code == 200
    assert 'id="report-form"' in r.text and 'enctype="multipart/form-data"' in r.text
    assert 'name="csrf"' not in r.text
    assert '<option value="310000">上海市</option>' in r.text
    assert '<option value="710000"' not in r.text  # regulators act in the mainland
    assert_accessible(r.text)


def test_a_tip_gets_a_ticket_that_the_track_page_shows_as_accepted(ui):
    r = ui.post(
        "/public/report",
        data=tip(),
        files=[("attachments", ("截图.png", PNG, "image/png"))],
    )
    assert r.status_code == 200, r.text[:2000]
    assert r.headers["cache-control"] == "no-store"
    ticket = ticket_of(r.text)
    assert "举报已受理" in r.text and "已受理" in r.text
    assert f'href="/public/track?ticket={ticket}"' in r.text

    page = ui.get("/public/track", params={"ticket": ticket})
    assert page.status_code == 200
    assert "已受理" in page.text and ticket in page.text
    assert TIP_TEXT not in page.text  # the reporter is told the status, nothing internal
    assert_accessible(page.text)
    # Typed as people type it: lower case, no separators.
    loose = ui.get("/public/track", params={"ticket": ticket.replace("-", "").lower()})
    assert loose.status_code == 200 and "已受理" in loose.text


def test_track_form_alone_and_bad_tickets(ui):
    form = ui.get("/public/track")
    assert form.status_code == 200 and 'id="track-form"' in form.text
    assert_accessible(form.text)

    malformed = ui.get("/public/track", params={"ticket": "QL-123"})
    assert malformed.status_code == 422
    assert "受理编号应为" in malformed.text and 'value="QL-123"' in malformed.text
    unknown = new_ticket()
    missing = ui.get("/public/track", params={"ticket": unknown})
    assert missing.status_code == 404
    assert "未找到该受理编号" in missing.text
    empty = ui.get("/public/track", params={"ticket": " "})
    assert empty.status_code == 422 and "请填写受理编号" in empty.text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"text": "  "}, "请填写问题描述。"),
        ({"urls": "ftp://example.cn/file"}, "第 1 个网址"),
        ({"category": "no_such_category"}, "请从列表中选择问题类别。"),
        ({"region": "990000"}, "请从列表中选择问题所在地区。"),
    ],
)
def test_bad_input_is_422_in_chinese_and_keeps_what_was_typed(ui, changes, message):
    r = ui.post("/public/report", data=tip(**changes))
    assert r.status_code == 422
    assert message in r.text
    assert 'value="某某学习网"' in r.text  # the platform as typed
    if "text" not in changes:
        assert TIP_TEXT in r.text
    if "urls" in changes:
        assert "ftp://example.cn/file" in r.text
    assert_accessible(r.text)


def test_attachments_must_be_images_or_pdf(ui):
    r = ui.post(
        "/public/report",
        data=tip(),
        files=[("attachments", ("note.txt", "纯文本".encode(), "text/plain"))],
    )
    assert r.status_code == 422
    assert "仅接受 PNG、JPEG、GIF、WebP 图片和 PDF 文档" in r.text
    assert TIP_TEXT in r.text


def test_rate_limits_are_the_apis(ui_db, tmp_path):
    from fastapi.testclient import TestClient

    from qinglang.settings import Settings
    from qinglang.web.app import create_app

    settings = Settings(
        blob_dir=tmp_path / "blobs", rate_limit_per_minute=0, report_rate_limit_per_hour=1
    )
    with TestClient(create_app(settings, ui_db), follow_redirects=False) as client:
        ticket = file_tip(client)
        again = client.post("/public/report", data=tip(text="另一条举报：某直播间诱导打赏"))
        assert again.status_code == 429
        assert "举报提交过于频繁" in again.text and "另一条举报" in again.text
        assert int(again.headers["retry-after"]) > 0
        # The JSON endpoint shares the form's budget (one per hour).
        api = client.post("/api/v1/reports", json={"text": "某网站赌博广告"})
        assert api.status_code == 429
        # Look-ups: ten times the filing limit.
        for _ in range(10):
            assert client.get("/public/track", params={"ticket": ticket}).status_code == 200
        limited = client.get("/public/track", params={"ticket": ticket})
        assert limited.status_code == 429 and "举报查询过于频繁" in limited.text
        # The bare form costs nothing.
        assert client.get("/public/track").status_code == 200


# ---------------------------------------------------------------- disclosure


def _publishable_case(db, ticket: str) -> int:
    """Walk the tip's case: open → assess → propose rectify → dispose → approve → notify."""
    with db.read() as s:
        found = intake.find_by_ticket(s, ticket)
        assert found is not None and found[1] is not None
        case_id = found[1].id
    deadline = {"deadline": (now() + timedelta(days=30)).date().isoformat()}
    steps = [
        lambda s: cases.act(s, OFFICER, case_id, "open", at=now()),
        lambda s: cases.act(s, ANALYST, case_id, "assess", at=now()),
        lambda s: cases.propose(s, ANALYST, case_id, "rectify", deadline, at=now()),
        lambda s: cases.act(s, ANALYST, case_id, "dispose", at=now(), reason="情节属实"),
        lambda s: cases.decide(s, LEADER, case_id, 1, "approve", at=now()),
        lambda s: cases.act(s, OFFICER, case_id, "notify", at=now()),
    ]
    for step in steps:
        with db.write() as s:
            step(s)
    return case_id


def test_disclosure_shows_the_public_fields_only(ui, ui_db):
    ticket = file_tip(ui)
    case_id = _publishable_case(ui_db, ticket)
    with ui_db.write() as s:
        summary = s.get(Case, case_id).summary
        disclosure.publish(
            s,
            LEADER,
            case_id,
            title="某学习网站推送博彩广告被责令整改",
            body="经查，该网站在学习页面插入博彩引流广告。\n属地部门已责令限期整改。",
            fields=["region", "grounds", "dispositions"],
            at=now(),
        )
    assert summary and "甲乙丙" in summary  # the internal summary holds the reporter's words

    r = ui.get("/public/disclosure")
    assert r.status_code == 200
    assert "某学习网站推送博彩广告被责令整改" in r.text
    assert "属地部门已责令限期整改。" in r.text
    for label, value in (("属地", "河南省"), ("问题类型", "赌博"), ("处置措施", "责令限期整改")):
        assert f"<dt>{label}</dt>" in r.text and value in r.text
    assert "甲乙丙" not in r.text and summary not in r.text  # neither summary nor reporter text
    assert "某某学习网" not in r.text  # the subject was not ticked
    assert ticket not in r.text
    assert_accessible(r.text)

    assert "被责令整改" in ui.get("/public/disclosure", params={"region": "410000"}).text
    elsewhere = ui.get("/public/disclosure", params={"region": "310000"})
    assert elsewhere.status_code == 200 and "被责令整改" not in elsewhere.text
    bad = ui.get("/public/disclosure", params={"region": "xx"})
    assert bad.status_code == 422 and "请从列表中选择地区" in bad.text
    assert ui.get("/public/disclosure", params={"page": "0"}).status_code == 422
    # The reporter now sees the case being handled.
    assert "处理中" in ui.get("/public/track", params={"ticket": ticket}).text


# ---------------------------------------------------------------- campaigns


def _campaign(db, who: Principal, code: str, *, public: bool) -> int:
    with db.write() as s:
        return campaigns.create_campaign(s, who, core.instantiate(code), at=T0, public=public).id


def test_campaign_progress_is_shown_for_public_campaigns_only(ui, ui_db):
    henan = _campaign(ui_db, LEADER, "henan-2020", public=True)
    shanghai = _campaign(ui_db, SH_LEADER, "shanghai-2020", public=False)

    listing = ui.get("/public/campaigns")
    assert listing.status_code == 200
    assert "河南省未成年人网络环境专项治理行动" in listing.text
    assert "上海市未成年人网络环境专项治理行动" not in listing.text
    assert_accessible(listing.text)
    other = ui.get("/public/campaigns", params={"region": "310000"})
    assert "河南省未成年人网络环境专项治理行动" not in other.text

    page = ui.get(f"/public/campaigns/{henan}")
    assert page.status_code == 200, page.text[:2000]
    plan = core.instantiate("henan-2020")
    for stage in plan.stages:
        assert stage.name in page.text and stage.deadline.isoformat() in page.text
    for task in plan.tasks:
        assert task.name in page.text
    assert '<th scope="col">牵头部门</th>' in page.text
    assert "公开典型案例" in page.text and "清理违法违规信息" in page.text
    assert_accessible(page.text)

    assert ui.get(f"/public/campaigns/{shanghai}").status_code == 404
    assert ui.get("/public/campaigns/999999").status_code == 404
    assert ui.get("/public/campaigns/abc").status_code == 422
    assert ui.get("/public/disclosure", params={"campaign": shanghai}).status_code == 404


def test_stage_rows_mark_the_current_stage():
    plan = replace(core.instantiate("national-2020"))
    first, second, third = plan.stages
    rows = stage_rows(plan, date.fromordinal(first.deadline.toordinal() + 1))
    assert [(r.status, r.current) for r in rows] == [
        ("已结束", False),
        ("进行中", True),
        ("未开始", False),
    ]
    assert rows[1].starts_on == date.fromordinal(first.deadline.toordinal() + 1)
    before = stage_rows(plan, date.fromordinal(plan.starts_on.toordinal() - 1))
    assert not any(r.current for r in before)
    assert rows[2].deadline == third.deadline and second.name == rows[1].name
