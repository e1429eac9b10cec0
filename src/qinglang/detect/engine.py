"""The Detector: normalise → match (lexicon, patterns) → context → score → Verdict.

Compiled rules are immutable and swapped atomically on reload, so one Detector may serve many
threads. A Detector pickles as its configuration and recompiles in the receiving process.
"""

from __future__ import annotations

import bisect
import os
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from qinglang.detect.context import (
    MENTION,
    PATTERN_DISCOUNT,
    TERM_DISCOUNT,
    TOPIC_DISCOUNT,
)
from qinglang.detect.lexicon import Lexicon, build_lexicon
from qinglang.detect.model.artifact import AbuseModel
from qinglang.detect.model.resolve import resolve_model
from qinglang.detect.model.scope import in_scope
from qinglang.detect.normalize import Normalized, normalize_text, pinyin_view
from qinglang.detect.patterns import PatternMatch
from qinglang.detect.rules import (
    ALLOW,
    FORM_FACTOR,
    Form,
    Rules,
    compile_rules,
    run_detectors,
)
from qinglang.detect.scenes import SCENES, Scene, UnknownSceneError, load_scenes
from qinglang.detect.scoring import MODEL_CATEGORY, MODEL_EXPLAIN_FROM, ModelEvidence, decide
from qinglang.detect.spans import ascii_edge_ok, clean_match, containment
from qinglang.detect.verdict import Action, Hit, Source, Verdict

# Texts longer than this are scanned in overlapping windows, which keeps the offset map and
# every intermediate list bounded whatever the input size.
CHUNK_CHARS = 16_384
CHUNK_OVERLAP = 256
# At most this many hits are reported per text (the scan itself always covers all the text).
MAX_HITS = 1_000
# At most this many matches of one surface form are kept per chunk.
MAX_REPEATS = 8
# Sentence ends in the original text (full-width forms included).
_SENTENCE_END = re.compile(r"[。！？!?；;\n！？]")
LEXICON_PATHS_ENV = "QINGLANG_LEXICON_PATHS"


def lexicon_paths_from_env() -> tuple[str, ...]:
    """The user lexicons named by $QINGLANG_LEXICON_PATHS (os.pathsep-separated)."""
    raw = os.environ.get(LEXICON_PATHS_ENV, "")
    return tuple(p.strip() for p in raw.split(os.pathsep) if p.strip())


@dataclass(slots=True)
class _Scan:
    hits: list[Hit]
    # Pattern matches in original offsets, with the original text they cover.
    patterns: list[tuple[PatternMatch, str]]
    capped: bool = False
    # A context cue (report, regulation, education, news) outside any term: the text names
    # harms rather than commits them, which discounts the model's evidence too.
    mention: bool = False


# The shared result of a scan that found nothing (read-only by convention).
_NOTHING = _Scan([], [])


