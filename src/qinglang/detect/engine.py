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

from qinglang.detect.charmap import char_tables
from qinglang.detect.context import (
    MENTION,
    PATTERN_DISCOUNT,
    TERM_DISCOUNT,
    TOPIC_DISCOUNT,
    load_cues,
)
from qinglang.detect.lexicon import Lexicon, Term, build_lexicon
from qinglang.detect.matcher import LiteralMatcher, make_matcher
from qinglang.detect.normalize import Normalized, normalize_text, pattern_view, pinyin_view
from qinglang.detect.patterns import PatternDetector, PatternMatch, all_detectors
from qinglang.detect.pinyin import homophone_forms, is_pinyin_sequence, literal_forms
from qinglang.detect.scenes import SCENES, Scene, UnknownSceneError, load_scenes
from qinglang.detect.verdict import Action, CategoryScore, Hit, Source, Verdict
from qinglang.taxonomy import get_taxonomy

# Texts longer than this are scanned in overlapping windows, which keeps the offset map and
# every intermediate list bounded whatever the input size.
CHUNK_CHARS = 16_384
CHUNK_OVERLAP = 256
# At most this many hits are reported per text (the scan itself always covers all the text).
MAX_HITS = 1_000
# At most this many matches of one surface form are kept per chunk.
MAX_REPEATS = 8
# Weight multiplier per surface form: a disguise is as telling as the plain word, but pinyin
# and homophones are more often accidental.
FORM_FACTOR = {
    "literal": 1.0,
    "variant": 1.0,
    "pinyin": 0.95,
    "mixed": 0.95,
    "initials": 0.9,
    "homophone": 0.9,
}
# Categories whose evidence is multiplied by contact details or links next to it (引流).
DIVERSION_CATEGORIES = frozenset({"gambling", "fraud", "porn_vulgar", "minor_tipping"})
DIVERSION_DETECTORS = frozenset(
    {"url", "wechat_id", "qq_id", "contact_solicitation", "mobile_phone"}
)
DIVERSION_WEIGHT = 0.35
# Sentence ends in the original text (full-width forms included).
_SENTENCE_END = re.compile(r"[。！？!?；;\n！？]")
_ASCII_ALNUM = re.compile(r"[a-z0-9]")
_LEADING_LETTERS = re.compile(r"^[a-z]+")
_TRAILING_LETTERS = re.compile(r"[a-z]+$")

LEXICON_PATHS_ENV = "QINGLANG_LEXICON_PATHS"


@dataclass(frozen=True, slots=True)
class _Form:
    """One surface form of one term, as stored in an automaton."""

    term: Term
    kind: str
    ascii_start: bool
    ascii_end: bool
    # An ASCII edge that is whole pinyin syllables may touch more pinyin ("nishishabi");
    # initials and single letters need a word boundary ("sb" is not in "usb" or "lesbian").
    lenient_start: bool = False
    lenient_end: bool = False


_ALLOW = "allow"
_CUE = "cue"


@dataclass(frozen=True)
class _Rules:
    """Everything compiled from the lexicons; immutable."""

    lexicon: Lexicon
    main: LiteralMatcher | None
    homophones: LiteralMatcher | None
    # Necessary condition for a homophone match: some character of the main view whose pinyin
    # view starts a homophone key (half of all messages have none: no pinyin view for them).
    homophone_gate: re.Pattern[str] | None
    detectors: tuple[PatternDetector, ...]
    # The detectors that can match text without ASCII letters or digits.
    non_ascii_detectors: tuple[PatternDetector, ...]
    form_count: int


