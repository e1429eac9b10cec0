"""The rule sets: every registered set's examples, its table entry, and property tests that
limits are never exceeded."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qinglang.guard.ages import SHANGHAI, local_day
from qinglang.guard.calendar import GuardCalendar, PlayDayReading
from qinglang.guard.decision import PlatformKind, Reason
from qinglang.guard.rulesets import (
    REGISTRY,
    GuardInputError,
    PayKind,
    PayRequest,
    PlayRequest,
    applicable,
    evaluate,
    evaluate_payment,
    get,
)

PLAY = [(name, ex) for name, cls in REGISTRY.items() for ex in cls.play_examples]
PAY = [(name, ex) for name, cls in REGISTRY.items() for ex in cls.pay_examples]


def _birth(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def test_every_rule_set_has_a_source_dates_and_examples() -> None:
    assert set(REGISTRY) == {
        "nppa-2019",
        "nppa-2021",
        "video-youth-2019",
        "cac-minor-mode-2024",
        "live-tipping-2022",
    }
    for name in REGISTRY:
        rs = get(name)
        assert rs.source and rs.title_zh and rs.effective_from
        assert REGISTRY[name].play_examples and REGISTRY[name].pay_examples


@pytest.mark.parametrize(("name", "ex"), PLAY, ids=[f"{n}-{e.at}-{e.birth}" for n, e in PLAY])
def test_play_examples(name: str, ex) -> None:
    req = PlayRequest(
        datetime.fromisoformat(ex.at), _birth(ex.birth), ex.used_today_s, ex.guest_used_s
    )
    d = get(name).decide(req)
    assert (d.allowed, d.reason) == (ex.allowed, ex.reason)
    assert d.rule_set == name
    if ex.remaining_s is not None:
        assert d.remaining_seconds == ex.remaining_s
    if ex.next_allowed_at is not None:
        assert d.next_allowed_at == datetime.fromisoformat(ex.next_allowed_at)
    if not d.allowed:
        assert d.remaining_seconds == 0


@pytest.mark.parametrize(("name", "ex"), PAY, ids=[f"{n}-{e.amount_fen}-{e.birth}" for n, e in PAY])
def test_pay_examples(name: str, ex) -> None:
    req = PayRequest(
        datetime.fromisoformat(ex.at), _birth(ex.birth), ex.amount_fen, ex.spent_month_fen, ex.kind
    )
    d = get(name).check_payment(req)
    assert (d.allowed, d.reason) == (ex.allowed, ex.reason)
    if ex.monthly_remaining_fen is not None:
        assert d.monthly_remaining_fen == ex.monthly_remaining_fen


def test_selection_by_platform_and_date() -> None:
    names = lambda kind, day: [rs.name for rs in applicable(kind, date.fromisoformat(day))]  # noqa: E731
    assert names(PlatformKind.game, "2020-01-01") == ["nppa-2019"]
    assert names(PlatformKind.game, "2021-08-31") == ["nppa-2019"]
    assert names(PlatformKind.game, "2021-09-01") == ["nppa-2021"]
    assert names(PlatformKind.video, "2023-01-01") == ["video-youth-2019"]
    assert names(PlatformKind.video, "2026-12-03") == ["cac-minor-mode-2024"]
    assert names(PlatformKind.live, "2026-12-03") == ["cac-minor-mode-2024", "live-tipping-2022"]
    assert names(PlatformKind.game, "2019-01-01") == []


def test_live_combines_minor_mode_time_and_tipping() -> None:
    at = datetime(2026, 12, 3, 12, tzinfo=SHANGHAI)
    sets = applicable(PlatformKind.live, local_day(at))
    d = evaluate(sets, PlayRequest(at, date(2014, 1, 1)))
    assert d.allowed and d.remaining_seconds == 3600 and d.rule_set == "cac-minor-mode-2024"
    p = evaluate_payment(sets, PayRequest(at, date(2000, 1, 1), 100, kind=PayKind.tip))
    assert p.allowed
    p = evaluate_payment(sets, PayRequest(at, date(2010, 1, 1), 100, kind=PayKind.tip))
    assert not p.allowed


def test_literal_reading_plays_on_make_up_saturdays() -> None:
    at = datetime(2026, 2, 28, 20, 30, tzinfo=SHANGHAI)
    req = PlayRequest(at, date(2012, 3, 1))
    assert not get("nppa-2021").decide(req).allowed
    literal = GuardCalendar(reading=PlayDayReading.literal)
    assert get("nppa-2021").decide(req, literal).allowed


def test_a_year_without_calendar_data_refuses_loudly() -> None:
    at = datetime(2027, 1, 8, 20, 30, tzinfo=SHANGHAI)  # a Friday, but 2027 has no data
    # Fridays are play days whatever the schedule says; a Saturday needs the schedule.
    sat = datetime(2027, 1, 9, 20, 30, tzinfo=SHANGHAI)
    d = get("nppa-2021").decide(PlayRequest(sat, date(2012, 3, 1)))
    assert (d.allowed, d.reason) == (False, Reason.calendar_unavailable)
    d = get("nppa-2019").decide(PlayRequest(at, date(2012, 3, 1)))
    assert (d.allowed, d.reason) == (False, Reason.calendar_unavailable)
    # The override table fills the year.
    filled = GuardCalendar(full_years=frozenset({2027}))
    assert get("nppa-2021").decide(PlayRequest(sat, date(2012, 3, 1)), filled).allowed


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amount_fen": 0}, "amount"),
        ({"amount_fen": -100}, "amount"),
        ({"amount_fen": 10**12}, "amount"),
        ({"spent_month_fen": -1}, "spent_month"),
    ],
)
def test_bad_payment_input(kwargs, field) -> None:
    base = {"at": datetime(2026, 12, 3, tzinfo=SHANGHAI), "birth": date(2010, 1, 1)}
    base.setdefault("amount_fen", 100)
    base.update(kwargs)
    with pytest.raises(GuardInputError) as err:
        PayRequest(**base)
    assert err.value.field == field and err.value.message_zh


def test_naive_instants_and_future_births_are_refused() -> None:
    with pytest.raises(GuardInputError):
        PlayRequest(datetime(2026, 12, 3), date(2010, 1, 1))
    with pytest.raises(GuardInputError):
        PlayRequest(datetime(2026, 12, 3, tzinfo=SHANGHAI), date(2027, 1, 1))


# ---------------------------------------------------------------- properties

instants = st.datetimes(
    min_value=datetime(2019, 11, 1), max_value=datetime(2026, 12, 31, 23, 59)
).map(lambda d: d.replace(tzinfo=SHANGHAI))
minor_births = st.integers(min_value=0, max_value=17 * 365).map(lambda n: timedelta(days=n))
names = st.sampled_from(["nppa-2019", "nppa-2021", "video-youth-2019", "cac-minor-mode-2024"])


@settings(max_examples=300, deadline=None)
@given(name=names, at=instants, age=minor_births, step=st.integers(60, 900))
def test_simulated_play_never_exceeds_the_daily_budget_or_leaves_the_window(
    name, at, age, step
) -> None:
    """Play as long as allowed, in steps; the day's total never passes the budget and every
    played second lies inside a window."""
    rs = get(name)
    birth = local_day(at) - age
    day = local_day(at)
    used = 0
    t = at
    for _ in range(200):
        if local_day(t) != day:
            break
        d = rs.decide(PlayRequest(t, birth, used))
        if not d.allowed:
            if d.next_allowed_at is not None:
                assert d.next_allowed_at > t
                t = d.next_allowed_at
                continue
            break
        assert d.remaining_seconds is not None and d.remaining_seconds > 0
        played = min(step, d.remaining_seconds)
        assert any(
            s <= t and t + timedelta(seconds=played) <= e for s, e in rs.windows_on(day, _cal())
        )
        used += played
        t += timedelta(seconds=played)
    cap = max(rs.budget_s(day, b, _cal()) for b in _bands())
    assert used <= cap


def _cal() -> GuardCalendar:
    return GuardCalendar()


def _bands():
    from qinglang.guard.ages import AgeBand

    return [b for b in AgeBand if b is not AgeBand.adult]


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(["nppa-2019", "nppa-2021"]),
    at=instants,
    age=minor_births,
    amounts=st.lists(st.integers(1, 20_000), min_size=1, max_size=30),
)
def test_monthly_spending_never_passes_the_cap(name, at, age, amounts) -> None:
    rs = get(name)
    birth = local_day(at) - age
    spent = 0
    for amount in amounts:
        d = rs.check_payment(PayRequest(at, birth, amount, spent))
        if d.allowed:
            assert d.single_cap_fen is not None and amount <= d.single_cap_fen
            spent += amount
    monthly = rs.check_payment(PayRequest(at, birth, 1, 0)).monthly_cap_fen or 0
    assert spent <= monthly
