"""Statistics tallies in the database: kept up to date as cases are written, rebuilt and checked.

Three tables (`case_tallies`, `disposition_tallies`, `disposition_distinct`; models in
`qinglang.store.models`) hold per (campaign, city) the counts the dashboard reads, so
`qinglang.services.statistics` answers a national campaign's figures from a few hundred rows
instead of a pass over every case. What a case contributes is `qinglang.govern.tallies`.

Writing: `case_store.insert_case`, `case_store.save_case` and `campaigns.set_case_campaign` (the
only places a case is created, changes state or dispositions, or moves between campaigns)
queue their deltas on the session (`case_created`, `case_saved`, `case_moved`). They are summed
in memory and written just before the transaction commits, one upsert per table
(`INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n`, keys in sorted order). The audit
head row is locked first (`audit_log.write_pending`): every write transaction takes that lock
anyway, so tally rows are only ever locked by its holder — no new lock waits between writers and
no deadlock between hot rows. A rolled-back transaction drops its deltas. (A case written inside
a savepoint that is rolled back would leave its deltas queued: no code does that.)

Checking: `verify` compares the tables with a recomputation from the cases and dispositions;
`rebuild` recomputes them (`qinglang stats verify | rebuild`). The recomputation is set-based
SQL (`fill`, also the backfill of migration 0004): it reads only columns that exist since 0004.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import Table, event, func, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from qinglang.govern import tallies as rules
from qinglang.govern.case_dispositions import rectification_deadline
from qinglang.govern.cases import CaseState
from qinglang.govern.statistics import ENDED_STATES
from qinglang.govern.tallies import Approved, CaseFacts, Deltas
from qinglang.store import audit_log
from qinglang.store.models import (
    Case,
    CaseDispositionRow,
    CaseTally,
    DispositionMember,
    DispositionTally,
)

_PENDING = "qinglang.tallies.pending"
CASES: Table = CaseTally.__table__  # type: ignore[assignment]
DISPOSITIONS: Table = DispositionTally.__table__  # type: ignore[assignment]
MEMBERS: Table = DispositionMember.__table__  # type: ignore[assignment]
MAX_DIFFERENCES = 50  # verify lists at most this many


# ---------------------------------------------------------------- facts of a case


def _get(row: Any, name: str) -> Any:
    return row[name] if isinstance(row, Mapping) else getattr(row, name)


def facts_of(row: Case | Mapping[str, Any]) -> CaseFacts:
    """The contribution-relevant columns of a case row (or of its column values)."""
    return CaseFacts(
        id=int(_get(row, "id")),
        campaign_id=_get(row, "campaign_id"),
        campaign_task=_get(row, "campaign_task"),
        jurisdiction=_get(row, "jurisdiction"),
        primary_ground=_get(row, "primary_ground"),
        state=_get(row, "state"),
        lead_department=_get(row, "lead_department"),
        source=_get(row, "source"),
        subject_id=_get(row, "subject_id"),
        created_at=_get(row, "created_at"),
        updated_at=_get(row, "updated_at"),
        deadline=_get(row, "deadline"),
    )


def approved(dispositions: Iterable[Any]) -> list[Approved]:
    """The approved ones among disposition rows or the core's `CaseDisposition`s."""
    return [Approved(d.code, d.params) for d in dispositions if d.status == "approved"]


def approved_of_case(session: Session, case_id: int) -> list[Approved]:
    rows = session.execute(
        select(CaseDispositionRow.code, CaseDispositionRow.params).where(
            CaseDispositionRow.case_id == case_id, CaseDispositionRow.status == "approved"
        )
    ).all()
    return [Approved(code, params) for code, params in rows]


# ---------------------------------------------------------------- the hooks


def record(session: Session, deltas: Deltas) -> None:
    """Queue deltas for the session's transaction (written before it commits)."""
    if not deltas:
        return
    pending = session.info.get(_PENDING)
    if pending is None:
        session.info[_PENDING] = pending = Deltas()
    pending.add(deltas)