def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _compile(lexicon: Lexicon, backend: str | None = None) -> _Rules:
    main_entries: dict[str, list[object]] = {}
    homo_entries: dict[str, list[object]] = {}

    def add(table: dict[str, list[object]], key: str, item: object) -> None:
        if key:
            table.setdefault(key, []).append(item)

    def form(term: Term, kind: str, text: str) -> _Form:
        lead = _LEADING_LETTERS.match(text)
        trail = _TRAILING_LETTERS.search(text)
        return _Form(
            term,
            kind,
            _is_ascii_alnum(text[0]),
            _is_ascii_alnum(text[-1]),
            lenient_start=bool(lead) and len(lead.group()) > 1 and is_pinyin_sequence(lead.group()),
            lenient_end=bool(trail)
            and len(trail.group()) > 1
            and is_pinyin_sequence(trail.group()),
        )

    for term in lexicon.terms.values():
        base = normalize_text(term.text)
        if not base:
            continue
        add(main_entries, base, form(term, "literal", base))
        for variant in term.variants:
            v = normalize_text(variant)
            if v and v != base:
                add(main_entries, v, form(term, "variant", v))
        pinyin, initials = "pinyin" in term.flags, "initials" in term.flags
        if pinyin or initials:
            for text, kind in literal_forms(base, pinyin, initials):
                t = normalize_text(text)
                if t and t != base:
                    add(main_entries, t, form(term, kind, t))
        if "homophone" in term.flags:
            for text in homophone_forms(base, pinyin, initials):
                add(homo_entries, text, form(term, "homophone", text))
    for phrase in lexicon.allow:
        add(main_entries, normalize_text(phrase), _ALLOW)
    for group, phrases in load_cues().items():
        for phrase in phrases:
            add(main_entries, normalize_text(phrase), (_CUE, group))

    def automaton(entries: dict[str, list[object]]) -> LiteralMatcher | None:
        return make_matcher({key: tuple(items) for key, items in entries.items()}, backend)

    detectors = tuple(all_detectors())
    firsts = {key[0] for key in homo_entries}
    gate_chars = {c for c in firsts if not 0xE000 <= ord(c) < 0xF900}
    pinyin_dense = char_tables().pinyin_dense
    gate_chars.update(chr(cp) for cp, p in enumerate(pinyin_dense) if p in firsts)
    return _Rules(
        lexicon=lexicon,
        main=automaton(main_entries),
        homophones=automaton(homo_entries),
        homophone_gate=(
            re.compile("[" + "".join(re.escape(c) for c in sorted(gate_chars)) + "]")
            if gate_chars
            else None
        ),
        detectors=detectors,
        non_ascii_detectors=tuple(d for d in detectors if not d.needs_ascii_alnum),
        form_count=sum(len(v) for v in main_entries.values())
        + sum(len(v) for v in homo_entries.values()),
    )


def run_detectors(rules: _Rules, text: str, view: str) -> list[PatternMatch]:
    """Pattern matches in `text`, given its main view `view`."""
    # Most detectors need ASCII letters or digits. The main view has every styled or
    # full-width digit and letter in ASCII already: when it has none, the pattern view is the
    # text itself and only the other detectors can match.
    if _ASCII_ALNUM.search(view) is None:
        pview, detectors = text, rules.non_ascii_detectors
    else:
        pview, detectors = pattern_view(text), rules.detectors
    patterns: list[PatternMatch] = []
    for det in detectors:
        if det.gate is None or det.gate.search(pview) is not None:
            patterns.extend(det.find(pview))
    return patterns


def _clean(s: str) -> str:
    """Replace lone surrogates so that a match can always be encoded as UTF-8."""
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return s.encode("utf-8", "replace").decode("utf-8")
    return s


