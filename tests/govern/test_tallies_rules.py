"""What one case adds to the statistics tallies, and what a change of it moves (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from qinglang.govern.statistics import counter_feeds
from qinglang.govern.tallies import (
    ALL_REGIONS,
    Approved,
    CaseFacts,
    change,
    contribution,
    counter_raw,
    kind_measures,
    region_of,
)

AT = datetime(2020, 9, 1, 17, 30, tzinfo=UTC)  # 2 September 01:30 in China
CASE = CaseFacts(
    id=7,
    campaign_id=3,
    campaign_task="2",
    jurisdiction="310105",
    primary_ground="gambling",
    state="lead",
    lead_department="police",
    source=None,
    subject_id=None,
    created_at=AT,
    updated_at=AT,
)


def test_a_new_case_adds_one_to_each_dimension_in_its_city() -> None:
    d = contribution(CASE)
    assert d.cases == {
        (3, "310100", "ground", "gambling"): 1,
        (3, "310100", "state", "lead"): 1,
        (3, "310100", "department", "police"): 1,
        (3, "310100", "source", ""): 1,
        (3, "310100", "task", "2"): 1,
        (3, "310100", "created", "2020-09-02"): 1,  # the China day
    }
    assert not d.dispositions and not d.members
    assert region_of("100000") == "100000" and region_of("310000") == "310000"
    no_campaign = contribution(replace(CASE, campaign_id=None, campaign_task=None))
    assert (0, "310100", "task", "") in no_campaign.cases


def test_a_transition_moves_the_state_and_an_ending_adds_its_day() -> None:
    later = datetime(2020, 9, 10, 3, 0, tzinfo=UTC)
    moved = change(CASE, [], replace(CASE, state="opened", updated_at=later), [])
    assert moved.cases == {(3, "310100", "state", "lead"): -1, (3, "310100", "state", "opened"): 1}
    ended = change(CASE, [], replace(CASE, state="dismissed", updated_at=later), [])
    assert ended.cases[(3, "310100", "ended", "2020-09-10")] == 1
    rectifying = replace(CASE, state="rectifying", deadline=date(2020, 9, 30))
    assert contribution(rectifying).cases[(3, "310100", "due", "2020-09-30")] == 1
    assert change(CASE, [], CASE, []).pruned().cases == {}


def test_approved_dispositions_add_sums_in_fen_and_members_at_two_levels() -> None:
    case = replace(CASE, subject_id=12)
    approved = [
        Approved("penalty", {"amount": "5000.05"}),
        Approved("penalty", {"amount": "0.1"}),
        Approved("close_accounts", {"count": 40}),
        Approved("interview", {}),
        Approved("interview", {}),
    ]
    d = contribution(case, approved)
    assert d.dispositions[(3, "310100", "penalty")] == (2, 0, 500015)
    assert d.dispositions[(3, "310100", "close_accounts")] == (1, 40, 0)
    # The same site interviewed twice: one member, held by two dispositions.
    assert d.members[(3, "310000", "sites_interviewed", "s12")] == 2
    assert d.members[(3, ALL_REGIONS, "sites_interviewed", "s12")] == 2
    # A penalty counts cases, not subjects.
    assert d.members[(3, ALL_REGIONS, "penalties_imposed", "c7")] == 2
    # Without a ledger subject the case is its own subject.
    alone = contribution(CASE, [Approved("interview", {})])
    assert (3, ALL_REGIONS, "sites_interviewed", "c7") in alone.members


def test_moving_a_case_moves_everything_it_adds() -> None:
    approved = [Approved("warning", {})]
    d = change(CASE, approved, replace(CASE, campaign_id=4, campaign_task="1"), approved)
    assert d.cases[(3, "310100", "state", "lead")] == -1
    assert d.cases[(4, "310100", "state", "lead")] == 1
    assert d.dispositions == {
        (3, "310100", "warning"): (-1, 0, 0),
        (4, "310100", "warning"): (1, 0, 0),
    }
    assert d.members[(3, ALL_REGIONS, "sites_warned", "c7")] == -1


def test_counters_read_back_as_the_scan_computes_them() -> None:
    measures = kind_measures()
    assert measures["penalty"].amount_param == "amount"
    assert measures["close_accounts"].count_param == "count"
    assert measures["suspend_updates"].count_param is None  # its days feed no sum
    feeds = {f.counter.code: f for f in counter_feeds()}
    per_kind = {"penalty": (2, 0, 500015), "close_accounts": (1, 40, 0)}
    assert counter_raw(feeds["fines_yuan"], per_kind, {}) == 500015
    assert counter_raw(feeds["accounts_handled"], per_kind, {}) == 40
    assert counter_raw(feeds["sites_interviewed"], per_kind, {"sites_interviewed": 3}) == 3
