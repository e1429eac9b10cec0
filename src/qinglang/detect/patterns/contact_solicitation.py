"""Phrases that pull someone into a private channel or a meeting (私聊, 加我微信, 奔现...).

The phrases are data (`qinglang/detect/data/contact_cues.toml`) so reviewers can extend them
without touching code. Each phrase is solicitation in itself; contact details are left to the
ID and phone detectors, and the engine combines the two as traffic-diversion evidence.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import ClassVar

from qinglang.detect.patterns.base import Example, PatternDetector, PatternMatch, register
from qinglang.detect.patterns.limits import capped
from qinglang.package_data import read_data

DEFAULT_WEIGHT = 0.45


@dataclass(frozen=True, slots=True)
class ContactCue:
    """One canonical phrase, its weight and the characters that veto a match next to it."""

    phrase: str
    weight: float
    not_after: frozenset[str]
    not_before: frozenset[str]


@dataclass(frozen=True, slots=True)
class _CueTable:
    regex: re.Pattern[str]
    by_form: dict[str, ContactCue]


_ASCII_ALNUM = "0123456789abcdefghijklmnopqrstuvwxyz"


def _is_ascii_alnum(ch: str) -> bool:
    return ch in _ASCII_ALNUM


@cache
def contact_cues() -> dict[str, ContactCue]:
    """The cue table by surface form, read once from the package data."""
    data = tomllib.loads(read_data("qinglang.detect", "contact_cues.toml"))
    by_form: dict[str, ContactCue] = {}
    for entry in data["cue"]:
        cue = ContactCue(
            phrase=entry["phrase"],
            weight=float(entry.get("weight", DEFAULT_WEIGHT)),
            not_after=frozenset(entry.get("not_after", "")),
            not_before=frozenset(entry.get("not_before", "")),
        )
        if not 0.0 < cue.weight <= 1.0:
            raise ValueError(f"contact cue {cue.phrase!r}: weight must be in (0, 1]")
        for form in entry["forms"]:
            if form != form.lower() or form in by_form:
                raise ValueError(f"contact cue form {form!r} is duplicated or not lower case")
            by_form[form] = cue
    return by_form


def _branch(form: str, cue: ContactCue) -> str:
    """The regex branch for one form: the literal, then look-arounds for the vetoing neighbours.

    The vetoes are look-arounds rather than checks after the match so that a vetoed long form
    ("加我vip": "v" inside a word) still lets a shorter form ("加我") match at the same place.
    Lookbehinds come after the literal (fixed width: the form plus one character) so every
    branch starts with a literal character and the regex engine can skip ahead quickly.
    """
    before = set(cue.not_after)
    after = set(cue.not_before)
    branch = re.escape(form)
    if _is_ascii_alnum(form[0]):
        before |= set(_ASCII_ALNUM)
    if _is_ascii_alnum(form[-1]):
        after |= set(_ASCII_ALNUM)
    if before:
        branch += f"(?<!{_char_class(before)}{re.escape(form)})"
    if after:
        branch += f"(?!{_char_class(after)})"
    return branch


def _char_class(chars: set[str]) -> str:
    rest = chars - set(_ASCII_ALNUM)
    ascii_part = "0-9a-z" if len(rest) < len(chars) else ""
    return "[" + ascii_part + "".join(re.escape(c) for c in sorted(rest)) + "]"


@cache
def _table() -> _CueTable:
    by_form = contact_cues()
    # An alternation of literals, longest first so "加我微信" wins over "加我". Literal branches
    # with fixed-width look-arounds never backtrack far: linear on any input.
    forms = sorted(by_form, key=lambda f: (-len(f), f))
    regex = re.compile("|".join(_branch(f, by_form[f]) for f in forms))
    return _CueTable(regex, by_form)


@register
class ContactSolicitationDetector(PatternDetector):
    """Phrases inviting a private chat, a group or a meeting; the value is the canonical phrase."""

    name: ClassVar[str] = "contact_solicitation"
    categories: ClassVar[tuple[str, ...]] = ("grooming",)
    description: ClassVar[str] = (
        "引诱私聊、加好友、进群、见面、索要照片等话术（如 加我微信、私聊、奔现、发照片给我），"
        "词表见 detect/data/contact_cues.toml。"
    )
    weight: ClassVar[float] = DEFAULT_WEIGHT
    needs_ascii_alnum: ClassVar[bool] = False
    # Gate: the first two characters of some form must occur (see PatternDetector.gate); the
    # first character alone (加, 来, 出...) is in most Chinese messages.
    gate: ClassVar[re.Pattern[str] | None] = re.compile(
        "|".join(sorted({re.escape(f[:2]) for f in contact_cues()}, key=lambda p: (-len(p), p)))
    )
    examples: ClassVar[tuple[Example, ...]] = (
        Example("小妹妹，加我vx带你上分", ("加我微信",)),
        Example("有什么不懂的私聊我，别告诉你爸妈", ("私聊", "别告诉爸妈")),
        Example("周末出来见个面吧，我们奔现", ("出来见面", "奔现")),
        Example("发张照片给我看看嘛", ("发照片给我",)),
        Example("DD我，扫码进群领皮肤", ("滴滴我", "扫码加")),
        Example("想要的小窗，晚上开视频", ("小窗", "开视频")),
        # Words that merely contain the characters of a cue.
        Example("欢迎参加我们学校的活动"),
        Example("推进群众工作，增加群体意识"),
        Example("打开视频教程，关掉小窗口"),
        Example("抛开视频里的内容不谈，后面基本没问题"),
        Example("我用微信支付，在听QQ音乐"),
        Example("他很自私我不喜欢"),
        Example("add我 is not a word"),
    )

    def find(self, view: str) -> Iterator[PatternMatch]:
        return capped(self._scan(view))

    def _scan(self, view: str) -> Iterator[PatternMatch]:
        table = _table()
        for m in table.regex.finditer(view):
            cue = table.by_form[m.group(0)]
            yield PatternMatch(self.name, m.start(), m.end(), cue.phrase, "grooming", cue.weight)
