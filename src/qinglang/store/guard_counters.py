"""Live guard counters: sessions, usage seconds and cached guardian limits.

Two implementations of one contract (`Counters`): `MemoryCounters`, in-process (the embedded
default: one process, `qinglang serve` with one worker), and `RedisCounters`
(`qinglang.store.guard_counters_redis`, production: `QINGLANG_REDIS_URL`, shared by all API
replicas). tests/store/test_guard_counters.py runs the same contract tests against both.

`advance` is the one write on the heartbeat path: a compare-and-set on the session's last step
(`expected_last_ms`) that also adds the counted seconds to the usage keys, atomically. Two
concurrent heartbeats for one session cannot both count the same interval.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol

from qinglang.guard.sessions import LiveSession


class Counters(Protocol):
    def put_session(self, session: LiveSession, ttl_s: int) -> None: ...

    def get_session(self, session_id: str) -> LiveSession | None: ...

    def advance(
        self,
        expected_last_ms: int,
        session: LiveSession,
        adds: Sequence[tuple[str, int]],
        usage_ttl_s: int,
        session_ttl_s: int,
    ) -> bool:
        """If the stored session's last_ms is `expected_last_ms`: store `session` and add
        `adds` to the usage keys; return True. Else change nothing and return False."""
        ...

    def usage(self, keys: Sequence[str]) -> list[int]: ...

    def load_step(self, session_id: str, days: Sequence[str]) -> tuple[LiveSession | None, int]:
        """The session and its person's usage: today's (`days[0]`, YYYYMMDD), or for a guest
        the sum over all `days` — in one round trip (what a heartbeat reads)."""
        ...

    def seed_usage(self, key: str, seconds: int, ttl_s: int) -> None:
        """Set `key` to `seconds` unless it exists (restoring a day's usage after a restart)."""
        ...

    def get_json(self, key: str) -> Any | None: ...

    def set_json(self, key: str, value: Any, ttl_s: int | None) -> None: ...

    def delete(self, key: str) -> None: ...

    def ping(self) -> bool: ...

    def close(self) -> None: ...


class MemoryCounters:
    """In-process counters behind one lock; expired keys are dropped lazily and in sweeps."""

    SWEEP_EVERY = 10_000

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, tuple[Any, float | None]] = {}
        self._clock = clock
        self._ops = 0

    def _get(self, key: str) -> Any | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, deadline = item
        if deadline is not None and deadline <= self._clock():
            del self._data[key]
            return None
        return value

    def _set(self, key: str, value: Any, ttl_s: int | None) -> None:
        self._data[key] = (value, None if ttl_s is None else self._clock() + ttl_s)
        self._ops += 1
        if self._ops % self.SWEEP_EVERY == 0:
            now = self._clock()
            for k in [k for k, (_, d) in self._data.items() if d is not None and d <= now]:
                del self._data[k]

    def put_session(self, session: LiveSession, ttl_s: int) -> None:
        with self._lock:
            self._set(f"s:{session.id}", session, ttl_s)

    def get_session(self, session_id: str) -> LiveSession | None:
        with self._lock:
            return self._get(f"s:{session_id}")

    def advance(
        self,
        expected_last_ms: int,
        session: LiveSession,
        adds: Sequence[tuple[str, int]],
        usage_ttl_s: int,
        session_ttl_s: int,
    ) -> bool:
        with self._lock:
            current = self._get(f"s:{session.id}")
            if current is None or current.last_ms != expected_last_ms:
                return False
            for key, seconds in adds:
                self._set(key, (self._get(key) or 0) + seconds, usage_ttl_s)
            self._set(f"s:{session.id}", session, session_ttl_s)
            return True

    def load_step(self, session_id: str, days: Sequence[str]) -> tuple[LiveSession | None, int]:
        with self._lock:
            session = self._get(f"s:{session_id}")
            if session is None:
                return None, 0
            wanted = days if session.birth is None else days[:1]
            base = f"u:{session.subject}:"
            total = sum(int(self._get(f"{base}{d}:{session.kind.value}") or 0) for d in wanted)
            return session, total

    def usage(self, keys: Sequence[str]) -> list[int]:
        with self._lock:
            return [int(self._get(k) or 0) for k in keys]

    def seed_usage(self, key: str, seconds: int, ttl_s: int) -> None:
        with self._lock:
            if self._get(key) is None:
                self._set(key, seconds, ttl_s)

    def get_json(self, key: str) -> Any | None:
        with self._lock:
            raw = self._get(f"j:{key}")
        return None if raw is None else json.loads(raw)

    def set_json(self, key: str, value: Any, ttl_s: int | None) -> None:
        with self._lock:
            self._set(f"j:{key}", json.dumps(value), ttl_s)

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(f"j:{key}", None)

    def ping(self) -> bool:
        return True

    def close(self) -> None:
        with self._lock:
            self._data.clear()


def open_counters(redis_url: str | None) -> Counters:
    """Redis when a URL is set, else in-process."""
    if redis_url:
        from qinglang.store.guard_counters_redis import RedisCounters

        return RedisCounters(redis_url)
    return MemoryCounters()
