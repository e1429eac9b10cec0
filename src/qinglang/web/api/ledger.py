"""Ledger (台账) of supervised subjects: CRUD, history, CSV/XLSX import and export."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["ledger"])