def case_created(session: Session, values: Mapping[str, Any]) -> None:
    """A new case (its column values, id included): it has no approved disposition yet."""
    record(session, rules.contribution(facts_of(values)))


def case_saved(
    session: Session, before: CaseFacts, approved_before: list[Approved], new: CaseState
) -> None:
    """A case whose state (and the day it ended) or dispositions' statuses changed."""
    after = replace(
        before,
        state=new.state.value,
        updated_at=new.updated_at,
        deadline=rectification_deadline(new),
    )
    record(session, rules.change(before, approved_before, after, approved(new.dispositions)))


def case_moved(
    session: Session, before: CaseFacts, campaign_id: int | None, task: str | None
) -> None:
    """A case filed under another campaign and task (or none): all it adds moves along."""
    if (before.campaign_id, before.campaign_task) == (campaign_id, task):
        return
    after = replace(before, campaign_id=campaign_id, campaign_task=task)
    dispositions = approved_of_case(session, before.id)
    record(session, rules.change(before, dispositions, after, dispositions))


# ---------------------------------------------------------------- writing


_UPSERTS: dict[tuple[str, str], Any] = {}


def _upsert(dialect: str, table: Table, sums: tuple[str, ...]) -> Any:
    stmt = _UPSERTS.get((dialect, table.name))
    if stmt is None:
        ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
        stmt = ins.on_conflict_do_update(
            index_elements=[c.name for c in table.primary_key.columns],
            set_={c: table.c[c] + ins.excluded[c] for c in sums},
        )
        _UPSERTS[(dialect, table.name)] = stmt
    return stmt


def apply(connection: Connection, deltas: Deltas) -> None:
    """Add deltas to the tables now: one upsert per table that changes, keys sorted."""
    dialect = connection.dialect.name
    deltas = deltas.pruned()
    if deltas.cases:
        connection.execute(
            _upsert(dialect, CASES, ("n",)),
            [
                {"campaign_id": c, "region": r, "dimension": d, "value": v, "n": n}
                for (c, r, d, v), n in sorted(deltas.cases.items())
            ],
        )
    if deltas.dispositions:
        connection.execute(
            _upsert(dialect, DISPOSITIONS, ("n", "count_sum", "amount_fen")),
            [
                {"campaign_id": c, "region": r, "code": k, "n": n, "count_sum": s, "amount_fen": f}
                for (c, r, k), (n, s, f) in sorted(deltas.dispositions.items())
            ],
        )
    if deltas.members:
        members = sorted(deltas.members.items())
        connection.execute(
            _upsert(dialect, MEMBERS, ("n",)),
            [
                {"campaign_id": c, "region": r, "counter": k, "member": m, "n": n}
                for (c, r, k, m), n in members
            ],
        )
        gone = [key for key, n in members if n < 0]
        if gone:  # members no approved disposition counts any more leave (counts are rows)
            columns = [MEMBERS.c[name] for name in ("campaign_id", "region", "counter", "member")]
            connection.execute(MEMBERS.delete().where(tuple_(*columns).in_(gone), MEMBERS.c.n <= 0))


