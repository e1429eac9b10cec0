"""Campaign statistics (统计): rate definitions, counter folding and trend buckets — pure values.

The database layer (`qinglang.services.statistics`) runs a few grouped queries and hands the
rows to the functions here; nothing in this module reads a clock or a database. Definitions
(docs/statistics.md):

- 发现率 (discovery rate): cases first found by the regulators' own patrols or by the
  platforms' self-reports (source `patrol` or `self_report`) ÷ all cases in scope — the share
  of problems not left to the public to find (notice 000 asks to "提高发现率");
- 处置率 (handling rate): cases disposed — that reached rectification or beyond (state
  `rectifying`, `rechecking`, `closed` or `transferred`) ÷ cases accepted (all cases in
  scope except those still a `lead` and those `dismissed`);
- overdue rectification: a case `rectifying` whose deadline (a China calendar day) lies
  before today's China calendar day;
- counters (data/counters.toml, in the words of seed 003) add approved dispositions up by
  their `measure`: `sum` of the parameter fed, `distinct_subjects` (a case without a ledger
  subject counts as a subject of its own), `distinct_cases`.

A rate is None when its denominator is 0: "no data" is not "0 %".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from qinglang.govern.campaigns import CampaignPlan
from qinglang.govern.dispositions import Counter, ParamKind, counters, registered
from qinglang.govern.identifiers import NATIONAL_DIVISION, DivisionLevel, division_level, provinces

DISCOVERY_SOURCES = ("patrol", "self_report")
DISPOSED_STATES = ("rectifying", "rechecking", "closed", "transferred")
NOT_ACCEPTED_STATES = ("lead", "dismissed")
ENDED_STATES = ("closed", "dismissed", "transferred")
WEEK_AFTER_DAYS = 62  # a longer period is bucketed by ISO week, a shorter one by day
OVERDUE_LIST = 20


# ---------------------------------------------------------------- rates


def rate(numerator: int, denominator: int) -> float | None:
    """numerator ÷ denominator, or None when there is nothing to divide by."""
    if denominator <= 0:
        return None
    return numerator / denominator


def discovery_basis(by_source: Mapping[str | None, int]) -> tuple[int, int]:
    """(cases found by patrol or self-report, all cases) for the 发现率."""
    found = sum(n for source, n in by_source.items() if source in DISCOVERY_SOURCES)
    return found, sum(by_source.values())


def handling_basis(by_state: Mapping[str, int]) -> tuple[int, int]:
    """(cases rectifying or beyond, cases accepted) for the 处置率."""
    disposed = sum(n for state, n in by_state.items() if state in DISPOSED_STATES)
    accepted = sum(n for state, n in by_state.items() if state not in NOT_ACCEPTED_STATES)
    return disposed, accepted


def percent(value: float | None, digits: int = 1) -> str:
    """ "62.5%" for 0.625, "—" (no data) for None."""
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def is_overdue(state: str, deadline: date | None, today: date) -> bool:
    return state == "rectifying" and deadline is not None and deadline < today


# ---------------------------------------------------------------- regions


def region_level(scope: str) -> int:
    """How many leading digits of a case's division name its region in a scope's figures:
    provinces (2) for a national scope, cities (4) for a province, the division itself (6)
    below that."""
    level = division_level(scope)
    if level is DivisionLevel.national:
        return 2
    if level is DivisionLevel.province:
        return 4
    return 6


def region_code(prefix: str) -> str:
    """The 6-digit code of a region prefix ("31" → "310000", "3101" → "310100")."""
    return prefix.ljust(6, "0")[:6]


def region_label(code: str) -> str:
    """A province's name, or a city's code after its province's name ("上海市 310100").

    City and county names are not in our data (provinces.toml holds provinces only)."""
    if code == NATIONAL_DIVISION:
        return "全国"
    province = provinces().get(code[:2])
    if province is None:
        return code
    if code.endswith("0000"):
        return province.name
    return f"{province.name} {code}"


# ---------------------------------------------------------------- stages and trend


def stage_index(plan: CampaignPlan, day: date) -> int:
    """The stage (1-based) a case created on `day` counts in: before the start counts in
    stage 1, after the last deadline in the last stage."""
    for stage in plan.stages:
        if day <= stage.deadline:
            return stage.n
    return plan.stages[-1].n


def by_stage(plan: CampaignPlan, created: Mapping[date, int]) -> dict[int, int]:
    out = {s.n: 0 for s in plan.stages}
    for day, n in created.items():
        out[stage_index(plan, day)] += n
    return out


def trend_unit(first: date, last: date) -> str:
    """ "week" when the period is longer than WEEK_AFTER_DAYS days, else "day"."""
    return "week" if (last - first).days + 1 > WEEK_AFTER_DAYS else "day"


def bucket_start(day: date, unit: str) -> date:
    """The day itself, or the Monday of its ISO week."""
    return day - timedelta(days=day.weekday()) if unit == "week" else day


@dataclass(frozen=True, slots=True)
class Bucket:
    start: date
    opened: int
    ended: int


def trend(
    opened: Mapping[date, int], ended: Mapping[date, int], first: date, last: date, unit: str
) -> list[Bucket]:
    """Every bucket from `first` to `last` (empty ones included), cases opened and ended in it.

    Days outside [first, last] are left out."""
    if last < first:
        return []
    step = timedelta(days=7 if unit == "week" else 1)
    o: dict[date, int] = defaultdict(int)
    e: dict[date, int] = defaultdict(int)
    for source, target in ((opened, o), (ended, e)):
        for day, n in source.items():
            if first <= day <= last:
                target[bucket_start(day, unit)] += n
    out = []
    start = bucket_start(first, unit)
    while start <= last:
        out.append(Bucket(start, o.get(start, 0), e.get(start, 0)))
        start += step
    return out


# ---------------------------------------------------------------- counters


@dataclass(frozen=True, slots=True)
class CounterFeed:
    """Which disposition kinds feed a counter, and the parameter summed (for `sum`)."""

    counter: Counter
    codes: tuple[str, ...]
    params: dict[str, str | None]  # disposition code → parameter name (None: count rows)
    money: bool  # the parameter is an amount in yuan (summed as Decimal)


def counter_feeds() -> list[CounterFeed]:
    """Every counter of data/counters.toml, in file order, with the dispositions feeding it."""
    codes: dict[str, list[str]] = defaultdict(list)
    params: dict[str, dict[str, str | None]] = defaultdict(dict)
    money: dict[str, bool] = defaultdict(bool)
    for code, kind in registered().items():
        kinds = {p.name: p.kind for p in kind.params}
        for feed in kind.feeds:
            codes[feed.counter].append(code)
            params[feed.counter][code] = feed.param
            if feed.param is not None and kinds.get(feed.param) is ParamKind.amount:
                money[feed.counter] = True
    return [
        CounterFeed(c, tuple(codes[c.code]), dict(params[c.code]), money[c.code])
        for c in counters().values()
    ]


def figure_value(feed: CounterFeed, raw: int | Decimal | None) -> int | Decimal:
    """The counter's value from its aggregate: money as Decimal yuan (the SQL sums fen)."""
    if raw is None:
        return Decimal("0.00") if feed.money else 0
    if feed.money:
        return (Decimal(int(raw)) / 100).quantize(Decimal("0.01"))
    return int(raw)


def fold(rows: Iterable[Sequence[Any]], key: int, weight: int = -1) -> dict[Any, int]:
    """Sum the count column (`weight`, default the last) of grouped rows by column `key`."""
    out: dict[Any, int] = defaultdict(int)
    for row in rows:
        out[row[key]] += int(row[weight])
    return dict(out)


def ranked(counts: Mapping[str, int], order: Sequence[str] | None = None) -> list[tuple[str, int]]:
    """(code, n) pairs: in `order` with zeros kept, or by n descending (zeros dropped)."""
    if order is not None:
        return [(code, counts.get(code, 0)) for code in order] + sorted(
            ((c, n) for c, n in counts.items() if c not in order and n),
            key=lambda cn: (-cn[1], cn[0]),
        )
    return sorted(((c, n) for c, n in counts.items() if n), key=lambda cn: (-cn[1], cn[0]))
