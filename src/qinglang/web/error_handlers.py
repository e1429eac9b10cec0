"""Exception handlers: every error leaves the app as a problem document.

Bad input is answered by the specific handlers below (4xx); the catch-all 500 handler is for
our own bugs only, and the tests check that no bad input reaches it.
"""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from qinglang.detect import UnknownSceneError
from qinglang.logging_setup import redact
from qinglang.services.errors import ServiceError
from qinglang.web.problems import (
    ProblemError,
    log_problem,
    problem_from_error,
    problem_response,
    shorten,
    slug_for_status,
)
from qinglang.web.ui.errors import error_page, is_ui_request, login_redirect
from qinglang.web.ui.session import CsrfFailed, LoginRequired
from qinglang.web.validation_messages import problem_errors

log = logging.getLogger("qinglang.web")

_GENERIC_DETAIL = {
    "bad-request": "请求无法解析，请检查请求格式。",
    "unauthorized": "请提供有效的身份凭证。",
    "forbidden": "没有权限执行该操作。",
    "body-too-large": "请求体过大。",
    "unsupported-media-type": "请求体须为 JSON，并设置 Content-Type: application/json。",
    "validation-error": "请求参数有误。",
    "rate-limited": "请求过于频繁，请稍后重试。",
    "internal-error": "服务器处理请求时出错，请稍后重试。",
}


def json_error_detail(doc: object, pos: object, reason: str = "") -> str:
    """Where a JSON syntax error is, in words a person can act on."""
    if isinstance(pos, int) and isinstance(doc, str | bytes) and 0 <= pos <= len(doc):
        newline = "\n" if isinstance(doc, str) else b"\n"
        line = doc.count(newline, 0, pos) + 1  # type: ignore[arg-type]
        col = pos - (doc.rfind(newline, 0, pos) + 1)  # type: ignore[arg-type]
        return f"请检查第 {line} 行第 {col + 1} 列附近的 JSON 语法。"
    return reason or "请检查 JSON 语法。"


async def _problem(request: Request, exc: ProblemError) -> Response:
    if is_ui_request(request):
        log_problem(request.method, request.url.path, exc.status, exc.slug)
        return error_page(request, exc.status, exc.detail)
    return problem_from_error(request, exc)


async def _login_required(request: Request, exc: LoginRequired) -> Response:
    return login_redirect(exc.next_url)


async def _csrf_failed(request: Request, exc: CsrfFailed) -> Response:
    log_problem(request.method, request.url.path, 403, "forbidden", "csrf token mismatch")
    return error_page(request, 403, "表单已过期或来源不明，请返回刷新页面后重新提交。")


async def _validation(request: Request, exc: RequestValidationError) -> Response:
    errors = list(exc.errors())
    path = request.url.path
    if is_ui_request(request):
        log_problem(request.method, path, 422, "validation-error")
        return error_page(request, 422, "请求参数有误，请检查链接或重新填写表单。")
    for err in errors:
        if err.get("type") == "json_invalid":
            loc = err.get("loc", ())
            pos = loc[-1] if loc else None
            log_problem(request.method, path, 400, "invalid-json")
            return problem_response("invalid-json", json_error_detail(exc.body, pos), instance=path)
    if isinstance(exc.body, bytes | bytearray) and exc.body:
        # The framework left the body unparsed: its Content-Type is not JSON.
        content_type = request.headers.get("content-type")
        got = f"收到：{shorten(content_type)}" if content_type else "未设置 Content-Type"
        log_problem(request.method, path, 415, "unsupported-media-type")
        return problem_response(
            "unsupported-media-type",
            f"请求体须为 JSON，并设置 Content-Type: application/json（{got}）。",
            instance=path,
        )
    items = problem_errors(errors)
    log_problem(
        request.method,
        path,
        422,
        "validation-error",
        ", ".join(f"{e['pointer']} {e['type']}" for e in items[:5]),
    )
    return problem_response(
        "validation-error",
        f"请求参数有误：共 {len(items)} 处，详见 errors。",
        instance=path,
        errors=items,
    )


