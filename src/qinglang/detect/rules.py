"""Compiled rules: every surface form of every term, allow phrases and cues in matchers.

Built from a Lexicon by `compile_rules`; immutable, so a Detector swaps them in one
assignment on reload.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qinglang.detect.charmap import char_tables
from qinglang.detect.context import load_cues
from qinglang.detect.lexicon import Lexicon, Term
from qinglang.detect.matcher import LiteralMatcher, make_matcher
from qinglang.detect.normalize import normalize_text, pattern_view
from qinglang.detect.patterns import PatternDetector, PatternMatch, all_detectors
from qinglang.detect.pinyin import homophone_forms, is_pinyin_sequence, literal_forms

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
ASCII_ALNUM = re.compile(r"[a-z0-9]")
LEADING_LETTERS = re.compile(r"^[a-z]+")
TRAILING_LETTERS = re.compile(r"[a-z]+$")


@dataclass(frozen=True, slots=True)
class Form:
    """One surface form of one term, as stored in an automaton."""

    term: Term
    kind: str
    ascii_start: bool
    ascii_end: bool
    # An ASCII edge that is whole pinyin syllables may touch more pinyin ("nishishabi");
    # initials and single letters need a word boundary ("sb" is not in "usb" or "lesbian").
    lenient_start: bool = False
    lenient_end: bool = False


ALLOW = "allow"
CUE = "cue"


@dataclass(frozen=True)
class Rules:
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


def is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def compile_rules(lexicon: Lexicon, backend: str | None = None) -> Rules:
    main_entries: dict[str, list[object]] = {}
    homo_entries: dict[str, list[object]] = {}

    def add(table: dict[str, list[object]], key: str, item: object) -> None:
        if key:
            table.setdefault(key, []).append(item)

    def form(term: Term, kind: str, text: str) -> Form:
        lead = LEADING_LETTERS.match(text)
        trail = TRAILING_LETTERS.search(text)
        return Form(
            term,
            kind,
            is_ascii_alnum(text[0]),
            is_ascii_alnum(text[-1]),
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
        add(main_entries, normalize_text(phrase), ALLOW)
    for group, phrases in load_cues().items():
        for phrase in phrases:
            add(main_entries, normalize_text(phrase), (CUE, group))

    def automaton(entries: dict[str, list[object]]) -> LiteralMatcher | None:
        return make_matcher({key: tuple(items) for key, items in entries.items()}, backend)

    detectors = tuple(all_detectors())
    firsts = {key[0] for key in homo_entries}
    gate_chars = {c for c in firsts if not 0xE000 <= ord(c) < 0xF900}
    pinyin_dense = char_tables().pinyin_dense
    gate_chars.update(chr(cp) for cp, p in enumerate(pinyin_dense) if p in firsts)
    return Rules(
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


def run_detectors(rules: Rules, text: str, view: str) -> list[PatternMatch]:
    """Pattern matches in `text`, given its main view `view`."""
    # Most detectors need ASCII letters or digits. The main view has every styled or
    # full-width digit and letter in ASCII already: when it has none, the pattern view is the
    # text itself and only the other detectors can match.
    if ASCII_ALNUM.search(view) is None:
        pview, detectors = text, rules.non_ascii_detectors
    else:
        pview, detectors = pattern_view(text), rules.detectors
    patterns: list[PatternMatch] = []
    for det in detectors:
        if det.gate is None or det.gate.search(pview) is not None:
            patterns.extend(det.find(pview))
    return patterns
