"""Measuring the engine against disguises: recall on harmful text, false positives on benign.

Pure functions over a Detector and in-memory rows, shared by the tests and `make bench`.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qinglang.detect.disguise import disguise_text, disguises, restyle_benign
from qinglang.detect.engine import Detector
from qinglang.taxonomy import get_taxonomy


@dataclass(frozen=True, slots=True)
class HarmfulRow:
    category: str
    text: str
    term: str


def read_jsonl(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_harmful(path: Path) -> list[HarmfulRow]:
    """Rows {"category", "text", "term"} of a harmful corpus (tests/data/harmful.jsonl)."""
    return [HarmfulRow(r["category"], r["text"], r["term"]) for r in read_jsonl(path)]


@dataclass
class Tally:
    total: int = 0
    hits: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.hits / self.total if self.total else 0.0


def _detected(det: Detector, text: str, span: tuple[int, int], category: str, scene: str) -> bool:
    v = det.check(text, scene)
    if v.verdict == "pass":
        return False
    a, b = span
    return any(h.category == category and h.start < b and a < h.end for h in v.hits)


def scene_for(category: str, preferred: str = "general") -> str:
    """`preferred` when the category is checked there, else the first scene that checks it."""
    cat = get_taxonomy().category(category)
    return preferred if cat.applies_to(preferred) else cat.scenes[0]


def disguise_recall(
    det: Detector,
    rows: Sequence[HarmfulRow],
    seed: int = 20201,
    scene: str = "general",
    by: str = "disguise",
) -> dict[str, Tally]:
    """Per disguise (and "plain"): share of harmful rows still caught with the term disguised.

    A row counts for a disguise only when the disguise applies to its term and the term opted
    in to the matching it needs (homophones, pinyin, initials are opt-in per term). Rows of
    categories that `scene` does not check (game ads outside learning and children's scenes)
    are checked in a scene that does. `by="category"` tallies per harm category instead (all
    disguises of the category's rows together).
    """
    lexicon = det.lexicon.terms
    out: dict[str, Tally] = {} if by == "category" else {"plain": Tally()}
    wanted = scene
    for row in rows:
        scene = scene_for(row.category, wanted)
        a = row.text.find(row.term)
        if a < 0:
            continue
        span = (a, a + len(row.term))
        plain = out.setdefault(row.category, Tally()) if by == "category" else out["plain"]
        plain.total += 1
        if _detected(det, row.text, span, row.category, scene):
            plain.hits += 1
        else:
            plain.misses.append(row.text)
        term = lexicon.get((row.category, row.term))
        flags = term.flags if term else frozenset()
        for name, disguise in disguises().items():
            if not disguise.applies_to(flags):
                continue
            rng = random.Random(f"{seed}:{name}:{row.text}")
            made = disguise_text(row.text, span, disguise, rng)
            if made is None:
                continue
            text, new_span = made
            tally = out.setdefault(row.category if by == "category" else name, Tally())
            tally.total += 1
            if _detected(det, text, new_span, row.category, scene):
                tally.hits += 1
            else:
                tally.misses.append(text)
    return out


def false_positives(
    det: Detector, texts: Iterable[str], seed: int = 20201, scene: str = "general"
) -> dict[str, Tally]:
    """Per style (and "plain"): share of benign texts that are not passed.

    Each disguise is applied to a random run of characters of each benign text, so that the
    normaliser is tested on benign text of the same style as the disguised harmful text.
    `hits` counts false positives here.
    """
    out: dict[str, Tally] = {"plain": Tally()}
    for text in texts:
        plain = out["plain"]
        plain.total += 1
        if det.check(text, scene).verdict != "pass":
            plain.hits += 1
            plain.misses.append(text)
        for name, disguise in disguises().items():
            restyled = restyle_benign(text, disguise, random.Random(f"{seed}:{name}:{text}"))
            if restyled is None:
                continue
            tally = out.setdefault(name, Tally())
            tally.total += 1
            if det.check(restyled, scene).verdict != "pass":
                tally.hits += 1
                tally.misses.append(restyled)
    return out
