"""Pattern detectors: registered classes that find structured items (ID numbers, phones...).

Each detector has a unique `name`, the categories it can feed, and `examples` that drive the
shared tests in tests/detect/test_patterns.py (every positive example must be found with the
given value, every negative must not). Detectors see the *pattern view* of a text: the original
with a one-to-one character mapping (full-width and styled digits/letters to ASCII, lower case),
so offsets in the view are offsets in the original text.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class PatternMatch:
    """A structured item found in the pattern view."""

    detector: str  # the detector's registered name, e.g. "resident_id"
    start: int
    end: int
    value: str  # canonical value, e.g. the ID number without separators
    category: str  # the harm category this evidence feeds
    weight: float  # contribution to that category's score, 0..1


@dataclass(frozen=True, slots=True)
class Example:
    """Example text for a detector; drives the shared tests."""

    text: str
    # Canonical values the detector must report for `text` (empty: it must report nothing).
    values: tuple[str, ...] = ()


class PatternDetector(ABC):
    name: ClassVar[str]
    categories: ClassVar[tuple[str, ...]]
    description: ClassVar[str]
    examples: ClassVar[tuple[Example, ...]]
    # A cheap necessary condition the engine tests first: when `gate` finds nothing in the
    # view, `find` is not called (most messages carry no digits, IDs or links, and the full
    # regexes are the costly part). None: always call `find`.
    gate: ClassVar[re.Pattern[str] | None] = None
    # True when every match contains an ASCII letter or digit of the view (IDs, numbers,
    # links): the engine skips such detectors for text that has none.
    needs_ascii_alnum: ClassVar[bool] = True

    @abstractmethod
    def find(self, view: str) -> Iterator[PatternMatch]:
        """Yield matches in `view` (the pattern view: same length as the original)."""


_REGISTRY: dict[str, type[PatternDetector]] = {}


def register(cls: type[PatternDetector]) -> type[PatternDetector]:
    """Class decorator: add a detector to the registry under its unique name."""
    name = cls.name
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"pattern detector {name!r} registered twice")
    _REGISTRY[name] = cls
    return cls


def registered() -> dict[str, type[PatternDetector]]:
    """All registered detector classes by name (importing the package registers them)."""
    return dict(_REGISTRY)
