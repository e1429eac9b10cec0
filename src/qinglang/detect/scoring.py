"""Scoring: hits → category scores → verdict, for one scene."""

from __future__ import annotations

from collections.abc import Sequence

from qinglang.detect.context import MENTION
from qinglang.detect.patterns import PatternMatch
from qinglang.detect.scenes import Scene
from qinglang.detect.verdict import Action, CategoryScore, Hit, Source, Verdict
from qinglang.taxonomy import get_taxonomy

# Categories whose evidence is multiplied by contact details or links next to it (引流).
DIVERSION_CATEGORIES = frozenset({"gambling", "fraud", "porn_vulgar", "minor_tipping"})
DIVERSION_DETECTORS = frozenset(
    {"url", "wechat_id", "qq_id", "contact_solicitation", "mobile_phone"}
)
DIVERSION_WEIGHT = 0.35


def decide(
    hits_in: Sequence[Hit],
    patterns: Sequence[tuple[PatternMatch, str]],
    scene: Scene,
    capped: bool = False,
) -> Verdict:
    """The verdict in `scene` for the evidence of one text.

    The score of a category is 1 − Π(1 − w) over the strongest hit of each distinct term.
    """
    if not hits_in:
        return Verdict(verdict=Action.PASS, scene=scene.name, truncated=capped)
    categories = get_taxonomy().categories
    hits = [h for h in hits_in if categories[h.category].applies_to(scene.name)]
    # Strongest evidence per (category, term): repeating a word does not add up.
    # Distinct pattern items (two different phone numbers) do count separately.
    strongest: dict[tuple[str, str, str], float] = {}
    for h in hits:
        key = (h.category, h.term, h.match.lower() if h.source is Source.PATTERN else "")
        w = h.weight if MENTION in h.notes else min(1.0, h.weight * scene.weight(h.category))
        strongest[key] = max(strongest.get(key, 0.0), w)
    remaining: dict[str, float] = {}
    for (cat, _, _), w in strongest.items():
        remaining[cat] = remaining.get(cat, 1.0) * (1.0 - w)
    # Contact details or links next to gambling/fraud/porn words are traffic diversion.
    diversion = [(p, m) for p, m in patterns if p.detector in DIVERSION_DETECTORS]
    extra: list[Hit] = []
    if diversion:
        lexical: dict[str, float] = {}
        for h in hits:
            if h.source is Source.LEXICON and h.category in DIVERSION_CATEGORIES:
                lexical[h.category] = max(lexical.get(h.category, 0.0), h.weight)
        for cat, w in lexical.items():
            if w < 0.2:
                continue
            remaining[cat] *= 1.0 - DIVERSION_WEIGHT
            extra += [
                Hit(
                    cat,
                    p.start,
                    p.end,
                    m,
                    p.detector,
                    Source.PATTERN,
                    DIVERSION_WEIGHT,
                    ("diversion",),
                )
                for p, m in diversion
                if p.category != cat
            ]
    scores = sorted(
        (CategoryScore(cat, round(1.0 - rem, 4)) for cat, rem in remaining.items()),
        key=lambda c: (-c.score, c.code),
    )
    action = Action.PASS
    for cs in scores:
        review, block = scene.limits(cs.code)
        if cs.score >= block:
            action = Action.BLOCK
            break
        if cs.score >= review:
            action = Action.REVIEW
    all_hits = sorted([*hits, *extra], key=lambda h: (h.start, h.end, h.category))
    return Verdict(
        verdict=action,
        categories=tuple(cs for cs in scores if cs.score > 0),
        hits=tuple(all_hits),
        scene=scene.name,
        truncated=capped,
    )
