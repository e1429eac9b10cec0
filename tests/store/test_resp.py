"""The minimal RESP client of the heartbeat path, against the real Redis."""

from __future__ import annotations

import os
import uuid

import pytest

from qinglang.store.resp import RespConnection, RespError, RespUnavailable, Script, encode


def test_encode() -> None:
    assert encode("GET", b"k", 5) == b"*3\r\n$3\r\nGET\r\n$1\r\nk\r\n$1\r\n5\r\n"
    assert encode("SET", "键") == b"*2\r\n$3\r\nSET\r\n$3\r\n\xe9\x94\xae\r\n"


def test_closed_port_is_unavailable() -> None:
    conn = RespConnection("redis://127.0.0.1:1/0", connect_timeout=0.5)
    with pytest.raises(RespUnavailable):
        conn.call("PING")


def test_only_plain_redis_urls() -> None:
    with pytest.raises(ValueError):
        RespConnection("rediss://example.invalid:6380/0")


@pytest.fixture
def conn():
    url = os.environ.get("QINGLANG_TEST_REDIS_URL")
    if not url:
        pytest.skip("QINGLANG_TEST_REDIS_URL is not set: Redis tests run in CI (.ci/run sets it)")
    c = RespConnection(url)
    yield c
    c.drop()


def test_replies(conn) -> None:
    key = f"qltest:resp:{uuid.uuid4().hex}"
    assert conn.call("PING") == b"PONG"
    assert conn.call("GET", key) is None
    assert conn.call("INCRBY", key, 7) == 7
    assert conn.call("MGET", key, key + ":none") == [b"7", None]
    with pytest.raises(RespError):
        conn.call("NOSUCHCOMMAND")
    assert conn.call("PING") == b"PONG"  # the connection survives an error reply
    assert conn.call("DEL", key) == 1


def test_evalsha_falls_back_to_eval_when_the_script_is_not_loaded(conn) -> None:
    # A script Redis has never seen: EVALSHA answers NOSCRIPT, EVAL runs (and loads) it.
    script = Script(f"return {{ARGV[1], {uuid.uuid4().int % 1000}, false}} -- {uuid.uuid4()}")
    first = conn.evalsha(script, [], ["x"])
    assert first[0] == b"x" and first[2] is None
    assert conn.evalsha(script, [], ["y"])[0] == b"y"
