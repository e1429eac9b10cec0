"""The engine's answer: a stable, JSON-ready verdict with explainable hits.

JSON shape (stable contract, see docs/detect.md):
    {"verdict": "pass"|"review"|"block",
     "categories": [{"code": str, "score": float}],            # sorted by score, descending
     "hits": [{"category", "start", "end", "match", "term", "source"}]}
`start`/`end` are code-point offsets into the ORIGINAL text; `match` is original[start:end].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    PASS = "pass"
    REVIEW = "review"
    BLOCK = "block"


class Source(StrEnum):
    LEXICON = "lexicon"
    PATTERN = "pattern"
    MODEL = "model"


@dataclass(frozen=True, slots=True)
class Hit:
    """One piece of evidence: a span of the original text and why it counts."""

    category: str
    start: int
    end: int
    match: str
    term: str
    source: Source
    # Weight the hit contributes to its category (after context discounts); not serialised
    # in the stable JSON unless `explain` is requested.
    weight: float = 0.0
    # Why the weight was changed, e.g. "context:report" or "disguise:pinyin".
    notes: tuple[str, ...] = ()

    def to_dict(self, explain: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "category": self.category,
            "start": self.start,
            "end": self.end,
            "match": self.match,
            "term": self.term,
            "source": str(self.source),
        }
        if explain:
            out["weight"] = round(self.weight, 4)
            out["notes"] = list(self.notes)
        return out


@dataclass(frozen=True, slots=True)
class CategoryScore:
    code: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "score": round(self.score, 4)}


@dataclass(frozen=True, slots=True)
class Verdict:
    verdict: Action
    categories: tuple[CategoryScore, ...] = ()
    hits: tuple[Hit, ...] = ()
    scene: str = "general"
    # Set when the input was cut to the configured limit or hits were capped.
    truncated: bool = False
    warnings: tuple[str, ...] = field(default=())

    @property
    def action(self) -> Action:
        return self.verdict

    def score(self, code: str) -> float:
        for cat in self.categories:
            if cat.code == code:
                return cat.score
        return 0.0

    def to_dict(self, explain: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "verdict": str(self.verdict),
            "categories": [c.to_dict() for c in self.categories],
            "hits": [h.to_dict(explain) for h in self.hits],
        }
        if explain:
            out["scene"] = self.scene
        if self.truncated:
            out["truncated"] = True
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out