def flush(session: Session) -> None:
    """Write the deltas queued in the session's transaction now (reads of the tallies inside
    a write transaction call this first; commit does it by itself)."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    audit_log.write_pending(session)  # the head lock first: see the module docstring
    apply(session.connection(), pending)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    flush(session)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


# ---------------------------------------------------------------- recomputing (set-based SQL)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _rows(columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """A derived table of literal rows that SQLite and PostgreSQL both read."""
    return " UNION ALL ".join(
        "SELECT " + ", ".join(f"{_quote(v)} AS {c}" for c, v in zip(columns, row, strict=True))
        for row in rows
    )


def _day(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"to_char({column} AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')"
    return f"date({column}, '+8 hours')"


def _date(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"to_char({column}, 'YYYY-MM-DD')"
    return f"date({column})"


def _param(dialect: str, key: str) -> str:
    if dialect == "postgresql":
        return f"(d.params ->> {_quote(key)})"
    return f"json_extract(d.params, {_quote('$.' + key)})"


_REGION = "SUBSTR(c.jurisdiction, 1, 4) || '00'"
_CAMPAIGN = f"COALESCE(c.campaign_id, {rules.NO_CAMPAIGN})"


def _case_select(dialect: str) -> str:
    ended = ", ".join(_quote(s) for s in ENDED_STATES)
    values = {
        "ground": "c.primary_ground",
        "state": "c.state",
        "department": "c.lead_department",
        "source": "COALESCE(c.source, '')",
        "task": "COALESCE(c.campaign_task, '')",
        "created": _day(dialect, "c.created_at"),
        "ended": f"CASE WHEN c.state IN ({ended}) THEN {_day(dialect, 'c.updated_at')} END",
        "due": f"CASE WHEN c.state = 'rectifying' THEN {_date(dialect, 'c.deadline')} END",
    }
    assert tuple(values) == rules.DIMENSIONS
    whens = " ".join(f"WHEN {_quote(k)} THEN {v}" for k, v in values.items())
    dims = _rows(("dimension",), [(d,) for d in rules.DIMENSIONS])
    return f"""
        SELECT campaign_id, region, dimension, value, COUNT(*) AS n FROM (
            SELECT {_CAMPAIGN} AS campaign_id, {_REGION} AS region, t.dimension AS dimension,
                   CASE t.dimension {whens} END AS value
            FROM cases AS c CROSS JOIN ({dims}) AS t
        ) AS x
        WHERE value IS NOT NULL
        GROUP BY campaign_id, region, dimension, value"""


def _disposition_select(dialect: str) -> str:
    measures = rules.kind_measures()
    counts = [(c, m.count_param) for c, m in measures.items() if m.count_param]
    amounts = [(c, m.amount_param) for c, m in measures.items() if m.amount_param]
    big = "BIGINT" if dialect == "postgresql" else "INTEGER"
    money = "NUMERIC(16, 2)" if dialect == "postgresql" else "REAL"

    def case_of(pairs: list[tuple[str, str]], expr: Any) -> str:
        if not pairs:
            return "0"
        whens = " ".join(f"WHEN {_quote(c)} THEN {expr(p)}" for c, p in sorted(pairs))
        return f"COALESCE(SUM(CASE d.code {whens} END), 0)"

    count_sum = case_of(counts, lambda p: f"CAST({_param(dialect, p)} AS {big})")
    amount_fen = case_of(
        amounts, lambda p: f"CAST(ROUND(CAST({_param(dialect, p)} AS {money}) * 100) AS {big})"
    )
    return f"""
        SELECT {_CAMPAIGN} AS campaign_id, {_REGION} AS region, d.code AS code,
               COUNT(*) AS n, {count_sum} AS count_sum, {amount_fen} AS amount_fen
        FROM case_dispositions AS d JOIN cases AS c ON c.id = d.case_id
        WHERE d.status = 'approved'
        GROUP BY {_CAMPAIGN}, {_REGION}, d.code"""


def _member_select(dialect: str) -> str | None:
    feeds = sorted(
        (code, counter, how)
        for code, m in rules.kind_measures().items()
        for counter, how in m.distinct
    )
    if not feeds:
        return None
    member = (
        "CASE WHEN f.measure = 'distinct_subjects' AND c.subject_id IS NOT NULL "
        "THEN 's' || CAST(c.subject_id AS VARCHAR(12)) "
        "ELSE 'c' || CAST(c.id AS VARCHAR(12)) END"
    )
    level = (
        f"CASE WHEN l.level = 'province' THEN SUBSTR(c.jurisdiction, 1, 2) || '0000' "
        f"ELSE {_quote(rules.ALL_REGIONS)} END"
    )
    return f"""
        SELECT campaign_id, region, counter, member, COUNT(*) AS n FROM (
            SELECT {_CAMPAIGN} AS campaign_id, {level} AS region, f.counter AS counter,
                   {member} AS member
            FROM case_dispositions AS d JOIN cases AS c ON c.id = d.case_id
            JOIN ({_rows(("code", "counter", "measure"), feeds)}) AS f ON f.code = d.code
            CROSS JOIN ({_rows(("level",), [("province",), (rules.ALL_REGIONS,)])}) AS l
            WHERE d.status = 'approved'
        ) AS x
        GROUP BY campaign_id, region, counter, member"""


def _selects(dialect: str) -> list[tuple[Table, str]]:
    out = [(CASES, _case_select(dialect)), (DISPOSITIONS, _disposition_select(dialect))]
    members = _member_select(dialect)
    if members is not None:
        out.append((MEMBERS, members))
    return out


def fill(connection: Connection) -> None:
    """Fill the (empty) tallies from the cases and dispositions, set-based, in place."""
    for table, query in _selects(connection.dialect.name):
        columns = ", ".join(c.name for c in table.columns)
        connection.execute(text(f"INSERT INTO {table.name} ({columns}) {query}"))


def _lock(session: Session) -> None:
    """PostgreSQL: writers wait (readers do not) until the rebuild commits."""
    if session.get_bind().dialect.name == "postgresql":
        names = ", ".join(t.name for t in (CASES, DISPOSITIONS, MEMBERS))
        session.connection().exec_driver_sql(f"LOCK TABLE {names} IN EXCLUSIVE MODE")


def rebuild(session: Session) -> dict[str, int]:
    """Recompute the tallies from the cases and dispositions; answers the rows per table."""
    session.info.pop(_PENDING, None)  # the recomputation includes this transaction's writes
    session.flush()
    _lock(session)
    connection = session.connection()
    for table in (CASES, DISPOSITIONS, MEMBERS):
        connection.execute(table.delete())
    fill(connection)
    return {
        t.name: connection.execute(select(func.count()).select_from(t)).scalar() or 0
        for t in (CASES, DISPOSITIONS, MEMBERS)
    }


def _stored(connection: Connection, table: Table) -> dict[tuple[Any, ...], tuple[int, ...]]:
    keys = [c for c in table.primary_key.columns]
    sums = [c for c in table.columns if not c.primary_key]
    out = {}
    for row in connection.execute(select(*keys, *sums)):
        values = tuple(int(v or 0) for v in row[len(keys) :])
        if any(values) or table is MEMBERS:  # a member row at 0 would still be counted
            out[tuple(row[: len(keys)])] = values
    return out


def _recomputed(connection: Connection, table: Table, query: str) -> dict:
    width = len(table.primary_key.columns)
    out = {}
    for row in connection.execute(text(query)):
        values = tuple(int(v or 0) for v in row[width:])
        if any(values):
            out[tuple(row[:width])] = values
    return out


def _shown(values: tuple[int, ...] | None) -> str:
    if values is None:
        return "none"
    return str(values[0]) if len(values) == 1 else str(values)


def verify(session: Session) -> list[str]:
    """Differences between the tallies and a recomputation from the cases (empty: they agree).

    On PostgreSQL a fresh session reads both in one snapshot (REPEATABLE READ)."""
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    flush(session)
    session.flush()
    connection = session.connection()
    out: list[str] = []
    for table, query in _selects(connection.dialect.name):
        kept = _stored(connection, table)
        want = _recomputed(connection, table, query)
        for key in sorted(set(kept) | set(want), key=repr):
            if kept.get(key) != want.get(key):
                out.append(
                    f"{table.name} {key}: kept {_shown(kept.get(key))}, "
                    f"recomputed {_shown(want.get(key))}"
                )
                if len(out) >= MAX_DIFFERENCES:
                    return out
    return out
