"""Normalisation with an offset map back to the original text.

The main view is `original.translate(main table)` followed by collapsing repeated characters.
Both steps run in C; the offset map (which original characters produced each character of the
view, and whether noise was removed just before it) is built in Python only when a caller asks
for a span — that is, only for texts that have hits.
"""

from __future__ import annotations

import operator
import re
from itertools import chain, compress

from qinglang.detect.charmap import (
    HIGH_CHARS,
    char_tables,
    translate_main,
    translate_pattern,
    translate_pinyin,
)

# Runs of the same character (digits and line breaks excluded: phone numbers and IDs repeat
# digits legitimately). "傻傻傻逼" → "傻逼", "ssssb" → "sb".
_RUN_RE = re.compile(r"([^\d\n])\1+")
# Cheaper test for "is there any run at all" (no alternation, no class).
_ANY_RUN_RE = re.compile(r"(.)\1")
# Characters that Chinese doubles in ordinary words (妈妈, 哈哈, 看看, 高高兴兴): a run of exactly
# two of them is kept, so that "他妈妈的书" never reads as "他妈的书".
REDUPLICATED = frozenset(
    "妈爸哥姐弟妹宝哈嘻呵嘿啦嗯哦噢天人看想试常刚慢好谢星渐偷悄高大小多太奶爷叔舅姑婆公"
    "家年个时处事样说走跑听写读问聊等玩笑轻静满亮红白蓝绿黑明清干净快乐开心漂痒乖乖"
)


def keeps_pair(ch: str) -> bool:
    """A run of exactly two of `ch` is kept: reduplicated Chinese, or ASCII letters, since
    English and pinyin initials double letters ("mmp", "book") and a pair is no disguise."""
    return ch in REDUPLICATED or ("a" <= ch <= "z")


def _collapse_run(m: re.Match[str]) -> str:
    run = m.group(0)
    if len(run) == 2 and keeps_pair(run[0]):
        return run
    return run[0]


def normalize_text(text: str) -> str:
    """The main view of `text` (no offsets)."""
    view = translate_main(text)
    if _ANY_RUN_RE.search(view) is not None:
        view = _RUN_RE.sub(_collapse_run, view)
    return view


def pattern_view(text: str) -> str:
    """One-to-one view for the pattern detectors: same length as `text`."""
    return translate_pattern(text)


def pinyin_view(view: str) -> str:
    """Chinese characters of a main view → private-use syllable characters (same length)."""
    return translate_pinyin(view)


