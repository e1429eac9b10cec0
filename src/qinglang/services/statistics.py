"""Statistics (统计) of a campaign or a jurisdiction, read from the case records with a few
grouped queries (docs/statistics.md).

Scope: the caller must be a regulator. Campaign statistics count the cases filed under the
campaign (`cases.campaign_id`) that lie in the caller's jurisdiction — a city official sees a
national campaign's figures for their city only; jurisdiction statistics count the cases in
the caller's jurisdiction created in a period (China calendar days). Department does not
narrow the figures: they are aggregates, not case files.

The SQL is a handful of statements, each shaped for the indexes of the cases table:

1. cases grouped by (primary ground, state, lead department, source, task, region prefix);
2. cases grouped by (China day created, China day ended);
3. approved dispositions of the cases in scope: one row of conditional aggregates (a count per
   kind and one value per counter of data/counters.toml);
4. overdue rectifications (count and the oldest deadlines);
5. ledger subjects by kind and live publications in scope.

Everything else (rates, stages, trend buckets, names) is folded in Python by
`qinglang.govern.statistics`.

At scale the first three passes are too slow for a national scope (about 2 s over 10^6 cases),
so a campaign's figures — and a jurisdiction's without a period — are read from the tallies
kept as cases change (`qinglang.services.tallies`) when the figures' division is the nation or
a province: the tallies hold counts per city, so a province is a range of their region column.
Smaller scopes, and periods (a count by category cannot be cut by the day created), use the
scan above; both give the same `Statistics` (tests force each with `method`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Numeric,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from qinglang.govern import statistics as rules
from qinglang.govern import tallies as tally_rules
from qinglang.govern.campaigns import CampaignPlan
from qinglang.govern.cases import STATE_NAMES_ZH, State
from qinglang.govern.clock import SHANGHAI, require_aware, shanghai_date
from qinglang.govern.dispositions import registered as disposition_kinds
from qinglang.govern.identifiers import (
    NATIONAL_DIVISION,
    DivisionLevel,
    division_covers,
    division_level,
)
from qinglang.govern.intake import registered_sources
from qinglang.govern.ledger import registered as subject_kinds
from qinglang.services import campaigns, tallies
from qinglang.services.cases import within
from qinglang.services.errors import forbidden, invalid
from qinglang.services.principal import Principal
from qinglang.store.models import (
    Case,
    CaseDispositionRow,
    CaseTally,
    DispositionMember,
    DispositionTally,
    Publication,
    Subject,
)
from qinglang.taxonomy import get_taxonomy

MAX_PERIOD_DAYS = 3660  # a jurisdiction's statistics cover at most ten years
UNKNOWN = "（未知）"
METHODS = ("auto", "scan", "tallies")  # how the counts are read: see the module docstring


# ---------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class Count:
    code: str
    name: str  # in Chinese
    n: int


@dataclass(frozen=True, slots=True)
class Figure:
    """A counter of data/counters.toml: name and unit in the words of seed 003."""

    code: str
    name: str
    unit: str
    value: int | Decimal
    source: str


@dataclass(frozen=True, slots=True)
class TrendPoint:
    start: date  # the bucket's first day (a day, or the Monday of an ISO week)
    opened: int  # cases created in the bucket
    ended: int  # cases closed, dismissed or transferred in the bucket


@dataclass(frozen=True, slots=True)
class OverdueCase:
    id: int
    title: str
    deadline: date
    lead_department: str
    lead_department_name: str
    days_overdue: int


@dataclass(frozen=True, slots=True)
class Statistics:
    title: str
    campaign_id: int | None
    jurisdiction: str  # the division the figures cover
    start: date | None
    end: date | None
    as_of: datetime
    total_cases: int
    by_category: list[Count]
    by_state: list[Count]
    by_department: list[Count]
    by_stage: list[Count]
    by_region: list[Count]
    by_source: list[Count]
    by_task: list[Count]
    by_disposition: list[Count]
    figures: list[Figure]
    trend: list[TrendPoint]
    trend_unit: str  # "day" | "week"
    discovery_rate: float | None
    handling_rate: float | None
    discovery_rate_basis: tuple[int, int]
    handling_rate_basis: tuple[int, int]
    overdue_total: int
    overdue: list[OverdueCase]
    subjects: list[Count]
    typical_cases: int

    @property
    def dispositions_total(self) -> int:
        return sum(c.n for c in self.by_disposition)

    def figure(self, code: str) -> Figure:
        return next(f for f in self.figures if f.code == code)


# ---------------------------------------------------------------- scope


@dataclass(frozen=True, slots=True)
class _Tallied:
    """The scope as the tallies see it: one campaign (None: all of them, and no campaign) and
    a range of their region column (None: the whole country)."""

    campaign_id: int | None
    regions: tuple[str, str] | None


@dataclass(frozen=True, slots=True)
class _Scope:
    division: str  # where the figures lie
    clauses: tuple[ColumnElement[bool], ...]  # on Case
    campaign_id: int | None
    plan: CampaignPlan | None
    start: date | None
    end: date | None
    tallied: _Tallied | None = None  # None: the tallies cannot answer this scope


def _tallied(division: str, reader: str, campaign_id: int | None) -> _Tallied | None:
    """How the tallies answer figures for `division` read by someone in `reader`'s
    jurisdiction (None where they cannot: below a province, region counts by county)."""
    if division_level(division) not in (DivisionLevel.national, DivisionLevel.province):
        return None
    level = division_level(reader)
    if level is DivisionLevel.national:
        return _Tallied(campaign_id, None)
    if level is DivisionLevel.province:
        return _Tallied(campaign_id, (reader[:2] + "0000", reader[:2] + "9999"))
    return None


@dataclass(frozen=True, slots=True)
class _CaseCounts:
    """The cases in scope counted one dimension at a time."""

    by: dict[str, dict[Any, int]]  # ground, state, department, source, task, region → counts
    opened: dict[date, int]  # created per China day
    ended: dict[date, int]  # closed, dismissed or transferred per China day
    due: dict[date, int] | None = None  # rectifying cases per deadline (tallies only)


def _require_regulator(principal: Principal) -> None:
    if not principal.is_regulator:
        raise forbidden(
            "forbidden_role", "statistics are for regulators", "您的角色无权查看统计数据。"
        )


def _inner(a: str, b: str) -> str:
    """The smaller of two nested divisions (the caller's and the campaign's)."""
    return b if division_covers(a, b) else a


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), SHANGHAI)


# ---------------------------------------------------------------- SQL pieces


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


_CHINA_MIDNIGHT = datetime(2000, 1, 1, tzinfo=SHANGHAI)


def _china_day(session: Session, column: Any) -> Any:
    """The China calendar day of a time column, as cheap an expression as each backend has.

    PostgreSQL: `date_bin` to China midnights (twice as fast as a time zone conversion per
    row; China keeps UTC+8 all year); SQLite: the date of the UTC text plus eight hours."""
    if _is_pg(session):
        return func.date_bin(text("interval '1 day'"), column, _CHINA_MIDNIGHT)
    return func.date(column, "+8 hours")


def _as_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return shanghai_date(value)
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _tune(session: Session) -> None:
    """PostgreSQL: no JIT (it costs more than it saves on these short aggregations) and
    enough memory for the hash aggregates, for this read transaction only."""
    if _is_pg(session):
        session.connection().exec_driver_sql("SET LOCAL jit = off")
        session.connection().exec_driver_sql("SET LOCAL work_mem = '32MB'")


def _case_groups(session: Session, scope: _Scope) -> list[Any]:
    """(ground, state, department, source, task, region prefix, n) rows."""
    digits = rules.region_level(scope.division)
    region = Case.jurisdiction if digits == 6 else func.substr(Case.jurisdiction, 1, digits)
    cols = (
        Case.primary_ground,
        Case.state,
        Case.lead_department,
        Case.source,
        Case.campaign_task,
        region,
    )
    stmt = select(*cols, func.count()).where(*scope.clauses).group_by(*cols)
    return list(session.execute(stmt).all())


def _day_groups(session: Session, scope: _Scope) -> tuple[dict[date, int], dict[date, int]]:
    """Cases created per China day, and cases ended (closed, dismissed, transferred) per day."""
    created = _china_day(session, Case.created_at)
    ended = _china_day(
        session, case((Case.state.in_(rules.ENDED_STATES), Case.updated_at), else_=None)
    )
    rows = session.execute(
        select(created, ended, func.count()).where(*scope.clauses).group_by(created, ended)
    ).all()
    opened_by: dict[date, int] = defaultdict(int)
    ended_by: dict[date, int] = defaultdict(int)
    for c, e, n in rows:
        opened_by[_as_date(c)] += n  # type: ignore[index]
        if e is not None:
            ended_by[_as_date(e)] += n  # type: ignore[index]
    return dict(opened_by), dict(ended_by)


def _disposition_figures(
    session: Session, scope: _Scope
) -> tuple[dict[str, int], dict[str, int | Decimal]]:
    """Approved dispositions in scope: how many of each kind, and each counter's value."""
    code = CaseDispositionRow.code
    kinds = list(disposition_kinds())
    cols: list[Any] = [func.count(case((code == k, 1))) for k in kinds]
    feeds = rules.counter_feeds()
    subject_key = func.coalesce(Case.subject_id, -Case.id)
    for feed in feeds:
        if not feed.codes:
            cols.append(literal(0))  # nothing feeds it
            continue
        fed = code.in_(feed.codes)
        measure = feed.counter.measure
        if measure == "distinct_subjects":
            cols.append(func.count(func.distinct(case((fed, subject_key)))))
        elif measure == "distinct_cases":
            cols.append(func.count(func.distinct(case((fed, Case.id)))))
        else:
            whens = []
            for k, param in feed.params.items():
                if param is None:
                    value: Any = 1
                elif feed.money:  # yuan as text: sum fen exactly
                    value = func.round(
                        cast(CaseDispositionRow.params[param].as_string(), Numeric(16, 2)) * 100
                    )
                else:
                    value = cast(CaseDispositionRow.params[param].as_string(), BigInteger)
                whens.append((code == k, value))
            cols.append(func.sum(case(*whens, else_=None)))
    row = session.execute(
        select(*cols)
        .select_from(CaseDispositionRow)
        .join(Case, Case.id == CaseDispositionRow.case_id)
        .where(CaseDispositionRow.status == "approved", *scope.clauses)
    ).one()
    per_kind = {k: int(row[i] or 0) for i, k in enumerate(kinds)}
    values: dict[str, int | Decimal] = {}
    for i, feed in enumerate(feeds):
        raw = row[len(kinds) + i]
        if isinstance(raw, float):
            raw = round(raw)
        values[feed.counter.code] = rules.figure_value(feed, raw)
    return per_kind, values


