"""Intake queue pages (线索受理): who sees what, triage and flags in the list, duplicate
groups, an item's evidence, and filing a patrol finding or hand-off through the form."""

from __future__ import annotations

import hashlib
import re
from functools import cached_property

import pytest

from uifixtures import assert_accessible, csrf_of, ui_login

SH = "310000"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
TIP = {"text": "这个网站有赌博广告，诱导学生下注博彩", "urls": ["https://bet.example.cn/a"]}


class Cast:
    """People made when first needed (each costs an Argon2 hash)."""

    def __init__(self, people) -> None:
        self.people = people

    @cached_property
    def org(self) -> int:
        return self.people.organisation("甲网络科技有限公司")

    @cached_property
    def officer(self):
        return self.people.make("officer", department="cyberspace", jurisdiction=SH)

    @cached_property
    def analyst(self):
        return self.people.make("analyst", department="police", jurisdiction=SH)

    @cached_property
    def leader(self):
        return self.people.make("leader", department="cyberspace", jurisdiction=SH)

    @cached_property
    def admin(self):
        return self.people.make("admin", jurisdiction="100000")

    @cached_property
    def operator(self):
        return self.people.make("operator", jurisdiction=SH, organisation_id=self.org)

    @cached_property
    def beijing(self):
        return self.people.make("officer", department="cyberspace", jurisdiction="110000")


@pytest.fixture
def cast(ui_people) -> Cast:
    return Cast(ui_people)


def as_(ui, person):
    ui.cookies.clear()
    ui_login(ui, person.principal.username)
    return ui


def tip(ui, **body) -> None:
    """A public tip through the public channel (no login), as the reports API tests file."""
    ui.cookies.clear()
    r = ui.post("/api/v1/reports", json={"region": SH, **body})
    assert r.status_code == 201, r.text


def test_anonymous_is_sent_to_login(ui):
    for path in ("/intake", "/intake?group=1", "/intake/1", "/intake/new"):
        r = ui.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path


def test_list_shows_triage_flags_lead_and_duplicate_group(ui, cast):
    tip(ui, **TIP)
    tip(ui, text="赌博网站，快查处，学生在上面下注", urls=["http://BET.example.cn/a/#top"])
    as_(ui, cast.officer)
    page = ui.get("/intake")
    assert page.status_code == 200
    assert_accessible(page.text)
    assert "共 <strong>2</strong> 条受理记录" in page.text
    assert "赌博" in page.text and "得分" in page.text  # triage suggestion with its score
    assert "重复线索" in page.text  # the second tip's flag
    case_links = set(re.findall(r'href="/cases/(\d+)"', page.text))
    assert len(case_links) == 1  # both joined one lead
    assert "公众举报" in page.text
    groups = ui.get("/intake?group=1")
    assert groups.status_code == 200 and "重复线索分组" in groups.text
    assert "共 2 条受理记录" in groups.text and "bet.example.cn/a" in groups.text
    assert f'href="/cases/{case_links.pop()}"' in groups.text
    merged = ui.get("/intake?status=merged").text
    assert "共 <strong>1</strong> 条受理记录" in merged
    assert "共 <strong>1</strong>" in ui.get("/intake?flag=duplicate").text


def test_who_sees_the_queue(ui, cast):
    tip(ui, **TIP)
    for person in (cast.analyst, cast.leader):
        as_(ui, person)
        page = ui.get("/intake")
        assert page.status_code == 200 and "bet.example.cn" in page.text
    as_(ui, cast.admin)  # admins manage accounts; they do not handle leads
    assert ui.get("/intake").status_code == 403
    assert ui.get("/intake/new").status_code == 403
    as_(ui, cast.operator)  # only its own self-reports
    page = ui.get("/intake")
    assert page.status_code == 200 and "bet.example.cn" not in page.text
    assert ui.get("/intake/1").status_code == 403
    assert ui.get("/intake/new").status_code == 403
    as_(ui, cast.beijing)  # another province
    assert "bet.example.cn" not in ui.get("/intake").text
    assert ui.get("/intake/1").status_code == 403
    assert ui.get("/intake/999999").status_code == 404


def test_bad_filters_are_inline_errors(ui, cast):
    as_(ui, cast.officer)
    r = ui.get("/intake?received_after=yesterday")
    assert r.status_code == 422 and 'id="f-received_after-error"' in r.text
    r = ui.get("/intake?ticket=nonsense")
    assert r.status_code == 422 and 'id="f-ticket-error"' in r.text
    assert ui.get("/intake?flag=zzz").status_code == 422
    assert ui.get("/intake?received_after=2020-01-01&received_before=2099-01-01").status_code == 200


def test_patrol_finding_with_an_attachment_shows_its_digest(ui, cast):
    as_(ui, cast.officer)
    form = ui.get("/intake/new")
    assert form.status_code == 200 and 'id="intake-new"' in form.text
    assert_accessible(form.text)
    r = ui.post(
        "/intake/new",
        data={
            "csrf": csrf_of(form.text),
            "source": "patrol",
            "title": "巡查发现：应用内弹窗诱导充值",
            "text": "课程页弹出游戏充值广告",
            "urls": "https://app.example.cn/course/1\n",
            "jurisdiction": SH,
        },
        files={"attachments": ("截图.png", PNG, "image/png")},
    )
    assert r.status_code == 303, r.text[:3000]
    detail = ui.get(r.headers["location"])
    assert detail.status_code == 200
    assert "已受理" in detail.text and "已生成新线索" in detail.text  # the one-time message
    digest = hashlib.sha256(PNG).hexdigest()
    assert f'<td class="hash">{digest}</td>' in detail.text
    assert f'href="/api/v1/evidence/{digest}"' in detail.text
    assert "巡查发现" in detail.text and "app.example.cn/course/1" in detail.text
    assert "前往案件页立案" in detail.text
    evidence = ui.get(f"/api/v1/evidence/{digest}")  # the session cookie is enough
    assert evidence.status_code == 200 and evidence.content == PNG


def test_filing_errors_keep_what_was_typed(ui, cast):
    as_(ui, cast.analyst)
    token = csrf_of(ui.get("/intake/new").text)
    r = ui.post(
        "/intake/new",
        data={"csrf": token, "source": "patrol", "title": "只有文字", "text": "没有证据的巡查"},
    )
    assert r.status_code == 422
    assert 'id="f-urls-error"' in r.text and "网址" in r.text
    assert 'value="只有文字"' in r.text and "没有证据的巡查" in r.text
    assert_accessible(r.text)
    r = ui.post(
        "/intake/new",
        data={"csrf": token, "source": "handoff", "title": "公安移交", "text": "赌博引流"},
    )
    assert r.status_code == 422 and 'id="f-category-error"' in r.text
    r = ui.post(
        "/intake/new",
        data={
            "csrf": token,
            "source": "patrol",
            "urls": "https://a.example.cn/",
            "jurisdiction": "110000",
        },
    )
    assert r.status_code == 403 and 'id="f-jurisdiction-error"' in r.text
    r = ui.post(
        "/intake/new",
        data={
            "csrf": token,
            "source": "patrol",
            "urls": "https://a.example.cn/",
            "subject_id": "x",
        },
    )
    assert r.status_code == 422 and 'id="f-subject_id-error"' in r.text
    r = ui.post(
        "/intake/new",
        data={
            "csrf": token,
            "source": "handoff",
            "title": "公安移交",
            "text": "赌博引流",
            "category": "gambling",
        },
    )
    assert r.status_code == 303
    no_token = ui.post("/intake/new", data={"source": "patrol", "urls": "https://a.example.cn/"})
    assert no_token.status_code == 403
