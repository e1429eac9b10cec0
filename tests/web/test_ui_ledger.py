"""Ledger pages (台账): who sees what, create, edit with the version check, (de)activate,
import with a per-row report, export."""

from __future__ import annotations

import io
from functools import cached_property

import pytest

from uifixtures import assert_accessible, csrf_of, ui_login

SH = "310000"


MADE = {
    "officer": ("officer", "cyberspace", SH),
    "analyst": ("analyst", "police", SH),
    "leader": ("leader", "cyberspace", SH),
    "admin": ("admin", None, "100000"),
    "beijing": ("officer", "cyberspace", "110000"),
}


class Cast:
    """The people of the scenario, made when first needed (each costs an Argon2 hash)."""

    def __init__(self, people) -> None:
        self.people = people
        self.made: dict[str, object] = {}

    @cached_property
    def org(self) -> int:
        return self.people.organisation("甲网络科技有限公司")

    def __getitem__(self, who: str):
        if who == "org":
            return self.org
        if who not in self.made:
            if who == "operator":
                self.made[who] = self.people.make(
                    "operator", jurisdiction=SH, organisation_id=self.org
                )
            else:
                role, department, jurisdiction = MADE[who]
                self.made[who] = self.people.make(
                    role, department=department, jurisdiction=jurisdiction
                )
        return self.made[who]


@pytest.fixture
def cast(ui_people) -> Cast:
    return Cast(ui_people)


def as_(ui, cast, who: str):
    ui.cookies.clear()
    ui_login(ui, cast[who].principal.username)
    return ui


def create(ui, data: dict, kind: str = "website"):
    page = ui.get(f"/ledger/new?kind={kind}")
    assert page.status_code == 200, page.text[:300]
    return ui.post(f"/ledger/new?kind={kind}", data={"csrf": csrf_of(page.text), **data})


SITE = {"name": "示例学习网", "region": SH, "domains": "learn.example.cn", "risk_level": "high"}


def make_site(ui, cast, **extra) -> int:
    as_(ui, cast, "officer")
    r = create(ui, {**SITE, **extra})
    assert r.status_code == 303, r.text[:2000]
    return int(r.headers["location"].rsplit("/", 1)[1])


def test_anonymous_is_sent_to_login(ui):
    for path in ("/ledger", "/ledger/new", "/ledger/1", "/ledger/import", "/ledger/export"):
        r = ui.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path


def test_create_shows_the_subject_with_its_history(ui, cast):
    as_(ui, cast, "officer")
    chooser = ui.get("/ledger/new")
    assert chooser.status_code == 200 and "网络游戏" in chooser.text
    assert_accessible(chooser.text)
    form = ui.get("/ledger/new?kind=website")
    assert_accessible(form.text)
    assert 'id="ledger-create"' in form.text and "域名" in form.text
    assert "游戏版号" not in form.text  # fields follow the kind
    subject_id = make_site(ui, cast)
    detail = ui.get(f"/ledger/{subject_id}")
    assert detail.status_code == 200
    assert_accessible(detail.text)
    assert "示例学习网" in detail.text and "learn.example.cn" in detail.text
    assert "变更记录" in detail.text and "登记" in detail.text
    listing = ui.get("/ledger?q=learn")
    assert "示例学习网" in listing.text and "共 <strong>1</strong> 个主体" in listing.text
    assert_accessible(listing.text)


def test_bad_fields_are_shown_next_to_them_and_values_kept(ui, cast):
    as_(ui, cast, "officer")
    r = create(ui, {"name": "坏主体", "region": "31", "domains": "", "uscc": "123"})
    assert r.status_code == 422
    assert 'value="坏主体"' in r.text and 'value="123"' in r.text
    assert 'id="f-region-error"' in r.text and 'id="f-domains-error"' in r.text
    assert 'id="f-uscc-error"' in r.text and "必须填写" in r.text
    assert_accessible(r.text)


def test_edit_and_stale_edit_conflict(ui, cast):
    subject_id = make_site(ui, cast)
    form = ui.get(f"/ledger/{subject_id}/edit")
    assert form.status_code == 200 and 'name="version" value="1"' in form.text
    assert_accessible(form.text)
    token = csrf_of(form.text)
    data = {**SITE, "csrf": token, "version": "1", "risk_level": "low", "notes": "已约谈"}
    r = ui.post(f"/ledger/{subject_id}/edit", data=data)
    assert r.status_code == 303, r.text[:2000]
    detail = ui.get(f"/ledger/{subject_id}").text
    assert "版本 2" in detail and "高" in detail and "→ 低" in detail  # old → new
    # The same form again (version 1) is stale: a clear message, and the typed text stays.
    stale = ui.post(f"/ledger/{subject_id}/edit", data={**data, "notes": "我的修改"})
    assert stale.status_code == 409
    assert "已被他人修改" in stale.text and "我的修改" in stale.text
    # Without the form's token nothing changes.
    assert ui.post(f"/ledger/{subject_id}/edit", data={**SITE, "version": "2"}).status_code == 403