class Detector:
    """Says whether a Chinese text is harmful to minors, in which categories, and why.

    >>> d = Detector.default()
    >>> d.check("你就是个傻逼").verdict
    <Action.BLOCK: 'block'>
    """

    _default: Detector | None = None
    _default_lock = threading.Lock()

    def __init__(
        self,
        lexicon_paths: Sequence[str | Path] = (),
        matcher: str | None = None,
        model: AbuseModel | str | None = "default",
    ) -> None:
        self.lexicon_paths: tuple[str, ...] = tuple(str(p) for p in lexicon_paths)
        # Literal-matching backend: "auto", "hyperscan" or "ahocorasick" (see matcher.py);
        # None reads $QINGLANG_MATCHER.
        self.matcher = matcher
        # The learned abuse model: "default" (the shipped artifact, or $QINGLANG_MODEL_PATH;
        # "none" there turns it off), a path, an AbuseModel, or None for the rule path alone.
        self._model_spec = model
        self.model: AbuseModel | None = resolve_model(model)
        self._scenes: dict[str, Scene] = load_scenes()
        self._pass = {name: Verdict(verdict=Action.PASS, scene=name) for name in self._scenes}
        self._reload_lock = threading.Lock()
        self._rules = compile_rules(build_lexicon(self.lexicon_paths), matcher)

    # -- construction -------------------------------------------------------------------

    @classmethod
    def default(cls) -> Detector:
        """The process-wide detector: built-in lexicons plus $QINGLANG_LEXICON_PATHS."""
        if cls._default is None:
            with cls._default_lock:
                if cls._default is None:
                    cls._default = cls(lexicon_paths=lexicon_paths_from_env())
        return cls._default

    def reload(self) -> None:
        """Re-read all lexicon files and swap the compiled rules in one assignment.

        Raises LexiconError (and keeps the current rules) when a file is malformed.
        """
        with self._reload_lock:
            self._rules = compile_rules(build_lexicon(self.lexicon_paths), self.matcher)

    def __reduce__(self) -> tuple[type[Detector], tuple[object, ...]]:
        return (Detector, (self.lexicon_paths, self.matcher, self._model_spec))

    # -- introspection ------------------------------------------------------------------

    @property
    def scenes(self) -> tuple[str, ...]:
        return tuple(self._scenes)

    def scene(self, name: str) -> Scene:
        if not isinstance(name, str) or name not in self._scenes:
            raise UnknownSceneError(name, self.scenes)
        return self._scenes[name]

    @property
    def lexicon(self) -> Lexicon:
        return self._rules.lexicon

    def stats(self) -> dict[str, int | str]:
        rules = self._rules
        return {
            "terms": len(rules.lexicon.terms),
            "allow_phrases": len(rules.lexicon.allow),
            "forms": rules.form_count,
            "pattern_detectors": len(rules.detectors),
            "matcher": rules.main.backend if rules.main is not None else "none",
            "model": str(self.model.metadata.get("name", "abuse")) if self.model else "none",
        }

    # -- checking -----------------------------------------------------------------------

    def check(self, text: str, scene: str = "general") -> Verdict:
        """Verdict for one text. Never raises on content; raises UnknownSceneError/TypeError."""
        sc = self.scene(scene)
        if not isinstance(text, str):
            raise TypeError(f"text must be str, not {type(text).__name__}")
        model = self.model
        probability = None if model is None else float(model.predict_proba([text])[0])
        return self._verdict(text, sc, probability)

    def check_many(self, texts: Iterable[str], scene: str = "general") -> list[Verdict]:
        """Verdicts for many texts, in order (the model scores them in one batch)."""
        sc = self.scene(scene)
        items = list(texts)
        for t in items:
            if not isinstance(t, str):
                raise TypeError(f"text must be str, not {type(t).__name__}")
        model = self.model
        if model is None or not items:
            return [self._verdict(t, sc, None) for t in items]
        probs, terms = model.predict_and_explain(items, k=3, explain_from=MODEL_EXPLAIN_FROM)
        probabilities = probs.tolist()
        return [
            self._verdict(t, sc, p, terms[i])
            for i, (t, p) in enumerate(zip(items, probabilities, strict=True))
        ]

    def _verdict(
        self,
        text: str,
        scene: Scene,
        probability: float | None,
        terms: list[tuple[str, float]] | None = None,
    ) -> Verdict:
        rules = self._rules
        # A short text is normalised once for the scan, the model's scope and its
        # explanations; a long one is scanned in windows.
        norm = Normalized(text) if len(text) <= CHUNK_CHARS else None
        if norm is not None:
            scan = self._scan(rules, text, 0, norm)
        else:
            scan = self._scan_long(rules, text)
        if probability is None:
            return self._decide(scan, scene)
        view = norm.text if norm is not None else normalize_text(text[:CHUNK_CHARS])
        evidence = ModelEvidence(
            probability,
            scan.mention,
            lambda: self._explain(text, terms, norm),
            in_scope=in_scope(view),
        )
        return decide(scan.hits, scan.patterns, scene, scan.capped, evidence)

    def _explain(
        self, text: str, terms: list[tuple[str, float]] | None, norm: Normalized | None
    ) -> list[Hit]:
        """Hits at the n-grams that pushed the model's score up most (source `model`)."""
        assert self.model is not None
        if terms is None:
            terms = self.model.top_terms(text, k=3)
        if norm is None:
            norm = Normalized(text)
        hits: list[Hit] = []
        taken: list[tuple[int, int]] = []
        for ngram, contribution in sorted(terms, key=lambda t: (-len(t[0]), -t[1])):
            at = norm.text.find(ngram)
            if at < 0:
                continue
            start, end = norm.span(at, at + len(ngram))
            if any(a <= start and end <= b for a, b in taken):
                continue  # "骗" adds nothing beside "骗子"
            taken.append((start, end))
            hits.append(
                Hit(
                    category=MODEL_CATEGORY,
                    start=start,
                    end=end,
                    match=clean_match(text[start:end]),
                    term=ngram,
                    source=Source.MODEL,
                    weight=0.0,
                    notes=(f"model:+{contribution:.2f}",),
                )
            )
        return hits

    # -- internals ----------------------------------------------------------------------

    def _scan_long(self, rules: Rules, text: str) -> _Scan:
        seen: set[tuple[str, str, int, int, Source]] = set()
        out = _Scan([], [])
        step = CHUNK_CHARS - CHUNK_OVERLAP
        for offset in range(0, len(text), step):
            part = self._scan(rules, text[offset : offset + CHUNK_CHARS], offset)
            for h in part.hits:
                key = (h.category, h.term, h.start, h.end, h.source)
                if key not in seen:
                    seen.add(key)
                    if len(out.hits) < MAX_HITS:
                        out.hits.append(h)
                    else:
                        out.capped = True
            for p, match in part.patterns:
                if len(out.patterns) < MAX_HITS and all(
                    (q.start, q.detector) != (p.start, p.detector) for q, _ in out.patterns[-8:]
                ):
                    out.patterns.append((p, match))
            out.capped |= part.capped
            out.mention |= part.mention
            if offset + CHUNK_CHARS >= len(text):
                break
        return out

    def _scan(self, rules: Rules, text: str, offset: int, norm: Normalized | None = None) -> _Scan:
        if norm is None:
            norm = Normalized(text)
        view = norm.text
        found = rules.main.matches(view) if rules.main is not None else ()
        homophones = (
            rules.homophones.matches(pinyin_view(view))
            if rules.homophones is not None
            and rules.homophone_gate is not None
            and rules.homophone_gate.search(view) is not None
            else ()
        )
        patterns = run_detectors(rules, text, view)
        if not found and not homophones and not patterns:
            return _NOTHING  # the common case: no further work

        raw: list[tuple[int, int, Form]] = []
        allow: list[tuple[int, int]] = []
        cues: list[tuple[int, int]] = []
        # Repeats of one form add nothing to the score: keep a few per chunk, so that hostile
        # repetition costs one pass of the matcher and no more.
        seen: dict[int, int] = {}
        capped = False
        for a, b, items in chain(found, homophones):
            for item in items:
                if isinstance(item, Form):
                    n = seen.get(id(item), 0)
                    if n < MAX_REPEATS:
                        seen[id(item)] = n + 1
                        raw.append((a, b, item))
                    else:
                        capped = True
                elif item is ALLOW:
                    if len(allow) < MAX_HITS:
                        allow.append((a, b))
                elif len(cues) < MAX_HITS:
                    cues.append((a, b))
        if not raw and not patterns:
            return _Scan([], [], capped, mention=bool(cues))

        # Drop matches inside allow-listed phrases and ASCII matches inside longer words.
        inside_allowed = containment(allow)
        kept: list[tuple[int, int, Form]] = []
        for a, b, f in raw:
            if inside_allowed(a, b):
                continue
            if (f.ascii_start or f.ascii_end) and not ascii_edge_ok(norm, a, b, f):
                continue
            kept.append((a, b, f))
        # One hit per term and place: the plain form wins over disguises of the same span.
        kept.sort(key=lambda t: (t[0], -(t[1] - t[0]), FORM_FACTOR[t[2].kind] * -1))
        best: dict[tuple[str, str, int], tuple[int, int, Form]] = {}
        for a, b, f in kept:
            key = (f.term.category, f.term.text, a)
            if key not in best:
                best[key] = (a, b, f)

        # Within a category the longest match speaks: "色情" inside "软色情" adds nothing.
        by_category: dict[str, list[tuple[int, int]]] = {}
        for a, b, f in best.values():
            by_category.setdefault(f.term.category, []).append((a, b))
        covered = {cat: containment(spans, strict=True) for cat, spans in by_category.items()}
        best = {
            key: (a, b, f)
            for key, (a, b, f) in best.items()
            if len(by_category[f.term.category]) == 1 or not covered[f.term.category](a, b)
        }

        # Context: sentences (in original offsets) that carry a cue not inside a term match.
        inside_term = containment([(a, b) for a, b, _ in best.values()], strict=True)
        cue_sentences: set[int] = set()
        ends: list[int] = []
        if cues:
            ends = [m.start() for m in _SENTENCE_END.finditer(text)]
            for a, b in cues:
                if inside_term(a, b):  # "不要" inside the insult "不要脸" is no cue
                    continue
                start, _ = norm.span(a, b)
                cue_sentences.add(bisect.bisect_right(ends, start))

        hits: list[Hit] = []
        for a, b, f in sorted(best.values(), key=lambda t: (t[0], t[1])):
            start, end = norm.span(a, b)
            weight = f.term.weight * FORM_FACTOR[f.kind]
            notes: list[str] = []
            if f.kind != "literal":
                notes.append(f"form:{f.kind}")
            match = text[start:end]
            if f.kind == "literal" and normalize_text(match) != match:
                notes.append("disguise:normalised")
            in_context = cue_sentences and bisect.bisect_right(ends, start) in cue_sentences
            if in_context and not f.term.always:
                weight *= TOPIC_DISCOUNT if f.term.topic else TERM_DISCOUNT
                notes.append(MENTION)
            if len(hits) >= MAX_HITS:
                capped = True
                break
            hits.append(
                Hit(
                    category=f.term.category,
                    start=start + offset,
                    end=end + offset,
                    match=clean_match(match),
                    term=f.term.text,
                    source=Source.LEXICON,
                    weight=weight,
                    notes=tuple(notes),
                )
            )
        for p in patterns:
            weight = p.weight
            notes = [f"pattern:{p.detector}"]
            if cue_sentences and bisect.bisect_right(ends, p.start) in cue_sentences:
                weight *= PATTERN_DISCOUNT
                notes.append(MENTION)
            if p.category and len(hits) < MAX_HITS:
                hits.append(
                    Hit(
                        category=p.category,
                        start=p.start + offset,
                        end=p.end + offset,
                        match=clean_match(text[p.start : p.end]),
                        term=p.detector,
                        source=Source.PATTERN,
                        weight=weight,
                        notes=tuple(notes),
                    )
                )
        shifted = [
            (
                PatternMatch(
                    p.detector, p.start + offset, p.end + offset, p.value, p.category, p.weight
                ),
                clean_match(text[p.start : p.end]),
            )
            for p in patterns
        ]
        return _Scan(hits, shifted, capped, mention=bool(cue_sentences))

    def _decide(self, scan: _Scan, scene: Scene) -> Verdict:
        if not scan.hits and not scan.capped:  # verdicts are immutable: share one per scene
            return self._pass[scene.name]
        return decide(scan.hits, scan.patterns, scene, scan.capped)


__all__ = ["SCENES", "Detector", "UnknownSceneError"]
