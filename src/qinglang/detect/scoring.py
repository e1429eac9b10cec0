"""Scoring: hits → category scores → verdict, for one scene."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

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

# The category the learned model speaks for.
MODEL_CATEGORY = "abuse"
# The model's calibrated probability becomes evidence through a piecewise-linear map that
# puts P = MODEL_REVIEW_AT exactly on the abuse review threshold of the general scene (0.4) and
# P = MODEL_BLOCK_AT on its block threshold (0.75), in every scene (scaled thresholds included).
MODEL_REVIEW_AT = 0.5
MODEL_BLOCK_AT = 0.95
# How far a low probability lowers the rule evidence of the same category (anti-bias text
# names groups and slurs to argue against them: COLD's fine-grained label 3). Tuned on COLD dev.
MODEL_LOWERING = 0.5
# In a text with a context cue (news, regulation, a report), the model counts only from this
# probability: such text names insults and crimes without committing them.
MODEL_MENTION_MIN = 0.9
# Rule-path abuse score the model needs beside it to block (one mild insult term is enough).
MODEL_BLOCK_NEEDS_RULE = 0.2
# Evidence below this adds no explanation hits (the model is confident the text is clean).
MODEL_EXPLAIN_FROM = 0.3


@dataclass(frozen=True, slots=True)
class ModelEvidence:
    probability: float
    mention: bool  # the text carries a context cue: the model alone must not block it
    explain: Callable[[], list[Hit]]
    in_scope: bool = True  # the text names a social group: the model's domain (model/scope.py)


def model_weight(probability: float, review: float, block: float) -> float:
    """Evidence weight of a calibrated P(offensive), given the scene's abuse thresholds.

    Mapped per scene, so that an even chance asks for review in every scene: a stricter scene
    lowers the rule path's thresholds, but the model's errors do not shrink with them.
    """
    if probability <= MODEL_REVIEW_AT:
        return probability * review / MODEL_REVIEW_AT
    if probability >= MODEL_BLOCK_AT:
        return block + (probability - MODEL_BLOCK_AT) * (1.0 - block) / (1.0 - MODEL_BLOCK_AT)
    span = (probability - MODEL_REVIEW_AT) / (MODEL_BLOCK_AT - MODEL_REVIEW_AT)
    return review + span * (block - review)


def combine_model(rule: float, probability: float, review: float, block: float) -> float:
    """The abuse score from the rule path's score and the model's calibrated probability.

    Rule evidence is kept whole when the model agrees (p ≥ 0.5) and lowered by up to
    MODEL_LOWERING when the model is confident the text is clean; the model's own evidence is
    then added noisy-or style. The model read the whole text, cues included, so context does
    not discount it here; `decide` lets it speak in a text with a context cue only from
    MODEL_MENTION_MIN, and never to block.
    """
    lowered = rule * (1.0 - MODEL_LOWERING * max(0.0, 1.0 - 2.0 * probability))
    return 1.0 - (1.0 - lowered) * (1.0 - model_weight(probability, review, block))


def decide(
    hits_in: Sequence[Hit],
    patterns: Sequence[tuple[PatternMatch, str]],
    scene: Scene,
    capped: bool = False,
    model: ModelEvidence | None = None,
) -> Verdict:
    """The verdict in `scene` for the evidence of one text.

    The score of a category is 1 − Π(1 − w) over the strongest hit of each distinct term.
    """
    if not hits_in and model is None:
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
    if (
        model is not None
        and model.in_scope
        and (not model.mention or model.probability >= MODEL_MENTION_MIN)
        and get_taxonomy().category(MODEL_CATEGORY).applies_to(scene.name)
    ):
        rule = 1.0 - remaining.get(MODEL_CATEGORY, 1.0)
        review, block = scene.limits(MODEL_CATEGORY)
        combined = combine_model(rule, model.probability, review, block)
        # The model alone asks for review; blocking needs explainable evidence of the rule path
        # too (a slur, an insult pattern), and never happens for a text that names harms in a
        # reporting or regulatory frame. Text arguing against discrimination reads much like
        # discrimination to a character n-gram model (docs/model.md, failure modes).
        if model.mention or rule < MODEL_BLOCK_NEEDS_RULE:
            combined = min(combined, block * 0.999)
        if combined > 0:
            remaining[MODEL_CATEGORY] = 1.0 - combined
        if model.probability >= MODEL_EXPLAIN_FROM:
            extra += model.explain()
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
