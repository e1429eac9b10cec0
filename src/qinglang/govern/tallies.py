"""Statistics tallies (统计计数): what one case adds to the running counts — pure values.

The dashboard needs only one-dimensional counts per scope (cases by category, state, lead
department, source, task, day created, day ended and region; approved dispositions by kind and
the counters they feed). Instead of a pass over every case, `qinglang.services.tallies` keeps
those counts per (campaign, city) in three tables and adds each case's *contribution* when it
is written. This module says what a contribution is:

- a case adds 1 to one `case_tallies` row per dimension (`DIMENSIONS`): key (campaign id, 0 for
  none; region, the case's city `XXXX00`; dimension; value, '' for a null). `ended` is the
  China day a case was closed, dismissed or transferred (its last change: a terminal case does
  not change again), and only ended cases have it; `due` is the rectification deadline of a
  case in state `rectifying` (so the overdue count is a sum over the days before today);
- each approved disposition adds (1, its count, its amount in fen) to its kind's
  `disposition_tallies` row, and puts its subject (`s<id>`, or `c<case id>` for a case without
  a ledger subject) or its case (`c<case id>`) in each `distinct_*` counter it feeds
  (`disposition_distinct`, counted while at least one approved disposition puts it there).
  Members are kept per province (`XX0000`) and for the whole country (`ALL_REGIONS`), the two
  levels the tallies answer: a national count is then the number of rows, not a
  `COUNT(DISTINCT …)` over every region.

A change of a case is its old contribution taken away and its new one added (`change`): only
the rows whose count moves are left. Money is summed in whole fen, exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from qinglang.govern.clock import shanghai_date
from qinglang.govern.statistics import ENDED_STATES, CounterFeed, counter_feeds

NO_CAMPAIGN = 0  # campaign_id of the cases filed under no campaign
DIMENSIONS = ("ground", "state", "department", "source", "task", "created", "ended", "due")
ALL_REGIONS = "*"  # disposition_distinct's region for the members of the whole country
DISTINCT_MEASURES = ("distinct_subjects", "distinct_cases")

CaseKey = tuple[int, str, str, str]  # (campaign id, region, dimension, value)
DispositionKey = tuple[int, str, str]  # (campaign id, region, disposition code)
MemberKey = tuple[int, str, str, str]  # (campaign id, province or ALL_REGIONS, counter, member)
Sums = tuple[int, int, int]  # (dispositions, count parameter summed, amount in fen summed)


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """The columns of a case its contribution depends on."""

    id: int
    campaign_id: int | None
    campaign_task: str | None
    jurisdiction: str
    primary_ground: str
    state: str
    lead_department: str
    source: str | None
    subject_id: int | None
    created_at: datetime
    updated_at: datetime
    deadline: date | None = None  # of the rectification, when ordered


@dataclass(frozen=True, slots=True)
class Approved:
    """An approved disposition: its kind and its JSON-native parameters (as stored)."""

    code: str
    params: Mapping[str, Any]


@dataclass(slots=True)
class Deltas:
    """Signed changes to the three tallies, by key (zeros dropped by `pruned`)."""

    cases: dict[CaseKey, int] = field(default_factory=dict)
    dispositions: dict[DispositionKey, Sums] = field(default_factory=dict)
    members: dict[MemberKey, int] = field(default_factory=dict)

    def add(self, other: Deltas, sign: int = 1) -> None:
        for key, n in other.cases.items():
            self.cases[key] = self.cases.get(key, 0) + sign * n
        for key, (n, c, a) in other.dispositions.items():
            n0, c0, a0 = self.dispositions.get(key, (0, 0, 0))
            self.dispositions[key] = (n0 + sign * n, c0 + sign * c, a0 + sign * a)
        for key, n in other.members.items():
            self.members[key] = self.members.get(key, 0) + sign * n

    def pruned(self) -> Deltas:
        return Deltas(
            {k: n for k, n in self.cases.items() if n},
            {k: s for k, s in self.dispositions.items() if any(s)},
            {k: n for k, n in self.members.items() if n},
        )

    def __bool__(self) -> bool:
        return bool(self.cases or self.dispositions or self.members)


# ---------------------------------------------------------------- keys


def region_of(jurisdiction: str) -> str:
    """The city a division lies in (`XXXX00`): the tallies' finest region."""
    return jurisdiction[:4] + "00"


def province_of(jurisdiction: str) -> str:
    """The province a division lies in (`XX0000`; the nation's code stays as it is)."""
    return jurisdiction[:2] + "0000"


def china_day(at: datetime) -> str:
    """The China calendar day of an aware time, as ISO text (the tallies' day values)."""
    return shanghai_date(at).isoformat()


def parse_day(value: str) -> date:
    return date.fromisoformat(value)


