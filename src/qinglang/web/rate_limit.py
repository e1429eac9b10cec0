"""Per-client token buckets, kept in process memory.

Each client IP gets a bucket of `rate_per_minute` tokens (the burst) refilled at
`rate_per_minute / 60` tokens a second; a request takes one token or is answered 429 with
Retry-After. `period_seconds` changes the period the rate is counted over (the public
reporting channel counts per hour: `TokenBucketLimiter(30, period_seconds=3600)`). The limit
is per process: N replicas allow N times the rate (production puts the counters in Redis, see
DESIGN.md "Scale-out").

Requests are counted before their body is read or validated, so malformed requests count too.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from qinglang.web.problems import log_problem, problem_response

# Most clients remembered; the least recently seen are forgotten first (their buckets would be
# full again after a minute of silence anyway), so memory stays bounded under many addresses.
MAX_CLIENTS = 10_000


class TokenBucketLimiter:
    def __init__(
        self,
        rate_per_minute: int,
        *,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
        period_seconds: float = 60.0,
    ) -> None:
        if rate_per_minute < 1:
            raise ValueError("rate_per_minute must be at least 1")
        if period_seconds <= 0:
            raise ValueError("period_seconds must be positive")
        self.capacity = float(rate_per_minute)
        self.refill_per_second = rate_per_minute / period_seconds
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float:
        """Take a token for `key`: 0.0 when allowed, else seconds until one is available."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.refill_per_second)
            if tokens >= 1.0:
                tokens -= 1.0
                wait = 0.0
            else:
                wait = (1.0 - tokens) / self.refill_per_second
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return wait

    def __len__(self) -> int:
        return len(self._buckets)


class RateLimitMiddleware:
    """Applies a TokenBucketLimiter to HTTP requests whose path starts with `path_prefix`."""

    def __init__(self, app: ASGIApp, limiter: TokenBucketLimiter, path_prefix: str) -> None:
        self.app = app
        self.limiter = limiter
        self.path_prefix = path_prefix.rstrip("/")

    def _applies(self, path: str) -> bool:
        return path == self.path_prefix or path.startswith(self.path_prefix + "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._applies(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        key = client[0] if client else "unknown"
        wait = self.limiter.acquire(key)
        if wait <= 0.0:
            await self.app(scope, receive, send)
            return
        retry_after = max(1, math.ceil(wait))
        log_problem(scope.get("method", "?"), scope.get("path", ""), 429, "rate-limited")
        response = problem_response(
            "rate-limited",
            f"请求过于频繁，请在 {retry_after} 秒后重试。",
            instance=scope.get("path", ""),
            headers={"Retry-After": str(retry_after)},
        )
        await response(scope, receive, send)
