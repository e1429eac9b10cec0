"""Span helpers of the engine: containment tests, word edges of ASCII forms, safe matches."""

from __future__ import annotations

import bisect
from collections.abc import Callable

from qinglang.detect.normalize import Normalized
from qinglang.detect.pinyin import is_pinyin_sequence
from qinglang.detect.rules import LEADING_LETTERS, TRAILING_LETTERS, Form, is_ascii_alnum


def clean_match(s: str) -> str:
    """Replace lone surrogates so that a match can always be encoded as UTF-8."""
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return s.encode("utf-8", "replace").decode("utf-8")
    return s


def ascii_edge_ok(norm: Normalized, a: int, b: int, f: Form) -> bool:
    """A form that begins or ends with an ASCII letter must not be part of a longer word.

    "sb" is not in "usb"; "shabi" is in "nishishabi" (the rest is pinyin too) but initials are
    only accepted as a whole token. Removed noise (spaces, dots) counts as a word boundary.
    """
    text = norm.text
    if f.ascii_start and a > 0 and is_ascii_alnum(text[a - 1]) and not norm.gap_before(a):
        if not f.lenient_start:
            return False
        before = TRAILING_LETTERS.search(text, max(0, a - 64), a)
        run_start = before.start() if before else a
        # Stop at a removed-noise boundary inside the run.
        for i in range(a - 1, run_start, -1):
            if norm.gap_before(i):
                run_start = i
                break
        if not is_pinyin_sequence(text[run_start:a]):
            return False
    if f.ascii_end and b < len(text) and is_ascii_alnum(text[b]) and not norm.gap_before(b):
        if not f.lenient_end:
            return False
        after = LEADING_LETTERS.match(text[b : b + 64])
        run_end = b + (after.end() if after else 0)
        for i in range(b + 1, run_end):
            if norm.gap_before(i):
                run_end = i
                break
        if not is_pinyin_sequence(text[b:run_end]):
            return False
    return True


def containment(spans: list[tuple[int, int]], strict: bool = False) -> Callable[[int, int], bool]:
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
