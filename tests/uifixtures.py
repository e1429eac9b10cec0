"""Fixtures for the server-rendered UI tests (imported by conftest.py).

The pages run the same services on both databases, which the service and API tests already
cover on PostgreSQL; UI tests use SQLite only. `ui` is a TestClient that does not follow
redirects; `ui_login(client, username)` logs in through the form; `csrf_of(html)` reads the
token of a page's forms; `assert_accessible(html)` checks labels, ids and headings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest

from dbfixtures import PASSWORD, People
from qinglang.store.db import Database


@pytest.fixture
def ui_db(sqlite_database: Database) -> Database:
    return sqlite_database


@pytest.fixture
def ui_people(ui_db: Database) -> People:
    return People(ui_db)


@pytest.fixture
def ui(ui_db: Database, app_settings) -> Iterator:
    from fastapi.testclient import TestClient

    from qinglang.web.app import create_app

    with TestClient(
        create_app(app_settings, ui_db), raise_server_exceptions=False, follow_redirects=False
    ) as client:
        yield client


def ui_login(client, username: str, password: str = PASSWORD, next_url: str = "/"):
    """Log in through the form; the client keeps the session cookie."""
    response = client.post(
        "/login", data={"username": username, "password": password, "next": next_url}
    )
    assert response.status_code == 303, response.text[:500]
    return response


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class _Controls(HTMLParser):
    """Collects form controls, label targets, ids and <h1> headings of a page."""

    SKIP = frozenset({"hidden", "submit", "button", "reset", "image"})

    def __init__(self) -> None:
        super().__init__()
        self.labels: set[str] = set()
        self.controls: list[tuple[str, str | None, str | None]] = []
        self.ids: list[str] = []
        self.h1 = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"] or "")
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"] or "")
        elif tag in ("select", "textarea") or (
            tag == "input" and (a.get("type") or "text") not in self.SKIP
        ):
            self.controls.append((tag, a.get("id"), a.get("name")))
        elif tag == "h1":
            self.h1 += 1


def assert_accessible(html: str) -> None:
    """Every form field has a <label for> its id, ids are unique, the page has one <h1>."""
    parser = _Controls()
    parser.feed(html)
    unlabelled = [c for c in parser.controls if not c[1] or c[1] not in parser.labels]
    assert not unlabelled, f"fields without a label: {unlabelled}"
    dupes = {i for i in parser.ids if parser.ids.count(i) > 1}
    assert not dupes, f"duplicate ids: {dupes}"
    assert parser.h1 == 1, f"a page has exactly one <h1>, this one {parser.h1}"
