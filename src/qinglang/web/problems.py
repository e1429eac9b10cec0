"""Errors as RFC 9457 problem details (`application/problem+json`).

`title` and `detail` are Simplified Chinese, for the people behind the calling application;
log lines are English. `type` is a stable URN per kind of problem, listed in docs/api.md.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from qinglang.logging_setup import redact
from qinglang.web.responses import ProblemJSONResponse

log = logging.getLogger("qinglang.web")

TYPE_PREFIX = "urn:qinglang:problem:"

# slug -> (status, title)
CATALOG: dict[str, tuple[int, str]] = {
    "invalid-json": (400, "请求体不是合法的 JSON"),
    "invalid-encoding": (400, "请求体不是合法的 UTF-8 编码"),
    "bad-request": (400, "请求无法解析"),
    "unauthorized": (401, "需要身份认证"),
    "forbidden": (403, "没有权限"),
    "not-found": (404, "未找到"),
    "method-not-allowed": (405, "不支持该请求方法"),
    "conflict": (409, "与当前状态冲突"),
    "gone": (410, "已失效"),
    "body-too-large": (413, "请求体过大"),
    "text-too-long": (413, "文本过长"),
    "too-many-items": (413, "条目过多"),
    "unsupported-media-type": (415, "不支持的内容类型"),
    "validation-error": (422, "请求参数有误"),
    "unknown-scene": (422, "未知的场景"),
    "rate-limited": (429, "请求过于频繁"),
    "service-unavailable": (503, "服务暂不可用"),
    "lexicon-error": (500, "词库加载失败"),
    "internal-error": (500, "服务器内部错误"),
}

# Default titles for HTTP errors raised by the framework itself (routing, methods).
_SLUG_BY_STATUS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    410: "gone",
    413: "body-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "rate-limited",
    500: "internal-error",
}


class ProblemError(Exception):
    """Raised anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        slug: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        log_message: str | None = None,
        **extra: Any,
    ) -> None:
        status, title = CATALOG[slug]
        super().__init__(log_message or slug)
        self.slug = slug
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra
        self.log_message = log_message


def slug_for_status(status: int) -> str:
    return _SLUG_BY_STATUS.get(status, "bad-request" if status < 500 else "internal-error")


def problem_body(
    slug: str,
    detail: str,
    *,
    instance: str | None = None,
    status: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    default_status, title = CATALOG[slug]
    status = status if status is not None else default_status
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    body.update(extra)
    return body


def problem_response(
    slug: str,
    detail: str,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    status: int | None = None,
    **extra: Any,
) -> Response:
    body = problem_body(slug, detail, instance=instance, status=status, **extra)
    return ProblemJSONResponse(body, status_code=body["status"], headers=headers)


def log_problem(request_method: str, path: str, status: int, slug: str, note: str = "") -> None:
    """One English line per rejected request; paths are redacted like everything else."""
    level = logging.ERROR if status >= 500 else logging.INFO
    suffix = f" ({note})" if note else ""
    log.log(level, "%s %s -> %d %s%s", request_method, redact(path), status, slug, suffix)


def problem_from_error(request: Request, exc: ProblemError) -> Response:
    log_problem(request.method, request.url.path, exc.status, exc.slug, exc.log_message or "")
    return problem_response(
        exc.slug,
        exc.detail,
        instance=request.url.path,
        headers=exc.headers,
        **exc.extra,
    )


def shorten(value: object, limit: int = 64) -> str:
    """A user-supplied value made safe to echo in a message: bounded and printable."""
    text = value if isinstance(value, str) else repr(value)
    text = "".join(ch if ch.isprintable() else "\ufffd" for ch in text[: limit + 1])
    return text if len(text) <= limit else text[:limit] + "…"