def _scanned(session: Session, scope: _Scope) -> _CaseCounts:
    groups = _case_groups(session, scope)
    opened, ended = _day_groups(session, scope)
    by = {name: rules.fold(groups, i) for i, name in enumerate(_GROUPED)}
    by["region"] = {rules.region_code(str(p)): n for p, n in by["region"].items()}
    return _CaseCounts(by, opened, ended)


_GROUPED = ("ground", "state", "department", "source", "task", "region")  # _case_groups' order


def _where(model: Any, tallied: _Tallied) -> list[ColumnElement[bool]]:
    out = []
    if tallied.campaign_id is not None:
        out.append(model.campaign_id == tallied.campaign_id)
    if tallied.regions is not None:
        out.append(model.region.between(*tallied.regions))
    return out


def _tallied_cases(session: Session, scope: _Scope, tallied: _Tallied) -> _CaseCounts:
    """The same counts from `case_tallies`: every dimension's values, and the regions (from
    the `state` rows, each case's one) cut to the scope's region level."""
    t = CaseTally
    where = _where(t, tallied)
    region = func.substr(t.region, 1, rules.region_level(scope.division))
    dims = select(t.dimension, t.value, func.sum(t.n)).where(*where).group_by(t.dimension, t.value)
    regions = (
        select(literal("region"), region, func.sum(t.n))
        .where(*where, t.dimension == "state")
        .group_by(region)
    )
    by: dict[str, dict[Any, int]] = {name: {} for name in _GROUPED}
    days: dict[str, dict[date, int]] = {"created": {}, "ended": {}, "due": {}}
    for dimension, value, total in session.execute(union_all(dims, regions)).all():
        n = int(total or 0)
        if not n:
            continue  # rows left at 0
        if dimension in days:
            days[dimension][tally_rules.parse_day(value)] = n
        elif dimension == "region":
            by["region"][rules.region_code(str(value))] = n
        else:
            by[dimension][value or None] = n
    return _CaseCounts(by, days["created"], days["ended"], days["due"])


