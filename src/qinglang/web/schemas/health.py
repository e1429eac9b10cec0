"""Liveness and admin answers."""

from __future__ import annotations

from pydantic import BaseModel


class HealthPublic(BaseModel):
    status: str
    version: str


class ReloadPublic(BaseModel):
    status: str
    terms: int
    sources: list[str]
