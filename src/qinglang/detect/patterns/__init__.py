"""Registered pattern detectors (importing this package registers them all).

Each detector lives in its own module and registers itself with `@register`; the imports below
exist for that side effect. Add a new detector by adding a module and importing it here.
"""

from qinglang.detect.patterns import (  # noqa: F401  (imported to register the detectors)
    bank_card,
    contact_solicitation,
    mobile_phone,
    qq_id,
    resident_id,
    url,
    wechat_id,
)
from qinglang.detect.patterns.base import (
    Example,
    PatternDetector,
    PatternMatch,
    register,
    registered,
)
from qinglang.detect.patterns.limits import MAX_MATCHES


def all_detectors() -> list[PatternDetector]:
    """One instance of each registered detector, sorted by name."""
    return [cls() for _, cls in sorted(registered().items())]


__all__ = [
    "MAX_MATCHES",
    "Example",
    "PatternDetector",
    "PatternMatch",
    "all_detectors",
    "register",
    "registered",
]
