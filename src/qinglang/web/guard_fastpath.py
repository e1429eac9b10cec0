"""The heartbeat fast path: `POST /api/v1/guard/sessions/{id}/heartbeat` as plain ASGI.

Heartbeats are the one request platforms send for every player every few seconds; routing,
dependency resolution, validation and the middleware stack cost several times the work of
the heartbeat itself (see docs/benchmarks.md). This middleware sits outermost and answers
exactly that route itself — same authentication (the platform key cache), same answers and
problem documents as the routed endpoint in `qinglang.web.api.guard`, which stays in the
OpenAPI document and serves when the fast path is off. Everything else passes through.

The heartbeat runs on the event loop: with in-process counters it does no I/O, and with Redis
it makes two short round trips (one Lua read, one Lua compare-and-set), which measured
faster than a hop to the thread pool. A Redis outage is bounded by the client's timeouts
(1 s connect, 2 s socket) and answered 503.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from qinglang.logging_setup import redact
from qinglang.services.errors import ServiceError
from qinglang.services.guard_platforms import PlatformInfo, platform_for_key
from qinglang.web.problems import problem_body

log = logging.getLogger("qinglang.web")

ROUTE = re.compile(r"^/api/v1/guard/sessions/([^/]{1,64})/heartbeat$")
_JSON = [(b"content-type", b"application/json")]
_PROBLEM = [(b"content-type", b"application/problem+json")]


class HeartbeatFastPath:
    def __init__(
        self, app: ASGIApp, *, runtime: Callable[[Any], Any], clock: Callable[[], datetime]
    ) -> None:
        self.app = app
        self.runtime = runtime  # app.state → GuardRuntime (built lazily, shared with routes)
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        match = ROUTE.match(scope["path"])
        if match is None:
            await self.app(scope, receive, send)
            return
        state = scope["app"].state if "app" in scope else None
        if state is None:
            await self.app(scope, receive, send)
            return
        status, body, headers = await self._answer(state, scope, match.group(1))
        headers = [*headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _answer(self, state: Any, scope: Scope, session_id: str) -> tuple[int, bytes, list]:
        path = scope["path"]
        try:
            runtime = self.runtime(state)
            platform = await self._platform(state, runtime, scope)
            if platform is None:
                return _problem(
                    401,
                    "unauthorized",
                    "请在 Authorization 请求头中提供有效的平台 API 密钥：Bearer qlp_...",
                    path,
                    extra_headers=[(b"www-authenticate", b"Bearer")],
                )
            at = self.clock()
            # On the event loop, also with Redis: two short round trips measured faster than
            # a hop to the thread pool (docs/benchmarks.md).
            answer = runtime.heartbeat(platform, session_id, at)
            return 200, json.dumps(answer.as_dict(), ensure_ascii=False).encode(), _JSON
        except ServiceError as exc:
            log.info("POST %s -> %d %s: %s", redact(path), exc.status, exc.slug, exc.code)
            return _problem(exc.status, exc.slug, exc.message_zh, path, code=exc.code, **exc.extra)
        except Exception as exc:  # the same 503 / 500 documents as the routed endpoint
            from qinglang.store.guard_counters_redis import CountersUnavailable

            if isinstance(exc, CountersUnavailable):
                log.warning("POST %s -> 503: %s", redact(path), str(exc)[:300])
                return _problem(
                    503,
                    "service-unavailable",
                    "实时计数服务暂不可用，请稍后重试。",
                    path,
                    extra_headers=[(b"retry-after", b"5")],
                )
            log.error("POST %s -> 500: %s", redact(path), redact(repr(exc))[:500], exc_info=exc)
            return _problem(500, "internal-error", "服务器内部错误，请稍后重试。", path)

    async def _platform(self, state: Any, runtime: Any, scope: Scope) -> PlatformInfo | None:
        auth = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                auth = value
                break
        scheme, _, credentials = auth.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not credentials:
            return None
        key = credentials.strip()
        cache = state.guard_keys
        hit, info = cache.get(key)
        if not hit:

            def lookup() -> PlatformInfo | None:
                with runtime.db.read() as session:
                    return platform_for_key(session, key)

            info = await anyio.to_thread.run_sync(lookup)
            cache.put(key, info)
        return info


def _problem(
    status: int,
    slug: str,
    detail: str,
    path: str,
    *,
    extra_headers: list | None = None,
    **extra: Any,
) -> tuple[int, bytes, list]:
    body = problem_body(slug, detail, instance=path, status=status, **extra)
    return status, json.dumps(body, ensure_ascii=False).encode(), _PROBLEM + (extra_headers or [])
