"""Registered pattern detectors (importing this package registers them all)."""

from qinglang.detect.patterns.base import (
    Example,
    PatternDetector,
    PatternMatch,
    register,
    registered,
)


def all_detectors() -> list[PatternDetector]:
    """One instance of each registered detector, sorted by name."""
    return [cls() for _, cls in sorted(registered().items())]


__all__ = ["Example", "PatternDetector", "PatternMatch", "all_detectors", "register", "registered"]
