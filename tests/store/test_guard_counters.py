"""The `Counters` contract, run against both implementations.

`MemoryCounters` always runs (with a fake clock for the TTLs). `RedisCounters` runs when
`QINGLANG_TEST_REDIS_URL` points at a Redis (e.g. redis://127.0.0.1:6379/0); each test gets its
own key prefix and deletes its keys afterwards, so a shared Redis is safe to use.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date

import pytest

from qinglang.guard.decision import PlatformKind
from qinglang.guard.sessions import LiveSession, SessionState, usage_key
from qinglang.store.guard_counters import Counters, MemoryCounters

REDIS_URL_ENV = "QINGLANG_TEST_REDIS_URL"
CLOSED_PORT_URL = "redis://127.0.0.1:1/0"

# Realistic epoch milliseconds (2024-06-01 12:00 Asia/Shanghai): the Redis script compares
# last_ms after cjson has decoded it to a Lua number, so the values must be this large.
BASE_MS = 1_717_214_400_000
DAY = date(2024, 6, 1)
SUBJECT = "pi-0123456789abcdef"
KEY_TODAY = usage_key(SUBJECT, DAY, PlatformKind.game)
KEY_YESTERDAY = usage_key(SUBJECT, date(2024, 5, 31), PlatformKind.game)
LONG_TTL = 3_600


def make_session(sid: str = "sess-1", last_ms: int = BASE_MS, **changes: object) -> LiveSession:
    session = LiveSession(
        id=sid,
        platform_id=7,
        kind=PlatformKind.game,
        subject=SUBJECT,
        birth=date(2012, 5, 1),
        account="acct-42",
        started_ms=BASE_MS,
        last_ms=last_ms,
        ends_ms=BASE_MS + 3_600_000,
    )
    return replace(session, **changes) if changes else session


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Harness:
    counters: Counters
    # Let `seconds` pass for the store's TTLs (fake clock for memory, real sleep for Redis).
    let_pass: Callable[[float], None]
    # The shortest TTL a test can wait for (Redis TTLs are whole seconds).
    short_ttl: int = 1


def _redis_url() -> str:
    url = os.environ.get(REDIS_URL_ENV)
    if not url:
        pytest.skip(
            f"{REDIS_URL_ENV} is not set: the RedisCounters contract tests need a running Redis "
            f"(e.g. {REDIS_URL_ENV}=redis://127.0.0.1:6379/0)"
        )
    return url


@pytest.fixture
def redis_prefix() -> Iterator[tuple[str, str]]:
    """A unique key prefix on the test Redis; every key under it is deleted afterwards."""
    import redis

    url = _redis_url()
    prefix = f"qltest:{uuid.uuid4().hex}:"
    raw = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        raw.ping()
    except redis.exceptions.RedisError as exc:
        raw.close()
        pytest.fail(f"{REDIS_URL_ENV}={url} is set but Redis does not answer: {exc}")
    try:
        yield url, prefix
    finally:
        keys = list(raw.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            raw.delete(*keys)
        raw.close()


@pytest.fixture(params=["memory", "redis"])
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    if request.param == "memory":
        clock = FakeClock()

        def advance_clock(seconds: float) -> None:
            clock.now += seconds

        counters = MemoryCounters(clock=clock)
        yield Harness(counters, advance_clock)
        counters.close()
        return

    from qinglang.store.guard_counters_redis import RedisCounters

    url, prefix = request.getfixturevalue("redis_prefix")
    counters = RedisCounters(url, prefix=prefix)
    yield Harness(counters, time.sleep)
    counters.close()


# -- sessions ----------------------------------------------------------------------------------


def test_put_get_session_round_trip(harness: Harness) -> None:
    c = harness.counters
    session = make_session()
    guest = make_session("sess-guest", birth=None, subject="guest:abcd", ends_ms=None)
    c.put_session(session, LONG_TTL)
    c.put_session(guest, LONG_TTL)
    assert c.get_session("sess-1") == session
    assert c.get_session("sess-guest") == guest
    assert c.get_session("sess-guest").is_guest
    assert c.get_session("missing") is None


def test_put_session_overwrites(harness: Harness) -> None:
    c = harness.counters
    c.put_session(make_session(), LONG_TTL)
    ended = make_session(state=SessionState.ended, reason="logout")
    c.put_session(ended, LONG_TTL)
    assert c.get_session("sess-1") == ended


# -- advance -----------------------------------------------------------------------------------


def test_advance_with_expected_last_ms_stores_and_adds(harness: Harness) -> None:
    c = harness.counters
    c.put_session(make_session(), LONG_TTL)
    new = make_session(last_ms=BASE_MS + 60_000, counted_s=60)
    adds = [(KEY_YESTERDAY, 10), (KEY_TODAY, 50)]
    assert c.advance(BASE_MS, new, adds, LONG_TTL, LONG_TTL) is True
    assert c.get_session("sess-1") == new
    assert c.usage([KEY_YESTERDAY, KEY_TODAY]) == [10, 50]

    # The next step chains on the stored last_ms; usage accumulates.
    newer = make_session(last_ms=BASE_MS + 90_000, counted_s=90)
    assert c.advance(BASE_MS + 60_000, newer, [(KEY_TODAY, 30)], LONG_TTL, LONG_TTL) is True
    assert c.get_session("sess-1") == newer
    assert c.usage([KEY_YESTERDAY, KEY_TODAY]) == [10, 80]


def test_advance_with_no_adds_still_stores_the_session(harness: Harness) -> None:
    c = harness.counters
    c.put_session(make_session(), LONG_TTL)
    ended = make_session(state=SessionState.ended, reason="logout")
    assert c.advance(BASE_MS, ended, [], LONG_TTL, LONG_TTL) is True
    assert c.get_session("sess-1") == ended


@pytest.mark.parametrize("stale", [BASE_MS - 1, BASE_MS + 1, BASE_MS - 60_000, 0])
def test_advance_with_stale_expected_changes_nothing(harness: Harness, stale: int) -> None:
    c = harness.counters
    original = make_session()
    c.put_session(original, LONG_TTL)
    c.seed_usage(KEY_TODAY, 5, LONG_TTL)
    new = make_session(last_ms=BASE_MS + 60_000, counted_s=60)
    assert c.advance(stale, new, [(KEY_TODAY, 60), (KEY_YESTERDAY, 1)], LONG_TTL, LONG_TTL) is False
    assert c.get_session("sess-1") == original
    assert c.usage([KEY_TODAY, KEY_YESTERDAY]) == [5, 0]


def test_advance_on_missing_session_returns_false(harness: Harness) -> None:
    c = harness.counters
    new = make_session(last_ms=BASE_MS + 60_000)
    assert c.advance(BASE_MS, new, [(KEY_TODAY, 60)], LONG_TTL, LONG_TTL) is False
    assert c.get_session("sess-1") is None
    assert c.usage([KEY_TODAY]) == [0]


def test_concurrent_advance_with_same_expected_has_one_winner(harness: Harness) -> None:
    c = harness.counters
    c.put_session(make_session(), LONG_TTL)
    threads_n = 20
    barrier = threading.Barrier(threads_n)
    results: list[bool] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def racer(i: int) -> None:
        new = make_session(last_ms=BASE_MS + 30_000, counted_s=30, reason=f"racer-{i}")
        try:
            barrier.wait(timeout=10)
            ok = c.advance(BASE_MS, new, [(KEY_TODAY, 30)], LONG_TTL, LONG_TTL)
        except BaseException as exc:  # reported below, not lost in the thread
            with lock:
                errors.append(exc)
            return
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    assert sorted(results) == [False] * (threads_n - 1) + [True]
    assert c.usage([KEY_TODAY]) == [30]
    stored = c.get_session("sess-1")
    assert stored is not None
    assert stored.last_ms == BASE_MS + 30_000
    assert stored.reason.startswith("racer-")


# -- usage -------------------------------------------------------------------------------------


def test_usage_of_missing_keys_is_zero(harness: Harness) -> None:
    c = harness.counters
    assert c.usage([KEY_TODAY, KEY_YESTERDAY, "u:nobody:20240601:video"]) == [0, 0, 0]
    assert c.usage([]) == []


def test_usage_keeps_the_order_of_the_keys(harness: Harness) -> None:
    c = harness.counters
    c.seed_usage(KEY_TODAY, 7, LONG_TTL)
    c.seed_usage(KEY_YESTERDAY, 3, LONG_TTL)
    assert c.usage([KEY_YESTERDAY, "u:missing", KEY_TODAY]) == [3, 0, 7]


def test_seed_usage_does_not_overwrite(harness: Harness) -> None:
    c = harness.counters
    c.seed_usage(KEY_TODAY, 100, LONG_TTL)
    assert c.usage([KEY_TODAY]) == [100]
    c.seed_usage(KEY_TODAY, 5, LONG_TTL)
    assert c.usage([KEY_TODAY]) == [100]

    # Nor does it overwrite usage that advance has added.
    c.put_session(make_session(), LONG_TTL)
    new = make_session(last_ms=BASE_MS + 20_000)
    assert c.advance(BASE_MS, new, [(KEY_YESTERDAY, 20)], LONG_TTL, LONG_TTL)
    c.seed_usage(KEY_YESTERDAY, 999, LONG_TTL)
    assert c.usage([KEY_TODAY, KEY_YESTERDAY]) == [100, 20]


# -- TTLs --------------------------------------------------------------------------------------


def test_ttls_expire(harness: Harness) -> None:
    c = harness.counters
    short = harness.short_ttl
    # Short-lived: a session, the usage advance adds, a seeded usage key, a JSON value.
    c.put_session(make_session("short"), short)
    c.put_session(make_session("chained"), LONG_TTL)
    assert c.advance(
        BASE_MS, make_session("chained", last_ms=BASE_MS + 5_000), [(KEY_TODAY, 5)], short, short
    )
    c.seed_usage(KEY_YESTERDAY, 9, short)
    c.set_json("limits:short", {"daily_s": 3600}, short)
    # Long-lived and unlimited values survive.
    c.put_session(make_session("long"), LONG_TTL)
    c.seed_usage("u:other:20240601:game", 4, LONG_TTL)
    c.set_json("limits:forever", [1, 2, 3], None)
    assert c.get_session("short") is not None
    assert c.usage([KEY_TODAY, KEY_YESTERDAY]) == [5, 9]
    assert c.get_json("limits:short") == {"daily_s": 3600}

    harness.let_pass(short + 0.5)  # the only real wait (≤ 2 s) for Redis

    assert c.get_session("short") is None
    assert c.get_session("chained") is None  # advance stored it with the short TTL
    assert c.usage([KEY_TODAY, KEY_YESTERDAY]) == [0, 0]
    assert c.get_json("limits:short") is None
    assert c.get_session("long") == make_session("long")
    assert c.usage(["u:other:20240601:game"]) == [4]
    assert c.get_json("limits:forever") == [1, 2, 3]
    # An expired session cannot be advanced; an expired usage key can be seeded again.
    assert not c.advance(BASE_MS, make_session("short"), [(KEY_TODAY, 1)], LONG_TTL, LONG_TTL)
    c.seed_usage(KEY_YESTERDAY, 2, LONG_TTL)
    assert c.usage([KEY_YESTERDAY]) == [2]


# -- JSON values -------------------------------------------------------------------------------


def test_json_get_set_delete(harness: Harness) -> None:
    c = harness.counters
    assert c.get_json("guardian:1") is None
    value = {"daily_s": 1800, "windows": [[20, 21]], "note": "周末", "nested": {"x": None}}
    c.set_json("guardian:1", value, LONG_TTL)
    assert c.get_json("guardian:1") == value
    c.set_json("guardian:1", [1, "two", 3.5, True], None)
    assert c.get_json("guardian:1") == [1, "two", 3.5, True]
    c.delete("guardian:1")
    assert c.get_json("guardian:1") is None
    c.delete("guardian:1")  # deleting a missing key is fine
    c.set_json("scalar", 0, LONG_TTL)
    assert c.get_json("scalar") == 0


def test_json_keys_do_not_collide_with_sessions_or_usage(harness: Harness) -> None:
    c = harness.counters
    c.put_session(make_session("x"), LONG_TTL)
    c.seed_usage("x", 3, LONG_TTL)
    c.set_json("x", {"v": 1}, LONG_TTL)
    c.delete("x")  # deletes the JSON value only
    assert c.get_json("x") is None
    assert c.get_session("x") == make_session("x")
    assert c.usage(["x"]) == [3]


def test_ping(harness: Harness) -> None:
    assert harness.counters.ping() is True


# -- Redis only --------------------------------------------------------------------------------


def test_redis_prefixes_isolate(redis_prefix: tuple[str, str]) -> None:
    from qinglang.store.guard_counters_redis import RedisCounters

    url, prefix = redis_prefix
    a = RedisCounters(url, prefix=f"{prefix}a:")
    b = RedisCounters(url, prefix=f"{prefix}b:")
    try:
        a.put_session(make_session(), LONG_TTL)
        a.seed_usage(KEY_TODAY, 11, LONG_TTL)
        a.set_json("k", 1, LONG_TTL)
        assert b.get_session("sess-1") is None
        assert b.usage([KEY_TODAY]) == [0]
        assert b.get_json("k") is None
        assert a.usage([KEY_TODAY]) == [11]
    finally:
        a.close()
        b.close()


def test_redis_key_layout_and_ttls(redis_prefix: tuple[str, str]) -> None:
    """The documented layout (docs/guard-counters.md): s:<id> JSON, integer usage, j:<key>."""
    import redis

    from qinglang.store.guard_counters_redis import RedisCounters

    url, prefix = redis_prefix
    c = RedisCounters(url, prefix=prefix)
    raw = redis.Redis.from_url(url, decode_responses=True)
    try:
        c.put_session(make_session(), 600)
        new = make_session(last_ms=BASE_MS + 60_000)
        assert c.advance(BASE_MS, new, [(KEY_TODAY, 60)], 900, 1_200)
        c.set_json("g", {"a": 1}, None)
        assert LiveSession.from_json(raw.get(f"{prefix}s:sess-1")) == new
        assert 1_100 < raw.ttl(f"{prefix}s:sess-1") <= 1_200
        assert raw.get(f"{prefix}{KEY_TODAY}") == "60"
        assert 800 < raw.ttl(f"{prefix}{KEY_TODAY}") <= 900
        assert raw.get(f"{prefix}j:g") == '{"a": 1}'
        assert raw.ttl(f"{prefix}j:g") == -1  # no expiry
    finally:
        raw.close()
        c.close()


def test_redis_advance_survives_a_script_cache_miss(redis_prefix: tuple[str, str]) -> None:
    """EVALSHA on a Redis that lost the script (restart, failover) reloads it transparently."""
    from qinglang.store.guard_counters_redis import RedisCounters

    url, prefix = redis_prefix
    c = RedisCounters(url, prefix=prefix)
    try:
        c.put_session(make_session(), LONG_TTL)
        # Simulate the cache miss on this client only (no SCRIPT FLUSH on a shared Redis).
        c._advance.sha = "0" * 40
        new = make_session(last_ms=BASE_MS + 1_000)
        assert c.advance(BASE_MS, new, [(KEY_TODAY, 1)], LONG_TTL, LONG_TTL)
        assert c.usage([KEY_TODAY]) == [1]
    finally:
        c.close()


def test_redis_down_ping_false_and_calls_raise_quickly() -> None:
    """Needs no Redis: nothing listens on port 1."""
    from qinglang.store.guard_counters_redis import CountersUnavailable, RedisCounters

    c = RedisCounters(CLOSED_PORT_URL, socket_connect_timeout=0.5)
    try:
        started = time.monotonic()
        assert c.ping() is False
        with pytest.raises(CountersUnavailable, match="unavailable") as info:
            c.get_session("sess-1")
        assert time.monotonic() - started < 2
        assert isinstance(info.value, RuntimeError)
        assert "127.0.0.1:1" in str(info.value)
        with pytest.raises(CountersUnavailable):
            c.usage([KEY_TODAY])
        with pytest.raises(CountersUnavailable):
            c.advance(BASE_MS, make_session(), [(KEY_TODAY, 1)], LONG_TTL, LONG_TTL)
        with pytest.raises(CountersUnavailable):
            c.set_json("k", 1, None)
    finally:
        c.close()


def test_redis_error_message_hides_the_password() -> None:
    from qinglang.store.guard_counters_redis import CountersUnavailable, RedisCounters

    c = RedisCounters("redis://user:s3cret@127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        with pytest.raises(CountersUnavailable) as info:
            c.get_json("k")
        assert "s3cret" not in str(info.value)
        assert "user:***@127.0.0.1:1" in str(info.value)
    finally:
        c.close()
