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

from qinglang.detect.charmap import char_tables, translate_main, translate_pattern, translate_pinyin

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

    __slots__ = ("_ends", "_gaps", "_identity", "_stage1", "_starts", "original", "text")

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

    def _build(self) -> None:
        # Output length of each original character (0 = removed as noise), computed with
        # C-level iterators: this runs on every text that has a hit.
        main = char_tables().main
        text = self.original
        kept = list(map(len, map(main.get, map(ord, text), text)))  # 1 kept, 0 removed
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
        if self._starts is None:
            self._build()
        assert self._starts is not None
        return self._starts[start], self._ends[end - 1]

    def gap_before(self, index: int) -> bool:
        """True when noise characters were removed just before view position `index`."""
        if index <= 0 or index >= len(self.text):
            return True
        if self._identity:
            return False
        if self._starts is None:
            self._build()
        return self._gaps[index]
