"""The heartbeat fast path answers heartbeats itself, exactly as the routed endpoint would,
and passes everything else through."""

from __future__ import annotations

from datetime import datetime

import pytest

from guardfixtures import ADULT_ID as ID
from qinglang.guard.ages import SHANGHAI
from qinglang.web.guard_fastpath import HeartbeatFastPath


@pytest.fixture
def setup(api, people, monkeypatch):
    at = datetime(2026, 12, 4, 20, 0, tzinfo=SHANGHAI)
    monkeypatch.setattr("qinglang.web.api.guard.now", lambda: at)
    admin = people.make("admin")
    key = api.post(
        "/api/v1/guard/platforms", json={"name": "g", "kind": "game"}, headers=admin.headers
    ).json()["api_key"]
    headers = {"Authorization": f"Bearer {key}"}
    api.post("/api/v1/guard/profiles", json={"account": "a", "id_number": ID}, headers=headers)
    sid = api.post("/api/v1/guard/sessions", json={"account": "a"}, headers=headers).json()[
        "session_id"
    ]
    return headers, sid


def _inner_must_not_run():
    async def app(scope, receive, send):
        raise AssertionError(f"routed to the app: {scope['path']}")

    return app


def test_heartbeats_never_reach_the_routed_stack(api, setup, monkeypatch) -> None:
    headers, sid = setup
    # Replace everything inside the fast path with an app that fails if called.
    fast = api.app.middleware_stack
    while not isinstance(fast, HeartbeatFastPath):
        fast = fast.app
    monkeypatch.setattr(fast, "app", _inner_must_not_run())
    r = api.post(f"/api/v1/guard/sessions/{sid}/heartbeat", headers=headers)
    assert r.status_code == 200 and r.json()["allowed"] and r.json()["session_id"] == sid
    r = api.post("/api/v1/guard/sessions/unknown/heartbeat", headers=headers)
    assert r.status_code == 404 and r.json()["code"] == "session_not_found"
    assert r.headers["content-type"] == "application/problem+json"
    r = api.post(f"/api/v1/guard/sessions/{sid}/heartbeat")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = api.post(f"/api/v1/guard/sessions/{sid}/heartbeat", headers={"Authorization": "Bearer x"})
    assert r.status_code == 401


def test_other_requests_pass_through(api, setup) -> None:
    headers, sid = setup
    assert api.get(f"/api/v1/guard/sessions/{sid}/heartbeat", headers=headers).status_code == 405
    r = api.post(f"/api/v1/guard/sessions/{sid}/logout", headers=headers)
    assert r.status_code == 200 and r.json()["state"] == "ended"
