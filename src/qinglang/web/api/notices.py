"""Rectification notices to platform operators and their reports back."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["notices"])
