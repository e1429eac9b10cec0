"""Disguises: the ways people write a word to slip past filters, as registered classes.

Used to measure the engine (disguise recall on harmful text, false positives on benign text of
the same style: tests/detect/test_disguise_recall.py and `make bench`) and by users to red-team
their own lexicons. Each disguise is deterministic given its `random.Random`.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from functools import cache
from typing import ClassVar

from qinglang.detect.charmap import char_tables, is_cjk, read_standins
from qinglang.detect.normalize import keeps_pair
from qinglang.detect.pinyin import char_syllables, phrase_syllables

NOISE = ("*", " ", ".", "-", "_", "|", "/", "~", "\u200b", "\u200c", "#", "+", "^")
FULLWIDTH_NOISE = ("＊", "．", "／", "＿", "－", "～", "　", "｜")
DECORATIONS = ("★", "☆", "♥", "♡", "✿", "❀", "♪", "◆", "✨", "〰")
PLAIN_EMOJI = ("😂", "🙏", "👍", "🤣", "😅", "🌹", "🎉", "😡")


class Disguise(ABC):
    name: ClassVar[str]
    description: ClassVar[str]
    # True when the main view of the disguised term equals the term's own: these are undone by
    # normalisation alone; the others are caught by extra surface forms of the term.
    normalises: ClassVar[bool] = False
    # Flag a lexicon term needs before this disguise is expected to be caught.
    needs_flag: ClassVar[str | None] = None

    @abstractmethod
    def apply(self, term: str, rng: random.Random) -> str | None:
        """The disguised term, or None when the disguise does not apply to it."""

    def applies_to(self, flags: frozenset[str]) -> bool:
        return self.needs_flag is None or self.needs_flag in flags


_REGISTRY: dict[str, Disguise] = {}


def register(cls: type[Disguise]) -> type[Disguise]:
    if cls.name in _REGISTRY:
        raise ValueError(f"disguise {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls()
    return cls


def disguises() -> dict[str, Disguise]:
    return dict(_REGISTRY)


def _interleave(term: str, pick: tuple[str, ...], rng: random.Random) -> str:
    out = [term[0]]
    for ch in term[1:]:
        out.append(rng.choice(pick))
        out.append(ch)
    return "".join(out)


@register
class Noise(Disguise):
    normalises = True
    name = "noise"
    description = "Symbols, spaces or zero-width characters between the characters (傻*逼, 傻 逼)."

    def apply(self, term: str, rng: random.Random) -> str | None:
        return _interleave(term, NOISE, rng) if len(term) > 1 else None


@register
class FullWidth(Disguise):
    normalises = True
    name = "fullwidth"
    description = "Full-width letters, digits and separators (ＳＢ, 傻＊逼)."

    def apply(self, term: str, rng: random.Random) -> str | None:
        wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in term)
        if wide == term:
            if len(term) < 2:
                return None
            wide = _interleave(term, FULLWIDTH_NOISE, rng)
        return wide


@register
class Traditional(Disguise):
    normalises = True
    name = "traditional"
    description = "Traditional characters (說話, 賭博)."

    def apply(self, term: str, rng: random.Random) -> str | None:
        out = _s2t().convert(term)
        return out if out != term else None


@cache
def _s2t():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("s2t")


_CIRCLED_DIGITS = "⓪①②③④⑤⑥⑦⑧⑨"


@register
class Styled(Disguise):
    normalises = True
    name = "styled"
    description = (
        "Styled or circled digits and letters (①, 𝟏, 𝐬𝐛) or decorations between characters."
    )

    def apply(self, term: str, rng: random.Random) -> str | None:
        out = []
        changed = False
        for ch in term:
            if ch.isascii() and ch.isdigit():
                out.append(
                    _CIRCLED_DIGITS[int(ch)] if rng.random() < 0.5 else chr(0x1D7CE + int(ch))
                )
                changed = True
            elif ch.isascii() and ch.isalpha():
                base = 0x1D41A if ch.islower() else 0x1D400
                out.append(chr(base + ord(ch.lower()) - ord("a")))
                changed = True
            else:
                out.append(ch)
        if changed:
            return "".join(out)
        return _interleave(term, DECORATIONS, rng) if len(term) > 1 else None


@register
class Repeat(Disguise):
    normalises = True
    name = "repeat"
    description = "Characters repeated (傻傻傻逼逼)."

    def apply(self, term: str, rng: random.Random) -> str | None:
        out = []
        for ch in term:
            n = rng.randint(3, 4) if keeps_pair(ch.lower()) else rng.randint(1, 3)
            out.append(ch * n)
        result = "".join(out)
        return result if result != term else term[0] * 3 + term[1:]


@register
class Pinyin(Disguise):
    name = "pinyin"
    description = (
        "The term in pinyin, joined or spaced, possibly mixed with characters (sha bi, 傻bi)."
    )
    needs_flag = "pinyin"

    def apply(self, term: str, rng: random.Random) -> str | None:
        if not any(is_cjk(c) for c in term):
            return None
        syls = phrase_syllables(term)
        style = rng.random()
        if style < 0.4:
            return "".join(syls)
        if style < 0.7:
            return " ".join(syls)
        # mixed: one character kept as is
        keep = rng.randrange(len(term))
        return "".join(
            ch if i == keep else s for i, (ch, s) in enumerate(zip(term, syls, strict=True))
        )


@register
class Initials(Disguise):
    name = "initials"
    description = "Pinyin initials (sb, nmsl), any case."
    needs_flag = "initials"

    def apply(self, term: str, rng: random.Random) -> str | None:
        if not all(is_cjk(c) for c in term):
            return None
        out = "".join(s[0] for s in phrase_syllables(term))
        return out.upper() if rng.random() < 0.3 else out


@cache
def _homophones() -> dict[str, tuple[str, ...]]:
    """Toneless syllable → common characters (GB 2312) read that way first."""
    table = char_tables()
    groups: dict[str, list[str]] = {}
    for cp, pua in table.pinyin.items():
        ch = chr(cp)
        try:
            ch.encode("gb2312")
        except UnicodeEncodeError:
            continue
        groups.setdefault(table.syllables[pua], []).append(ch)
    return {k: tuple(sorted(v)) for k, v in groups.items()}


@register
class Homophone(Disguise):
    name = "homophone"
    description = "A character replaced by another of the same pronunciation (煞笔 for 傻逼)."
    needs_flag = "homophone"

    def apply(self, term: str, rng: random.Random) -> str | None:
        groups = _homophones()
        syls = char_syllables(term)
        phrase = phrase_syllables(term)
        slots = [
            i
            for i, ch in enumerate(term)
            if is_cjk(ch) and syls[i] == phrase[i] and len(groups.get(syls[i], ())) > 1
        ]
        if not slots:
            return None
        i = rng.choice(slots)
        choices = [c for c in groups[syls[i]] if c != term[i]]
        return term[:i] + rng.choice(choices) + term[i + 1 :]


@cache
def _standin_for() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for emoji, ch in read_standins()[0].items():
        out.setdefault(ch, []).append(emoji)
    return {k: tuple(v) for k, v in out.items()}


@register
class Emoji(Disguise):
    name = "emoji"
    description = "An emoji standing in for a character (你🐴) or dropped between characters."

    def apply(self, term: str, rng: random.Random) -> str | None:
        standins = _standin_for()
        slots = [i for i, ch in enumerate(term) if ch in standins]
        if slots:
            i = rng.choice(slots)
            return term[:i] + rng.choice(standins[term[i]]) + term[i + 1 :]
        return _interleave(term, PLAIN_EMOJI, rng) if len(term) > 1 else None


def disguise_text(text: str, span: tuple[int, int], disguise: Disguise, rng: random.Random):
    """Disguise text[span]; returns (new_text, new_span) or None when not applicable."""
    a, b = span
    out = disguise.apply(text[a:b], rng)
    if out is None:
        return None
    return text[:a] + out + text[b:], (a, a + len(out))


def restyle_benign(text: str, disguise: Disguise, rng: random.Random) -> str | None:
    """Apply a disguise to a random run of Chinese characters of a benign text.

    This gives benign text "of the same style" as disguised harmful text, to measure false
    positives of the normaliser (a noise-stripped or pinyin-rewritten benign phrase must stay
    benign).
    """
    runs = [i for i in range(len(text) - 1) if is_cjk(text[i]) and is_cjk(text[i + 1])]
    if not runs:
        return None
    a = rng.choice(runs)
    b = a + 2
    while b < len(text) and b - a < 4 and is_cjk(text[b]) and rng.random() < 0.5:
        b += 1
    out = disguise.apply(text[a:b], rng)
    if out is None:
        return None
    return text[:a] + out + text[b:]