class Normalized:
    """A text's main view plus a lazily built map back to the original."""

    __slots__ = (
        "_ends",
        "_gaps",
        "_identity",
        "_lookups",
        "_marks",
        "_runs",
        "_stage1",
        "_starts",
        "original",
        "text",
    )

    def __init__(self, original: str) -> None:
        self.original = original
        stage1 = translate_main(original)
        if _ANY_RUN_RE.search(stage1) is not None:
            self._stage1: str | None = stage1
            self.text = _RUN_RE.sub(_collapse_run, stage1)
        else:
            self._stage1 = None
            self.text = stage1
        # The main table maps each character to zero or one character, so a view as long as
        # the original with no run collapsed is the original position for position: no map.
        self._identity = self._stage1 is None and len(stage1) == len(original)
        self._starts: list[int] | None = None
        self._ends: list[int] = []
        self._gaps: list[bool] = []
        # Before the full map is built, lookups use two strings of "1" (kept) and "0"
        # (removed): `_marks` over the original, `_runs` over stage 1 (collapsed runs).
        self._marks: str | None = None
        self._runs: str | None = None
        self._lookups = 0

    # A text with a few hits asks for a few offsets: find each by counting marks (C-level
    # str.count, O(log n) calls). After this many lookups, build the whole map instead.
    MAX_COUNTED_LOOKUPS = 12

    def _prepare_marks(self) -> None:
        text = self.original
        tables = char_tables()
        if HIGH_CHARS.search(text) is not None:
            main = tables.main
            self._marks = "".join("1" if main.get(ord(c), c) else "0" for c in text)
        else:
            self._marks = text.translate(tables.kept_marks)
        if self._stage1 is not None:
            pieces = []
            pos = 0
            for m in _RUN_RE.finditer(self._stage1):
                a, b = m.span()
                pieces.append("1" * (a - pos))
                keep_both = b - a == 2 and keeps_pair(self._stage1[a])
                pieces.append("11" if keep_both else "1" + "0" * (b - a - 1))
                pos = b
            pieces.append("1" * (len(self._stage1) - pos))
            self._runs = "".join(pieces)

    def _counted(self) -> bool:
        """True while lookups should count marks rather than build the full map."""
        self._lookups += 1
        if self._lookups > self.MAX_COUNTED_LOOKUPS:
            if self._starts is None:
                self._build()
            return False
        if self._marks is None:
            self._prepare_marks()
        return True

    def _to_original(self, index: int) -> int:
        """Original index of the view's character `index` (start of its run)."""
        if self._runs is not None:
            index = _select(self._runs, index)
        assert self._marks is not None
        return _select(self._marks, index)

    def _build(self) -> None:
        # 1 for each original character kept, 0 for one removed as noise (the same marks the
        # counted lookups use), then C-level iterators over them.
        if self._marks is None:
            self._prepare_marks()
        assert self._marks is not None
        text = self.original
        kept = list(map(int, self._marks))
        starts = list(compress(range(len(text)), kept))
        gaps = list(compress(chain((False,), map(operator.not_, kept)), kept))
        ends = list(map((1).__add__, starts))
        if self._stage1 is not None:
            k_starts: list[int] = []
            k_ends: list[int] = []
            k_gaps: list[bool] = []
            pos = 0
            for m in _RUN_RE.finditer(self._stage1):  # only the runs, not every character
                a, b = m.span()
                k_starts += starts[pos:a]
                k_ends += ends[pos:a]
                k_gaps += gaps[pos:a]
                if b - a == 2 and keeps_pair(self._stage1[a]):
                    k_starts += starts[a:b]
                    k_ends += ends[a:b]
                    k_gaps += gaps[a:b]
                else:  # the one kept character stands for the whole run
                    k_starts.append(starts[a])
                    k_ends.append(ends[b - 1])
                    k_gaps.append(gaps[a])
                pos = b
            k_starts += starts[pos:]
            k_ends += ends[pos:]
            k_gaps += gaps[pos:]
            starts, ends, gaps = k_starts, k_ends, k_gaps
        self._starts, self._ends, self._gaps = starts, ends, gaps

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original offsets of the view's characters [start, end)."""
        if self._identity:
            return start, end
        if self._counted():
            first = self._to_original(start)
            last = end - 1
            if self._runs is not None:  # the last character may stand for a whole run
                s1 = _select(self._runs, last)
                nxt = self._runs.find("1", s1 + 1)
                s1_end = (len(self._runs) if nxt < 0 else nxt) - 1
            else:
                s1_end = last
            assert self._marks is not None
            return first, _select(self._marks, s1_end) + 1
        assert self._starts is not None
        return self._starts[start], self._ends[end - 1]

    def gap_before(self, index: int) -> bool:
        """True when noise characters were removed just before view position `index`."""
        if index <= 0 or index >= len(self.text):
            return True
        if self._identity:
            return False
        if self._counted():
            o = self._to_original(index)
            assert self._marks is not None
            return o > 0 and self._marks[o - 1] == "0"
        return self._gaps[index]


def _select(marks: str, k: int) -> int:
    """Index of the (k+1)-th "1" in `marks` (binary search over C-level counts)."""
    lo, hi = k, len(marks) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if marks.count("1", 0, mid + 1) > k:
            hi = mid
        else:
            lo = mid + 1
    return lo
