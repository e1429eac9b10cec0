"""The audit endpoints: verification and events, administrators only."""

from __future__ import annotations

from sqlalchemy import text


def test_verify_and_events(api, people, database) -> None:
    admin = people.make("admin")
    provincial = people.make("admin", jurisdiction="310000")
    officer = people.make("officer", department="police")
    assert api.get("/api/v1/audit/verify").status_code == 401
    assert api.get("/api/v1/audit/verify", headers=officer.headers).status_code == 403
    ok = api.get("/api/v1/audit/verify", headers=admin.headers)
    assert ok.status_code == 200 and ok.json()["ok"] is True
    assert ok.json()["checked"] == 3  # three users created
    page = api.get("/api/v1/audit/events?limit=2", headers=admin.headers).json()
    assert [e["seq"] for e in page["items"]] == [1, 2] and page["next_after_seq"] == 2
    rest = api.get("/api/v1/audit/events?after_seq=2", headers=admin.headers).json()
    assert [e["kind"] for e in rest["items"]] == ["user.created"]
    assert rest["next_after_seq"] is None
    assert api.get("/api/v1/audit/events", headers=provincial.headers).status_code == 403
    assert api.get("/api/v1/audit/events?limit=0", headers=admin.headers).status_code == 422
    with database.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_log SET payload = :p WHERE seq = 2"), {"p": '{"roles": []}'}
        )
    broken = api.get("/api/v1/audit/verify", headers=admin.headers).json()
    assert broken["ok"] is False and broken["first_bad_seq"] == 2
