"""Benchmarks of the campaign dashboard and its documents, for `make bench`.

1,000,000 generated cases on PostgreSQL, all filed under one national campaign (the 2020
template), spread over 34 provinces × 5 cities, every state and source, with ~300,000
approved dispositions of every kind on 20,000 ledger subjects. Then, in-process:

- `qinglang.services.statistics.campaign_statistics` for a national principal (every case)
  and a provincial one (310000, ~1/34 of them), 30 calls each after one warm-up, both ways:
  the scan of the cases (`method="scan"`, the reference) and the statistics tallies
  (`method="tallies"`, what the dashboard uses for these scopes);
- the Word summary (`summary_docx.summary_for_campaign`, charts included) and the XLSX
  workbook (`statistics_xlsx.build`);
- the cost of keeping the tallies: 2,000 cases inserted through `case_store.insert_case`, one
  committed transaction each (as intake does), half with the tally hook and half without
  (interleaved in rounds), into the 10^6-case campaign; they are deleted afterwards.

PostgreSQL: QINGLANG_BENCH_DATABASE_URL (default: QINGLANG_TEST_DATABASE_URL, then
postgresql+psycopg://postgres@127.0.0.1:5432/test), schema `qlbench_dashboard`, generated
with set-based SQL (INSERT ... SELECT generate_series), its tallies then filled set-based
(`qinglang.services.tallies.rebuild`), and kept between runs: it is regenerated only when its
row count changes; an older schema revision is migrated in place (migration 0004 fills the
tallies of the existing cases, and its time is printed).

    python -m benchmarks.dashboard [--quick]     # prints the markdown section
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from benchmarks.governance import bench_schema_url, percentiles, pg_base_url

HEADING = "## Dashboard statistics and documents"
SCHEMA = "qlbench_dashboard"
CASES = 1_000_000
SUBJECTS = 20_000
RUNS = 30
AT = datetime(2020, 12, 20, 4, 0, tzinfo=UTC)

SOURCES = ["public_tip", "public_tip", "patrol", "self_report", "public_tip", "handoff", "patrol"]
STATES = ["lead", "opened", "assessing", "disposing", "rectifying", "rechecking", "closed"]
STATES += ["closed", "closed", "dismissed", "transferred"]


def _principals() -> dict[str, Any]:
    from qinglang.govern.actors import Role
    from qinglang.services.principal import Principal

    return {
        "national": Principal(
            1, "bench-national", frozenset({Role.analyst}), "cyberspace", "100000"
        ),
        "province": Principal(2, "bench-province", frozenset({Role.analyst}), "police", "310000"),
    }


def _values(rows: list[tuple[Any, ...]]) -> str:
    def lit(v: Any) -> str:
        if v is None:
            return "NULL"
        if isinstance(v, int):
            return str(v)
        return "'" + str(v).replace("'", "''") + "'"

    return ",".join("(" + ", ".join(lit(v) for v in row) + ")" for row in rows)


def _disposition_params(code: str) -> str:
    """A JSON params document (as SQL) for a generated disposition of kind `code`."""
    from qinglang.govern.dispositions import ParamKind, get_disposition

    kind = get_disposition(code)
    parts = []
    for p in kind.params:
        if p.kind is ParamKind.count:
            parts.append(f"'{p.name}', 1 + (c.id % 500)")
        elif p.kind is ParamKind.amount:
            parts.append(f"'{p.name}', ((1 + c.id % 100) * 1000)::text || '.50'")
        elif p.required:
            parts.append(f"'{p.name}', '2020-12-31'")
    return "jsonb_build_object(" + ", ".join(parts) + ")"


def generate(url: str, n: int) -> None:
    """Fill the (migrated, empty) schema at `url` with the dashboard's data set."""
    from sqlalchemy import text

    from qinglang.govern import campaigns as core
    from qinglang.govern.actors import Role
    from qinglang.govern.dispositions import registered
    from qinglang.govern.identifiers import provinces
    from qinglang.govern.ledger import registered as subject_kinds
    from qinglang.services.campaigns import create_campaign
    from qinglang.services.principal import Principal
    from qinglang.store import migrate
    from qinglang.store.db import Database
    from qinglang.taxonomy import get_taxonomy

    db = Database(url)
    migrate.upgrade(db)
    plan = core.instantiate("national-2020")
    leader = Principal(1, "bench-leader", frozenset({Role.leader}), "cyberspace", "100000")
    with db.write() as session:
        campaign_id = create_campaign(session, leader, plan, at=AT).id
    tax = get_taxonomy()
    grounds = [
        (i, code, c.lead, (core.task_for(plan, code) or core.Task("", "", "")).code or None)
        for i, (code, c) in enumerate(tax.categories.items())
    ]
    codes = []
    for p in provinces().values():
        codes.append(f"{p.code}0000")
        codes += [f"{p.code}{c:02d}00" for c in range(1, 6)]
    kinds = list(subject_kinds())
    dispositions = list(registered())
    params_case = " ".join(
        f"WHEN {i} THEN {_disposition_params(code)}" for i, code in enumerate(dispositions)
    )
    with db.engine.begin() as conn:
        conn.execute(
            text(
                f"""
            WITH k(i, kind) AS (VALUES {_values(list(enumerate(kinds)))}),
                 j(i, code) AS (VALUES {_values(list(enumerate(codes)))})
            INSERT INTO subjects (id, kind, name, region, education_app, school_cooperation,
                youth_mode, anti_addiction, risk_level, active, version, created_at, updated_at)
            SELECT n, k.kind, '示例平台' || n, j.code, false, false, 'unknown', 'unknown',
                   'unknown', n % 50 <> 0, 1, TIMESTAMPTZ '2020-06-01', TIMESTAMPTZ '2020-06-01'
            FROM generate_series(1, :subjects) AS n
            JOIN k ON k.i = n % {len(kinds)}
            JOIN j ON j.i = (n / 3) % {len(codes)}
            """
            ),
            {"subjects": SUBJECTS},
        )
        conn.execute(
            text(
                f"""
            WITH g(i, code, lead, task) AS (VALUES {_values(grounds)}),
                 j(i, code) AS (VALUES {_values(list(enumerate(codes)))}),
                 s(i, state) AS (VALUES {_values(list(enumerate(STATES)))}),
                 o(i, source) AS (VALUES {_values(list(enumerate(SOURCES)))})
            INSERT INTO cases (id, state, title, summary, grounds, primary_ground,
                lead_department, co_departments, jurisdiction, subject_id, source, deadline,
                public_result, campaign_id, campaign_task, version, created_at, updated_at,
                closed_at)
            SELECT n, s.state, '某平台问题 第' || n || '号', NULL, jsonb_build_array(g.code),
                   g.code, g.lead, '[]'::jsonb, j.code,
                   CASE WHEN n % 5 <> 0 THEN 1 + n % :subjects END,
                   o.source,
                   CASE WHEN s.state = 'rectifying' THEN DATE '2020-09-01' + (n % 120) END,
                   NULL, :campaign, g.task, 3,
                   TIMESTAMPTZ '2020-07-10 00:00+08' + (n * INTERVAL '15 seconds'),
                   TIMESTAMPTZ '2020-07-10 00:00+08' + (n * INTERVAL '15 seconds')
                       + ((n::bigint * 7919) % 864000) * INTERVAL '1 second',
                   CASE WHEN s.state = 'closed'
                        THEN TIMESTAMPTZ '2020-07-10 00:00+08' + (n * INTERVAL '15 seconds')
                             + ((n::bigint * 7919) % 864000) * INTERVAL '1 second' END
            FROM generate_series(1, :n) AS n
            JOIN g ON g.i = n % {len(grounds)}
            JOIN j ON j.i = (n / 7) % {len(codes)}
            JOIN s ON s.i = (n / 3) % {len(STATES)}
            JOIN o ON o.i = (n / 13) % {len(SOURCES)}
            """
            ),
            {"n": n, "subjects": SUBJECTS, "campaign": campaign_id},
        )
        # ~30 % of the cases carry one approved disposition, every kind in turn.
        conn.execute(
            text(
                f"""
            INSERT INTO case_dispositions (id, case_id, n, code, params, status, proposed_by,
                proposed_at, decided_by, decided_at, decision_reason)
            SELECT c.id || '/D1', c.id, 1, d.code,
                   CASE (c.id / 10) % {len(dispositions)} {params_case} END,
                   'approved', 'user:1', c.created_at + INTERVAL '1 day', 'user:2',
                   c.created_at + INTERVAL '2 days', NULL
            FROM cases AS c
            JOIN (VALUES {_values(list(enumerate(dispositions)))}) AS d(i, code)
              ON d.i = (c.id / 10) % {len(dispositions)}
            WHERE c.id % 10 < 3
            """
            )
        )
        conn.execute(
            text(
                """
            INSERT INTO publications (case_id, campaign_id, jurisdiction, title, body, fields,
                published_by, published_at)
            SELECT id, campaign_id, jurisdiction, '典型案例：' || title,
                   '经查，该平台存在' || primary_ground || '问题，已依法处置。',
                   '["region", "grounds", "dispositions", "result"]'::jsonb,
                   'user:3', updated_at
            FROM cases WHERE state = 'closed' AND id % 20011 = 0
            """
            )
        )
        conn.execute(text("SELECT setval(pg_get_serial_sequence('cases', 'id'), :n)"), {"n": n})
        conn.execute(
            text("SELECT setval(pg_get_serial_sequence('subjects', 'id'), :n)"), {"n": SUBJECTS}
        )
    with db.write() as session:
        from qinglang.services.campaigns import add_report

        for stage in (1, 2, 3):
            for dept in plan.departments:
                officer = Principal(10, "bench-officer", frozenset({Role.officer}), dept, "100000")
                add_report(
                    session,
                    officer,
                    campaign_id,
                    stage=stage,
                    body=f"第{stage}阶段：本部门按方案开展工作，巡查平台、督促整改、通报情况。",
                    figures={"items_cleaned": 1000 * stage},
                    at=AT,
                )
    from qinglang.services import tallies

    start = time.perf_counter()
    with db.write() as session:
        tallies.rebuild(session)
    print(f"tallies filled in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    _vacuum(db, ("subjects", "cases", "case_dispositions", "publications", *TALLY_TABLES))
    db.dispose()


TALLY_TABLES = ("case_tallies", "disposition_tallies", "disposition_distinct")


def _vacuum(db: Any, tables: tuple[str, ...]) -> None:
    from sqlalchemy import text

    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.execute(text(f"VACUUM ANALYZE {table}"))


def dashboard_database(base: str, n: int) -> tuple[str, int]:
    """The URL of a schema holding `n` generated cases, and the campaign's id (built once)."""
    from sqlalchemy import func, select

    from qinglang.store import migrate
    from qinglang.store.db import Database
    from qinglang.store.models import Campaign, Case

    url = bench_schema_url(base, SCHEMA, fresh=False)
    db = Database(url)
    campaign = None
    try:
        ready = migrate.current_revision(db) is not None
        if ready:
            with db.read() as session:
                ready = session.scalar(select(func.count()).select_from(Case)) == n
                campaign = session.scalar(select(func.min(Campaign.id)))
        if ready and not migrate.is_current(db):
            start = time.perf_counter()
            migrate.upgrade(db)  # 0004 fills the tallies from the existing cases
            took = time.perf_counter() - start
            print(f"migrated to {migrate.current_revision(db)} in {took:.1f} s", file=sys.stderr)
            _vacuum(db, TALLY_TABLES)
    finally:
        db.dispose()
    if not ready or campaign is None:
        url = bench_schema_url(base, SCHEMA, fresh=True)
        start = time.perf_counter()
        generate(url, n)
        print(f"generated {n:,} cases in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        campaign = 1
    return url, int(campaign)


def _time(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    fn()  # warm the caches
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return percentiles(samples)


def measure(url: str, campaign_id: int, runs: int) -> dict[str, Any]:
    from qinglang.services.documents import statistics_xlsx, summary_docx
    from qinglang.services.statistics import campaign_statistics
    from qinglang.store.db import Database

    db = Database(url)
    people = _principals()
    out: dict[str, Any] = {}
    for key, principal in people.items():
        results = {}
        for method in ("scan", "tallies"):
            seen: dict[str, Any] = {}

            def call(principal: Any = principal, seen: dict[str, Any] = seen, m=method) -> None:
                with db.read() as session:
                    seen["stats"] = campaign_statistics(
                        session, principal, campaign_id, at=AT, method=m
                    )

            p50, p95 = _time(call, runs)
            results[method] = seen["stats"]
            out[(key, method)] = (p50, p95, seen["stats"].total_cases)
            print(
                f"statistics, {key}, {method}: p50 {p50:.0f} ms, p95 {p95:.0f} ms",
                file=sys.stderr,
            )
        if results["scan"] != results["tallies"]:
            raise AssertionError(f"{key}: the tallies and the scan disagree")
    national = people["national"]
    sizes: dict[str, int] = {}

    def docx() -> None:
        with db.read() as session:
            sizes["docx"] = len(
                summary_docx.summary_for_campaign(session, national, campaign_id, at=AT)
            )

    def xlsx() -> None:
        with db.read() as session:
            stats = campaign_statistics(session, national, campaign_id, at=AT)
        sizes["xlsx"] = len(statistics_xlsx.build(stats))

    doc_runs = max(3, runs // 6)
    out["docx"] = (*_time(docx, doc_runs), sizes["docx"])
    out["xlsx"] = (*_time(xlsx, doc_runs), sizes["xlsx"])
    out["doc_runs"] = doc_runs
    print(f"documents: {json.dumps({k: out[k] for k in ('docx', 'xlsx')})}", file=sys.stderr)
    db.dispose()
    out["page"] = measure_page(url, campaign_id, runs)
    out["writes"] = measure_writes(url, WRITES if runs >= RUNS else WRITES // 10)
    return out


def measure_page(url: str, campaign_id: int, runs: int) -> tuple[float, float, int]:
    """The dashboard page over HTTP (the app in-process, ASGI): login cookie, statistics,
    template and SVG charts — what a national analyst's browser waits for."""
    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from qinglang.services import users
    from qinglang.settings import Settings
    from qinglang.store.db import Database
    from qinglang.store.models import User
    from qinglang.web.app import create_app

    db = Database(url)
    name, password = "bench-dashboard", "Bench-dashboard-1"
    with db.write() as session:
        if session.scalar(select(User.id).where(User.username == name)) is None:
            users.create_user(
                session,
                username=name,
                password=password,
                roles=["analyst"],
                jurisdiction="100000",
                department="cyberspace",
                by="system:bench",
                at=AT,
            )
    client = TestClient(create_app(Settings(database_url=url), db))
    client.post("/login", data={"username": name, "password": password, "next": "/"})
    path = f"/campaigns/{campaign_id}/dashboard"
    sizes: list[int] = []

    def get() -> None:
        response = client.get(path)
        if response.status_code != 200:
            raise AssertionError(f"GET {path}: {response.status_code}")
        sizes.append(len(response.content))

    p50, p95 = _time(get, runs)
    print(f"dashboard page: p50 {p50:.0f} ms, p95 {p95:.0f} ms", file=sys.stderr)
    client.close()
    db.dispose()
    return p50, p95, sizes[-1]


WRITES = 2_000
WRITE_ROUNDS = 8


def measure_writes(url: str, total: int) -> dict[str, tuple[float, float]]:
    """ms per case inserted through `case_store.insert_case` (one committed transaction each),
    with the tally hook and without it (`tallies.case_created` stubbed), interleaved in rounds;
    the cases (and their tallies) are removed afterwards."""
    from sqlalchemy import delete, func, select

    from qinglang.govern.tallies import change
    from qinglang.services import case_store, tallies
    from qinglang.store.db import Database
    from qinglang.store.models import Case

    db = Database(url)
    with db.read() as session:
        first = (session.scalar(select(func.max(Case.id))) or 0) + 1
    samples: dict[str, list[float]] = {"with tallies": [], "without": []}
    added: list[dict[str, Any]] = []
    hook = tallies.case_created
    grounds = ["gambling", "porn_vulgar", "fan_circle", "game_ad"]
    places = ["310100", "410100", "440300", "110000"]
    per_round = max(1, total // (2 * WRITE_ROUNDS))
    try:
        for r in range(WRITE_ROUNDS):
            for mode in ("with tallies", "without") if r % 2 == 0 else ("without", "with tallies"):
                tallies.case_created = hook if mode == "with tallies" else _no_tallies
                for i in range(per_round):
                    start = time.perf_counter()
                    with db.write() as session:
                        values, _ = case_store.insert_case(
                            session,
                            grounds=[grounds[i % len(grounds)]],
                            jurisdiction=places[(i // 4) % len(places)],
                            at=AT,
                            created_by="user:1",
                            title="写入基准",
                            source="patrol",
                        )
                    samples[mode].append(time.perf_counter() - start)
                    if mode == "with tallies":
                        added.append(values)
    finally:
        tallies.case_created = hook
        with db.write() as session:  # leave the data set as it was
            for values in added:
                tallies.record(session, change(tallies.facts_of(values), [], None, []))
            session.execute(delete(Case).where(Case.id >= first))
        db.dispose()
    out = {mode: (statistics.mean(xs) * 1e3, percentiles(xs)[0]) for mode, xs in samples.items()}
    out["n"] = (len(samples["with tallies"]), len(samples["without"]))  # type: ignore[assignment]
    print(f"writes (mean, median ms): {out}", file=sys.stderr)
    return out


def _no_tallies(session: Any, values: Any) -> None:
    return None


def section(*, quick: bool = False) -> list[str]:
    """Markdown lines of the dashboard section; `quick` uses 20,000 cases and 5 calls."""
    lines = [HEADING, ""]
    pg = pg_base_url()
    if not pg:
        return [*lines, "PostgreSQL was not reachable; not measured.", ""]
    n = 20_000 if quick else CASES
    runs = 5 if quick else RUNS
    url, campaign_id = dashboard_database(pg, n)
    r = measure(url, campaign_id, runs)
    lines += [
        f"Machine: {os.cpu_count()} cores, PostgreSQL on the same machine, "
        f"measured {datetime.now(UTC).date().isoformat()}.",
        "",
        f"PostgreSQL with **{n:,} generated cases** in one national campaign (34 provinces × "
        "5 cities, 24 categories, every state and source), ~30 % of them with an approved "
        f"disposition of one of 16 kinds, {SUBJECTS:,} ledger subjects. "
        "`campaign_statistics` (everything the dashboard shows: counts by category, state, "
        "department, stage, region, source, task and disposition, the counters of seed 003, "
        "the trend, both rates and the overdue list) in-process, "
        f"{runs} calls after one warm-up, read two ways: a scan of the cases (the reference) "
        "and the statistics tallies kept as cases change (docs/statistics.md; the same "
        "figures, checked).",
        "",
        "| what | read from | cases in scope | p50 | p95 |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for key, label in (("national", "national analyst"), ("province", "provincial (310000)")):
        for method, how in (("scan", "scan of the cases"), ("tallies", "tallies")):
            p50, p95, cases = r[(key, method)]
            lines.append(
                f"| statistics, {label} | {how} | {cases:,} | {p50:.0f} ms | **{p95:.0f} ms** |"
            )
    p50, p95, size = r["page"]
    lines += [
        "",
        f"The dashboard page itself, `GET /campaigns/{{id}}/dashboard` for a national analyst "
        f"over HTTP (the app in-process: session cookie, statistics from the tallies, the "
        f"template and six SVG charts with their tables; {size / 1024:,.0f} KiB of HTML), "
        f"{runs} requests after one warm-up:",
        "",
        "| what | cases in scope | p50 | p95 |",
        "| --- | ---: | ---: | ---: |",
        f"| dashboard page, national | {r[('national', 'tallies')][2]:,} | {p50:.0f} ms | "
        f"**{p95:.0f} ms** |",
        "",
        "Target p95 < 300 ms (met when the bold figures of the tallies and the page are "
        "under it; the scan is the reference, kept for city scopes and periods).",
        "",
    ]
    w = r["writes"]
    with_n, without_n = w["n"]
    lines += [
        f"Keeping the tallies: cases inserted through `case_store.insert_case`, one committed "
        f"transaction each, {with_n:,} with the tally upsert and {without_n:,} without "
        "(interleaved), into the same campaign:",
        "",
        "| insert a case | mean | median |",
        "| --- | ---: | ---: |",
    ]
    for mode in ("without", "with tallies"):
        mean, median = w[mode]
        lines.append(f"| {mode} | {mean:.2f} ms | {median:.2f} ms |")
    lines.append("")
    lines += [
        f"Documents for the national principal, {r['doc_runs']} runs after one warm-up "
        "(statistics included):",
        "",
        "| document | size | p50 | p95 |",
        "| --- | ---: | ---: | ---: |",
    ]
    for key, label in (("docx", "summary .docx (3 charts)"), ("xlsx", "statistics .xlsx")):
        p50, p95, size = r[key]
        lines.append(f"| {label} | {size / 1024:,.0f} KiB | {p50:.0f} ms | **{p95:.0f} ms** |")
    lines += ["", "Target: summary .docx < 5 s.", ""]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 cases, 5 calls")
    args = parser.parse_args(argv)
    print("\n".join(section(quick=args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
