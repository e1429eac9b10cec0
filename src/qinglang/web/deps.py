"""Named dependencies for the routers: SettingsDep, DetectorDep, AdminDep."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from qinglang.detect import Detector
from qinglang.settings import Settings
from qinglang.web.problems import ProblemError


# Dependencies without I/O are coroutines: FastAPI runs sync dependencies in the thread pool,
# one hop each, which costs more than they do.
async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


async def get_detector(request: Request) -> Detector:
    return request.app.state.detector_provider.get()


DetectorDep = Annotated[Detector, Depends(get_detector)]

_bearer = HTTPBearer(auto_error=False, description="QINGLANG_ADMIN_TOKEN")


def require_admin(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Admin endpoints exist only when an admin token is configured (404 otherwise)."""
    if settings.admin_token is None:
        raise ProblemError("not-found", "该接口未启用。", log_message="admin token not configured")
    if credentials is None:
        raise ProblemError(
            "unauthorized",
            "请在 Authorization 请求头中提供管理令牌：Bearer <令牌>。",
            headers={"WWW-Authenticate": "Bearer"},
        )
    expected = settings.admin_token.get_secret_value().encode("utf-8")
    # Header values arrive decoded as Latin-1; encoding back gives the bytes the client sent.
    given = credentials.credentials.encode("latin-1", "replace")
    if not hmac.compare_digest(given, expected):
        raise ProblemError("forbidden", "管理令牌无效。", log_message="wrong admin token")


AdminDep = Annotated[None, Depends(require_admin)]