def _ascii_edge_ok(norm: Normalized, a: int, b: int, f: _Form) -> bool:
    """A form that begins or ends with an ASCII letter must not be part of a longer word.

    "sb" is not in "usb"; "shabi" is in "nishishabi" (the rest is pinyin too) but initials are
    only accepted as a whole token. Removed noise (spaces, dots) counts as a word boundary.
    """
    text = norm.text
    if f.ascii_start and a > 0 and _is_ascii_alnum(text[a - 1]) and not norm.gap_before(a):
        if not f.lenient_start:
            return False
        before = _TRAILING_LETTERS.search(text, max(0, a - 64), a)
        run_start = before.start() if before else a
        # Stop at a removed-noise boundary inside the run.
        for i in range(a - 1, run_start, -1):
            if norm.gap_before(i):
                run_start = i
                break
        if not is_pinyin_sequence(text[run_start:a]):
            return False
    if f.ascii_end and b < len(text) and _is_ascii_alnum(text[b]) and not norm.gap_before(b):
        if not f.lenient_end:
            return False
        after = _LEADING_LETTERS.match(text[b : b + 64])
        run_end = b + (after.end() if after else 0)
        for i in range(b + 1, run_end):
            if norm.gap_before(i):
                run_end = i
                break
        if not is_pinyin_sequence(text[b:run_end]):
            return False
    return True


def _containment(spans: list[tuple[int, int]], strict: bool = False):
    """A test `inside(a, b)`: is [a, b) within one of `spans` (strictly larger if `strict`)?

    Sorted starts with a running maximum of ends make each test O(log n), so a text full of
    allow-listed phrases stays linear.
    """
    spans = sorted(spans)
    starts = [x for x, _ in spans]
    reach: list[int] = []
    best = -1
    for _, y in spans:
        best = max(best, y)
        reach.append(best)

    def inside(a: int, b: int) -> bool:
        i = bisect.bisect_right(starts, a)
        if i == 0 or reach[i - 1] < b:
            return False
        if not strict:
            return True
        return any(y >= b and (x, y) != (a, b) for x, y in spans[:i][-64:])

    return inside


