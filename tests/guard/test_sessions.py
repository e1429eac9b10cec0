"""Session steps (pure): counting on the server clock, tolerance, cut at the forced-logout
instant, midnight splits, and no drift from rounding."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from qinglang.guard.ages import SHANGHAI
from qinglang.guard.decision import PlatformKind
from qinglang.guard.sessions import (
    TOLERANCE_S,
    LiveSession,
    SessionState,
    plan_step,
    split_by_day,
    to_ms,
    usage_key,
)

START = datetime(2026, 12, 4, 20, 0, tzinfo=SHANGHAI)


def _session(start: datetime = START, ends: datetime | None = None) -> LiveSession:
    return LiveSession(
        id="s1",
        platform_id=1,
        kind=PlatformKind.game,
        subject="p" * 38,
        birth=date(2012, 3, 1),
        account="a",
        started_ms=to_ms(start),
        last_ms=to_ms(start),
        ends_ms=None if ends is None else to_ms(ends),
    )


def test_json_round_trip() -> None:
    s = _session(ends=START + timedelta(hours=1))
    assert LiveSession.from_json(s.to_json()) == s


def test_a_gap_within_the_tolerance_counts_in_full() -> None:
    step = plan_step(_session(), START + timedelta(seconds=TOLERANCE_S))
    assert not step.expired and sum(s for _, s in step.adds) == TOLERANCE_S
    assert step.session.state is SessionState.active


def test_silence_expires_the_session_counting_only_the_tolerance() -> None:
    step = plan_step(_session(), START + timedelta(hours=2))
    assert step.expired and step.session.state is SessionState.expired
    assert sum(s for _, s in step.adds) == TOLERANCE_S


def test_time_after_the_forced_logout_instant_does_not_count() -> None:
    s = _session(ends=START + timedelta(seconds=100))
    step = plan_step(s, START + timedelta(seconds=250))
    assert sum(sec for _, sec in step.adds) == 100


def test_a_clock_running_backwards_counts_nothing() -> None:
    s = _session()
    step = plan_step(s, START - timedelta(seconds=30))
    assert step.adds == () and step.session.last_ms == s.last_ms


def test_logout_ends_the_session() -> None:
    step = plan_step(_session(), START + timedelta(seconds=42), logout=True)
    assert step.session.state is SessionState.ended and step.session.counted_s == 42


def test_midnight_is_split_between_days() -> None:
    late = datetime(2026, 12, 4, 23, 58, tzinfo=SHANGHAI)
    step = plan_step(_session(late), late + timedelta(minutes=4))
    assert step.adds == (
        (usage_key("p" * 38, date(2026, 12, 4), PlatformKind.game), 120),
        (usage_key("p" * 38, date(2026, 12, 5), PlatformKind.game), 120),
    )


@settings(max_examples=200, deadline=None)
@given(gaps_ms=st.lists(st.integers(1, TOLERANCE_S * 1000), min_size=1, max_size=80))
def test_no_drift_over_many_heartbeats(gaps_ms: list[int]) -> None:
    """Counted seconds equal the elapsed time rounded down once, not once per heartbeat."""
    s = _session()
    at = START
    counted = 0
    for gap in gaps_ms:
        at += timedelta(milliseconds=gap)
        step = plan_step(s, at)
        counted += sum(sec for _, sec in step.adds)
        s = step.session
    elapsed_ms = sum(gaps_ms)
    assert counted == elapsed_ms // 1000
    assert s.counted_s == counted


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2026, 12, 31)),
    seconds=st.integers(0, 3 * 86_400),
)
def test_split_by_day_adds_up(start: datetime, seconds: int) -> None:
    start = start.replace(tzinfo=SHANGHAI)
    parts = split_by_day(start, start + timedelta(seconds=seconds))
    assert sum(s for _, s in parts) == seconds
    assert [d for d, _ in parts] == sorted({d for d, _ in parts})