def _tallied_dispositions(
    session: Session, tallied: _Tallied
) -> tuple[dict[str, int], dict[str, int | Decimal]]:
    d, m = DispositionTally, DispositionMember
    sums = {
        code: (int(n or 0), int(c or 0), int(a or 0))
        for code, n, c, a in session.execute(
            select(d.code, func.sum(d.n), func.sum(d.count_sum), func.sum(d.amount_fen))
            .where(*_where(d, tallied))
            .group_by(d.code)
        ).all()
    }
    # Members are kept per province and for the whole country: one campaign's count is the
    # number of rows; across campaigns a member may repeat.
    level = tally_rules.ALL_REGIONS if tallied.regions is None else tallied.regions[0]
    count = func.count() if tallied.campaign_id is not None else func.count(m.member.distinct())
    where = [m.region == level]  # rows at 0 are deleted as they reach it
    if tallied.campaign_id is not None:
        where.append(m.campaign_id == tallied.campaign_id)
    members = {
        counter: int(n)
        for counter, n in session.execute(
            select(m.counter, count).where(*where).group_by(m.counter)
        ).all()
    }
    per_kind = {k: sums.get(k, (0, 0, 0))[0] for k in disposition_kinds()}
    values = {
        f.counter.code: rules.figure_value(f, tally_rules.counter_raw(f, sums, members))
        for f in rules.counter_feeds()
    }
    return per_kind, values


