"""Scenes: the engine's strictness profiles."""

from __future__ import annotations

from pydantic import BaseModel


class ScenePublic(BaseModel):
    name: str
    description: str
    threshold_scale: float
    categories: list[str]


class SceneListPublic(BaseModel):
    scenes: list[ScenePublic]
