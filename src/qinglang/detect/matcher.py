"""Multi-literal matchers: every occurrence of any key in a text, with character offsets.

Two backends behind one interface:

* `hyperscan` (Intel Hyperscan, x86-64 Linux): scans the UTF-8 bytes with SIMD literal
  matchers. Its speed does not depend on how many different first characters the keys have,
  which is where pyahocorasick slows down (a lexicon of a thousand Chinese terms has about as
  many first characters): measured 2.3 µs against 12 µs per 50-character message on the main
  lexicon (docs/benchmarks.md has the current figures).
* `ahocorasick` (pyahocorasick): portable fallback, used where hyperscan is not installed.

`QINGLANG_MATCHER` = `auto` (default: hyperscan for key sets with many first characters when
it is importable, pyahocorasick otherwise), `hyperscan` or `ahocorasick`.
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

import ahocorasick

MATCHER_ENV = "QINGLANG_MATCHER"
BACKENDS = ("auto", "hyperscan", "ahocorasick")

# Payload stored per key: a tuple of items (the engine's forms, allow markers, cues).
Items = tuple[Any, ...]


class LiteralMatcher(ABC):
    backend: str
    keys: tuple[str, ...] = ()

    @abstractmethod
    def matches(self, text: str) -> list[tuple[int, int, Items]]:
        """Every occurrence of every key: (start, end, items), character offsets, by end."""


class AhoCorasickMatcher(LiteralMatcher):
    backend = "ahocorasick"

    def __init__(self, entries: Mapping[str, Items]) -> None:
        self.keys = tuple(entries)
        self._auto = ahocorasick.Automaton()
        for key, items in entries.items():
            self._auto.add_word(key, (len(key), items))
        self._auto.make_automaton()

    def matches(self, text: str) -> list[tuple[int, int, Items]]:
        return [(end - n + 1, end + 1, items) for end, (n, items) in self._auto.iter(text)]


def _collect(key: int, _from: int, to: int, _flags: int, found: list[tuple[int, int]]) -> None:
    """Hyperscan match callback: the context argument is the list to fill."""
    found.append((key, to))


class HyperscanMatcher(LiteralMatcher):
    backend = "hyperscan"

    def __init__(self, entries: Mapping[str, Items]) -> None:
        import hyperscan

        self.keys = tuple(entries)
        self._items = [entries[k] for k in self.keys]
        self._lengths = [len(k) for k in self.keys]
        self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        # surrogatepass: keys never hold surrogates, but the same encoding is used for texts.
        patterns = [k.encode("utf-8", "surrogatepass") for k in self.keys]
        self._db.compile(
            expressions=patterns,
            ids=list(range(len(patterns))),
            flags=[0] * len(patterns),
            literal=True,
        )
        self._scratch = hyperscan.Scratch(self._db)
        # Hyperscan's scratch space must not be shared by concurrent scans: one per thread.
        self._local = threading.local()

    def __getstate__(self) -> dict[str, Any]:  # compiled databases do not pickle: rebuild
        return {"entries": dict(zip(self.keys, self._items, strict=True))}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["entries"])  # type: ignore[misc]

    def matches(self, text: str) -> list[tuple[int, int, Items]]:
        data = text.encode("utf-8", "surrogatepass")
        found: list[tuple[int, int]] = []
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = self._scratch.clone()
        self._db.scan(data, match_event_handler=_collect, context=found, scratch=scratch)
        if not found:
            return []
        lengths, items = self._lengths, self._items
        if len(data) == len(text):  # ASCII: byte offsets are character offsets
            return [(to - lengths[k], to, items[k]) for k, to in found]
        # Hyperscan reports matches in order of their end, and every end is a character
        # boundary: decoding the bytes between consecutive ends counts characters in C,
        # once over the text however many matches there are.
        out = []
        prev_byte = prev_char = 0
        for k, to in found:
            if to != prev_byte:
                prev_char += len(data[prev_byte:to].decode("utf-8", "surrogatepass"))
                prev_byte = to
            out.append((prev_char - lengths[k], prev_char, items[k]))
        return out


def hyperscan_available() -> bool:
    try:
        import hyperscan  # noqa: F401
    except ImportError:
        return False
    return True


# Above this many distinct first characters pyahocorasick slows down (a linear search among
# the root's children on every character) and hyperscan wins; below it pyahocorasick's lower
# per-call overhead wins (the homophone matcher's keys start with a few hundred syllables).
FANOUT_FOR_HYPERSCAN = 512


def make_matcher(entries: Mapping[str, Items], backend: str | None = None) -> LiteralMatcher | None:
    """A matcher over `entries` (None when there are no keys: nothing can match)."""
    if not entries:
        return None
    choice = backend or os.environ.get(MATCHER_ENV, "auto") or "auto"
    if choice not in BACKENDS:
        raise ValueError(f"{MATCHER_ENV} must be one of {', '.join(BACKENDS)}, not {choice!r}")
    if choice == "auto":
        fanout = len({key[0] for key in entries})
        if fanout > FANOUT_FOR_HYPERSCAN and hyperscan_available():
            choice = "hyperscan"
    if choice == "hyperscan":
        return HyperscanMatcher(entries)
    return AhoCorasickMatcher(entries)
