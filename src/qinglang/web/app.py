"""The FastAPI application: `create_app(settings)` builds one, `create_served_app()` is the
factory `qinglang serve` hands to uvicorn (it also configures logging)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline

from qinglang import __version__
from qinglang.logging_setup import configure_logging
from qinglang.settings import Settings, get_settings
from qinglang.store.blobs import BlobStore
from qinglang.store.db import Database
from qinglang.store.migrate import is_current
from qinglang.web.api import api_router
from qinglang.web.api import guard as guard_api
from qinglang.web.api.health import router as health_router
from qinglang.web.body_limit import BodySizeLimitMiddleware
from qinglang.web.detector_provider import DetectorProvider
from qinglang.web.error_handlers import install_error_handlers
from qinglang.web.guard_deps import runtime_of
from qinglang.web.guard_fastpath import HeartbeatFastPath
from qinglang.web.nppa_router import router as nppa_router
from qinglang.web.rate_limit import RateLimitMiddleware, TokenBucketLimiter
from qinglang.web.responses import SafeJSONResponse
from qinglang.web.ui import install_ui

log = logging.getLogger("qinglang.web")

API_PREFIX = "/api/v1"
TITLE = "Qinglang 清朗"
DESCRIPTION = (
    "清朗：未成年人网络环境保护平台。内容安全检测 API —— 判断一段中文文本是否对未成年人有害、"
    "属于哪类、依据是什么；治理 API —— 台账、线索受理、公众举报、案件办理与审计。"
    "错误均以 application/problem+json（RFC 9457）返回。"
)


def _problem_media_types(schema: dict[str, Any]) -> dict[str, Any]:
    """Error responses are application/problem+json, not the default application/json."""
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[:1] in "45" and "application/json" in content:
                    content["application/problem+json"] = content.pop("application/json")
    return schema


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """The app; `database` defaults to one opened from QINGLANG_DATABASE_URL at startup."""
    settings = settings if settings is not None else get_settings()
    provider = DetectorProvider(settings)
    owns_database = database is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Compile the lexicons before the first request, and fail at startup on a bad file.
        provider.get()
        if settings.default_token_in_use:
            log.warning("a known default admin token is configured; never use it outside dev")
        if app.state.database is None:
            app.state.database = Database(settings.database_url)
        if not is_current(app.state.database):
            log.warning(
                "the database is not migrated to the newest schema: run qinglang db upgrade"
            )
        yield
        if owns_database and app.state.database is not None:
            app.state.database.dispose()

    # FastAPIOffline serves the Swagger UI assets from its own package instead of a CDN: the
    # machines Qinglang runs on often have no internet access.
    app = FastAPIOffline(
        title=TITLE,
        description=DESCRIPTION,
        version=__version__,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
        default_response_class=SafeJSONResponse,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.detector_provider = provider
    app.state.database = database
    app.state.blobs = BlobStore(settings.blob_dir)

    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(api_router, prefix=API_PREFIX)
    app.include_router(nppa_router)

    install_ui(app)

    # Added last = outermost: rate limiting runs before the body is read.
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    if settings.rate_limit_per_minute > 0:
        app.add_middleware(
            RateLimitMiddleware,
            limiter=TokenBucketLimiter(settings.rate_limit_per_minute),
            path_prefix=f"{API_PREFIX}/detect",
        )
    # Outermost of all: the guard's heartbeats skip the stack (qinglang.web.guard_fastpath).
    app.add_middleware(HeartbeatFastPath, runtime=runtime_of, clock=lambda: guard_api.now())

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _problem_media_types(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def create_served_app() -> FastAPI:
    """uvicorn factory for `qinglang serve`: settings from the environment, logging set up."""
    settings = get_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
