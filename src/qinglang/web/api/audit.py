"""The audit log: events per subject and verification (admin)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["audit"])
