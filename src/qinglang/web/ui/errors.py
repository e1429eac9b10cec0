"""Errors on UI pages: HTML pages in Chinese (never a JSON problem, never a stack trace).

The app's exception handlers (`qinglang.web.error_handlers`) ask `is_ui_request` first and
hand UI requests here: a missing login becomes a redirect to /login, a service refusal the
error page with its Chinese message and its status code.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from qinglang.web.ui.session import login_url

_NOT_UI = ("/api/", "/nppa", "/healthz", "/docs", "/openapi.json", "/static/", "/redoc")

HEADINGS = {
    400: "请求有误",
    401: "需要登录",
    403: "无权访问",
    404: "页面不存在",
    405: "不支持的操作",
    409: "操作冲突",
    413: "提交的内容过大",
    422: "填写有误",
    429: "操作过于频繁",
    500: "系统出错",
    503: "服务暂不可用",
}


def is_ui_request(request: Request) -> bool:
    path = request.url.path
    return not any(path == p.rstrip("/") or path.startswith(p) for p in _NOT_UI)


def error_page(request: Request, status: int, message: str) -> Response:
    from qinglang.web.ui.templating import render

    heading = HEADINGS.get(status, "无法完成请求")
    return render(
        request,
        "error.html",
        {"heading": heading, "message": message, "back": request.headers.get("referer")},
        status=status,
        title=heading,
    )


def login_redirect(next_url: str) -> Response:
    return RedirectResponse(login_url(next_url), status_code=303)
