"""`qinglang serve`: run the HTTP API with uvicorn."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from pydantic import ValidationError

log = logging.getLogger("qinglang.cli")

APP_FACTORY = "qinglang.web.app:create_served_app"
HTTP_PROTOCOL = "qinglang.web.http_protocol:NoDelayHTTPProtocol"


def serve(
    host: Annotated[
        str | None,
        typer.Option("--host", help="Address to bind. [default: QINGLANG_HOST or 127.0.0.1]"),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port", min=1, max=65535, help="Port to listen on. [default: QINGLANG_PORT or 8000]"
        ),
    ] = None,
    reload: Annotated[
        bool, typer.Option("--reload", help="Restart when source files change (development).")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Worker processes. [default: QINGLANG_WORKERS or 1]",
        ),
    ] = None,
) -> None:
    """Serve the JSON API (docs at /docs)."""
    import uvicorn

    from qinglang.logging_setup import configure_logging
    from qinglang.settings import get_settings

    try:
        settings = get_settings()
    except ValidationError as exc:
        messages = "; ".join(str(e.get("msg", "")) for e in exc.errors())
        typer.echo(f"error: invalid settings: {messages}", err=True)
        raise typer.Exit(2) from None
    configure_logging(settings.log_level)
    bind_host = host or settings.host
    bind_port = port or settings.port
    processes = workers or settings.workers
    if reload and processes > 1:
        typer.echo("error: --reload works with one worker only", err=True)
        raise typer.Exit(2)
    shown = f"[{bind_host}]" if ":" in bind_host else bind_host
    log.info(
        "serving Qinglang on http://%s:%d with %d worker(s) (API docs at /docs)",
        shown,
        bind_port,
        processes,
    )
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=bind_host,
        port=bind_port,
        reload=reload,
        workers=processes,
        http=HTTP_PROTOCOL,
        log_config=None,
    )
