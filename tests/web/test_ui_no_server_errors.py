"""Every page, with junk in its path, its query and its form, answers something other than a
500 — for every role and for nobody. Bad input on pages gets a page in Chinese, not a crash."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Mount

from qinglang.services import demo as demo_data
from qinglang.store.blobs import BlobStore
from uifixtures import csrf_of, ui_login

PASSWORD = "Fuzz-test-password-1"
JUNK_PATH = ["1", "2", "999999", "0", "-1", "abc", "%E4%BD%A0", "1.docx", "9" * 30]
JUNK_QUERY = {
    "page": "-3",
    "cursor": "!!not-a-cursor",
    "state": "bogus",
    "kind": "<script>",
    "region": "99",
    "q": "' OR 1=1 --",
    "ticket": "QL-XXXX",
    "after_seq": "-1",
    "group": "x",
    "format": "exe",
    "archived": "maybe",
    "received_after": "2020-13-45",
    "overdue": "perhaps",
    "limit": "100000",
    "next": "//evil.example",
}
JUNK_FORM = {
    "name": "x" * 5000,
    "title": "",
    "body": "\x00\x01",
    "text": "",
    "stage": "-1",
    "deadline": "not-a-date",
    "year": "99999",
    "jurisdiction": "abc",
    "code": "nonsense",
    "action": "explode",
    "version": "NaN",
    "fields": "summary",
    "campaign": "1:zz",
    "roles": "emperor",
    "password": "x",
    "category": "??",
    "urls": "javascript:alert(1)",
    "param-deadline": "2020-02-31",
    "param-count": "-5",
    "param-amount": "1e309",
}


@pytest.fixture(scope="module")
def app_and_db(tmp_path_factory):
    from qinglang.settings import Settings
    from qinglang.store.db import Database
    from qinglang.store.migrate import upgrade
    from qinglang.web.app import create_app

    tmp = tmp_path_factory.mktemp("fuzz")
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'fuzz.db'}",
        blob_dir=tmp / "blobs",
        rate_limit_per_minute=0,
        report_rate_limit_per_hour=0,
    )
    db = Database(settings.database_url)
    upgrade(db)
    demo_data.load(
        db, BlobStore(settings.blob_dir), settings, at=datetime.now(UTC), password=PASSWORD
    )
    yield create_app(settings, db), db
    db.dispose()


def _walk(routes):
    """Routes, with included routers opened (the UI's routers have no prefix)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _walk(inner.routes)
        else:
            yield route


def _ui_routes(app) -> list[tuple[str, str]]:
    out = []
    for route in _walk(app.routes):
        if isinstance(route, Mount) or not isinstance(route, APIRoute):
            continue
        if route.include_in_schema:  # the JSON API: covered by test_schemathesis.py
            continue
        for method in sorted(route.methods - {"HEAD"}):
            out.append((method, route.path))
    return out


def _fill(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


@pytest.mark.parametrize("username", [None, "wx_officer", "wx_leader", "admin", "operator_game"])
def test_no_page_answers_500_to_junk(app_and_db, username):
    from fastapi.testclient import TestClient

    app, _ = app_and_db
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        csrf = ""
        if username is not None:
            ui_login(client, username, PASSWORD)
            csrf = csrf_of(client.get("/login?next=/public", follow_redirects=True).text)
        failures = []
        routes = _ui_routes(app)
        assert len(routes) > 60, routes  # every area's pages were found
        for method, template in routes:
            if template in ("/logout",):
                continue
            for value in JUNK_PATH if "{" in template else [""]:
                path = _fill(template, value)
                if method == "GET":
                    responses = [client.get(path), client.get(path, params=JUNK_QUERY)]
                else:
                    responses = [
                        client.post(path, data={**JUNK_FORM, "csrf": csrf}),
                        client.post(path, data=JUNK_FORM),
                        client.post(path, content=b"\xff\xfe garbage", headers={
                            "content-type": "multipart/form-data; boundary=zz"}),
                    ]  # fmt: skip
                for r in responses:
                    if r.status_code >= 500 and r.status_code != 503:
                        failures.append(f"{method} {path} -> {r.status_code}")
        assert not failures, failures[:20]
