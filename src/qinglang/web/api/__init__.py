"""Routers of the JSON API; `api_router` is mounted under /api/v1."""

from fastapi import APIRouter

from qinglang.web.api import (
    accounts,
    admin,
    audit,
    campaigns,
    cases,
    detect,
    guard,
    intake,
    ledger,
    notices,
    reports,
    taxonomy,
)

api_router = APIRouter()
api_router.include_router(detect.router)
api_router.include_router(admin.router)
api_router.include_router(taxonomy.router)
api_router.include_router(accounts.router)
api_router.include_router(ledger.router)
api_router.include_router(reports.router)
api_router.include_router(intake.router)
api_router.include_router(cases.router)
api_router.include_router(notices.router)
api_router.include_router(audit.router)
api_router.include_router(guard.router)
api_router.include_router(campaigns.router)

__all__ = ["api_router"]
