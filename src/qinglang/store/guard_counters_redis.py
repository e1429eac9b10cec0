"""Redis implementation of the guard `Counters` contract (production, shared by all replicas).

Key layout (all keys start with the configurable `prefix`, default ``ql:``):

- ``<prefix>s:<session id>``: the `LiveSession` JSON (`LiveSession.to_json`), with a TTL;
- ``<prefix><usage key>``: an integer number of seconds (``INCRBY``), with a TTL — usage keys
  come from `qinglang.guard.sessions.usage_key` and already start with ``u:``;
- ``<prefix>j:<key>``: a JSON value (`get_json` / `set_json` / `delete`).

`advance` is one Lua script (registered once, run with EVALSHA): it decodes the stored session
JSON with cjson, compares its ``last_ms`` with the expected value and only then adds the usage
(INCRBY + EXPIRE per key) and stores the new session — all in one atomic step on the server.

Connection failures and timeouts raise `CountersUnavailable` (the API layer answers 503);
`ping` returns False instead of raising. See docs/guard-counters.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from qinglang.guard.sessions import LiveSession
from qinglang.store.resp import RespConnection, RespUnavailable, Script

T = TypeVar("T")

# KEYS[1]: session key; KEYS[2..n]: usage keys.
# ARGV[1]: expected last_ms; ARGV[2]: new session JSON; ARGV[3]: session TTL (s);
# ARGV[4]: usage TTL (s); ARGV[5..]: seconds to add, one per usage key (same order as KEYS[2..]).
# A TTL <= 0 means "already expired" (as in MemoryCounters): the key is deleted.
ADVANCE_LUA = """
local raw = redis.call('GET', KEYS[1])
if not raw then
  return 0
end
local ok, current = pcall(cjson.decode, raw)
if not ok or type(current) ~= 'table' then
  return 0
end
local last = current['last_ms']
if type(last) ~= 'number' or last ~= tonumber(ARGV[1]) then
  return 0
end
local usage_ttl = tonumber(ARGV[4])
for i = 2, #KEYS do
  redis.call('INCRBY', KEYS[i], ARGV[i + 3])
  if usage_ttl > 0 then
    redis.call('EXPIRE', KEYS[i], usage_ttl)
  else
    redis.call('DEL', KEYS[i])
  end
end
local session_ttl = tonumber(ARGV[3])
if session_ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', session_ttl)
else
  redis.call('DEL', KEYS[1])
end
return 1
"""

# KEYS[1]: session key. ARGV[1]: key prefix; ARGV[2..]: days (YYYYMMDD), today first.
# Returns {session JSON or false, seconds}: today's usage of the session's person, or for a
# guest (birth null) the sum over all the days given (the guest period). One round trip for
# what a heartbeat reads.
LOAD_STEP_LUA = """
local raw = redis.call('GET', KEYS[1])
if not raw then
  return {false, 0}
end
local ok, s = pcall(cjson.decode, raw)
if not ok or type(s) ~= 'table' then
  return {false, 0}
end
local base = ARGV[1] .. 'u:' .. s['subject'] .. ':'
local last = #ARGV
if s['birth'] ~= cjson.null then
  last = 2
end
local total = 0
for i = 2, last do
  local v = redis.call('GET', base .. ARGV[i] .. ':' .. s['kind'])
  if v then
    total = total + tonumber(v)
  end
