"""User and department administration pages: admins only; create and edit users with errors
next to the fields; departments read-only; organisations with a checked USCC."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dbfixtures import PASSWORD
from qinglang.store import audit_log
from qinglang.store.models import User
from uifixtures import assert_accessible, csrf_of, ui_login

NEW_PASSWORD = "Another-horse-42"
USCC = "91310000MA1FL0001R"  # well-formed (check character R), not a real company


@pytest.fixture
def admin(ui, ui_people):
    person = ui_people.make("admin", jurisdiction="100000", username="root1")
    ui_login(ui, "root1")
    return person


def new_user(ui, **data):
    page = ui.get("/admin/users/new")
    assert page.status_code == 200
    body = {"jurisdiction": "310000", "password": PASSWORD, "password_confirm": PASSWORD, **data}
    return ui.post("/admin/users/new", data={"csrf": csrf_of(page.text), **body})


PAGES = ("/admin/users", "/admin/users/new", "/admin/departments", "/admin/organisations")


def test_anonymous_is_sent_to_login(ui):
    for path in PAGES:
        r = ui.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path


@pytest.mark.parametrize("role", ["officer", "analyst", "leader", "operator"])
def test_only_admins_see_the_pages(ui, ui_people, role):
    org = ui_people.organisation() if role == "operator" else None
    department = None if role == "operator" else "cyberspace"
    ui_people.make(
        role, department=department, jurisdiction="310000", organisation_id=org, username="u1"
    )
    ui_login(ui, "u1")
    for path in (*PAGES, "/admin/users/1/edit"):
        assert ui.get(path).status_code == 403, path
    assert ui.post("/admin/organisations", data={"name": "x"}).status_code == 403


def test_pages_render_with_labels(ui, admin):
    for path in PAGES:
        page = ui.get(path)
        assert page.status_code == 200, path
        assert_accessible(page.text)
    users = ui.get("/admin/users").text
    assert "root1" in users and "系统管理员" in users
    assert "$argon2" not in users and "password" not in users.lower().replace('type="password"', "")


def test_create_user_then_it_can_log_in(ui, admin):
    r = new_user(
        ui,
        username="wx.zhang",
        display_name="张网信",
        roles=["officer", "analyst"],
        department="cyberspace",
    )
    assert r.status_code == 303, r.text[:2000]
    listing = ui.get("/admin/users").text
    assert "wx.zhang" in listing and "张网信" in listing and "网信" in listing
    assert "$argon2" not in listing
    ui.cookies.clear()
    ui_login(ui, "wx.zhang")
    assert ui.get("/workbench").status_code == 200


def test_duplicate_username_keeps_the_values_but_not_the_password(ui, admin):
    r = new_user(
        ui, username="root1", display_name="重名的人", roles=["leader"], department="police"
    )
    assert r.status_code == 409
    assert 'id="f-username-error"' in r.text and "该用户名已被使用" in r.text
    assert 'value="root1"' in r.text and 'value="重名的人"' in r.text
    assert 'value="leader" checked' in r.text
    assert '<option value="police" selected>' in r.text
    assert PASSWORD not in r.text
    assert_accessible(r.text)


def test_form_errors_are_next_to_their_fields(ui, admin):
    r = new_user(ui, username="op.a", roles=["operator"])
    assert r.status_code == 422
    assert 'id="f-organisation_id-error"' in r.text and "必须关联一个运营主体" in r.text
    r = new_user(ui, username="wx.li", roles=["officer"])
    assert r.status_code == 422 and 'id="f-department-error"' in r.text
    r = new_user(ui, username="wx.li", roles=[], department="cyberspace")
    assert r.status_code == 422 and 'id="f-roles-error"' in r.text
    r = new_user(ui, username="wx.li", roles=["officer"], department="cyberspace", password="short")
    assert r.status_code == 422 and 'id="f-password_confirm-error"' in r.text
    r = new_user(
        ui,
        username="wx.li",
        roles=["officer"],
        department="cyberspace",
        password="short",
        password_confirm="short",
    )
    assert r.status_code == 422 and 'id="f-password-error"' in r.text and "至少" in r.text
    r = new_user(ui, username="Bad Name!", roles=["leader"], department="cyberspace")
    assert r.status_code == 422 and 'id="f-username-error"' in r.text


def test_operator_with_its_organisation(ui, admin, ui_people):
    org = ui_people.organisation("甲网络科技有限公司")
    r = new_user(ui, username="op.jia", roles=["operator"], organisation_id=str(org))
    assert r.status_code == 303, r.text[:2000]
    assert "甲网络科技有限公司" in ui.get("/admin/users").text


def test_edit_roles_deactivate_and_reset_password(ui, admin, ui_people, ui_db):
    person = ui_people.make("officer", department="cyberspace", jurisdiction="310000")
    path = f"/admin/users/{person.id}/edit"
    page = ui.get(path)
    assert page.status_code == 200 and 'value="officer" checked' in page.text
    assert_accessible(page.text)
    token = csrf_of(page.text)
    base = {"csrf": token, "roles": ["officer", "leader"], "department": "police"}
    r = ui.post(path, data={**base, "jurisdiction": "310000", "active": "1"})
    assert r.status_code == 303
    with ui_db.read() as s:
        user = s.get(User, person.id)
        assert sorted(user.roles) == ["leader", "officer"] and user.department == "police"
    r = ui.post(path, data={**base, "jurisdiction": "310000", "active": "1", "password": "x"})
    assert r.status_code == 422 and 'id="f-password_confirm-error"' in r.text
    r = ui.post(
        path,
        data={
            **base,
            "jurisdiction": "310000",
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },  # no "active": the account is switched off
    )
    assert r.status_code == 303
    with ui_db.read() as s:
        user = s.get(User, person.id)
        assert not user.active
        kinds = [e.kind for e in audit_log.records_for(s, f"user:{person.id}")]
    assert "user.password_reset" in kinds
    assert ui.post(path, data={**base, "jurisdiction": "31"}).status_code == 422
    # An admin cannot lock themselves out.
    own = f"/admin/users/{admin.id}/edit"
    r = ui.post(own, data={"csrf": token, "roles": ["admin"], "jurisdiction": "100000"})
    assert r.status_code == 422 and "不能停用自己的账号" in r.text
    assert ui.get("/admin/users/999999/edit").status_code == 404
    assert ui.post(path, data={**base, "jurisdiction": "310000"}).status_code == 303
    assert ui.post(path, data={"roles": ["officer"], "jurisdiction": "310000"}).status_code == 403


def test_reset_password_lets_the_user_log_in_with_the_new_one(ui, admin, ui_people):
    person = ui_people.make("leader", department="cyberspace", jurisdiction="310000")
    path = f"/admin/users/{person.id}/edit"
    token = csrf_of(ui.get(path).text)
    data = {
        "csrf": token,
        "roles": ["leader"],
        "department": "cyberspace",
        "jurisdiction": "310000",
        "active": "1",
        "password": NEW_PASSWORD,
        "password_confirm": NEW_PASSWORD,
    }
    assert ui.post(path, data=data).status_code == 303
    ui.cookies.clear()
    ui_login(ui, person.principal.username, NEW_PASSWORD)


def test_departments_show_full_names_and_counts(ui, admin, ui_people):
    ui_people.make("officer", department="police", jurisdiction="310000")
    page = ui.get("/admin/departments").text
    assert "公安" in page and "固定数据" in page
    assert "<td>公安</td>" in page or "公安" in page
    row = page.split("<code>police</code>", 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">1</td>' in row


def test_organisations_list_and_create_with_a_checked_uscc(ui, admin, ui_db):
    page = ui.get("/admin/organisations")
    token = csrf_of(page.text)
    bad = ui.post(
        "/admin/organisations",
        data={"csrf": token, "name": "乙网络科技有限公司", "uscc": "91310000MA1FL00010"},
    )
    assert bad.status_code == 422 and 'id="f-uscc-error"' in bad.text
    assert 'value="乙网络科技有限公司"' in bad.text
    ok = ui.post(
        "/admin/organisations",
        data={"csrf": token, "name": "乙网络科技有限公司", "uscc": USCC, "region": "310000"},
    )
    assert ok.status_code == 303
    listing = ui.get("/admin/organisations").text
    assert "乙网络科技有限公司" in listing and USCC in listing
    again = ui.post("/admin/organisations", data={"csrf": token, "name": "乙网络科技有限公司"})
    assert again.status_code == 409 and 'id="f-name-error"' in again.text
    assert ui.post("/admin/organisations", data={"name": "丙"}).status_code == 403
    with ui_db.read() as s:
        assert s.execute(select(User.id)).first() is not None
