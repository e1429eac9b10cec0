"""The NPPA-compatible endpoint under /nppa: point a game's NPPA base URL at
http://host:port/nppa and it can run check, query and loginout against Qinglang.

The router is thin: it hands the method, path, headers, query and raw body to `NppaServer`
(qinglang.guard.nppa.server) and always answers HTTP 200 with the NPPA document, as the real
system does, including for unknown paths (1002) and wrong methods (1003).
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from qinglang.guard.nppa.server import NppaServer
from qinglang.web.responses import SafeJSONResponse

router = APIRouter(prefix="/nppa", include_in_schema=False)

_build_lock = threading.Lock()


def nppa_server(app: Any) -> NppaServer:
    """The app's NppaServer, built on first use over its database (cached on app.state)."""
    server = getattr(app.state, "nppa_server", None)
    if server is not None:
        return server
    with _build_lock:
        server = getattr(app.state, "nppa_server", None)
        if server is None:
            from qinglang.services.nppa_state import SqlNppaState

            key = app.state.settings.secret_key.get_secret_value().encode("utf-8")
            server = NppaServer(SqlNppaState(app.state.database), id_key=key)
            app.state.nppa_server = server
    return server


@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def nppa_endpoint(path: str, request: Request) -> SafeJSONResponse:
    body = await request.body()
    status, doc = await run_in_threadpool(
        nppa_server(request.app).handle,
        request.method,
        "/" + path,
        dict(request.headers),
        dict(request.query_params),
        body,
    )
    return SafeJSONResponse(doc, status_code=status)
