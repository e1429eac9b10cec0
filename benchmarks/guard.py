"""Benchmarks of the guard (minor protection), a section of docs/benchmarks.md.

1. Heartbeats over HTTP: `qinglang serve` in a child process on a fresh SQLite database, a
   platform, 1,000 real-name profiles (adults, born in the 1980s, so that no minors' play
   window stops them whatever the time of day) and 1,000 sessions logged in; then 1,000
   keep-alive connections, one per player, each sending heartbeats for its own session
   (`POST /api/v1/guard/sessions/{id}/heartbeat`):
   - paced (open loop, the headline): each player heartbeats on a fixed schedule, 3,000
     heartbeats/s offered in all, latency counted from the scheduled send time
     (`benchmarks.http_load.run_paced`); after a warm-up, three windows timed back to back,
     medians of the windows. Then a step search (1,000, 2,000, ... 6,000/s offered, one window
     each, 3,000 taken from the headline) for the highest offered rate whose p99 stays under
     50 ms: the sustainable rate;
   - closed loop (saturation): each player sends back to back, as fast as answers come.
   Every answer must be `200`. Measured with the in-process counters (one worker: each worker
   would count alone) and with the Redis counters (QINGLANG_BENCH_REDIS_URL, default
   redis://127.0.0.1:6379/15, emptied first) on 1 and 2 workers. The load generator shares the
   machine's cores with the server.
2. Rule decisions per second in-process (`benchmarks.guard_decisions`), in a child process
   pinned to one core.

    python -m benchmarks.guard [--quick]

prints the section.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.governance import Server
from benchmarks.http_load import (
    _read_response,
    event_loop_runner,
    request_bytes,
    run_paced,
    settle,
)

HEADING = "## Guard (minor protection)"
PLAYERS = 1_000
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"
RATE_TARGET = 3_000
P99_TARGET_MS = 50.0
PACED_RATE = RATE_TARGET  # heartbeats/s offered in the headline run
SEARCH_RATES = (1_000, 2_000, 3_000, 4_000, 5_000, 6_000)  # steps of the sustainable-rate search
KEPT_UP = 0.99  # achieved ≥ 99 % of offered: the server kept up (window edges shift a few)
DECISIONS_TARGET = 100_000
REGION = "110105"  # Beijing, Chaoyang


def id_number(i: int) -> str:
    """A valid resident ID number of an adult born in the 1980s (distinct for i < 10^4)."""
    from qinglang.guard.identity import check_char

    year = 1980 + i % 10
    month = 1 + (i // 10) % 12
    day = 1 + (i // 120) % 28
    first17 = f"{REGION}{year:04d}{month:02d}{day:02d}{i % 1000:03d}"
    return first17 + check_char(first17)


def redis_url() -> str:
    return os.environ.get("QINGLANG_BENCH_REDIS_URL", DEFAULT_REDIS)


def flush_redis(url: str) -> str | None:
    """FLUSHDB on `url`; the reason when Redis cannot be reached."""
    try:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=5)
        client.flushdb()
        client.close()
    except Exception as exc:  # the benchmark reports a missing Redis instead of failing
        return f"{type(exc).__name__}: {exc}"
    return None


def raise_fd_limit() -> None:
    """1,000 sockets on each side: raise the soft limit (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65_536
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


# ---------------------------------------------------------------- setup (not timed)


def cli(env: dict[str, str], *args: str) -> str:
    qinglang = Path(sys.executable).with_name("qinglang")
    done = subprocess.run(
        [str(qinglang), *args], env=env, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise RuntimeError(f"qinglang {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def prepare_database(database_url: str) -> str:
    """Migrate, create an admin and return an API token of theirs."""
    password = secrets.token_urlsafe(18)
    env = {
        **os.environ,
        "QINGLANG_DATABASE_URL": database_url,
        "QINGLANG_LOG_LEVEL": "WARNING",
        "QLBENCH_ADMIN_PASSWORD": password,
    }
    cli(env, "db", "upgrade")
    cli(env, "user", "create", "bench-admin", "--role", "admin", "--jurisdiction", "100000",
        "--password-env", "QLBENCH_ADMIN_PASSWORD")  # fmt: skip
    return json.loads(cli(env, "token", "create", "bench-admin", "--name", "bench"))["token"]


async def _requests(port: int, requests: list[bytes], concurrency: int) -> list[tuple[int, bytes]]:
    """Each request once over `concurrency` keep-alive sockets, answers in request order."""
    answers: list[tuple[int, bytes]] = [(0, b"")] * len(requests)
    todo = iter(range(len(requests)))

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for i in todo:
                writer.write(requests[i])
                answers[i] = await _read_response(reader)
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return answers


def setup_players(port: int, admin_token: str, label: str) -> tuple[str, list[str]]:
    """Register a platform, PLAYERS profiles and log each in: (api key, session ids)."""

    def call(method: str, path: str, bodies: list[dict[str, Any]], token: str, want: int):
        headers = {"Authorization": f"Bearer {token}"}
        reqs = [request_bytes(method, path, b, headers) for b in bodies]
        answers = asyncio.run(_requests(port, reqs, min(16, len(reqs))))
        bad = Counter(s for s, _ in answers if s != want)
        if bad:
            sample = next(b for s, b in answers if s != want)[:300]
            raise RuntimeError(f"{method} {path}: statuses {dict(bad)}; e.g. {sample!r}")
        return [json.loads(b) for _, b in answers]

    platform = call(
        "POST", "/api/v1/guard/platforms", [{"name": f"bench {label}", "kind": "game"}],
        admin_token, 201,
    )[0]  # fmt: skip
    key = platform["api_key"]
    accounts = [f"player{i:04d}" for i in range(PLAYERS)]
    call(
        "POST",
        "/api/v1/guard/profiles",
        [{"account": a, "id_number": id_number(i)} for i, a in enumerate(accounts)],
        key,
        201,
    )
    sessions = call("POST", "/api/v1/guard/sessions", [{"account": a} for a in accounts], key, 200)
    ids = [s["session_id"] for s in sessions]
    if not all(ids):
        refused = next(s for s in sessions if not s["session_id"])
        raise RuntimeError(f"a login was refused: {refused}")
    return key, ids


# ---------------------------------------------------------------- the timed load


@dataclass(frozen=True)
class Durations:
    warmup: float  # before the timed windows of the headline and closed-loop runs
    window: float
    windows: int
    step_warmup: float  # each step of the search: a warm-up and one window
    step_window: float
    drain: float  # paced runs: how long after the last window the late answers are awaited


FULL = Durations(warmup=2.0, window=10.0, windows=3, step_warmup=1.0, step_window=5.0, drain=2.0)
QUICK = Durations(warmup=1.0, window=2.0, windows=3, step_warmup=0.5, step_window=2.0, drain=1.0)


def heartbeat_requests(key: str, session_ids: Sequence[str]) -> list[bytes]:
    """One heartbeat request per player, for its own session."""
    headers = {"Authorization": f"Bearer {key}"}
    return [
        request_bytes("POST", f"/api/v1/guard/sessions/{sid}/heartbeat", None, headers)
        for sid in session_ids
    ]


@dataclass
class Window:
    seconds: float
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)

    def rate(self) -> float:
        return sum(self.statuses.values()) / self.seconds

    def percentile(self, p: float) -> float:
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(len(data) * p))] if data else float("nan")


