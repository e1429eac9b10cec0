"""Cases: list and search, state transitions, dispositions and their approval, tasks."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["cases"])