@dataclass(slots=True)
class _Scan:
    hits: list[Hit]
    # Pattern matches in original offsets, with the original text they cover.
    patterns: list[tuple[PatternMatch, str]]
    capped: bool = False


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
        self, lexicon_paths: Sequence[str | Path] = (), matcher: str | None = None
    ) -> None:
        self.lexicon_paths: tuple[str, ...] = tuple(str(p) for p in lexicon_paths)
        # Literal-matching backend: "auto", "hyperscan" or "ahocorasick" (see matcher.py);
        # None reads $QINGLANG_MATCHER.
        self.matcher = matcher
        self._scenes: dict[str, Scene] = load_scenes()
        self._pass = {name: Verdict(verdict=Action.PASS, scene=name) for name in self._scenes}
        self._reload_lock = threading.Lock()
        self._rules = _compile(build_lexicon(self.lexicon_paths), matcher)

    # -- construction -------------------------------------------------------------------

    @classmethod
    def default(cls) -> Detector:
        """The process-wide detector: built-in lexicons plus $QINGLANG_LEXICON_PATHS."""
        if cls._default is None:
            with cls._default_lock:
                if cls._default is None:
                    raw = os.environ.get(LEXICON_PATHS_ENV, "")
                    paths = [p for p in raw.split(os.pathsep) if p.strip()]
                    cls._default = cls(lexicon_paths=paths)
        return cls._default

    def reload(self) -> None:
        """Re-read all lexicon files and swap the compiled rules in one assignment.

        Raises LexiconError (and keeps the current rules) when a file is malformed.
        """
        with self._reload_lock:
            self._rules = _compile(build_lexicon(self.lexicon_paths), self.matcher)

    def __reduce__(self) -> tuple[type[Detector], tuple[tuple[str, ...], str | None]]:
        return (Detector, (self.lexicon_paths, self.matcher))

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
        }

    # -- checking -----------------------------------------------------------------------

    def check(self, text: str, scene: str = "general") -> Verdict:
        """Verdict for one text. Never raises on content; raises UnknownSceneError/TypeError."""
        sc = self.scene(scene)
        if not isinstance(text, str):
            raise TypeError(f"text must be str, not {type(text).__name__}")
        rules = self._rules
        if len(text) <= CHUNK_CHARS:
            scan = self._scan(rules, text, 0)
        else:
            scan = self._scan_long(rules, text)
        return self._decide(scan, sc)

    def check_many(self, texts: Iterable[str], scene: str = "general") -> list[Verdict]:
        """Verdicts for many texts, in order."""
        self.scene(scene)
        return [self.check(t, scene) for t in texts]

    # -- internals ----------------------------------------------------------------------

    def _scan_long(self, rules: _Rules, text: str) -> _Scan:
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
            if offset + CHUNK_CHARS >= len(text):
                break
        return out

    def _scan(self, rules: _Rules, text: str, offset: int) -> _Scan:
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

        raw: list[tuple[int, int, _Form]] = []
        allow: list[tuple[int, int]] = []
        cues: list[tuple[int, int]] = []
        # Repeats of one form add nothing to the score: keep a few per chunk, so that hostile
        # repetition costs one pass of the matcher and no more.
        seen: dict[int, int] = {}
        capped = False
        for a, b, items in chain(found, homophones):
            for item in items:
                if isinstance(item, _Form):
                    n = seen.get(id(item), 0)
                    if n < MAX_REPEATS:
                        seen[id(item)] = n + 1
                        raw.append((a, b, item))
                    else:
                        capped = True
                elif item is _ALLOW:
                    if len(allow) < MAX_HITS:
                        allow.append((a, b))
                elif len(cues) < MAX_HITS:
                    cues.append((a, b))
        if not raw and not patterns:
            return _Scan([], [], capped)

        # Drop matches inside allow-listed phrases and ASCII matches inside longer words.
        inside_allowed = _containment(allow)
        kept: list[tuple[int, int, _Form]] = []
        for a, b, f in raw:
            if inside_allowed(a, b):
                continue
            if (f.ascii_start or f.ascii_end) and not _ascii_edge_ok(norm, a, b, f):
                continue
            kept.append((a, b, f))
        # One hit per term and place: the plain form wins over disguises of the same span.
        kept.sort(key=lambda t: (t[0], -(t[1] - t[0]), FORM_FACTOR[t[2].kind] * -1))
        best: dict[tuple[str, str, int], tuple[int, int, _Form]] = {}
        for a, b, f in kept:
            key = (f.term.category, f.term.text, a)
            if key not in best:
                best[key] = (a, b, f)

        # Within a category the longest match speaks: "色情" inside "软色情" adds nothing.
        by_category: dict[str, list[tuple[int, int]]] = {}
        for a, b, f in best.values():
            by_category.setdefault(f.term.category, []).append((a, b))
        covered = {cat: _containment(spans, strict=True) for cat, spans in by_category.items()}
        best = {
            key: (a, b, f)
            for key, (a, b, f) in best.items()
            if len(by_category[f.term.category]) == 1 or not covered[f.term.category](a, b)
        }

        # Context: sentences (in original offsets) that carry a cue not inside a term match.
        inside_term = _containment([(a, b) for a, b, _ in best.values()], strict=True)
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
                    match=_clean(match),
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
                        match=_clean(text[p.start : p.end]),
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
                _clean(text[p.start : p.end]),
            )
            for p in patterns
        ]
        return _Scan(hits, shifted, capped)

    def _decide(self, scan: _Scan, scene: Scene) -> Verdict:
        if not scan.hits:
            if not scan.capped:  # verdicts are immutable: share one per scene
                return self._pass[scene.name]
            return Verdict(verdict=Action.PASS, scene=scene.name, truncated=True)
        categories = get_taxonomy().categories
        hits = [h for h in scan.hits if categories[h.category].applies_to(scene.name)]
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
        diversion = [(p, m) for p, m in scan.patterns if p.detector in DIVERSION_DETECTORS]
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
            truncated=scan.capped,
        )


__all__ = ["SCENES", "Detector", "UnknownSceneError"]
