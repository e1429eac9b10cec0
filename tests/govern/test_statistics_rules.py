"""The pure statistics rules: rates and their basis, trend buckets, stages, regions, counters."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from qinglang.govern import statistics as rules
from qinglang.govern.campaigns import instantiate
from qinglang.govern.dispositions import counters

PLAN = instantiate("national-2020")  # 07-15 .. 08-31 | .. 11-30 | .. 12-31


def test_rates_and_their_basis() -> None:
    assert rules.rate(3, 4) == 0.75
    assert rules.rate(0, 0) is None and rules.rate(5, 0) is None
    by_source = {"patrol": 2, "self_report": 1, "public_tip": 6, "handoff": 1, None: 2}
    assert rules.discovery_basis(by_source) == (3, 12)
    by_state = {
        "lead": 4, "opened": 1, "assessing": 1, "disposing": 1, "rectifying": 2,
        "rechecking": 1, "closed": 3, "dismissed": 5, "transferred": 1,
    }  # fmt: skip
    # disposed: rectifying 2 + rechecking 1 + closed 3 + transferred 1; accepted: all but
    # lead (4) and dismissed (5).
    assert rules.handling_basis(by_state) == (7, 10)
    assert rules.percent(2 / 3) == "66.7%" and rules.percent(None) == "—"


def test_overdue_means_rectifying_past_a_china_day() -> None:
    today = date(2020, 10, 10)
    assert rules.is_overdue("rectifying", date(2020, 10, 9), today)
    assert not rules.is_overdue("rectifying", today, today)  # due today is not late yet
    assert not rules.is_overdue("rechecking", date(2020, 10, 1), today)
    assert not rules.is_overdue("rectifying", None, today)


def test_stage_of_a_day() -> None:
    assert rules.stage_index(PLAN, date(2020, 7, 1)) == 1  # before the start: stage 1
    assert rules.stage_index(PLAN, date(2020, 8, 31)) == 1
    assert rules.stage_index(PLAN, date(2020, 9, 1)) == 2
    assert rules.stage_index(PLAN, date(2020, 12, 31)) == 3
    assert rules.stage_index(PLAN, date(2021, 3, 1)) == 3  # after the end: the last
    created = {date(2020, 7, 1): 2, date(2020, 9, 1): 3, date(2021, 1, 2): 1}
    assert rules.by_stage(PLAN, created) == {1: 2, 2: 3, 3: 1}


def test_regions() -> None:
    assert [rules.region_level(d) for d in ("100000", "310000", "310100", "310115")] == [
        2, 4, 6, 6
    ]  # fmt: skip
    assert rules.region_code("31") == "310000" and rules.region_code("3101") == "310100"
    assert rules.region_label("310000") == "上海市"
    assert rules.region_label("410100") == "河南省 410100"
    assert rules.region_label("100000") == "全国"


def test_trend_unit_and_buckets() -> None:
    start = date(2020, 7, 15)
    assert rules.trend_unit(start, start + timedelta(days=61)) == "day"  # 62 days
    assert rules.trend_unit(start, start + timedelta(days=62)) == "week"  # 63 days
    assert rules.bucket_start(date(2020, 7, 15), "week") == date(2020, 7, 13)  # a Wednesday
    opened = {date(2020, 7, 15): 2, date(2020, 7, 19): 1, date(2020, 7, 20): 4}
    ended = {date(2020, 7, 20): 1, date(2020, 9, 1): 9}  # outside: left out
    weeks = rules.trend(opened, ended, start, date(2020, 8, 2), "week")
    assert [(b.start, b.opened, b.ended) for b in weeks] == [
        (date(2020, 7, 13), 3, 0), (date(2020, 7, 20), 4, 1), (date(2020, 7, 27), 0, 0)
    ]  # fmt: skip
    days = rules.trend(opened, {}, start, date(2020, 7, 17), "day")
    assert [(b.start, b.opened) for b in days] == [
        (date(2020, 7, 15), 2), (date(2020, 7, 16), 0), (date(2020, 7, 17), 0)
    ]  # fmt: skip
    assert rules.trend(opened, ended, date(2020, 8, 1), date(2020, 7, 1), "day") == []


@given(
    st.dictionaries(
        st.dates(date(2020, 1, 1), date(2020, 12, 31)), st.integers(0, 1000), max_size=40
    ),
    st.sampled_from(["day", "week"]),
)
def test_trend_keeps_every_case_in_the_period(opened: dict[date, int], unit: str) -> None:
    first, last = date(2020, 1, 1), date(2020, 12, 31)
    buckets = rules.trend(opened, {}, first, last, unit)
    assert sum(b.opened for b in buckets) == sum(opened.values())
    assert [b.start for b in buckets] == sorted({b.start for b in buckets})


def test_counter_feeds_follow_the_dispositions() -> None:
    feeds = {f.counter.code: f for f in rules.counter_feeds()}
    assert list(feeds) == list(counters())  # every counter, in file order
    assert set(feeds["sites_closed"].codes) == {"shutdown", "revoke_license"}
    assert feeds["accounts_handled"].params == {"close_accounts": "count"}
    assert feeds["fines_yuan"].money and not feeds["accounts_handled"].money
    assert feeds["penalties_imposed"].counter.measure == "distinct_cases"
    assert rules.figure_value(feeds["fines_yuan"], 500050) == Decimal("5000.50")
    assert rules.figure_value(feeds["fines_yuan"], None) == Decimal("0.00")
    assert rules.figure_value(feeds["accounts_handled"], Decimal("72000")) == 72000


def test_fold_and_rank() -> None:
    rows = [("gambling", "lead", 2), ("gambling", "closed", 3), ("porn_vulgar", "lead", 1)]
    assert rules.fold(rows, 0) == {"gambling": 5, "porn_vulgar": 1}
    assert rules.fold(rows, 1) == {"lead": 3, "closed": 3}
    assert rules.ranked({"b": 2, "a": 2, "c": 5, "z": 0}) == [("c", 5), ("a", 2), ("b", 2)]
    assert rules.ranked({"x": 1, "b": 4}, order=["a", "b"]) == [("a", 0), ("b", 4), ("x", 1)]
