"""Login, logout and the start page: the workbench of a regulator, the portal of an operator,
the public pages for everyone else."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from qinglang.services import campaigns as campaign_service
from qinglang.services import cases as case_service
from qinglang.services import users as users_service
from qinglang.services.errors import ServiceError
from qinglang.services.principal import CASE_ROLES
from qinglang.web.auth import SESSION_COOKIE, now
from qinglang.web.ui.forms import read_form, text
from qinglang.web.ui.session import MaybePrincipal, UiPrincipal, safe_next
from qinglang.web.ui.templating import redirect, render

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, principal: MaybePrincipal) -> Response:
    if principal is None:
        return redirect("/public")
    if principal.is_operator:
        return redirect("/portal")
    return redirect("/workbench")


@router.get("/workbench")
def workbench(request: Request, principal: UiPrincipal) -> Response:
    """Today's work: campaign reminders for the caller's department, cases by state, overdue."""
    if principal.is_operator:
        return redirect("/portal")
    db = request.app.state.database
    at = now()
    reminders: list = []
    counts: list[tuple[str, int]] = []
    overdue = None
    with db.read() as session:
        reminders = campaign_service.reminders_for(session, principal, at=at)
        if principal.roles & CASE_ROLES:
            for state in ("lead", "opened", "assessing", "disposing", "rectifying", "rechecking"):
                page = case_service.list_cases(
                    session, principal, state=state, limit=1, with_total=True, at=at
                )
                counts.append((state, page.total or 0))
            overdue = case_service.list_cases(
                session, principal, overdue=True, limit=10, with_total=True, at=at
            )
        campaigns = campaign_service.list_campaigns(session, principal)
    return render(
        request,
        "workbench.html",
        {"reminders": reminders, "counts": counts, "overdue": overdue, "campaigns": campaigns},
        title="工作台",
    )


@router.get("/login")
def login_form(request: Request, principal: MaybePrincipal, next: str | None = None) -> Response:
    if principal is not None:
        return redirect(safe_next(next))
    return render(request, "login.html", {"next": safe_next(next)}, title="登录")


@router.post("/login")
async def login(request: Request) -> Response:
    form = await read_form(request, csrf=False)
    username = text(form, "username", "用户名", max_len=64) or ""
    password = form.get("password")
    password = password if isinstance(password, str) else ""
    next_url = safe_next(text(form, "next", "next", max_len=2000))
    settings = request.app.state.settings
    try:
        with request.app.state.database.write() as session:
            token, _user = users_service.login(
                session, username, password[:200], now(), settings.session_hours
            )
    except ServiceError as exc:
        return render(
            request,
            "login.html",
            {"error": exc.message_zh, "username": username, "next": next_url},
            status=exc.status,
            title="登录",
        )
    response = redirect(next_url if next_url != "/" else "/")
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="strict",
        secure=settings.env.value == "prod",
    )
    return response


@router.post("/logout")
async def logout(request: Request, principal: UiPrincipal) -> Response:
    await read_form(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        with request.app.state.database.write() as session:
            users_service.logout(session, cookie)
    response = redirect("/login", flash="您已退出登录。")
    response.delete_cookie(SESSION_COOKIE)
    return response
