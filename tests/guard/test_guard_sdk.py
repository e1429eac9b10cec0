"""The guard SDK (`qinglang.sdk.GuardClient`) against the real app, through the `api`
TestClient, on both databases; retries and errors against a closed port and a mock transport."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from guardfixtures import MINOR_ID, TEEN_ID
from qinglang.sdk import GuardAPIError, GuardClient, GuardUnavailable


@pytest.fixture
def guard(api, people) -> GuardClient:
    admin = people.make("admin")
    r = api.post(
        "/api/v1/guard/platforms", json={"name": "某游戏", "kind": "game"}, headers=admin.headers
    )
    assert r.status_code == 201, r.text
    return GuardClient("http://testserver", r.json()["api_key"], http=api)


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    calls: list[float] = []
    monkeypatch.setattr("qinglang.sdk.guard.time.sleep", calls.append)
    return calls


def test_public_calls_and_identity(guard, clock) -> None:
    names = {rs["name"] for rs in guard.rule_sets()["rule_sets"]}
    assert {"nppa-2021", "cac-minor-mode-2024"} <= names
    assert guard.health()["status"] in {"ok", "degraded"}
    ok = guard.check_id(MINOR_ID)
    assert ok["valid"] and ok["birth_date"] == "2012-03-01"
    assert not guard.check_id("371321199012310912")["valid"]
    assert guard.decide(guest=True)["reason"] == "guest_not_allowed"
    assert guard.decide(birth_date="1980-01-01")["reason"] == "adult"


def test_register_login_heartbeats_logout(guard, clock) -> None:
    p = guard.register("kid", id_number=MINOR_ID)
    assert p["minor"] and len(p["pi"]) == 38
    assert guard.profile("kid")["pi"] == p["pi"]
    assert guard.decide(account="kid")["remaining_seconds"] == 3600
    s = guard.login(account="kid")
    assert s["allowed"] and s["remaining_seconds"] == 3600
    for _ in range(3):
        clock.advance(minutes=5)
        hb = guard.heartbeat(s["session_id"])
        assert hb["allowed"]
    assert hb["used_today_seconds"] == 900
    clock.advance(minutes=1)
    out = guard.logout(s["session_id"])
    assert out["used_today_seconds"] == 960
    with pytest.raises(GuardAPIError) as err:
        guard.heartbeat(s["session_id"])
    assert err.value.status == 409 and err.value.code == "session_ended"
    assert not isinstance(err.value, GuardUnavailable)


def test_errors_carry_the_problem_code(guard, clock) -> None:
    with pytest.raises(GuardAPIError) as err:
        guard.logout("nope")
    e = err.value
    assert e.status == 404 and e.code == "session_not_found"
    assert e.message_zh and e.body is not None and e.body["code"] == "session_not_found"
    with pytest.raises(GuardAPIError) as err:
        guard.register("x", id_number="371321199012310912")
    assert err.value.status == 422 and err.value.code == "id_bad_check_char"
    with pytest.raises(GuardAPIError) as err:
        guard.profile("nobody")
    assert err.value.status == 404
    with pytest.raises(GuardAPIError) as err:  # no code: the problem's type slug
        guard.unlock(1, 0)
    assert err.value.status == 422 and err.value.code == "validation-error"
    bad = GuardClient("http://testserver", "qlp_x", http=guard._http)
    with pytest.raises(GuardAPIError) as err:
        bad.login(account="kid")
    assert err.value.status == 401 and err.value.code == "unauthorized"


def test_payment_duplicate_and_refund(guard, clock) -> None:
    guard.register("teen", id_number=TEEN_ID)
    assert guard.check_payment("teen", "100")["allowed"]
    assert not guard.check_payment("teen", Decimal("100.01"))["allowed"]
    first = guard.pay("teen", "o1", Decimal("100.00"))
    assert first["recorded"] and not first["duplicate"]
    again = guard.pay("teen", "o1", 100)
    assert again["duplicate"] and again["payment_id"] == first["payment_id"]
    with pytest.raises(GuardAPIError) as err:
        guard.pay("teen", "o1", "50")
    assert err.value.status == 409 and err.value.code == "order_ref_reused"
    refund = guard.refund("o1", "r1", "40")
    assert refund["refund_yuan"] == 40 and not refund["duplicate"]
    assert guard.refund("o1", "r2")["refund_yuan"] == 60
    with pytest.raises(GuardAPIError) as err:
        guard.refund("o1", "r3", 1)
    assert err.value.status == 422 and err.value.code == "bad_refund_amount"
    with pytest.raises(TypeError):
        guard.pay("teen", "o2", 1.5)  # type: ignore[arg-type]


def test_guardian_bind_limits_and_report(guard, clock) -> None:
    kid = guard.register("kid", id_number=MINOR_ID)
    link = guard.bind_guardian(
        "mum", kid["pi"], limits={"daily_cap_s": 600}, password="Guardian#2026"
    )
    assert link["has_password"] and link["limits"]["daily_cap_s"] == 600
    assert guard.login(account="kid")["remaining_seconds"] == 600
    banned = guard.set_limits(link["id"], {"banned": True})
    assert banned["limits"]["banned"]
    assert guard.login(account="kid")["reason"] == "guardian_ban"
    assert guard.unlock(link["id"], 900)["unlock_until"]
    assert guard.login(account="kid")["remaining_seconds"] == 900
    kinds = {a["kind"] for a in guard.alerts(link["id"])["alerts"]}
    assert "ban_attempt" in kinds
    week = guard.report(link["id"], period="week", date="2026-12-04")
    assert len(week["days"]) == 7
    with pytest.raises(GuardAPIError) as err:
        guard.extend(link["id"], "wrong", 900)
    assert err.value.status == 403
    assert guard.unbind(link["id"]) is None
    with pytest.raises(GuardAPIError) as err:
        guard.alerts(link["id"])
    assert err.value.status == 404


def test_closed_port_is_unavailable_after_retries(sleeps) -> None:
    with GuardClient("http://127.0.0.1:1", "qlp_x", timeout=0.5) as guard:
        with pytest.raises(GuardUnavailable) as err:
            guard.health()
        assert err.value.status is None and err.value.code == "connection_error"
        assert isinstance(err.value.__cause__, httpx.TransportError)
        assert len(sleeps) == 2
        with pytest.raises(GuardUnavailable):
            guard.login(account="a")  # not idempotent: no retry
        assert len(sleeps) == 2
    assert guard._http.is_closed


def _mock(statuses: list[int]) -> tuple[httpx.Client, list[str]]:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        status = statuses.pop(0) if statuses else 200
        if status == 503:
            problem = {
                "type": "urn:qinglang:problem:service-unavailable",
                "title": "服务暂不可用",
                "status": 503,
                "detail": "实时计数服务暂不可用，请稍后重试。",
            }
            return httpx.Response(503, json=problem, headers={"Retry-After": "5"})
        return httpx.Response(200, json={"allowed": True, "body": request.content.decode()})

    return httpx.Client(transport=httpx.MockTransport(handler), base_url="http://g"), seen


def test_503_is_retried_for_idempotent_calls_only(sleeps) -> None:
    http, seen = _mock([503, 503])
    guard = GuardClient("http://g", "qlp_x", http=http)
    assert guard.heartbeat("s1")["allowed"]
    assert seen == ["/api/v1/guard/sessions/s1/heartbeat"] * 3 and sleeps == [0.2, 0.4]
    answer = guard.pay("a", "o/1", Decimal("12.50"))
    assert '"amount_yuan":"12.50"' in answer["body"].replace(" ", "")
    assert seen[-1] == "/api/v1/guard/payments"
    http, seen = _mock([503, 503, 503])
    guard = GuardClient("http://g", "qlp_x", http=http)
    with pytest.raises(GuardUnavailable) as err:
        guard.heartbeat("s1")
    assert err.value.status == 503 and err.value.code == "service-unavailable"
    assert err.value.retry_after == 5 and len(seen) == 3
    http, seen = _mock([503])
    guard = GuardClient("http://g", "qlp_x", http=http)
    with pytest.raises(GuardUnavailable):
        guard.logout("s1")
    assert len(seen) == 1
    guard.close()
    assert not http.is_closed  # a given client is left open