def dimension_values(facts: CaseFacts) -> dict[str, str]:
    """The case's value in each dimension it has ('' for a null; no `ended` while open)."""
    out = {
        "ground": facts.primary_ground,
        "state": facts.state,
        "department": facts.lead_department,
        "source": facts.source or "",
        "task": facts.campaign_task or "",
        "created": china_day(facts.created_at),
    }
    if facts.state in ENDED_STATES:
        out["ended"] = china_day(facts.updated_at)
    if facts.state == "rectifying" and facts.deadline is not None:
        out["due"] = facts.deadline.isoformat()
    return out


# ---------------------------------------------------------------- what dispositions add


@dataclass(frozen=True, slots=True)
class KindMeasure:
    """What an approved disposition of one kind adds: the parameter summed as a count, the
    one summed as money, and the `distinct_*` counters it feeds with their measure."""

    count_param: str | None
    amount_param: str | None
    distinct: tuple[tuple[str, str], ...]  # (counter code, measure)


@cache
def kind_measures() -> dict[str, KindMeasure]:
    """Every disposition kind's measure, from the counters it feeds (`counter_feeds`).

    A kind may feed one counted parameter and one amount: more would not fit the columns of
    `disposition_tallies` (a ValueError says so when a kind is registered that way)."""
    count: dict[str, str] = {}
    amount: dict[str, str] = {}
    distinct: dict[str, list[tuple[str, str]]] = {}
    for feed in counter_feeds():
        measure = feed.counter.measure
        for code in feed.codes:
            if measure in DISTINCT_MEASURES:
                distinct.setdefault(code, []).append((feed.counter.code, measure))
                continue
            param = feed.params.get(code)
            if param is None:
                continue  # counts the dispositions themselves
            target = amount if feed.money else count
            if target.get(code, param) != param:
                raise ValueError(f"disposition {code!r} sums two parameters of one kind")
            target[code] = param
    codes = set(count) | set(amount) | set(distinct)
    return {c: KindMeasure(count.get(c), amount.get(c), tuple(distinct.get(c, ()))) for c in codes}


def _fen(value: Any) -> int:
    return int((Decimal(str(value)) * 100).to_integral_value())


def disposition_sums(approved: Approved) -> Sums:
    measure = kind_measures().get(approved.code)
    if measure is None:
        return (1, 0, 0)
    count = approved.params.get(measure.count_param) if measure.count_param else None
    amount = approved.params.get(measure.amount_param) if measure.amount_param else None
    return (
        1,
        int(count) if count is not None else 0,
        _fen(amount) if amount is not None else 0,
    )


def member_of(facts: CaseFacts, measure: str) -> str:
    """Who a `distinct_*` counter counts for this case: its subject or the case itself."""
    if measure == "distinct_subjects" and facts.subject_id is not None:
        return f"s{facts.subject_id}"
    return f"c{facts.id}"


# ---------------------------------------------------------------- contributions


def contribution(facts: CaseFacts, approved: Iterable[Approved] = ()) -> Deltas:
    """The rows one case (with its approved dispositions) adds to the tallies."""
    campaign = facts.campaign_id if facts.campaign_id is not None else NO_CAMPAIGN
    region = region_of(facts.jurisdiction)
    levels = (province_of(facts.jurisdiction), ALL_REGIONS)
    out = Deltas()
    for dimension, value in dimension_values(facts).items():
        out.cases[(campaign, region, dimension, value)] = 1
    measures = kind_measures()
    for d in approved:
        key = (campaign, region, d.code)
        n, c, a = out.dispositions.get(key, (0, 0, 0))
        dn, dc, da = disposition_sums(d)
        out.dispositions[key] = (n + dn, c + dc, a + da)
        measure = measures.get(d.code)
        for counter, how in measure.distinct if measure else ():
            for level in levels:
                mkey = (campaign, level, counter, member_of(facts, how))
                out.members[mkey] = out.members.get(mkey, 0) + 1
    return out


def change(
    old: CaseFacts | None,
    old_approved: Iterable[Approved],
    new: CaseFacts | None,
    new_approved: Iterable[Approved],
) -> Deltas:
    """The deltas that turn a case's old contribution into its new one (None: no case)."""
    out = Deltas()
    if new is not None:
        out.add(contribution(new, new_approved))
    if old is not None:
        out.add(contribution(old, old_approved), -1)
    return out.pruned()


# ---------------------------------------------------------------- reading


def counter_raw(feed: CounterFeed, per_kind: Mapping[str, Sums], members: Mapping[str, int]) -> int:
    """A counter's aggregate from the tallies, as the scan's SQL computes it: the number of
    distinct members, or the sum of what each feeding kind adds (fen for money)."""
    if feed.counter.measure in DISTINCT_MEASURES:
        return members.get(feed.counter.code, 0)
    total = 0
    for code in feed.codes:
        n, count, fen = per_kind.get(code, (0, 0, 0))
        if feed.params.get(code) is None:
            total += n
        elif feed.money:
            total += fen
        else:
            total += count
    return total