def test_deactivate_and_reactivate_with_a_reason(ui, cast):
    subject_id = make_site(ui, cast)
    page = ui.get(f"/ledger/{subject_id}")
    token = csrf_of(page.text)
    r = ui.post(
        f"/ledger/{subject_id}/deactivate",
        data={"csrf": token, "version": "1", "reason": "网站已关停"},
    )
    assert r.status_code == 303
    detail = ui.get(f"/ledger/{subject_id}").text
    assert "停用" in detail and "网站已关停" in detail and 'id="ledger-reactivate"' in detail
    # Already inactive (with a stale version): refused on the page, not a 500.
    again = ui.post(
        f"/ledger/{subject_id}/deactivate", data={"csrf": token, "version": "2", "reason": "x"}
    )
    assert again.status_code == 409 and "停用" in again.text
    assert "共 <strong>0</strong>" in ui.get("/ledger").text  # the list shows active ones
    assert "示例学习网" in ui.get("/ledger?status=inactive").text
    r = ui.post(f"/ledger/{subject_id}/reactivate", data={"csrf": token, "version": "2"})
    assert r.status_code == 303


def test_who_sees_and_changes_what(ui, cast, ui_db):
    subject_id = make_site(ui, cast, organisation_id=str(cast["org"]))
    for who in ("analyst", "admin"):
        as_(ui, cast, who)
        assert ui.get("/ledger/new?kind=website").status_code == 200, who
        assert "示例学习网" in ui.get("/ledger").text
    as_(ui, cast, "leader")  # reads, does not keep the ledger
    assert "示例学习网" in ui.get(f"/ledger/{subject_id}").text
    assert "修改" not in ui.get(f"/ledger/{subject_id}").text.split("基本信息")[0]
    assert ui.get("/ledger/new").status_code == 403
    assert ui.get(f"/ledger/{subject_id}/edit").status_code == 403
    assert ui.get("/ledger/import").status_code == 403
    as_(ui, cast, "operator")  # its own subjects only, read-only
    assert "示例学习网" in ui.get("/ledger").text
    assert ui.get(f"/ledger/{subject_id}").status_code == 200
    assert ui.get("/ledger/new").status_code == 403
    as_(ui, cast, "beijing")  # another province
    assert "示例学习网" not in ui.get("/ledger").text
    assert ui.get(f"/ledger/{subject_id}").status_code == 403
    assert ui.get("/ledger/999999").status_code == 404


def test_bad_filter_is_an_inline_error_not_a_500(ui, cast):
    as_(ui, cast, "officer")
    r = ui.get("/ledger?region=abc")
    assert r.status_code == 422 and 'id="f-region-error"' in r.text
    assert ui.get("/ledger?cursor=zzz").status_code == 422


def test_import_reports_each_row_in_chinese(ui, cast):
    as_(ui, cast, "officer")
    page = ui.get("/ledger/import")
    assert page.status_code == 200
    assert_accessible(page.text)
    csv_text = (
        "类型,名称,地区代码,域名\n"
        "网站,导入的学习网,310000,import.example.cn\n"
        "网站,没有域名的网站,310000,\n"
        "app,导入的App,310100,\n"
    )
    r = ui.post(
        "/ledger/import",
        data={"csrf": csrf_of(page.text)},
        files={"file": ("台账.csv", csv_text.encode("utf-8"), "text/csv")},
    )
    assert r.status_code == 200, r.text[:2000]
    assert "导入结果" in r.text
    assert "第 3 行" in r.text and "必须填写" in r.text  # the row without a domain
    assert '<div class="value">2</div><div class="label">新增' in r.text
    assert "导入的学习网" in ui.get("/ledger").text


def test_import_refuses_an_unreadable_file_on_the_form(ui, cast):
    as_(ui, cast, "officer")
    page = ui.get("/ledger/import")
    token = csrf_of(page.text)
    r = ui.post(
        "/ledger/import",
        data={"csrf": token},
        files={"file": ("x.csv", "色情,赌博\n1,2\n".encode(), "text/csv")},
    )
    assert r.status_code == 422 and 'id="f-file-error"' in r.text
    assert ui.post("/ledger/import", data={"csrf": token}).status_code == 422
    no_token = ui.post("/ledger/import", files={"file": ("x.csv", b"a,b\n", "text/csv")})
    assert no_token.status_code == 403


def test_export_xlsx_and_csv_with_the_list_filters(ui, cast):
    from openpyxl import load_workbook

    make_site(ui, cast)
    create(ui, {"name": "示例游戏", "region": SH}, kind="game")
    r = ui.get("/ledger/export?format=xlsx&kind=website")
    assert r.status_code == 200
    assert r.headers["content-disposition"].startswith("attachment;")
    sheet = load_workbook(io.BytesIO(r.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "编号" and len(rows) == 2
    assert "示例学习网" in rows[1]
    csv_r = ui.get("/ledger/export?format=csv")
    assert csv_r.status_code == 200 and "示例游戏" in csv_r.content.decode("utf-8-sig")
    assert ui.get("/ledger/export?format=pdf").status_code == 422


def test_detail_lists_the_cases_linked_to_the_subject(ui, cast):
    subject_id = make_site(ui, cast)
    r = ui.post(
        "/api/v1/reports",
        json={"text": "学习网站弹出赌博广告", "urls": ["https://learn.example.cn/x"], "region": SH},
    )
    assert r.status_code == 201, r.text
    detail = ui.get(f"/ledger/{subject_id}").text
    section = detail.split('id="h-cases"', 1)[1].split("</section>", 1)[0]
    assert 'href="/cases/' in section
