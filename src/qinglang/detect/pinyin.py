"""Pinyin forms of lexicon terms and pinyin segmentation of ASCII runs.

Terms that opt in are also matched when written as full pinyin ("shabi"), as pinyin initials
("sb"), mixed with characters ("傻b", "sha逼") or — through the pinyin view — with other
characters of the same toneless pronunciation (homophones, "煞笔").
"""

from __future__ import annotations

from functools import cache
from itertools import product

from pypinyin import Style, lazy_pinyin

from qinglang.detect.charmap import char_tables, is_cjk

# Above this many characters a term gets only its all-pinyin and all-initials forms: the mixed
# forms grow as 3^n.
MAX_MIXED_CHARS = 4


@cache
def syllable_set() -> frozenset[str]:
    return frozenset(char_tables().syllables.values())


def _max_syllable_len() -> int:
    return max(len(s) for s in syllable_set())


def is_pinyin_sequence(letters: str) -> bool:
    """True when `letters` (lower-case ASCII) splits into valid toneless pinyin syllables."""
    if not letters:
        return True
    syllables = syllable_set()
    longest = _max_syllable_len()
    n = len(letters)
    ok = [False] * (n + 1)
    ok[0] = True
    for i in range(n):
        if not ok[i]:
            continue
        for j in range(i + 1, min(n, i + longest) + 1):
            if letters[i:j] in syllables:
                ok[j] = True
    return ok[n]


def char_syllables(term: str) -> list[str]:
    """Per-character default readings (what the pinyin view of a text uses)."""
    table = char_tables()
    out = []
    for ch in term:
        pua = table.pinyin.get(ord(ch))
        out.append(table.syllables[pua] if pua else ch)
    return out


def phrase_syllables(term: str) -> list[str]:
    """Readings in context (polyphones resolved by pypinyin's phrase dictionary)."""
    readings = lazy_pinyin(term, style=Style.NORMAL, v_to_u=False, errors=lambda s: list(s))
    out = [r.replace("ü", "v").lower() for r in readings]
    return out if len(out) == len(term) else char_syllables(term)


def _is_syllable(piece: str, ch: str) -> bool:
    return is_cjk(ch) and piece.isascii() and piece.isalpha()


def literal_forms(term: str, pinyin: bool, initials: bool) -> set[tuple[str, str]]:
    """(form, kind) pairs matched in the main view: kinds `pinyin`, `initials`, `mixed`."""
    forms: set[tuple[str, str]] = set()
    if not any(is_cjk(c) for c in term):
        return forms
    for syls in {tuple(phrase_syllables(term)), tuple(char_syllables(term))}:
        options = []
        for ch, syl in zip(term, syls, strict=True):
            opts = [ch]
            if _is_syllable(syl, ch):
                if pinyin:
                    opts.append(syl)
                if initials:
                    opts.append(syl[0])
            options.append(opts)
        if pinyin:
            forms.add(("".join(o[1] if len(o) > 1 else o[0] for o in options), "pinyin"))
        if initials:
            forms.add(("".join(o[-1] if len(o) > 1 else o[0] for o in options), "initials"))
        if len(term) <= MAX_MIXED_CHARS and len(term) > 1:
            for combo in product(*options):
                form = "".join(combo)
                if form != term and not any(f == form for f, _ in forms):
                    forms.add((form, "mixed"))
    forms.discard((term, "mixed"))
    return forms


def homophone_forms(term: str, pinyin: bool, initials: bool) -> set[str]:
    """Forms matched in the pinyin view: syllable characters, mixed with ASCII when allowed."""
    table = char_tables()
    inverse = {s: p for p, s in table.syllables.items()}
    forms: set[str] = set()
    if not any(is_cjk(c) for c in term):
        return forms
    for syls in {tuple(phrase_syllables(term)), tuple(char_syllables(term))}:
        options = []
        for ch, syl in zip(term, syls, strict=True):
            if _is_syllable(syl, ch) and syl in inverse:
                opts = [inverse[syl]]
                if pinyin:
                    opts.append(syl)
                if initials:
                    opts.append(syl[0])
            else:
                opts = [ch]
            options.append(opts)
        if len(term) <= MAX_MIXED_CHARS:
            for combo in product(*options):
                form = "".join(combo)
                if any(ord(c) >= 0xE000 and ord(c) < 0xF900 for c in form):
                    forms.add(form)
        else:
            forms.add("".join(o[0] for o in options))
    return forms
