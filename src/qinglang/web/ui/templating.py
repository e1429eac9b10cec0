"""Jinja2 for the server-rendered UI: the environment, the filters pages share, and `render`.

Every page extends `base.html` (layout, navigation for the caller's roles, flash message,
skip link). Filters turn codes into the Chinese names of the domain tables, and times into
Asia/Shanghai wall-clock text, so templates never carry domain tables of their own.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse, RedirectResponse

from qinglang import __version__
from qinglang.govern.actors import ROLE_NAMES_ZH, Role
from qinglang.govern.cases import STATE_NAMES_ZH, State
from qinglang.govern.clock import to_shanghai
from qinglang.govern.dispositions import registered as registered_dispositions
from qinglang.govern.intake import registered_sources
from qinglang.govern.ledger import registered as registered_kinds
from qinglang.services.disclosure import region_name
from qinglang.services.principal import Principal
from qinglang.taxonomy import get_taxonomy
from qinglang.web.ui.session import csrf_token, ui_principal

HERE = Path(__file__).parent
FLASH_COOKIE = "qinglang_flash"
templates = Jinja2Templates(directory=str(HERE / "templates"))
env = templates.env
env.trim_blocks = True
env.lstrip_blocks = True


def fmt_datetime(value: datetime | None) -> str:
    if value is None:
        return "—"
    return to_shanghai(value).strftime("%Y-%m-%d %H:%M")


def fmt_date(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return to_shanghai(value).date().isoformat()
    return value.isoformat()


def department_name(code: str | None) -> str:
    if not code:
        return "—"
    dep = get_taxonomy().departments.get(code)
    return dep.name if dep else code


def ground_name(code: str | None) -> str:
    return get_taxonomy().ground_name(code) if code else "—"


def state_name(code: str | None) -> str:
    try:
        return STATE_NAMES_ZH[State(code)]
    except ValueError:
        return code or "—"


def role_name(code: str) -> str:
    try:
        return ROLE_NAMES_ZH[Role(code)]
    except ValueError:
        return code


def disposition_name(code: str) -> str:
    kind = registered_dispositions().get(code)
    return kind.name if kind else code


def source_name(code: str | None) -> str:
    source = registered_sources().get(code or "")
    return source.name_zh if source else (code or "—")


def kind_name(code: str | None) -> str:
    kind = registered_kinds().get(code or "")
    return kind.name if kind else (code or "—")


def fmt_number(value: int | float | Decimal | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"


def fmt_percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


env.filters.update(
    dt=fmt_datetime,
    d=fmt_date,
    dept=department_name,
    ground=ground_name,
    state=state_name,
    role=role_name,
    disposition=disposition_name,
    source=source_name,
    kind=kind_name,
    region=region_name,
    num=fmt_number,
    pct=fmt_percent,
    urlq=lambda v: quote(str(v), safe=""),
)
env.globals.update(version=__version__)


def nav_for(principal: Principal | None) -> list[tuple[str, str]]:
    """(href, label) of the main navigation for the caller's roles."""
    if principal is None:
        return [
            ("/public/report", "我要举报"),
            ("/public/track", "举报查询"),
            ("/public/disclosure", "曝光台"),
            ("/public/campaigns", "专项行动进展"),
        ]
    items: list[tuple[str, str]] = []
    if principal.is_regulator:
        items += [
            ("/campaigns", "专项行动"),
            ("/dashboard", "数据看板"),
            ("/ledger", "台账"),
            ("/intake", "线索受理"),
            ("/cases", "案件办理"),
        ]
    if principal.is_operator:
        items.append(("/portal", "整改通知"))
    if principal.has(Role.admin):
        items.append(("/admin/users", "用户与部门"))
    items.append(("/public/disclosure", "曝光台"))
    return items


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    title: str | None = None,
) -> HTMLResponse:
    """Render page `name` with the layout's context (user, navigation, CSRF token, flash)."""
    principal = ui_principal(request)
    ctx: dict[str, Any] = {
        "request": request,
        "principal": principal,
        "display_name": getattr(request.state, "ui_display_name", None),
        "nav": nav_for(principal),
        "current_path": request.url.path,
        "csrf": csrf_token(request) if principal is not None else "",
        "flash": unquote(request.cookies.get(FLASH_COOKIE) or "")[:300] or None,
        "title": title,
    }
    ctx.update(context or {})
    response = templates.TemplateResponse(request, name, ctx, status_code=status)
    if ctx["flash"]:
        response.delete_cookie(FLASH_COOKIE)
    return response


def redirect(url: str, *, flash: str | None = None) -> RedirectResponse:
    """303 to `url` (after a POST), with a one-time message for the next page."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        response.set_cookie(FLASH_COOKIE, quote(flash), max_age=60, httponly=True, samesite="lax")
    return response
