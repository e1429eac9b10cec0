"""Routers of the JSON API; `api_router` is mounted under /api/v1."""

from fastapi import APIRouter

from qinglang.web.api import admin, detect, taxonomy

api_router = APIRouter()
api_router.include_router(detect.router)
api_router.include_router(admin.router)
api_router.include_router(taxonomy.router)

__all__ = ["api_router"]
