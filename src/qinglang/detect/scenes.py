"""Scenes: named strictness profiles, loaded from data/scenes.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache

from qinglang.package_data import read_data
from qinglang.taxonomy import get_taxonomy


class UnknownSceneError(ValueError):
    """The caller named a scene that does not exist."""

    def __init__(self, scene: object, known: tuple[str, ...]) -> None:
        self.scene = scene
        self.known = known
        super().__init__(f"unknown scene {scene!r}; known scenes: {', '.join(known)}")


@dataclass(frozen=True)
class Scene:
    name: str
    description: str
    threshold_scale: float = 1.0
    weights: dict[str, float] = field(default_factory=dict)
    thresholds: dict[str, tuple[float, float]] = field(default_factory=dict)

    def weight(self, category: str) -> float:
        return self.weights.get(category, 1.0)

    def limits(self, category: str) -> tuple[float, float]:
        """(review, block) thresholds of a category in this scene."""
        if category in self.thresholds:
            return self.thresholds[category]
        cat = get_taxonomy().categories[category]
        return (
            min(1.0, cat.review * self.threshold_scale),
            min(1.0, cat.block * self.threshold_scale),
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "description": self.description,
            "threshold_scale": self.threshold_scale,
            "categories": [
                c.code
                for c in get_taxonomy().categories.values()
                if c.text_detectable and c.applies_to(self.name)
            ],
        }


@cache
def load_scenes() -> dict[str, Scene]:
    data = tomllib.loads(read_data("qinglang.detect", "scenes.toml"))
    categories = get_taxonomy().categories
    scenes: dict[str, Scene] = {}
    for name, row in data["scene"].items():
        weights = {k: float(v) for k, v in row.get("weights", {}).items()}
        thresholds = {
            k: (float(v["review"]), float(v["block"])) for k, v in row.get("thresholds", {}).items()
        }
        for code in (*weights, *thresholds):
            if code not in categories:
                raise ValueError(f"scenes.toml: scene {name}: unknown category {code!r}")
        scenes[name] = Scene(
            name=name,
            description=row["description"],
            threshold_scale=float(row.get("threshold_scale", 1.0)),
            weights=weights,
            thresholds=thresholds,
        )
    for cat in categories.values():
        for s in cat.scenes:
            if s not in scenes:
                raise ValueError(f"category {cat.code}: unknown scene {s!r}")
    return scenes


SCENES: tuple[str, ...] = ("general", "children", "learning", "live_chat")
