"""The UI shell: login and logout, redirects, CSRF, and HTML error pages (not JSON) on pages."""

from __future__ import annotations

import pytest

from dbfixtures import PASSWORD
from qinglang.web.ui.session import safe_next
from uifixtures import csrf_of


def login(client, username: str, password: str = PASSWORD, next_url: str = "/"):
    return client.post(
        "/login", data={"username": username, "password": password, "next": next_url}
    )


def test_anonymous_home_goes_to_public_pages(ui):
    assert ui.get("/").headers["location"] == "/public"


def test_protected_page_redirects_to_login_with_next(ui):
    r = ui.get("/workbench?x=1")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/workbench%3Fx%3D1"


def test_login_form_labels_every_field(ui):
    html = ui.get("/login").text
    for field in ("username", "password"):
        assert f'<label for="{field}">' in html
        assert f'id="{field}"' in html
    assert 'lang="zh-CN"' in html


def test_wrong_password_shows_a_chinese_error_and_keeps_the_username(ui, ui_people):
    ui_people.make("officer", department="cyberspace", username="wx1")
    r = login(ui, "wx1", "wrong-password")
    assert r.status_code == 401
    assert "用户名或密码" in r.text
    assert 'value="wx1"' in r.text


def test_login_then_workbench_then_logout(ui, ui_people):
    ui_people.make("officer", department="cyberspace", username="wx2")
    r = login(ui, "wx2", next_url="/workbench")
    assert r.status_code == 303 and r.headers["location"] == "/workbench"
    page = ui.get("/workbench")
    assert page.status_code == 200
    assert "工作台" in page.text and "待办提醒" in page.text
    # Logging out without the form's token is refused, with the token it works.
    assert ui.post("/logout", data={}).status_code == 403
    r = ui.post("/logout", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 303
    assert ui.get("/workbench").status_code == 303  # logged out


def test_operator_home_is_the_portal(ui, ui_people):
    org = ui_people.organisation()
    ui_people.make("operator", jurisdiction="310000", organisation_id=org, username="op1")
    login(ui, "op1")
    assert ui.get("/").headers["location"] == "/portal"


def test_unknown_page_is_an_html_404_but_the_api_stays_json(ui):
    page = ui.get("/no-such-page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "页面不存在" in page.text
    api = ui.get("/api/v1/no-such-endpoint")
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/problem+json")


def test_stylesheet_is_served_locally(ui):
    r = ui.get("/static/qinglang.css")
    assert r.status_code == 200 and "--brand" in r.text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/cases/3", "/cases/3"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        (None, "/"),
        ("cases", "/"),
    ],
)
def test_after_login_only_local_paths_are_followed(value, expected):
    assert safe_next(value) == expected


def test_an_oversized_form_gets_an_html_page(ui, app_settings):
    limit = app_settings.max_body_bytes
    r = ui.post(
        "/public/report",
        content=b"x" * (limit + 1),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("text/html")
    assert "请求体过大" in r.text
