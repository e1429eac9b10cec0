"""Login, tokens, users and organisations over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from dbfixtures import PASSWORD


def test_login_me_logout(api, people) -> None:
    person = people.make("officer", department="cyberspace", jurisdiction="310000")
    assert api.get("/api/v1/auth/me").status_code == 401
    bad = api.post(
        "/api/v1/auth/login", json={"username": person.principal.username, "password": "nope"}
    )
    assert bad.status_code == 401
    assert bad.json()["detail"] == "用户名或密码错误。"
    ok = api.post(
        "/api/v1/auth/login", json={"username": person.principal.username, "password": PASSWORD}
    )
    assert ok.status_code == 200, ok.text
    assert "qinglang_session" in ok.cookies
    me = api.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["roles"] == ["officer"]
    assert api.post("/api/v1/auth/logout").status_code == 204
    api.cookies.clear()
    assert api.get("/api/v1/auth/me").status_code == 401


def test_bearer_tokens(api, people) -> None:
    person = people.make("analyst", department="police")
    assert api.get("/api/v1/auth/me", headers=person.headers).status_code == 200
    wrong = {"Authorization": "Bearer qlt_forged"}
    assert api.get("/api/v1/auth/me", headers=wrong).status_code == 401
    created = api.post("/api/v1/tokens", json={"name": "bot"}, headers=person.headers)
    assert created.status_code == 201
    token = created.json()["token"]
    assert (
        api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )
    revoked = api.delete(f"/api/v1/tokens/{created.json()['id']}", headers=person.headers)
    assert revoked.status_code == 204
    assert (
        api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )


def test_only_admins_manage_users_within_their_jurisdiction(api, people) -> None:
    admin = people.make("admin", jurisdiction="310000")
    officer = people.make("officer", department="cyberspace", jurisdiction="310000")
    body = {
        "username": "leader.sh",
        "password": "Another-pass-42",
        "roles": ["leader"],
        "department": "cyberspace",
        "jurisdiction": "310100",
    }
    assert api.post("/api/v1/users", json=body, headers=officer.headers).status_code == 403
    assert api.post("/api/v1/users", json=body, headers=admin.headers).status_code == 201
    assert api.post("/api/v1/users", json=body, headers=admin.headers).status_code == 409
    outside = {**body, "username": "leader.bj", "jurisdiction": "110000"}
    assert api.post("/api/v1/users", json=outside, headers=admin.headers).status_code == 403
    no_dept = {**body, "username": "x.y", "department": None}
    r = api.post("/api/v1/users", json=no_dept, headers=admin.headers)
    assert r.status_code == 422 and r.json()["code"] == "department_required"
    users = api.get("/api/v1/users", headers=admin.headers).json()
    assert {u["username"] for u in users} >= {"leader.sh"}
    assert all(u["jurisdiction"].startswith("31") for u in users)


def test_operator_needs_an_organisation(api, people) -> None:
    admin = people.make("admin")
    body = {
        "username": "op1",
        "password": "Operator-pass-1",
        "roles": ["operator"],
        "jurisdiction": "310000",
    }
    r = api.post("/api/v1/users", json=body, headers=admin.headers)
    assert r.status_code == 422 and r.json()["code"] == "organisation_required"
    org = api.post(
        "/api/v1/organisations",
        json={"name": "某游戏公司", "uscc": "91350100M000100Y43", "region": "350100"},
        headers=admin.headers,
    )
    assert org.status_code == 201, org.text
    body["organisation_id"] = org.json()["id"]
    assert api.post("/api/v1/users", json=body, headers=admin.headers).status_code == 201
    bad_uscc = api.post(
        "/api/v1/organisations",
        json={"name": "假公司", "uscc": "91350100M000100Y44"},
        headers=admin.headers,
    )
    assert bad_uscc.status_code == 422


@pytest.mark.parametrize("jurisdiction", ["31", "990000", "abcdef"])
def test_a_malformed_jurisdiction_is_a_422_not_a_500(api, people, jurisdiction):
    admin = people.make("admin", jurisdiction="100000")
    r = api.post(
        "/api/v1/users",
        json={
            "username": "someone",
            "password": "Correct-horse-9",
            "roles": ["officer"],
            "department": "police",
            "jurisdiction": jurisdiction,
        },
        headers=admin.headers,
    )
    assert r.status_code == 422, r.text
