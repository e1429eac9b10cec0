"""Fixtures for the server-rendered UI tests (imported by conftest.py).

The pages run the same services on both databases, which the service and API tests already
cover on PostgreSQL; UI tests use SQLite only. `ui` is a TestClient that does not follow
redirects; `ui_login(client, username)` logs in through the form; `csrf_of(html)` reads the
token of a page's forms.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

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