end
return {raw, total}
"""

# Errors that mean "the counter store cannot be reached right now" (BusyLoadingError and
# AuthenticationError are ConnectionError subclasses; "No connection available" from a full
# blocking pool is a ConnectionError too).
_UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class CountersUnavailable(RuntimeError):
    """The Redis counter store cannot be reached (connection refused, timeout, pool exhausted).

    The API layer maps it to 503 Service Unavailable."""


class RedisCounters:
    """`Counters` over redis-py: one client with a bounded, blocking connection pool.

    Thread-safe (redis-py clients are); one instance per process is enough."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "ql:",
        socket_timeout: float = 2.0,
        socket_connect_timeout: float = 1.0,
        max_connections: int = 64,
        retries: int = 2,
    ) -> None:
        self._prefix = prefix
        self._url_for_errors = _redact(url)
        # A blocking pool: a burst of requests waits (up to `socket_timeout`) for a free
        # connection instead of failing with "Too many connections".
        pool = redis.BlockingConnectionPool.from_url(
            url,
            decode_responses=False,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_connect_timeout,
            # A few quick retries instead of redis-py's default (10, backoff up to 1 s): an
            # unreachable Redis must fail fast enough for the API to answer 503 promptly.
            retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.1), retries),
            health_check_interval=30,
            max_connections=max_connections,
            timeout=socket_timeout,
        )
        self._redis = redis.Redis.from_pool(pool)  # the client owns (and closes) the pool
        # Registered once; each call runs EVALSHA (and SCRIPT LOAD only if Redis lost it).
        self._advance = self._redis.register_script(ADVANCE_LUA)
        self._load_step = self._redis.register_script(LOAD_STEP_LUA)
        # The two heartbeat scripts go through a minimal RESP client (qinglang.store.resp):
        # redis-py's per-command overhead is most of a heartbeat's cost. Other schemes
        # (rediss://, unix://) stay on redis-py.
        try:
            self._fast: RespConnection | None = RespConnection(
                url, connect_timeout=socket_connect_timeout, timeout=socket_timeout
            )
        except ValueError:
            self._fast = None
        self._fast_advance = Script(ADVANCE_LUA)
        self._fast_load = Script(LOAD_STEP_LUA)

    def _script(self, what: str, fast: Script, slow: Any, keys: list[str], args: list[Any]) -> Any:
        if self._fast is None:
            return self._call(what, lambda: slow(keys=keys, args=args))
        try:
            return self._fast.evalsha(fast, keys, args)
        except RespUnavailable as exc:
            raise CountersUnavailable(
                f"Redis counter store unavailable at {self._url_for_errors} ({what}): {exc}"
            ) from exc

    # -- helpers -------------------------------------------------------------------------

    def _k(self, key: str) -> str:
        return f"{self._prefix}{key}"

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except _UNAVAILABLE as exc:
            raise CountersUnavailable(
                f"Redis counter store unavailable at {self._url_for_errors} ({what}): {exc}"
            ) from exc

    def _set(self, key: str, value: bytes | str | int, ttl_s: int | None) -> None:
        if ttl_s is None:
            self._redis.set(key, value)
        elif ttl_s > 0:
            self._redis.set(key, value, ex=ttl_s)
        else:  # already expired (MemoryCounters semantics); Redis rejects EX <= 0
            self._redis.delete(key)

    # -- Counters ------------------------------------------------------------------------

    def put_session(self, session: LiveSession, ttl_s: int) -> None:
        self._call(
            "put_session", lambda: self._set(self._k(f"s:{session.id}"), session.to_json(), ttl_s)
        )

    def get_session(self, session_id: str) -> LiveSession | None:
        raw = self._call("get_session", lambda: self._redis.get(self._k(f"s:{session_id}")))
        return None if raw is None else LiveSession.from_json(raw)

    def advance(
        self,
        expected_last_ms: int,
        session: LiveSession,
        adds: Sequence[tuple[str, int]],
        usage_ttl_s: int,
        session_ttl_s: int,
    ) -> bool:
        keys = [self._k(f"s:{session.id}"), *(self._k(key) for key, _ in adds)]
        args: list[Any] = [
            int(expected_last_ms),
            session.to_json(),
            int(session_ttl_s),
            int(usage_ttl_s),
            *(int(seconds) for _, seconds in adds),
        ]
        result = self._script("advance", self._fast_advance, self._advance, keys, args)
        return int(result) == 1

    def load_step(self, session_id: str, days: Sequence[str]) -> tuple[LiveSession | None, int]:
        raw, total = self._script(
            "load_step",
            self._fast_load,
            self._load_step,
            [self._k(f"s:{session_id}")],
            [self._prefix, *days],
        )
        return (LiveSession.from_json(raw) if raw else None), int(total)

    def usage(self, keys: Sequence[str]) -> list[int]:
        if not keys:
            return []
        values = self._call("usage", lambda: self._redis.mget([self._k(k) for k in keys]))
        return [int(v) if v is not None else 0 for v in values]

    def seed_usage(self, key: str, seconds: int, ttl_s: int) -> None:
        if ttl_s <= 0:  # would expire at once: nothing to seed (Redis rejects EX <= 0)
            return
        self._call(
            "seed_usage", lambda: self._redis.set(self._k(key), int(seconds), ex=ttl_s, nx=True)
        )

    def get_json(self, key: str) -> Any | None:
        raw = self._call("get_json", lambda: self._redis.get(self._k(f"j:{key}")))
        return None if raw is None else json.loads(raw)

    def set_json(self, key: str, value: Any, ttl_s: int | None) -> None:
        text = json.dumps(value)
        self._call("set_json", lambda: self._set(self._k(f"j:{key}"), text, ttl_s))

    def delete(self, key: str) -> None:
        self._call("delete", lambda: self._redis.delete(self._k(f"j:{key}")))

    def ping(self) -> bool:
        try:
            return bool(self._redis.ping())
        except redis.exceptions.RedisError:
            return False

    def close(self) -> None:
        """Release the connection pool. Unlike `MemoryCounters.close`, the data stays in Redis
        (it is shared with the other replicas)."""
        if self._fast is not None:
            self._fast.drop()
        self._redis.close()


def _redact(url: str) -> str:
    """The URL without its password, for error messages."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.rsplit("@", 1)[1]
        user = f"{parts.username}:***@" if parts.username else ":***@"
        return urlunsplit(parts._replace(netloc=user + netloc))
    except ValueError:
        return "<redis url>"