async def _http(request: Request, exc: StarletteHTTPException) -> Response:
    path = request.url.path
    status = exc.status_code
    cause = exc.__cause__
    headers = dict(exc.headers) if exc.headers else None
    if status == 400 and isinstance(cause, UnicodeDecodeError):
        log_problem(request.method, path, 400, "invalid-encoding")
        return problem_response(
            "invalid-encoding",
            f"请求体须使用 UTF-8 编码（第 {cause.start + 1} 个字节有误）。",
            instance=path,
        )
    if status == 400 and isinstance(cause, RecursionError):
        log_problem(request.method, path, 400, "invalid-json", "nesting too deep")
        return problem_response("invalid-json", "JSON 嵌套层数过多。", instance=path)
    if status == 400 and isinstance(cause, ValueError | json.JSONDecodeError):
        log_problem(request.method, path, 400, "invalid-json", type(cause).__name__)
        return problem_response("invalid-json", "请检查 JSON 语法与数值。", instance=path)
    slug = slug_for_status(status)
    if is_ui_request(request):
        log_problem(request.method, path, status, slug)
        message = {404: "您访问的页面不存在。", 405: "该页面不支持此操作。"}.get(
            status, _GENERIC_DETAIL.get(slug, "请求无法处理。")
        )
        return error_page(request, status, message)
    if status == 404:
        detail = f"请求的地址不存在：{shorten(path, 200)}"
    elif status == 405:
        detail = f"该地址不支持 {shorten(request.method, 16)} 方法。"
    else:
        detail = _GENERIC_DETAIL.get(slug, "请求无法处理。")
    log_problem(request.method, path, status, slug)
    return problem_response(slug, detail, instance=path, headers=headers, status=status)


async def _service_error(request: Request, exc: ServiceError) -> Response:
    log_problem(request.method, request.url.path, exc.status, exc.slug, f"{exc.code}: {exc}")
    if is_ui_request(request):
        return error_page(request, exc.status, exc.message_zh)
    return problem_response(
        exc.slug,
        exc.message_zh,
        instance=request.url.path,
        status=exc.status,
        code=exc.code,
        **exc.extra,
    )


async def _unknown_scene(request: Request, exc: UnknownSceneError) -> Response:
    known = "、".join(exc.known)
    log_problem(request.method, request.url.path, 422, "unknown-scene")
    return problem_response(
        "unknown-scene",
        f"未知的场景：{shorten(exc.scene)}，可选：{known}",
        instance=request.url.path,
        errors=[{"pointer": "#/scene", "type": "unknown_scene", "detail": "未知的场景"}],
    )


async def _unhandled(request: Request, exc: Exception) -> Response:
    log.error(
        "unhandled %s in %s %s: %s",
        type(exc).__name__,
        request.method,
        redact(request.url.path),
        redact(str(exc))[:500],
        exc_info=exc,
    )
    if is_ui_request(request):
        return error_page(request, 500, _GENERIC_DETAIL["internal-error"])
    return problem_response(
        "internal-error", _GENERIC_DETAIL["internal-error"], instance=request.url.path
    )


async def _counters_unavailable(request: Request, exc: Exception) -> Response:
    log_problem(request.method, request.url.path, 503, "service-unavailable", str(exc)[:300])
    return problem_response(
        "service-unavailable",
        "实时计数服务暂不可用，请稍后重试。",
        instance=request.url.path,
        status=503,
        headers={"Retry-After": "5"},
    )


def install_error_handlers(app: FastAPI) -> None:
    from qinglang.store.guard_counters_redis import CountersUnavailable

    app.add_exception_handler(CountersUnavailable, _counters_unavailable)
    app.add_exception_handler(LoginRequired, _login_required)  # type: ignore[arg-type]
    app.add_exception_handler(CsrfFailed, _csrf_failed)  # type: ignore[arg-type]
    app.add_exception_handler(ProblemError, _problem)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(ServiceError, _service_error)  # type: ignore[arg-type]
    app.add_exception_handler(UnknownSceneError, _unknown_scene)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unhandled)
