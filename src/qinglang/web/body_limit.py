"""ASGI middleware that caps the request body size while it is read.

A declared Content-Length over the cap is refused before any byte is read. Without one
(chunked transfer), the body is read here and counted; once the count passes the cap the
request is answered 413 and the rest is never buffered. A body within the cap is replayed
to the app unchanged, so memory per request stays below the cap.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qinglang.logging_setup import redact
from qinglang.web.problems import problem_response
from qinglang.web.ui.errors import error_page, is_ui_request

log = logging.getLogger("qinglang.web")


def _human(n: int) -> str:
    for unit, size in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if n >= size and n % size == 0:
            return f"（{n // size} {unit}）"
    return ""


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, slug: str, detail: str
    ) -> None:
        path = scope.get("path", "")
        status = 413 if slug == "body-too-large" else 400
        log.info("%s %s -> %d %s", scope.get("method", "?"), redact(path), status, slug)
        request = Request(scope)
        if is_ui_request(request):
            # A page's form: answer with a page a person can read, not a problem document.
            response = error_page(request, status, detail)
            response.headers["Connection"] = "close"
        else:
            response = problem_response(
                slug, detail, instance=path, headers={"Connection": "close"}
            )
        await response(scope, receive, send)

    def _too_large_detail(self) -> str:
        return f"请求体过大：最多 {self.max_body_bytes} 字节{_human(self.max_body_bytes)}。"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        declared: str | None = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                declared = value.decode("latin-1")
                break
        if declared is not None:
            declared = declared.strip()
            if not (declared.isascii() and declared.isdigit()):
                await self._refuse(
                    scope, receive, send, "bad-request", "Content-Length 请求头无效。"
                )
                return
            if int(declared) > self.max_body_bytes:
                await self._refuse(scope, receive, send, "body-too-large", self._too_large_detail())
                return

        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            if message["type"] != "http.request":
                continue
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_body_bytes:
                chunks.clear()
                await self._refuse(scope, receive, send, "body-too-large", self._too_large_detail())
                return
            if body:
                chunks.append(body)
            if not message.get("more_body", False):
                break

        replayed = False
        full_body = b"".join(chunks)
        chunks.clear()

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": full_body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