def _overdue(
    session: Session, scope: _Scope, today: date, due: dict[date, int] | None = None
) -> tuple[int, list[OverdueCase]]:
    """How many rectifications are overdue (counted from `due`, rectifying cases per deadline,
    when the tallies gave it), and the oldest deadlines."""
    late = and_(Case.state == State.rectifying.value, Case.deadline < today, *scope.clauses)
    if due is not None:
        total = sum(n for deadline, n in due.items() if deadline < today)
    else:
        total = session.scalar(select(func.count()).select_from(Case).where(late)) or 0
    rows = session.execute(
        select(Case.id, Case.title, Case.deadline, Case.lead_department)
        .where(late)
        .order_by(Case.deadline, Case.id)
        .limit(rules.OVERDUE_LIST)
    ).all()
    names = _department_names()
    return total, [
        OverdueCase(
            r.id,
            r.title,
            r.deadline,
            r.lead_department,
            names.get(r.lead_department, r.lead_department),
            (today - r.deadline).days,
        )
        for r in rows
    ]


def _subject_counts(session: Session, division: str) -> list[Count]:
    stmt = select(Subject.kind, func.count()).where(Subject.active.is_(True))
    clause = within(Subject.region, division)
    if clause is not None:
        stmt = stmt.where(clause)
    counts = dict(session.execute(stmt.group_by(Subject.kind)).all())
    names = {code: k.name for code, k in subject_kinds().items()}
    return [Count(c, names.get(c, c), n) for c, n in rules.ranked(counts, list(names))]


