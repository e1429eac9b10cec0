"""The campaign's time zone and the checks on the times callers pass in.

The core never reads the clock: callers pass `at`, so replays and tests are deterministic.
China has kept UTC+8 without daylight saving since 1991, so a fixed offset named
Asia/Shanghai is exact for every date the platform handles and needs no tz database.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


def require_aware(at: datetime, what: str = "time") -> None:
    """Reject naive datetimes: a time without a zone is ambiguous evidence."""
    if not isinstance(at, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")


def to_shanghai(at: datetime) -> datetime:
    """`at` expressed in Asia/Shanghai (the same instant)."""
    require_aware(at)
    return at.astimezone(SHANGHAI)


def shanghai_date(at: datetime) -> date:
    """The calendar day of `at` in China: deadlines are Chinese calendar days."""
    return to_shanghai(at).date()
