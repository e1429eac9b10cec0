"""Benchmarks of the governance core, for `make bench` (a section of docs/benchmarks.md).

1. Public reports accepted per second over HTTP, with triage by the detection engine, on
   SQLite and on PostgreSQL: a real `uvicorn` server in its own process, a socket-level load
   generator in this one (both share the machine's 2 cores), distinct reports from the
   corpus. After each run the rows are counted: every `201` must be a committed row.
2. The same, with the server killed (SIGKILL) in the middle of the load: every report that was
   answered `201` before the kill must be in the database.
3. Case list and search latency with 1,000,000 generated cases on PostgreSQL, in-process
   (`qinglang.services.cases.list_cases`) and over HTTP.

PostgreSQL runs use QINGLANG_BENCH_DATABASE_URL (default: QINGLANG_TEST_DATABASE_URL, then
postgresql+psycopg://postgres@127.0.0.1:5432/test) in schemas of their own; the 10^6-case
schema is kept between runs and rebuilt only when its schema revision changes.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from benchmarks.http_load import LoadResult, request_bytes, run_load

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CASES = 1_000_000
CASE_SCHEMA = "qlbench_cases"


def pg_base_url() -> str | None:
    url = (
        os.environ.get("QINGLANG_BENCH_DATABASE_URL")
        or os.environ.get("QINGLANG_TEST_DATABASE_URL")
        or DEFAULT_PG
    )
    try:
        from sqlalchemy import text

        from qinglang.store.db import Database

        db = Database(url)
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        db.dispose()
    except Exception as exc:  # the benchmark reports a missing server instead of failing
        print(f"PostgreSQL not reachable at {url}: {exc}", file=sys.stderr)
        return None
    return url


def bench_schema_url(base: str, schema: str, *, fresh: bool) -> str:
    """A URL into `schema` on the server of `base`, created (or emptied when `fresh`)."""
    from sqlalchemy import create_engine

    from qinglang.store.db import Database, schema_url

    admin = create_engine(Database(base).url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if fresh:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    admin.dispose()
    return schema_url(base, schema)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`qinglang serve` in a child process over a given database."""

    def __init__(self, database_url: str, blob_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            "QINGLANG_DATABASE_URL": database_url,
            "QINGLANG_BLOB_DIR": str(blob_dir),
            "QINGLANG_REPORT_RATE_LIMIT_PER_HOUR": "0",
            "QINGLANG_RATE_LIMIT_PER_MINUTE": "0",
            "QINGLANG_LOG_LEVEL": "WARNING",
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        qinglang = Path(sys.executable).with_name("qinglang")
        cmd = [str(qinglang), "serve", "--port", str(self.port)]
        # A session of its own, so that kill() reaches the worker processes too.
        self.proc = subprocess.Popen(
            cmd, env=self.env, stdout=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("the server exited during start-up") from None
                time.sleep(0.2)
        raise RuntimeError("the server did not start within 90 s")

    def kill(self) -> None:
        """SIGKILL to the server and its workers at once (a crash, not a shutdown)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


# ---------------------------------------------------------------- public reports


def report_body(i: int, texts: Sequence[str]) -> dict[str, Any]:
    """A distinct public report: a corpus text and a URL on one of 500 sites."""
    text = texts[i % len(texts)]
    return {
        "text": f"{text}（举报编号{i}）",
        "urls": [f"https://site{i % 500}.cn/post/{i}"],
    }


def count_reports(database_url: str) -> int:
    from sqlalchemy import func, select

    from qinglang.store.db import Database
    from qinglang.store.models import IntakeItem

    db = Database(database_url)
    with db.read() as session:
        n = session.scalar(
            select(func.count()).select_from(IntakeItem).where(IntakeItem.source == "public_tip")
        )
    db.dispose()
    return int(n or 0)


def migrate_url(database_url: str) -> None:
    from qinglang.store import migrate
    from qinglang.store.db import Database

    db = Database(database_url)
    migrate.upgrade(db)
    db.dispose()


def reports_over_http(
    database_url: str,
    texts: Sequence[str],
    *,
    repeats: int,
    per_run: int,
    concurrency: int,
    workers: int,
) -> dict[str, Any]:
    migrate_url(database_url)
    before = count_reports(database_url)  # earlier runs on the same database
    offset = 0

    def make(i: int) -> bytes:
        return request_bytes("POST", "/api/v1/reports", report_body(offset + i, texts), {})

    runs: list[LoadResult] = []
    env = {"QINGLANG_WORKERS": str(workers)}
    with tempfile.TemporaryDirectory() as blobs, Server(database_url, Path(blobs), **env) as server:
        warm = run_load(server.port, make, total=200, concurrency=concurrency)
        offset += 200
        for _ in range(repeats):
            runs.append(run_load(server.port, make, total=per_run, concurrency=concurrency))
            offset += per_run
    accepted = warm.statuses[201] + sum(r.statuses[201] for r in runs)
    rows = count_reports(database_url) - before
    other = sum(sum(v for k, v in r.statuses.items() if k != 201) for r in [warm, *runs])
    return {
        "rate": statistics.median(r.rate(201) for r in runs),
        "p50_ms": statistics.median(r.percentile(0.50) for r in runs) * 1e3,
        "p95_ms": statistics.median(r.percentile(0.95) for r in runs) * 1e3,
        "accepted": accepted,
        "rows": rows,
        "lost": max(0, accepted - rows),
        "non_201": other,
    }


def kill_check(
    database_url: str, texts: Sequence[str], concurrency: int, workers: int
) -> dict[str, Any]:
    """Run the load in a child process that records each 201 as it arrives, kill the server."""
    migrate_url(database_url)
    before = count_reports(database_url)
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "accepted.txt"
        env = {"QINGLANG_WORKERS": str(workers)}
        with Server(database_url, Path(tmp) / "blobs", **env) as server:
            client = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.kill_client",
                    str(server.port),
                    str(log),
                    str(concurrency),
                ],
                cwd=Path(__file__).resolve().parents[1],
            )
            time.sleep(4.0)
            server.kill()
            client.wait(timeout=60)
        tickets = [t for t in log.read_text().split() if t]
    after = count_reports(database_url)
    from sqlalchemy import select

    from qinglang.store.db import Database
    from qinglang.store.models import IntakeItem

    db = Database(database_url)
    with db.read() as session:
        stored = set(session.execute(select(IntakeItem.ticket)).scalars())
    db.dispose()
    missing = [t for t in tickets if t not in stored]
    return {
        "accepted": len(tickets),
        "committed": after - before,
        "missing": len(missing),
    }


# ---------------------------------------------------------------- 10^6 cases on PostgreSQL


def _generate_cases(database_url: str, n: int) -> None:
    from sqlalchemy import text

    from qinglang.govern.identifiers import provinces
    from qinglang.store import migrate
    from qinglang.store.db import Database
    from qinglang.taxonomy import get_taxonomy

    db = Database(database_url)
    migrate.upgrade(db)
    tax = get_taxonomy()
    grounds = [(c.code, c.lead, json.dumps(list(c.co))) for c in tax.categories.values()]
    codes = []
    for p in provinces().values():
        codes.append(f"{p.code}0000")
        codes += [f"{p.code}{c:02d}00" for c in range(1, 6)]
    states = ["lead", "opened", "assessing", "disposing", "rectifying", "rechecking", "closed"]
    states += ["closed", "closed", "dismissed", "transferred"]
    words = ["博彩引流", "色情低俗", "网络暴力", "诱导打赏", "游戏广告", "饭圈互撕", "开盒", "诈骗"]
    words += ["校园霸凌", "自残", "暴力血腥", "拜金炫富", "学习平台推送游戏", "恶意弹窗"]
    values_g = ",".join(
        f"({i}, '{g}', '{lead}', '{co}')" for i, (g, lead, co) in enumerate(grounds)
    )
    values_j = ",".join(f"({i}, '{c}')" for i, c in enumerate(codes))
    values_s = ",".join(f"({i}, '{s}')" for i, s in enumerate(states))
    values_w = ",".join(f"({i}, '{w}')" for i, w in enumerate(words))
    with db.engine.begin() as conn:
        conn.execute(text("TRUNCATE cases, case_departments RESTART IDENTITY CASCADE"))
        conn.execute(
            text(
                f"""
            WITH g(i, code, lead, co) AS (VALUES {values_g}),
                 j(i, code) AS (VALUES {values_j}),
                 s(i, state) AS (VALUES {values_s}),
                 w(i, word) AS (VALUES {values_w})
            INSERT INTO cases (id, state, title, summary, grounds, primary_ground,
                lead_department, co_departments, jurisdiction, subject_id, source, deadline,
                public_result, version, created_at, updated_at, closed_at)
            SELECT n, s.state,
                   '某平台' || w.word || '问题 第' || n || '号', NULL,
                   jsonb_build_array(g.code), g.code, g.lead, g.co::jsonb, j.code, NULL,
                   'public_tip',
                   CASE WHEN s.state = 'rectifying'
                        THEN DATE '2020-09-01' + (n % 120) END,
                   NULL, 3,
                   TIMESTAMPTZ '2020-06-01' + (n * INTERVAL '17 seconds'),
                   TIMESTAMPTZ '2020-06-01' + (n * INTERVAL '17 seconds')
                       + ((n::bigint * 7919) % 86400) * INTERVAL '1 second',
                   CASE WHEN s.state = 'closed'
                        THEN TIMESTAMPTZ '2020-06-02' + (n * INTERVAL '17 seconds') END
            FROM generate_series(1, :n) AS n
            JOIN g ON g.i = n % {len(grounds)}
            JOIN j ON j.i = (n / 7) % {len(codes)}
            JOIN s ON s.i = (n / 3) % {len(states)}
            JOIN w ON w.i = (n / 11) % {len(words)}
            """
            ),
            {"n": n},
        )
        conn.execute(
            text(
                """
            INSERT INTO case_departments (case_id, department, is_lead, updated_at)
            SELECT id, lead_department, true, updated_at FROM cases
            UNION ALL
            SELECT id, jsonb_array_elements_text(co_departments), false, updated_at FROM cases
            """
            )
        )
        conn.execute(text("SELECT setval(pg_get_serial_sequence('cases', 'id'), :n)"), {"n": n})
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE cases"))
        conn.execute(text("VACUUM ANALYZE case_departments"))
    db.dispose()


def case_database(base: str, n: int) -> str:
    """The URL of a schema holding `n` generated cases (built once, reused while current)."""
    from sqlalchemy import func, select

    from qinglang.store import migrate
    from qinglang.store.db import Database
    from qinglang.store.models import Case

    url = bench_schema_url(base, CASE_SCHEMA, fresh=False)
    db = Database(url)
    try:
        ready = migrate.is_current(db)
        if ready:
            with db.read() as session:
                ready = session.scalar(select(func.count()).select_from(Case)) == n
    finally:
        db.dispose()
    if not ready:
        url = bench_schema_url(base, CASE_SCHEMA, fresh=True)
        start = time.perf_counter()
        _generate_cases(url, n)
        print(f"generated {n:,} cases in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return url


def percentiles(samples: list[float]) -> tuple[float, float]:
    data = sorted(samples)
    return data[len(data) // 2] * 1e3, data[min(len(data) - 1, int(len(data) * 0.95))] * 1e3


def time_calls(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    fn()  # warm the caches
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return percentiles(samples)


def case_principals() -> dict[str, Any]:
    from qinglang.govern.actors import Role
    from qinglang.services.principal import Principal

    return {
        "national": Principal(
            1, "bench-national", frozenset({Role.officer}), "cyberspace", "100000"
        ),
        "province": Principal(2, "bench-province", frozenset({Role.officer}), "police", "310000"),
        "city": Principal(3, "bench-city", frozenset({Role.analyst}), "cyberspace", "310100"),
    }


# (label, principal key, list_cases keyword arguments, query string for HTTP)
CASE_QUERIES: list[tuple[str, str, dict[str, Any], str]] = [
    ("national officer, first page", "national", {}, ""),
    ("provincial officer (310000), first page", "province", {}, ""),
    (
        "city analyst (310100), state = rectifying",
        "city",
        {"state": "rectifying"},
        "state=rectifying",
    ),
    ("national, primary ground = gambling", "national", {"ground": "gambling"}, "ground=gambling"),
    ("national, search 博彩 in titles", "national", {"q": "博彩"}, "q=" + quote("博彩")),
    (
        "provincial, search 诱导打赏 in titles",
        "province",
        {"q": "诱导打赏"},
        "q=" + quote("诱导打赏"),
    ),
    ("national, search by case id", "national", {"q": "777777"}, "q=777777"),
    ("provincial, overdue rectification", "province", {"overdue": True}, "overdue=true"),
]


def case_list_latency(url: str, runs: int) -> list[tuple[str, float, float, int]]:
    """(label, p50 ms, p95 ms, rows on the page) per query, in-process through the service."""
    from datetime import UTC, datetime

    from qinglang.services.cases import list_cases
    from qinglang.store.db import Database

    db = Database(url)
    people = case_principals()
    at = datetime(2020, 12, 1, tzinfo=UTC)
    out = []
    for label, who, kwargs, _ in CASE_QUERIES:
        rows = 0

        def call(who: str = who, kwargs: dict[str, Any] = kwargs) -> None:
            nonlocal rows
            with db.read() as session:
                page = list_cases(session, people[who], limit=50, at=at, **kwargs)
                rows = len(page.items)

        p50, p95 = time_calls(call, runs)
        out.append((label, p50, p95, rows))

    samples = []
    for _ in range(max(5, runs // 5)):
        with db.read() as session:
            cursor = list_cases(session, people["national"], limit=50, at=at).next_cursor
            for _ in range(8):
                cursor = list_cases(
                    session, people["national"], limit=50, cursor=cursor, at=at
                ).next_cursor
            start = time.perf_counter()
            page = list_cases(session, people["national"], limit=50, cursor=cursor, at=at)
            samples.append(time.perf_counter() - start)
    p50, p95 = percentiles(samples)
    out.append(("national, 10th page by cursor", p50, p95, len(page.items)))
    db.dispose()
    return out


def case_list_http(url: str, runs: int) -> list[tuple[str, float, float, int]]:
    """The same queries over HTTP (`GET /api/v1/cases`), one request at a time."""
    from datetime import UTC, datetime

    from sqlalchemy import delete

    from qinglang.services.users import create_token, create_user
    from qinglang.store.db import Database
    from qinglang.store.models import ApiToken, User

    db = Database(url)
    tokens: dict[str, str] = {}
    at = datetime.now(UTC)
    with db.write() as session:
        session.execute(delete(ApiToken))
        session.execute(delete(User))
        for key, p in case_principals().items():
            user = create_user(
                session,
                username=p.username,
                password=None,
                roles=[r.value for r in p.roles],
                jurisdiction=p.jurisdiction,
                department=p.department,
                by="system:bench",
                at=at,
            )
            tokens[key] = create_token(session, user.id, "bench", at)[0]
    db.dispose()
    out = []
    with tempfile.TemporaryDirectory() as blobs, Server(url, Path(blobs)) as server:
        for label, who, _, query in CASE_QUERIES:
            headers = {"Authorization": f"Bearer {tokens[who]}"}
            path = "/api/v1/cases?limit=50" + (f"&{query}" if query else "")

            def make(i: int, path: str = path, headers: dict[str, str] = headers) -> bytes:
                return request_bytes("GET", path, None, headers)

            result = run_load(server.port, make, total=runs + 1, concurrency=1, keep_bodies=True)
            statuses = dict(result.statuses)
            if statuses.get(200) != runs + 1:
                raise RuntimeError(f"{label}: unexpected statuses {statuses}")
            items = len(json.loads(result.bodies[-1])["items"])
            samples = result.latencies[1:]
            p50, p95 = percentiles(samples)
            out.append((label, p50, p95, items))
    return out


# ---------------------------------------------------------------- the section of benchmarks.md


def section(texts: Sequence[str], *, repeats: int, quick: bool = False) -> list[str]:
    """Markdown lines of the governance section; `quick` shrinks the runs (for a smoke test)."""
    per_run = 300 if quick else 3000
    runs = 20 if quick else 200
    concurrency = 32
    lines = [
        "## Governance core: public reports and case lists",
        "",
        "Reports: `POST /api/v1/reports` to `qinglang serve` (1 or 2 uvicorn worker processes, "
        "`--workers`) from "
        f"a socket-level client in another process on the same 2 cores, {concurrency} "
        f"keep-alive connections, {per_run:,} distinct reports a run (a corpus text and a "
        f"URL), median of {repeats} runs after 200 warm-up reports. Each report is validated, "
        "triaged by the detection engine (rules + model), deduplicated, linked, stored with a "
        "lead case and audit events, and committed before the `201`. Lost = `201` answers "
        "minus rows counted in the database afterwards.",
        "",
        "| database | workers | reports/s | p50 latency | p95 latency | `201` answers | rows | "
        "lost | other answers |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    backends: list[tuple[str, str]] = []
    tmp = tempfile.mkdtemp(prefix="qlbench-")
    backends.append(("SQLite (WAL, synchronous=NORMAL)", f"sqlite:///{tmp}/reports.db"))
    pg = pg_base_url()
    if pg:
        backends.append(("PostgreSQL 15", bench_schema_url(pg, "qlbench_reports", fresh=True)))
    for label, url in backends:
        for workers in (1, 2):
            r = reports_over_http(
                url,
                texts,
                repeats=repeats,
                per_run=per_run,
                concurrency=concurrency,
                workers=workers,
            )
            lines.append(
                f"| {label} | {workers} | **{r['rate']:,.0f}** | {r['p50_ms']:.1f} ms | "
                f"{r['p95_ms']:.1f} ms | {r['accepted']:,} | {r['rows']:,} | {r['lost']} | "
                f"{r['non_201']} |"
            )
            print(f"reports on {label}, {workers} worker(s): {r}", file=sys.stderr)
    lines += ["", "Target ≥ 300 reports/s on 2 cores, zero lost.", ""]
    lines += [
        "Killed server: the same load on 2 workers, and `kill -9` of the server and its "
        "workers after 4 s; the client records each ticket as its `201` arrives.",
        "",
        "| database | `201` answers before the kill | rows committed | `201` tickets missing |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, url in backends:
        k = kill_check(url, texts, concurrency, workers=2)
        lines.append(f"| {label} | {k['accepted']:,} | {k['committed']:,} | **{k['missing']}** |")
        print(f"kill test on {label}: {k}", file=sys.stderr)
    lines.append("")
    if not pg:
        lines += ["Case lists: PostgreSQL was not reachable; not measured.", ""]
        return lines
    n = 20_000 if quick else CASES
    url = case_database(pg, n)
    lines += [
        f"Case lists on PostgreSQL with **{n:,} generated cases** (24 grounds, 34 provinces × "
        "5 cities, every state; `case_departments` holds the lead and cooperating departments), "
        f"50 cases a page, {runs} calls per query after one warm-up; scoped to the caller's "
        "department and jurisdiction as in production.",
        "",
        "| query | in-process p50 | in-process p95 | HTTP p50 | HTTP p95 | rows |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    direct = case_list_latency(url, runs)
    http = {label: (p50, p95) for label, p50, p95, _ in case_list_http(url, runs)}
    for label, p50, p95, rows in direct:
        h50, h95 = http.get(label, (float("nan"), float("nan")))
        http_cells = f"{h50:.1f} ms | **{h95:.1f} ms**" if label in http else "– | –"
        lines.append(f"| {label} | {p50:.1f} ms | {p95:.1f} ms | {http_cells} | {rows} |")
    lines += ["", "Target p95 < 100 ms.", ""]
    return lines
