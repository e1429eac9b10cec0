"""Intake of tips, platform self-reports, patrol findings and hand-offs; evidence."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["intake"])
