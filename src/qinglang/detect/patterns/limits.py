"""Limits every pattern detector honours, so hostile input cannot blow up a scan."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

from qinglang.detect.patterns.base import PatternMatch

# At most this many matches per `find` call: a 10 MB paste of phone numbers is evidence enough
# after the first thousand, and the engine caps its hits at the same number.
MAX_MATCHES = 1_000


def capped(matches: Iterable[PatternMatch]) -> Iterator[PatternMatch]:
    """The first MAX_MATCHES of `matches` (lazily: the scan stops once the cap is reached)."""
    return islice(matches, MAX_MATCHES)
