"""Who is looking at a page: the login cookie read for the server-rendered UI, and CSRF.

Pages use the same session cookie as the JSON API (`qinglang_session`, HttpOnly,
SameSite=Strict). Forms that change anything carry a CSRF token: the SHA-256 of a fixed label
and the session cookie. A page of another site can neither read the cookie nor the token, so
it cannot forge the form; no server-side state is needed. Public forms (reporting, ticket
look-up) have no session and rely on SameSite and on being harmless to replay.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from qinglang.services.principal import Principal
from qinglang.services.users import principal_of, user_for_session
from qinglang.web.auth import SESSION_COOKIE, now


class LoginRequired(Exception):
    """Raised by `require_login`; the UI error handler answers with a redirect to /login."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class CsrfFailed(Exception):
    """A state-changing form arrived without the token of the caller's session."""


def ui_principal(request: Request) -> Principal | None:
    """The logged-in user of this request, or None (cached on the request)."""
    if hasattr(request.state, "ui_principal"):
        return request.state.ui_principal
    principal = None
    cookie = request.cookies.get(SESSION_COOKIE)
    db = getattr(request.app.state, "database", None)
    if cookie and db is not None:
        with db.read() as session:
            user = user_for_session(session, cookie, now())
            if user is not None:
                principal = principal_of(user)
                request.state.ui_display_name = user.display_name
    request.state.ui_principal = principal
    return principal


def require_login(request: Request) -> Principal:
    principal = ui_principal(request)
    if principal is None:
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        raise LoginRequired(target)
    return principal


def maybe_login(request: Request) -> Principal | None:
    return ui_principal(request)


UiPrincipal = Annotated[Principal, Depends(require_login)]
MaybePrincipal = Annotated[Principal | None, Depends(maybe_login)]


def csrf_token(request: Request) -> str:
    cookie = request.cookies.get(SESSION_COOKIE, "")
    return hashlib.sha256(b"qinglang-csrf:" + cookie.encode("utf-8", "replace")).hexdigest()


def check_csrf(request: Request, token: str | None) -> None:
    """Raise CsrfFailed unless `token` is this session's token."""
    if not token or not hmac.compare_digest(token.encode(), csrf_token(request).encode()):
        raise CsrfFailed()


def login_url(next_url: str) -> str:
    return "/login?next=" + quote(next_url, safe="/")


def safe_next(value: str | None) -> str:
    """Only local paths are followed after login (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value
