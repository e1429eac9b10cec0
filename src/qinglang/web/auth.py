"""Authentication for the governance API: session cookies for the UI, bearer tokens for machines.

`CurrentPrincipal` answers 401 (with `WWW-Authenticate: Bearer`) when neither credential is
present or valid; the routers then check roles and scope (403) through the services.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from qinglang.services.principal import Principal
from qinglang.services.users import principal_of, user_for_session, user_for_token
from qinglang.store.db import Database
from qinglang.web.problems import ProblemError

SESSION_COOKIE = "qinglang_session"

_bearer = HTTPBearer(auto_error=False, description="API token (qlt_...) from POST /api/v1/tokens")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="Login session from POST /api/v1/auth/login"
)


def now() -> datetime:
    """The server clock (UTC). Routers pass it to the services, which never read the clock."""
    return datetime.now(UTC)


async def get_database(request: Request) -> Database:
    db = getattr(request.app.state, "database", None)
    if db is None:
        raise ProblemError("not-found", "治理数据库未配置。", log_message="no database configured")
    return db


DatabaseDep = Annotated[Database, Depends(get_database)]


def read_session(db: DatabaseDep) -> Iterator[Session]:
    """A read-only session for queries (rolled back after the response is built)."""
    with db.read() as session:
        yield session


ReadSession = Annotated[Session, Depends(read_session)]


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError("unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


def current_principal(
    db: DatabaseDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Principal:
    with db.read() as session:
        if bearer is not None:
            user = user_for_token(session, bearer.credentials)
            if user is None:
                raise _unauthorized("API 令牌无效或已吊销。")
            return principal_of(user)
        if cookie:
            user = user_for_session(session, cookie, now())
            if user is None:
                raise _unauthorized("登录已过期，请重新登录。")
            return principal_of(user)
    raise _unauthorized("请先登录，或在 Authorization 请求头中提供 API 令牌：Bearer <令牌>。")


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