async def _heartbeats(
    port: int, requests: list[bytes], warmup: float, window: float, windows: int
) -> tuple[Counter[int], list[Window]]:
    """One socket per request (a player's heartbeat), each sending it back to back: the warm-up,
    then `windows` windows of `window` seconds; each answer counts in the window it ends in."""
    opened = await asyncio.gather(*(asyncio.open_connection("127.0.0.1", port) for _ in requests))
    warm: Counter[int] = Counter()
    results = [Window(window) for _ in range(windows)]
    start = time.perf_counter()
    marks = [start + warmup + k * window for k in range(windows + 1)]
    end = marks[-1]

    async def player(req: bytes, reader: asyncio.StreamReader, writer: Any) -> None:
        perf = time.perf_counter
        try:
            while True:
                t0 = perf()
                if t0 >= end:
                    return
                writer.write(req)
                status, _ = await _read_response(reader)
                t1 = perf()
                if t1 < marks[0]:
                    warm[status] += 1
                    continue
                k = int((t1 - marks[0]) // window)
                if k >= windows:
                    return
                results[k].statuses[status] += 1
                results[k].latencies.append(t1 - t0)
        finally:
            writer.close()

    await asyncio.gather(*(player(req, r, w) for req, (r, w) in zip(requests, opened, strict=True)))
    return warm, results


def heartbeat_load(
    port: int, requests: list[bytes], *, warmup: float, window: float, windows: int
) -> dict[str, Any]:
    """Closed loop: each player sends its heartbeats back to back (saturation)."""
    runner, loop_name = event_loop_runner()
    warm, runs = runner(_heartbeats(port, requests, warmup, window, windows))
    statuses: Counter[int] = Counter()
    for w in runs:
        statuses += w.statuses
    return {
        "rate": statistics.median(w.rate() for w in runs),
        "rates": [round(w.rate()) for w in runs],
        "p50_ms": statistics.median(w.percentile(0.50) for w in runs) * 1e3,
        "p99_ms": statistics.median(w.percentile(0.99) for w in runs) * 1e3,
        "p99_worst_ms": max(w.percentile(0.99) for w in runs) * 1e3,
        "statuses": dict(sorted(statuses.items())),
        "warmup_statuses": dict(sorted(warm.items())),
        "loop": loop_name,
    }


def paced_load(
    port: int,
    requests: list[bytes],
    rate: float,
    *,
    warmup: float,
    window: float,
    windows: int,
    drain: float,
) -> dict[str, Any]:
    """Open loop: each player heartbeats every `len(requests) / rate` seconds (a random phase
    each), latency from the scheduled send time; medians over `windows` windows."""
    run = run_paced(
        port,
        lambda player, _k: requests[player],
        concurrency=len(requests),
        rate=rate,
        warmup=warmup,
        window=window,
        windows=windows,
        drain=drain,
    )
    runs = run.windows
    statuses: Counter[int] = Counter()
    for w in runs:
        statuses += w.statuses
    result = {
        "offered": rate,
        "interval_s": run.interval,
        "rate": statistics.median(w.achieved for w in runs),
        "rates": [round(w.achieved) for w in runs],
        "p50_ms": statistics.median(w.percentile(0.50) for w in runs) * 1e3,
        "p99_ms": statistics.median(w.percentile(0.99) for w in runs) * 1e3,
        "p99_worst_ms": max(w.percentile(0.99) for w in runs) * 1e3,
        "due": sum(w.due for w in runs),
        "late": sum(w.late for w in runs),
        "unanswered": sum(w.unanswered for w in runs),
        "statuses": dict(sorted(statuses.items())),
        "other_statuses": dict(sorted(run.other_statuses.items())),
    }
    result["ok"] = paced_ok(result)
    return result


def paced_ok(r: dict[str, Any]) -> bool:
    """The server kept up with the offered rate, p99 under target, every answer `200`."""
    return (
        r["rate"] >= KEPT_UP * r["offered"]
        and r["p99_ms"] < P99_TARGET_MS
        and r["unanswered"] == 0
        and set(r["statuses"]) == {200}
        and set(r["other_statuses"]) <= {200}
    )


def quiet(port: int) -> None:
    """Let the server finish what an overloaded run left queued before the next run."""
    waited = settle(port, timeout=120.0)
    if waited > 1.0:
        print(f"  waited {waited:.1f} s for the server to drain", file=sys.stderr)


def sustainable_rate(
    port: int, requests: list[bytes], headline: dict[str, Any], d: Durations
) -> dict[str, Any]:
    """Step up the offered rate (one window each; PACED_RATE is the headline run) and stop at the
    first step that fails `paced_ok`: the last passing step is the sustainable rate."""
    best: int | None = None
    steps: list[dict[str, Any]] = []
    for rate in SEARCH_RATES:
        if rate == PACED_RATE:
            r = headline
        else:
            quiet(port)
            r = paced_load(
                port, requests, rate, warmup=d.step_warmup, window=d.step_window, windows=1,
                drain=d.drain,
            )  # fmt: skip
            print(f"  step {rate:,}/s: {r}", file=sys.stderr)
        steps.append({"offered": rate, "p99_ms": r["p99_ms"], "rate": r["rate"], "ok": r["ok"]})
        if not r["ok"]:
            break
        best = rate
    return {"sustainable": best, "steps": steps}


def measure(
    database_url: str,
    admin_token: str,
    blob_dir: Path,
    *,
    label: str,
    workers: int,
    redis: str | None,
    quick: bool,
) -> dict[str, Any]:
    """Paced headline, sustainable-rate search, then closed-loop saturation, on one server."""
    d = QUICK if quick else FULL
    env = {
        "QINGLANG_WORKERS": str(workers),
        "QINGLANG_RATE_LIMIT_PER_MINUTE": "0",
        "QINGLANG_LOG_LEVEL": "WARNING",
    }
    if redis:
        env["QINGLANG_REDIS_URL"] = redis
    with Server(database_url, blob_dir, **env) as server:
        start = time.perf_counter()
        key, ids = setup_players(server.port, admin_token, label)
        print(
            f"{label}: {len(ids)} players ready in {time.perf_counter() - start:.1f} s",
            file=sys.stderr,
        )
        requests = heartbeat_requests(key, ids)
        quiet(server.port)
        paced = paced_load(
            server.port, requests, PACED_RATE, warmup=d.warmup, window=d.window,
            windows=d.windows, drain=d.drain,
        )  # fmt: skip
        print(f"{label}: paced {paced}", file=sys.stderr)
        search = sustainable_rate(server.port, requests, paced, d)
        print(f"{label}: sustainable {search}", file=sys.stderr)
        quiet(server.port)
        closed = heartbeat_load(
            server.port, requests, warmup=d.warmup, window=d.window, windows=d.windows
        )
        print(f"{label}: closed loop {closed}", file=sys.stderr)
    return {"paced": paced, "search": search, "closed": closed}


# ---------------------------------------------------------------- decisions in-process

_DECISIONS = """
import json, os, sys
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
from benchmarks.guard_decisions import decisions_per_second
print(json.dumps(decisions_per_second(float(sys.argv[1]))))
"""


def decisions(seconds: float) -> dict[str, Any]:
    """`decisions_per_second()` in a child process pinned to one core."""
    done = subprocess.run(
        [sys.executable, "-c", _DECISIONS, str(seconds)],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the section


def _met(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def _answers(statuses: dict[int, int], others: dict[int, int], others_name: str) -> str:
    """The statuses of the timed answers, and any non-`200` among the others."""
    text = ", ".join(f"`{s}`: {n:,}" for s, n in statuses.items())
    bad = {s: n for s, n in others.items() if s != 200}
    return text + (f" ({others_name}: {bad})" if bad else "")


def section(*, quick: bool) -> list[str]:
    """Markdown lines of the guard section; `quick` shortens the runs (a smoke test)."""
    from benchmarks.run import machine

    raise_fd_limit()
    d = QUICK if quick else FULL
    redis = redis_url()
    configs: list[tuple[str, int, str | None]] = [("in-process", 1, None)]
    redis_error = flush_redis(redis)
    if redis_error is None:
        configs += [("Redis", 1, redis), ("Redis", 2, redis)]
    else:
        print(f"Redis not reachable at {redis}: {redis_error}", file=sys.stderr)

    results: list[tuple[str, int, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="qlbench-guard-") as tmp:
        database_url = f"sqlite:///{tmp}/guard.db"
        token = prepare_database(database_url)
        for counters, workers, url in configs:
            if url:
                flush_redis(url)
            label = f"{counters} counters, {workers} worker(s)"
            r = measure(
                database_url,
                token,
                Path(tmp) / "blobs",
                label=label,
                workers=workers,
                redis=url,
                quick=quick,
            )
            results.append((counters, workers, r))
    dec = decisions(1.0 if quick else 2.0)

    loop_name = results[0][2]["closed"]["loop"] if results else "uvloop"
    interval = PLAYERS / PACED_RATE
    lines = [
        HEADING,
        "",
        f"Machine: {machine()}; {os.cpu_count()} cores, shared by the server and the load "
        "generator.",
        "",
        "### Heartbeats over HTTP",
        "",
        "`POST /api/v1/guard/sessions/{id}/heartbeat` to `qinglang serve` (uvicorn, `--workers` "
        "1 or 2) on a fresh SQLite database, from a socket-level client (asyncio streams, "
        f"{loop_name} event loop) in another process on the same cores: {PLAYERS:,} players, "
        "each with its own session and its own keep-alive connection. The players are adults "
        "(born in the 1980s), so that no minors' play window or daily limit ends their sessions "
        "whatever the time of day the benchmark runs; a minor's heartbeat takes the same path. "
        "Rate limiting is off (`QINGLANG_RATE_LIMIT_PER_MINUTE=0`), logs at `WARNING`. Every "
        "answer must be `200`.",
        "",
        f"**Paced (the target's reading).** Each of the {PLAYERS:,} players heartbeats on its "
        f"own fixed schedule, one every {interval:.2f} s from a random phase, so that "
        f"{PACED_RATE:,} heartbeats/s arrive spread over time (open loop, as real clients that "
        "heartbeat at an interval). Latency counts from each heartbeat's *scheduled* send time, "
        "so time spent queued behind a slow answer counts (a player whose answer comes after "
        "its next scheduled time sends at once, and that lateness is in the latency: no "
        f"coordinated omission). After {d.warmup:g} s of warm-up, {d.windows} windows of "
        f"{d.window:g} s are timed back to back; heartbeats/s (answers received in the window), "
        f"p50 and p99 are the medians of the {d.windows} windows.",
        "",
        "| counters | workers | offered/s | heartbeats/s | runs (req/s) | p50 latency | "
        "p99 latency | answers | target met |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | --- | --- |",
    ]
    for counters, workers, res in results:
        r = res["paced"]
        ok = r["offered"] >= RATE_TARGET and r["ok"]
        answers = _answers(r["statuses"], r["other_statuses"], "warm-up/drain")
        if r["unanswered"]:
            answers += f"; {r['unanswered']:,} unanswered at the cut-off"
        runs = " / ".join(f"{x:,}" for x in r["rates"])
        lines.append(
            f"| {counters} | {workers} | {r['offered']:,.0f} | **{r['rate']:,.0f}** | {runs} | "
            f"{r['p50_ms']:.1f} ms | **{r['p99_ms']:.1f} ms** | {answers} | {_met(ok)} |"
        )
    if redis_error is not None:
        lines += ["", f"Redis counters: Redis was not reachable ({redis}); not measured."]
    lines += [
        "",
        f"Target (each configuration): ≥ {RATE_TARGET:,} heartbeats/s with {PLAYERS:,} "
        f"concurrent players on 2 cores, p99 < {P99_TARGET_MS:.0f} ms, every answer `200`. "
        f"Met when, at {PACED_RATE:,}/s offered, the server keeps up (heartbeats/s within "
        f"{1 - KEPT_UP:.0%} of the offered rate: answers straddling a window's edges move a few "
        "between windows; none left unanswered) with the median p99 under target. In-process "
        "counters need exactly one worker (several would each count alone); the Redis counters "
        "are shared by every worker and replica.",
        "",
        "**Capacity.** *Sustainable rate*: the highest offered rate, stepping through "
        + ", ".join(f"{x:,}" for x in SEARCH_RATES)
        + f" heartbeats/s and stopping at the first failure, at which the paced load still "
        f"meets p99 < {P99_TARGET_MS:.0f} ms (and keeps up, every answer `200`); each step is "
        f"{d.step_warmup:g} s of warm-up and one {d.step_window:g} s window, the "
        f"{PACED_RATE:,}/s step is the headline run above. *Saturation throughput*: closed "
        f"loop, each of the {PLAYERS:,} players sending its next heartbeat as soon as the "
        f"previous answer arrives; {d.warmup:g} s of warm-up, then the medians of {d.windows} "
        f"windows of {d.window:g} s. With every player sending back to back the latency is about "
        "players ÷ throughput (Little's law), so the closed-loop latencies measure the queue "
        "the benchmark itself builds, not what a paced player sees.",
        "",
        "| counters | workers | sustainable rate | search (offered/s: p99) | saturation "
        "heartbeats/s | runs (req/s) | closed-loop p50 / p99 | closed-loop answers |",
        "| --- | ---: | ---: | --- | ---: | --- | --- | --- |",
    ]
    for counters, workers, res in results:
        search, c = res["search"], res["closed"]
        best = search["sustainable"]
        sustainable = f"**{best:,}/s**" if best else f"< {SEARCH_RATES[0]:,}/s"
        if best == SEARCH_RATES[-1]:
            sustainable = f"**≥ {best:,}/s**"
        steps = ", ".join(
            f"{st['offered']:,}: {st['p99_ms']:.1f} ms" + ("" if st["ok"] else " ✗")
            for st in search["steps"]
        )
        answers = _answers(c["statuses"], c["warmup_statuses"], "warm-up")
        runs = " / ".join(f"{x:,}" for x in c["rates"])
        lines.append(
            f"| {counters} | {workers} | {sustainable} | {steps} | **{c['rate']:,.0f}** | "
            f"{runs} | {c['p50_ms']:.1f} / {c['p99_ms']:.1f} ms | {answers} |"
        )
    lines += [
        "",
        "### Rule decisions in-process",
        "",
        "`benchmarks.guard_decisions.decisions_per_second()` in a child process pinned to one "
        "core: a seeded mix of game, video and live platforms, minors of every age band, adults "
        "and guests, instants over 2021–2026; rule sets resolved beforehand; median of "
        f"{dec['runs']} runs ({dec['seconds_per_kind']:g} s per kind).",
        "",
        "| decision | decisions/s | runs | target met |",
        "| --- | ---: | --- | --- |",
    ]
    for kind, what in (("play", "play time (`evaluate`)"), ("payment", "payment")):
        dk = dec[kind]
        runs = " / ".join(f"{x:,}" for x in dk["runs"])
        ok = dk["decisions_per_second"] >= DECISIONS_TARGET
        lines.append(f"| {what} | **{dk['decisions_per_second']:,}** | {runs} | {_met(ok)} |")
    lines += ["", f"Target ≥ {DECISIONS_TARGET:,} decisions/s on one core.", ""]
    return lines


if __name__ == "__main__":
    print("\n".join(section(quick="--quick" in sys.argv[1:])))
