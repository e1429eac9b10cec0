"""The server-rendered UI in Simplified Chinese (Jinja2): one router per area of work.

`install_ui(app)` adds the pages and serves our own CSS under /static. Pages call the same
services as the JSON API (`qinglang.services`), so the rules (roles, jurisdiction, state
machine) are the same in both.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from qinglang.web.ui import (
    pages_admin,
    pages_campaigns,
    pages_cases,
    pages_dashboard,
    pages_home,
    pages_intake,
    pages_ledger,
    pages_portal,
    pages_public,
)
from qinglang.web.ui.templating import HERE

AREAS = (
    pages_home,
    pages_public,
    pages_campaigns,
    pages_dashboard,
    pages_ledger,
    pages_intake,
    pages_cases,
    pages_portal,
    pages_admin,
)


def install_ui(app: FastAPI) -> None:
    for area in AREAS:
        app.include_router(area.router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
