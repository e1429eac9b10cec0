"""The public reporting channel for minors' online environment (no login)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["reports"])
