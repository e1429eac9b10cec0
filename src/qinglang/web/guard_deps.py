"""Dependencies of the guard API: the runtime (`GuardDep`) and the calling platform
(`CurrentPlatform`, from `Authorization: Bearer qlp_...`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from qinglang.guard.calendar import PlayDayReading
from qinglang.services.guard_platforms import PlatformInfo, PlatformKeyCache, platform_for_key
from qinglang.services.guard_sessions import GuardRuntime
from qinglang.store.guard_counters import open_counters
from qinglang.web.problems import ProblemError

_bearer = HTTPBearer(
    auto_error=False, description="Platform API key (qlp_...) from POST /api/v1/guard/platforms"
)


def runtime_of(state: Any) -> GuardRuntime:
    """The app's GuardRuntime, built on first use from its settings and database."""
    runtime = getattr(state, "guard_runtime", None)
    if runtime is None:
        settings = state.settings
        database = state.database
        if database is None:
            raise ProblemError("not-found", "数据库未配置。", log_message="no database configured")
        runtime = GuardRuntime(
            database,
            open_counters(settings.redis_url),
            key=settings.secret_key.get_secret_value().encode(),
            reading=PlayDayReading(settings.guard_play_days),
        )
        state.guard_runtime = runtime
    if getattr(state, "guard_keys", None) is None:
        state.guard_keys = PlatformKeyCache()
    return runtime


async def get_runtime(request: Request) -> GuardRuntime:
    return runtime_of(request.app.state)


GuardDep = Annotated[GuardRuntime, Depends(get_runtime)]


async def current_platform(
    request: Request,
    runtime: GuardDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> PlatformInfo:
    if bearer is None:
        raise ProblemError(
            "unauthorized",
            "请在 Authorization 请求头中提供平台 API 密钥：Bearer qlp_...",
            headers={"WWW-Authenticate": "Bearer"},
        )
    cache: PlatformKeyCache = request.app.state.guard_keys
    hit, info = cache.get(bearer.credentials)
    if not hit:
        with runtime.db.read() as session:
            info = platform_for_key(session, bearer.credentials)
        cache.put(bearer.credentials, info)
    if info is None:
        raise ProblemError(
            "unauthorized", "平台 API 密钥无效或已吊销。", headers={"WWW-Authenticate": "Bearer"}
        )
    return info


CurrentPlatform = Annotated[PlatformInfo, Depends(current_platform)]