def _publications(session: Session, scope: _Scope) -> int:
    stmt = select(func.count()).select_from(Publication).where(Publication.withdrawn_at.is_(None))
    clause = within(Publication.jurisdiction, scope.division)
    if clause is not None:
        stmt = stmt.where(clause)
    if scope.campaign_id is not None:
        stmt = stmt.where(Publication.campaign_id == scope.campaign_id)
    else:
        if scope.start is not None:
            stmt = stmt.where(Publication.published_at >= _day_start(scope.start))
        if scope.end is not None:
            stmt = stmt.where(Publication.published_at < _day_start(scope.end + timedelta(1)))
    return session.scalar(stmt) or 0


# ---------------------------------------------------------------- names


def _department_names() -> dict[str, str]:
    return {code: d.name for code, d in get_taxonomy().departments.items()}


def _ground_names() -> dict[str, str]:
    tax = get_taxonomy()
    out = {code: c.name for code, c in tax.categories.items()}
    out.update({code: v.name for code, v in tax.violations.items()})
    return out


def _counts(counts: dict[Any, int], names: dict[str, str], order: list[str] | None = None):
    clean = {(UNKNOWN if k is None else str(k)): n for k, n in counts.items()}
    return [Count(c, names.get(c, c), n) for c, n in rules.ranked(clean, order)]


# ---------------------------------------------------------------- assembling


def _build(
    session: Session, scope: _Scope, *, title: str, at: datetime, method: str = "auto"
) -> Statistics:
    require_aware(at, "at")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    tallied = scope.tallied if method != "scan" else None
    if method == "tallies" and tallied is None:
        raise ValueError(f"the tallies cannot answer figures for {scope.division}")
    _tune(session)
    today = shanghai_date(at)
    if tallied is not None:
        tallies.flush(session)  # this transaction's own writes, if any
        counted = _tallied_cases(session, scope, tallied)
        per_kind, values = _tallied_dispositions(session, tallied)
    else:
        counted = _scanned(session, scope)
        per_kind, values = _disposition_figures(session, scope)
    opened, ended = counted.opened, counted.ended
    overdue_total, overdue = _overdue(session, scope, today, counted.due)

    by_state = counted.by["state"]
    by_source = counted.by["source"]
    total = sum(by_state.values())
    found, all_cases = rules.discovery_basis(by_source)
    disposed, accepted = rules.handling_basis(by_state)

    # Trend: the period (campaign dates, or the requested days), widened to the data and
    # cut at today.
    days = sorted(opened)
    first = min([d for d in (scope.start, days[0] if days else None) if d is not None] or [today])
    last = max([d for d in (scope.end, days[-1] if days else None) if d is not None] or [today])
    if scope.end is not None and today < scope.end:
        last = max(today, days[-1]) if days else today
    unit = rules.trend_unit(first, last)
    trend = [
        TrendPoint(b.start, b.opened, b.ended)
        for b in rules.trend(opened, ended, first, last, unit)
    ]

    plan = scope.plan
    if plan is not None:
        stage_counts = rules.by_stage(plan, opened)
        by_stage = [Count(str(s.n), s.name, stage_counts[s.n]) for s in plan.stages]
        task_names = {t.code: t.name for t in plan.tasks}
        by_task = _counts(counted.by["task"], task_names, list(task_names))
    else:
        by_stage, by_task = [], []

    sources = {name: s.name_zh for name, s in registered_sources().items()}
    regions = counted.by["region"]
    kinds = disposition_kinds()
    feeds = rules.counter_feeds()
    return Statistics(
        title=title,
        campaign_id=scope.campaign_id,
        jurisdiction=scope.division,
        start=scope.start,
        end=scope.end,
        as_of=at,
        total_cases=total,
        by_category=_counts(counted.by["ground"], _ground_names()),
        by_state=_counts(
            by_state,
            {s.value: n for s, n in STATE_NAMES_ZH.items()},
            [s.value for s in State],
        ),
        by_department=_counts(counted.by["department"], _department_names()),
        by_stage=by_stage,
        by_region=[Count(c, rules.region_label(c), n) for c, n in rules.ranked(regions)],
        by_source=_counts(by_source, sources, list(sources)),
        by_task=by_task,
        by_disposition=[Count(c, kinds[c].name, n) for c, n in rules.ranked(per_kind, list(kinds))],
        figures=[
            Figure(
                f.counter.code,
                f.counter.name,
                f.counter.unit,
                values[f.counter.code],
                f.counter.source,
            )
            for f in feeds
        ],
        trend=trend,
        trend_unit=unit,
        discovery_rate=rules.rate(found, all_cases),
        handling_rate=rules.rate(disposed, accepted),
        discovery_rate_basis=(found, all_cases),
        handling_rate_basis=(disposed, accepted),
        overdue_total=overdue_total,
        overdue=overdue,
        subjects=_subject_counts(session, scope.division),
        typical_cases=_publications(session, scope),
    )


