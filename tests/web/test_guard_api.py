"""The guard API end to end on both databases: platforms, profiles, sessions on the server's
clock, payments with caps and refunds, guardians, youth mode, calendar overrides, health."""

from __future__ import annotations

from datetime import datetime

import pytest

from guardfixtures import ADULT_ID, MINOR_ID, TEEN_ID
from qinglang.guard.ages import SHANGHAI


@pytest.fixture
def game(api, people) -> dict[str, str]:
    admin = people.make("admin")
    r = api.post(
        "/api/v1/guard/platforms", json={"name": "某游戏", "kind": "game"}, headers=admin.headers
    )
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['api_key']}"}


def _register(api, headers, account: str, id_number: str) -> dict:
    r = api.post(
        "/api/v1/guard/profiles", json={"account": account, "id_number": id_number}, headers=headers
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_platform_key_is_required(api, clock) -> None:
    r = api.post("/api/v1/guard/sessions", json={"account": "a"})
    assert r.status_code == 401
    r = api.post(
        "/api/v1/guard/sessions", json={"account": "a"}, headers={"Authorization": "Bearer qlp_x"}
    )
    assert r.status_code == 401


def test_only_admins_register_platforms(api, people) -> None:
    officer = people.make("officer", department="cyberspace")
    r = api.post(
        "/api/v1/guard/platforms", json={"name": "x", "kind": "game"}, headers=officer.headers
    )
    assert r.status_code == 403


def test_profiles_keep_no_id_number(api, game, clock, database) -> None:
    p = _register(api, game, "acc-1", MINOR_ID)
    assert p["birth_date"] == "2012-03-01" and p["minor"] and len(p["pi"]) == 38
    # Same person again: same answer; another person on the account: conflict.
    assert _register(api, game, "acc-1", MINOR_ID)["pi"] == p["pi"]
    r = api.post(
        "/api/v1/guard/profiles", json={"account": "acc-1", "id_number": ADULT_ID}, headers=game
    )
    assert r.status_code == 409
    bad = api.post(
        "/api/v1/guard/profiles",
        json={"account": "acc-2", "id_number": "371321199012310912"},
        headers=game,
    )
    assert bad.status_code == 422 and bad.json()["code"] == "id_bad_check_char"
    from sqlalchemy import text

    with database.engine.connect() as conn:
        dump = " ".join(str(r) for r in conn.execute(text("SELECT * FROM guard_profiles")))
    assert MINOR_ID not in dump and MINOR_ID[:17] not in dump


def test_session_counts_on_the_server_clock_and_forces_logout(api, game, clock) -> None:
    _register(api, game, "kid", MINOR_ID)
    r = api.post("/api/v1/guard/sessions", json={"account": "kid"}, headers=game)
    body = r.json()
    assert r.status_code == 200 and body["allowed"] and body["remaining_seconds"] == 3600
    sid = body["session_id"]
    assert body["ends_at"].startswith("2026-12-04T21:00")
    for _ in range(4):
        clock.advance(minutes=5)
        hb = api.post(f"/api/v1/guard/sessions/{sid}/heartbeat", headers=game).json()
        assert hb["allowed"]
    assert hb["used_today_seconds"] == 1200 and hb["remaining_seconds"] == 2400
    # Play to the end of the window: forced out, with the next allowed instant.
    for _ in range(8):
        clock.advance(minutes=5)
        hb = api.post(f"/api/v1/guard/sessions/{sid}/heartbeat", headers=game).json()
    assert not hb["allowed"] and hb["state"] == "forced_out"
    assert hb["next_allowed_at"] == "2026-12-05T20:00:00+08:00"
    assert hb["used_today_seconds"] == 3600
    # A heartbeat after a forced logout is refused; a new login too (outside the window).
    again = api.post(f"/api/v1/guard/sessions/{sid}/heartbeat", headers=game)
    assert again.status_code == 409 and again.json()["code"] == "session_ended"
    r = api.post("/api/v1/guard/sessions", json={"account": "kid"}, headers=game).json()
    assert r["session_id"] is None and not r["allowed"]


@pytest.fixture
def redis_runtime(api, database, app_settings):
    """The app's guard on the real Redis, under a prefix of its own."""
    import os
    import uuid

    url = os.environ.get("QINGLANG_TEST_REDIS_URL")
    if not url:
        pytest.skip("QINGLANG_TEST_REDIS_URL is not set: Redis tests run in CI (.ci/run sets it)")
    from qinglang.services.guard_sessions import GuardRuntime
    from qinglang.store.guard_counters_redis import RedisCounters

    prefix = f"qltest:{uuid.uuid4().hex}:"
    counters = RedisCounters(url, prefix=prefix)
    api.app.state.guard_runtime = GuardRuntime(
        database, counters, key=app_settings.secret_key.get_secret_value().encode()
    )
    yield counters
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()
    counters.close()


def test_sessions_on_redis_counters(api, game, clock, redis_runtime) -> None:
    test_session_counts_on_the_server_clock_and_forces_logout(api, game, clock)


def test_time_adds_up_across_accounts_of_one_person(api, game, clock) -> None:
    _register(api, game, "a1", MINOR_ID)
    _register(api, game, "a2", MINOR_ID)
    s1 = api.post("/api/v1/guard/sessions", json={"account": "a1"}, headers=game).json()
    clock.advance(minutes=3)
    api.post(f"/api/v1/guard/sessions/{s1['session_id']}/logout", headers=game)
    s2 = api.post("/api/v1/guard/sessions", json={"account": "a2"}, headers=game).json()
    assert s2["used_today_seconds"] == 180 and s2["remaining_seconds"] == 3600 - 180 - 0


def test_missed_heartbeats_and_silence(api, game, clock) -> None:
    _register(api, game, "kid", MINOR_ID)
    sid = api.post("/api/v1/guard/sessions", json={"account": "kid"}, headers=game).json()[
        "session_id"
    ]
    clock.advance(minutes=4, seconds=59)  # a missed heartbeat: still counted in full
    hb = api.post(f"/api/v1/guard/sessions/{sid}/heartbeat", headers=game).json()
    assert hb["allowed"] and hb["used_today_seconds"] == 299
    clock.advance(minutes=20)  # silence: only the tolerated 5 minutes count
    hb = api.post(f"/api/v1/guard/sessions/{sid}/heartbeat", headers=game).json()
    assert hb["state"] == "expired" and hb["reason"] == "session_expired"
    assert hb["used_today_seconds"] == 299 + 300


def test_logout_errors(api, game, clock) -> None:
    r = api.post("/api/v1/guard/sessions/nope/logout", headers=game)
    assert r.status_code == 404 and r.json()["code"] == "session_not_found"
    _register(api, game, "adult", ADULT_ID)
    sid = api.post("/api/v1/guard/sessions", json={"account": "adult"}, headers=game).json()[
        "session_id"
    ]
    clock.advance(minutes=1)
    assert api.post(f"/api/v1/guard/sessions/{sid}/logout", headers=game).status_code == 200
    r = api.post(f"/api/v1/guard/sessions/{sid}/logout", headers=game)
    assert r.status_code == 409


def test_guests_are_refused_by_nppa_2021(api, game, clock) -> None:
    r = api.post("/api/v1/guard/sessions", json={"device": "dev-1"}, headers=game).json()
    assert not r["allowed"] and r["reason"] == "guest_not_allowed"


def test_payments_caps_idempotency_and_refunds(api, game, clock) -> None:
    _register(api, game, "teen", TEEN_ID)  # 16 on 2026-12-04: ¥100 / ¥400
    pay = lambda ref, yuan: api.post(  # noqa: E731
        "/api/v1/guard/payments",
        json={"account": "teen", "order_ref": ref, "amount_yuan": yuan},
        headers=game,
    ).json()
    assert pay("o1", "100")["recorded"]
    assert pay("o1", "100")["duplicate"]
    over = pay("o2", "100.01")
    assert not over["recorded"] and over["reason"] == "single_cap_exceeded"
    for i in range(3):
        assert pay(f"m{i}", 100)["recorded"]
    full = pay("o3", 1)
    assert full["reason"] == "monthly_cap_exceeded" and full["monthly_remaining_yuan"] == 0
    r = api.post("/api/v1/guard/payments/o1/refunds", json={"refund_ref": "r1"}, headers=game)
    assert r.status_code == 201 and r.json()["refund_yuan"] == 100
    assert pay("o4", 100)["recorded"]
    r = api.post(
        "/api/v1/guard/payments/o1/refunds",
        json={"refund_ref": "r2", "amount_yuan": 1},
        headers=game,
    )
    assert r.status_code == 422  # nothing left to refund
    bad = api.post(
        "/api/v1/guard/payments",
        json={"account": "teen", "order_ref": "x", "amount_yuan": -5},
        headers=game,
    )
    assert bad.status_code == 422


def test_guardian_limits_alerts_and_report(api, game, clock) -> None:
    kid = _register(api, game, "kid", MINOR_ID)
    r = api.post(
        "/api/v1/guard/guardians",
        json={
            "guardian": "mum",
            "child_pi": kid["pi"],
            "limits": {"daily_cap_s": 600},
            "password": "Guardian#2026",
        },
        headers=game,
    )
    assert r.status_code == 201, r.text
    link = r.json()["id"]
    s = api.post("/api/v1/guard/sessions", json={"account": "kid"}, headers=game).json()
    assert s["remaining_seconds"] == 600
    for _ in range(2):
        clock.advance(minutes=5)
        hb = api.post(f"/api/v1/guard/sessions/{s['session_id']}/heartbeat", headers=game).json()
    assert not hb["allowed"] and hb["reason"] == "guardian_daily_limit"
    # Loosening is impossible: a ban stays a ban; an unlock never passes the rules.
    api.put(f"/api/v1/guard/guardians/{link}/limits", json={"banned": True}, headers=game)
    r = api.post("/api/v1/guard/sessions", json={"account": "kid"}, headers=game).json()
    assert r["reason"] == "guardian_ban"
    bad = api.post(f"/api/v1/guard/guardians/{link}/unlock", json={"seconds": 60}, headers=game)
    assert bad.status_code == 422
    ok = api.post(f"/api/v1/guard/guardians/{link}/unlock", json={"seconds": 900}, headers=game)
    assert ok.status_code == 200 and ok.json()["unlock_until"]
    r = api.post("/api/v1/guard/sessions", json={"account": "kid"}, headers=game).json()
    assert r["allowed"] and r["remaining_seconds"] == 900
    alerts = api.get(f"/api/v1/guard/guardians/{link}/alerts", headers=game).json()["alerts"]
    assert {a["kind"] for a in alerts} >= {"limit_reached", "ban_attempt"}
    report = api.get(f"/api/v1/guard/guardians/{link}/report?period=week", headers=game).json()
    assert len(report["days"]) == 7 and report["days"][-1]["seconds"]["game"] == 600
    wrong = api.post(
        f"/api/v1/guard/guardians/{link}/extend",
        json={"password": "nope", "seconds": 900},
        headers=game,
    )
    assert wrong.status_code == 403


def test_binding_an_adult_is_refused(api, game, clock) -> None:
    adult = _register(api, game, "adult", ADULT_ID)
    r = api.post(
        "/api/v1/guard/guardians", json={"guardian": "g", "child_pi": adult["pi"]}, headers=game
    )
    assert r.status_code == 422 and r.json()["code"] == "not_a_minor"


def test_calendar_overrides_fill_a_missing_year(api, game, people, clock) -> None:
    health = api.get("/api/v1/guard/health").json()
    assert 2027 in health["calendar"]["missing_years"] and health["warnings"]
    clock.at = datetime(2027, 1, 9, 20, 30, tzinfo=SHANGHAI)  # a Saturday without data
    _register(api, game, "kid", MINOR_ID)
    r = api.post("/api/v1/guard/sessions", json={"account": "kid"}, headers=game).json()
    assert r["reason"] == "calendar_unavailable"
    admin = people.make("admin")
    r = api.put(
        "/api/v1/guard/calendar/overrides",
        json={"day": "2027-01-01", "kind": "holiday", "note": "元旦"},
        headers=admin.headers,
    )
    assert r.status_code == 200
    r = api.post("/api/v1/guard/sessions", json={"account": "kid"}, headers=game).json()
    assert r["allowed"]


def test_youth_filter_and_features(api, people, clock) -> None:
    admin = people.make("admin")
    key = api.post(
        "/api/v1/guard/platforms", json={"name": "短视频", "kind": "video"}, headers=admin.headers
    ).json()["api_key"]
    headers = {"Authorization": f"Bearer {key}"}
    items = [
        {"id": "1", "text": "小猪佩奇动画片", "min_age": 3},
        {"id": "2", "text": "成人向内容", "min_age": 18},
        {"id": "3", "text": "科普视频"},
    ]
    r = api.post(
        "/api/v1/guard/youth/filter", json={"age_band": "8_12", "items": items}, headers=headers
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["allowed"] == ["1"]
    assert {r["id"]: r["reason"] for r in body["refused"]} == {
        "2": "too_old_for_band",
        "3": "untagged",
    }
    f = api.get("/api/v1/guard/youth/features?rule_set=video-youth-2019&band=12_16").json()
    assert f["features"]["tipping"] is False


def test_redis_down_answers_503_not_500(api, game, clock, database, app_settings) -> None:
    from qinglang.services.guard_sessions import GuardRuntime
    from qinglang.store.guard_counters_redis import RedisCounters

    _register(api, game, "kid", MINOR_ID)
    api.app.state.guard_runtime = GuardRuntime(
        database,
        RedisCounters("redis://127.0.0.1:1/0"),
        key=app_settings.secret_key.get_secret_value().encode(),
    )
    r = api.post("/api/v1/guard/sessions", json={"account": "kid"}, headers=game)
    assert r.status_code == 503 and r.headers["retry-after"]
    assert api.get("/api/v1/guard/health").status_code == 503
