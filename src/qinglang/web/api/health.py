"""GET /healthz: liveness, outside the versioned API."""

from __future__ import annotations

from fastapi import APIRouter

from qinglang import __version__
from qinglang.web.schemas.health import HealthPublic

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthPublic, summary="Liveness probe")
def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}