def campaign_statistics(
    session: Session,
    principal: Principal,
    campaign_id: int,
    *,
    at: datetime,
    method: str = "auto",
) -> Statistics:
    """The figures of a campaign within the caller's jurisdiction (404/403 as campaigns.load).

    `method`: "auto" reads the tallies where they answer the scope, else scans the cases;
    "scan" and "tallies" force one (ValueError when the tallies cannot answer)."""
    _require_regulator(principal)
    row = campaigns.load(session, principal, campaign_id)
    plan = campaigns.plan_of(row)
    division = _inner(row.jurisdiction, principal.jurisdiction)
    clauses: list[ColumnElement[bool]] = [Case.campaign_id == row.id]
    clause = within(Case.jurisdiction, principal.jurisdiction)
    if clause is not None:
        clauses.append(clause)
    scope = _Scope(
        division,
        tuple(clauses),
        row.id,
        plan,
        plan.starts_on,
        plan.ends_on,
        _tallied(division, principal.jurisdiction, row.id),
    )
    title = plan.name
    if division != row.jurisdiction:
        title = f"{plan.name}（{rules.region_label(division)}）"
    return _build(session, scope, title=title, at=at, method=method)


def jurisdiction_statistics(
    session: Session,
    principal: Principal,
    *,
    at: datetime,
    start: date | None = None,
    end: date | None = None,
    method: str = "auto",
) -> Statistics:
    """The figures of every case in the caller's jurisdiction created from `start` to `end`
    (China calendar days, both included; open-ended when None). `method` as for
    `campaign_statistics`: the tallies answer only without a period."""
    _require_regulator(principal)
    if start is not None and end is not None:
        if end < start:
            raise invalid("bad_period", "end before start", "统计截止日期不能早于开始日期。")
        if (end - start).days > MAX_PERIOD_DAYS:
            raise invalid(
                "period_too_long",
                f"a period of at most {MAX_PERIOD_DAYS} days",
                f"统计时段最长{MAX_PERIOD_DAYS}天。",
            )
    division = principal.jurisdiction
    clauses: list[ColumnElement[bool]] = []
    clause = within(Case.jurisdiction, division)
    if clause is not None:
        clauses.append(clause)
    if start is not None:
        clauses.append(Case.created_at >= _day_start(start))
    if end is not None:
        clauses.append(Case.created_at < _day_start(end + timedelta(days=1)))
    tallied = _tallied(division, division, None) if start is None and end is None else None
    scope = _Scope(division, tuple(clauses), None, None, start, end, tallied)
    place = "全国" if division == NATIONAL_DIVISION else rules.region_label(division)
    period = (
        f"（{start.isoformat() if start else '…'}至{end.isoformat() if end else '…'}）"
        if start or end
        else ""
    )
    return _build(session, scope, title=f"{place}案件统计{period}", at=at, method=method)
