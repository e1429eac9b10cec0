"""Guardians' limits: property tests that they never loosen the rule sets' answers, and
examples of every validation error."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qinglang.guard.ages import SHANGHAI, local_day
from qinglang.guard.decision import Decision, PaymentDecision, Reason
from qinglang.guard.guardian import (
    MAX_UNLOCK_S,
    MAX_WINDOWS,
    MIN_UNLOCK_S,
    GuardianLimitError,
    GuardianLimits,
    apply_payment,
    apply_play,
    validate_unlock,
)
from qinglang.guard.rulesets import (
    REGISTRY,
    PayKind,
    PayRequest,
    PlayRequest,
    evaluate,
    evaluate_payment,
    get,
)

INF = float("inf")


def _inf(value: int | None) -> float:
    return INF if value is None else value


# ---------------------------------------------------------------- strategies

instants = st.datetimes(
    min_value=datetime(2019, 11, 1), max_value=datetime(2026, 12, 31, 23, 59, 59)
).map(lambda d: d.replace(tzinfo=SHANGHAI))
# Days since birth of someone under 18 (0 days: born today).
minor_ages = st.integers(min_value=0, max_value=18 * 365 - 1).map(lambda n: timedelta(days=n))
rule_set_lists = st.lists(st.sampled_from(sorted(REGISTRY)), min_size=0, max_size=3, unique=True)
used_seconds = st.integers(min_value=0, max_value=6 * 3600)
# Mostly verified minors, sometimes an unverified guest (birth date unknown).
guests = st.sampled_from([False, False, False, True])


def _clock(minutes: int) -> str:
    return "24:00" if minutes == 1440 else f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def windows(draw) -> tuple[str, str]:
    start = draw(st.integers(0, 1439))
    end = draw(st.integers(start + 1, 1440))
    return (_clock(start), _clock(end))


limits_strategy = st.builds(
    GuardianLimits,
    banned=st.booleans(),
    windows=st.none() | st.lists(windows(), max_size=4).map(tuple),
    daily_cap_s=st.none() | st.integers(0, 86_400),
    single_cap_fen=st.none() | st.integers(0, 30_000),
    monthly_cap_fen=st.none() | st.integers(0, 100_000),
)


def _birth(at: datetime, age: timedelta, guest: bool) -> date | None:
    return None if guest else local_day(at) - age


def _rule_decision(names: list[str], at: datetime, birth: date | None, used: int) -> Decision:
    return evaluate([get(n) for n in names], PlayRequest(at, birth, used_today_s=used))


def _assert_play_not_looser(rule: Decision, guarded: Decision) -> None:
    if guarded.allowed:
        assert rule.allowed, (rule, guarded)
    assert _inf(guarded.remaining_seconds) <= _inf(rule.remaining_seconds), (rule, guarded)
    if not guarded.allowed:
        assert guarded.remaining_seconds == 0, guarded


# ---------------------------------------------------------------- play properties


@settings(max_examples=400, deadline=None)
@given(
    names=rule_set_lists,
    at=instants,
    age=minor_ages,
    guest=guests,
    used=used_seconds,
    limits=limits_strategy,
)
def test_play_limits_never_loosen_the_rules(names, at, age, guest, used, limits) -> None:
    birth = _birth(at, age, guest)
    rule = _rule_decision(names, at, birth, used)
    guarded = apply_play(rule, limits, at, used)
    _assert_play_not_looser(rule, guarded)
    if not guarded.allowed or rule.reason is Reason.adult:
        return
    # Allowed: the guardian's own limits hold for the whole remaining time.
    assert not limits.banned
    remaining = guarded.remaining_seconds
    if limits.daily_cap_s is not None:
        assert remaining is not None and used + remaining <= limits.daily_cap_s
    if limits.windows is not None:
        assert remaining is not None
        end = at + timedelta(seconds=remaining)
        assert any(s <= at and end <= e for s, e in limits.window_instants(at)), (
            limits,
            at,
            guarded,
        )


@settings(max_examples=300, deadline=None)
@given(
    names=rule_set_lists,
    at=instants,
    age=minor_ages,
    used=used_seconds,
    limits=limits_strategy,
    unlock_s=st.integers(1, 3 * 3600),
)
def test_an_unlock_never_loosens_the_rules(names, at, age, used, limits, unlock_s) -> None:
    """A guardian's unlock lifts only the guardian's own limits, never the statutory ones."""
    birth = local_day(at) - age
    rule = _rule_decision(names, at, birth, used)
    unlock_until = at + timedelta(seconds=unlock_s)
    guarded = apply_play(rule, limits, at, used, unlock_until=unlock_until)
    _assert_play_not_looser(rule, guarded)
    if guarded.allowed and rule.reason is not Reason.adult:
        # Play under an unlock ends with the unlock at the latest.
        assert guarded.remaining_seconds is not None and guarded.remaining_seconds <= unlock_s


@settings(max_examples=200, deadline=None)
@given(
    names=rule_set_lists,
    at=instants,
    age=minor_ages,
    used=used_seconds,
    limits=limits_strategy,
    ago_s=st.integers(0, 3 * 3600),
)
def test_an_expired_unlock_is_no_unlock(names, at, age, used, limits, ago_s) -> None:
    birth = local_day(at) - age
    rule = _rule_decision(names, at, birth, used)
    expired = apply_play(rule, limits, at, used, unlock_until=at - timedelta(seconds=ago_s))
    assert expired == apply_play(rule, limits, at, used)


# ---------------------------------------------------------------- payment properties


@settings(max_examples=400, deadline=None)
@given(
    names=rule_set_lists,
    at=instants,
    age=minor_ages,
    guest=guests,
    amount=st.integers(1, 30_000),
    spent=st.integers(0, 60_000),
    kind=st.sampled_from(list(PayKind)),
    limits=limits_strategy,
)
def test_payment_limits_never_loosen_the_rules(
    names, at, age, guest, amount, spent, kind, limits
) -> None:
    birth = _birth(at, age, guest)
    sets = [get(n) for n in names]
    rule = evaluate_payment(sets, PayRequest(at, birth, amount, spent, kind))
    guarded = apply_payment(rule, limits, amount, spent)
    if guarded.allowed:
        assert rule.allowed, (rule, guarded)
    # `monthly_remaining` is what is left after the payment when allowed, before it when
    # refused (rulesets.capped_payment); compare like with like.
    rule_left = _inf(rule.monthly_remaining_fen)
    if rule.allowed and not guarded.allowed:
        rule_left += amount
    assert _inf(guarded.monthly_remaining_fen) <= rule_left, (rule, guarded)
    if guarded.allowed:
        assert _inf(guarded.single_cap_fen) <= _inf(rule.single_cap_fen), (rule, guarded)
        assert guarded.monthly_remaining_fen is None or guarded.monthly_remaining_fen >= 0
        if rule.reason is not Reason.adult:
            assert not limits.banned
            if limits.single_cap_fen is not None:
                assert amount <= limits.single_cap_fen
            if limits.monthly_cap_fen is not None:
                assert spent + amount <= limits.monthly_cap_fen


@settings(max_examples=200, deadline=None)
@given(
    at=instants,
    age=minor_ages,
    amounts=st.lists(st.integers(1, 10_000), min_size=1, max_size=20),
    limits=limits_strategy,
)
def test_a_month_of_payments_stays_under_both_caps(at, age, amounts, limits) -> None:
    """Pay as long as allowed; the total stays under the rule's and the guardian's caps."""
    birth = local_day(at) - age
    sets = [get("nppa-2019")]
    spent = 0
    for amount in amounts:
        rule = evaluate_payment(sets, PayRequest(at, birth, amount, spent))
        if apply_payment(rule, limits, amount, spent).allowed:
            spent += amount
    rule_cap = evaluate_payment(sets, PayRequest(at, birth, 1, 0)).monthly_cap_fen or 0
    assert spent <= rule_cap
    if limits.monthly_cap_fen is not None:
        assert spent <= limits.monthly_cap_fen
    if limits.banned:
        assert spent == 0


# ---------------------------------------------------------------- examples

FRIDAY_EVENING = datetime(2026, 12, 4, 20, 30, tzinfo=SHANGHAI)
CHILD = date(2012, 3, 1)


def _friday_decision(used: int = 0) -> Decision:
    return get("nppa-2021").decide(PlayRequest(FRIDAY_EVENING, CHILD, used))


def test_no_limits_and_adults_pass_through() -> None:
    d = _friday_decision()
    assert apply_play(d, None, FRIDAY_EVENING, 0) is d
    adult = get("nppa-2021").decide(PlayRequest(FRIDAY_EVENING, date(1990, 1, 1)))
    assert apply_play(adult, GuardianLimits(banned=True), FRIDAY_EVENING, 0) is adult


def test_ban_refuses_play_and_payment() -> None:
    d = apply_play(_friday_decision(), GuardianLimits(banned=True), FRIDAY_EVENING, 0)
    assert (d.allowed, d.reason, d.remaining_seconds) == (False, Reason.guardian_ban, 0)
    assert d.reason.message_zh == "监护人已设置禁止使用。"
    refused = _friday_decision(used=3600)
    d = apply_play(refused, GuardianLimits(banned=True), FRIDAY_EVENING, 3600)
    assert d.reason is Reason.daily_limit_reached and d.next_allowed_at is None
    pay = PaymentDecision(True, Reason.within_limits, "nppa-2021", 5000, 20000, 15000)
    p = apply_payment(pay, GuardianLimits(banned=True), 100, 0)
    assert (p.allowed, p.reason) == (False, Reason.guardian_ban)


def test_window_and_daily_cap() -> None:
    limits = GuardianLimits(windows=(("20:00", "20:40"),))
    d = apply_play(_friday_decision(), limits, FRIDAY_EVENING, 0)
    assert (d.allowed, d.remaining_seconds) == (True, 600)
    limits = GuardianLimits(windows=(("21:00", "22:00"),))
    d = apply_play(_friday_decision(), limits, FRIDAY_EVENING, 0)
    assert (d.allowed, d.reason) == (False, Reason.guardian_window)
    assert d.next_allowed_at == datetime(2026, 12, 4, 21, tzinfo=SHANGHAI)
    d = apply_play(_friday_decision(300), GuardianLimits(daily_cap_s=600), FRIDAY_EVENING, 300)
    assert (d.allowed, d.remaining_seconds) == (True, 300)
    d = apply_play(_friday_decision(600), GuardianLimits(daily_cap_s=600), FRIDAY_EVENING, 600)
    assert (d.allowed, d.reason) == (False, Reason.guardian_daily_limit)


def test_payment_caps() -> None:
    rule = PaymentDecision(True, Reason.within_limits, "nppa-2021", 5000, 20000, 15000)
    # Rule: ¥50 paid of a ¥200 month with ¥150 left after it (¥0 spent before).
    p = apply_payment(rule, GuardianLimits(single_cap_fen=3000), 5000, 0)
    assert (p.allowed, p.reason, p.single_cap_fen) == (False, Reason.guardian_single_cap, 3000)
    p = apply_payment(rule, GuardianLimits(monthly_cap_fen=6000), 5000, 0)
    assert (p.allowed, p.monthly_remaining_fen) == (True, 1000)
    p = apply_payment(rule, GuardianLimits(monthly_cap_fen=4000), 5000, 0)
    assert (p.allowed, p.reason) == (False, Reason.guardian_monthly_cap)


def test_a_guardian_refusal_reports_what_is_left_before_the_payment() -> None:
    """Like the rules' refusals, a guardian's refusal reports the month's remaining *before*
    the refused payment — which can be more than the rule's allowed answer reports (after it).
    """
    at = datetime(2020, 10, 9, 12, tzinfo=SHANGHAI)
    rule = evaluate_payment([get("nppa-2019")], PayRequest(at, date(2010, 1, 1), 1, 0))
    assert (rule.allowed, rule.monthly_remaining_fen) == (True, 19_999)
    p = apply_payment(rule, GuardianLimits(single_cap_fen=0), 1, 0)
    assert (p.allowed, p.reason, p.monthly_remaining_fen) == (
        False,
        Reason.guardian_single_cap,
        20_000,
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"windows": tuple(("08:00", "09:00") for _ in range(MAX_WINDOWS + 1))},
        {"windows": (("10:00", "09:00"),)},
        {"windows": (("10:00", "10:00"),)},
        {"windows": (("24:00", "24:00"),)},
        {"windows": (("25:00", "26:00"),)},
        {"windows": (("8h", "9h"),)},
        {"windows": (("08:00:00", "09:00"),)},
        {"daily_cap_s": -1},
        {"daily_cap_s": 86_401},
        {"single_cap_fen": -1},
        {"single_cap_fen": 100_000_001},
        {"monthly_cap_fen": -1},
        {"monthly_cap_fen": 10_000_000_001},
    ],
)
def test_invalid_limits(kwargs) -> None:
    with pytest.raises(GuardianLimitError) as err:
        GuardianLimits(**kwargs)
    assert err.value.message_zh
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err.value.message_zh)


def test_limit_bounds_are_inclusive() -> None:
    GuardianLimits(
        windows=tuple(("00:00", "24:00") for _ in range(MAX_WINDOWS)),
        daily_cap_s=86_400,
        single_cap_fen=100_000_000,
        monthly_cap_fen=10_000_000_000,
    )
    GuardianLimits(daily_cap_s=0, single_cap_fen=0, monthly_cap_fen=0, windows=())


def test_from_dict_round_trip_and_unknown_keys() -> None:
    limits = GuardianLimits(
        banned=False,
        windows=(("19:00", "21:00"), ("07:00", "07:30")),
        daily_cap_s=3600,
        single_cap_fen=1000,
        monthly_cap_fen=5000,
    )
    assert GuardianLimits.from_dict(limits.as_dict()) == limits
    assert GuardianLimits.from_dict({}) == GuardianLimits()
    with pytest.raises(GuardianLimitError) as err:
        GuardianLimits.from_dict({"banned": True, "allow_everything": True})
    assert "allow_everything" in str(err.value)
    assert err.value.message_zh == "包含未知的监护设置项。"
    with pytest.raises(GuardianLimitError):
        GuardianLimits.from_dict({"windows": [["22:00", "21:00"]]})


@pytest.mark.parametrize("seconds", [MIN_UNLOCK_S, 30 * 60, MAX_UNLOCK_S])
def test_unlock_within_bounds(seconds: int) -> None:
    assert validate_unlock(seconds) == seconds


@pytest.mark.parametrize("seconds", [-1, 0, MIN_UNLOCK_S - 1, MAX_UNLOCK_S + 1, 86_400])
def test_unlock_out_of_bounds(seconds: int) -> None:
    with pytest.raises(GuardianLimitError) as err:
        validate_unlock(seconds)
    assert err.value.message_zh == "临时解锁时长须在15分钟至2小时之间。"


def test_unlock_lifts_only_the_guardians_limits() -> None:
    until = FRIDAY_EVENING + timedelta(minutes=20)
    d = apply_play(_friday_decision(), GuardianLimits(banned=True), FRIDAY_EVENING, 0, until)
    assert (d.allowed, d.remaining_seconds, d.next_allowed_at) == (True, 1200, None)
    until = FRIDAY_EVENING + timedelta(hours=2)
    d = apply_play(_friday_decision(), GuardianLimits(banned=True), FRIDAY_EVENING, 0, until)
    assert (d.allowed, d.remaining_seconds) == (True, 1800)  # the rule's end, not the unlock's
    refused = _friday_decision(used=3600)
    d = apply_play(refused, GuardianLimits(), FRIDAY_EVENING, 3600, until)
    assert not d.allowed
