"""A small HTTP/1.1 load generator on asyncio streams, for the benchmarks.

Plain sockets with keep-alive and no HTTP library in the loop, so that on a 2-core machine the
client costs the server as little CPU as possible. Each of `concurrency` connections sends its
requests one after another and reads each response (Content-Length bodies only, as uvicorn
answers JSON).

`run_load` is closed-loop: each connection sends its next request as soon as the previous answer
arrives, so it measures saturation. `run_paced` is open-loop: each connection (a player) sends
on a fixed schedule and the latency counts from the scheduled time, queueing included.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LoadResult:
    seconds: float
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def rate(self, status: int) -> float:
        return self.statuses[status] / self.seconds

    def percentile(self, p: float) -> float:
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(len(data) * p))] if data else float("nan")


def request_bytes(method: str, path: str, body: dict | None, headers: dict[str, str]) -> bytes:
    payload = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    return status, body


async def _run(
    port: int,
    make_request: Callable[[int], bytes],
    total: int,
    concurrency: int,
    keep_bodies: bool,
) -> LoadResult:
    result = LoadResult(0.0)
    counter = iter(range(total))

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for i in counter:
                start = time.perf_counter()
                writer.write(make_request(i))
                status, body = await _read_response(reader)
                result.latencies.append(time.perf_counter() - start)
                result.statuses[status] += 1
                if keep_bodies:
                    result.bodies.append(body)
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - start
    return result


def run_load(
    port: int,
    make_request: Callable[[int], bytes],
    *,
    total: int,
    concurrency: int,
    keep_bodies: bool = False,
) -> LoadResult:
    """Send `total` requests (`make_request(i)` builds request i) over `concurrency` sockets."""
    return asyncio.run(_run(port, make_request, total, concurrency, keep_bodies))


# ---------------------------------------------------------------- open loop (paced)


@dataclass
class PacedResult(LoadResult):
    """One timed window of a paced run.

    `statuses` counts the answers that arrived within the window (so `requests / seconds` is the
    achieved rate); `latencies` are those of the requests *scheduled* within the window, from
    their scheduled time to their answer, wherever that answer landed (up to the drain
    deadline). A request scheduled in the window and still unanswered at the deadline counts
    with the lower bound `deadline - scheduled time` and in `unanswered`.
    """

    offered: float = 0.0  # requests/s scheduled over all connections
    due: int = 0  # requests scheduled within the window
    late: int = 0  # of those, sent after their time (the previous answer came late)
    unanswered: int = 0  # of those, without an answer at the drain deadline

    @property
    def achieved(self) -> float:
        return self.requests / self.seconds


@dataclass
class PacedRun:
    offered: float
    concurrency: int
    interval: float  # seconds between two requests of one connection
    windows: list[PacedResult]
    other_statuses: Counter[int] = field(default_factory=Counter)  # warm-up and drain answers


def event_loop_runner() -> tuple[Callable[[Coroutine[Any, Any, Any]], Any], str]:
    """uvloop's `run` where installed (a cheaper client), else `asyncio.run`; and its name."""
    try:
        import uvloop

        return uvloop.run, "uvloop"
    except ImportError:
        return asyncio.run, "asyncio"


async def _paced(
    port: int,
    make_request: Callable[[int, int], bytes],
    concurrency: int,
    rate: float,
    warmup: float,
    window: float,
    windows: int,
    drain: float,
    seed: int,
) -> PacedRun:
    interval = concurrency / rate
    rng = random.Random(seed)
    phases = [rng.uniform(0.0, interval) for _ in range(concurrency)]
    opened = await asyncio.gather(
        *(asyncio.open_connection("127.0.0.1", port) for _ in range(concurrency))
    )
    timed = [PacedResult(window, offered=rate) for _ in range(windows)]
    run = PacedRun(rate, concurrency, interval, timed)
    perf = time.perf_counter
    t0 = perf() + 0.05  # the first scheduled sends, a little after every task has started
    w0 = t0 + warmup
    end = w0 + windows * window  # no request is scheduled at or after `end`
    deadline = end + drain

    def slot(t: float) -> int:
        """The window that time `t` falls in; -1 before, `windows` after."""
        return -1 if t < w0 else min(windows, int((t - w0) // window))

    async def player(p: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        phase = t0 + phases[p]
        k = 0
        try:
            while True:
                scheduled = phase + k * interval
                if scheduled >= end:
                    return
                now = perf()
                due = slot(scheduled)
                if now < scheduled:
                    await asyncio.sleep(scheduled - now)
                elif 0 <= due < windows:
                    run.windows[due].late += 1
                writer.write(make_request(p, k))
                status, _ = await _read_response(reader)
                answered = perf()
                k += 1
                got = slot(answered)
                if 0 <= got < windows:
                    run.windows[got].statuses[status] += 1
                else:
                    run.other_statuses[status] += 1
                if 0 <= due < windows:
                    run.windows[due].due += 1
                    run.windows[due].latencies.append(answered - scheduled)
        finally:
            writer.close()
            # Cancelled at the deadline: the requests still due in the windows count as late as
            # the deadline (a lower bound), so that a server falling behind is not flattered.
            while (scheduled := phase + k * interval) < end:
                due = slot(scheduled)
                if 0 <= due < windows:
                    w = run.windows[due]
                    w.due += 1
                    w.unanswered += 1
                    w.latencies.append(max(0.0, deadline - scheduled))
                k += 1

    tasks = [asyncio.ensure_future(player(p, r, w)) for p, (r, w) in enumerate(opened)]
    await asyncio.wait(tasks, timeout=max(0.0, deadline - perf()))
    for task in tasks:
        task.cancel()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError):
            raise outcome
    return run


def run_paced(
    port: int,
    make_request: Callable[[int, int], bytes],
    *,
    concurrency: int,
    rate: float,
    warmup: float,
    window: float,
    windows: int = 1,
    drain: float = 2.0,
    seed: int = 0,
) -> PacedRun:
    """Open-loop load: `concurrency` keep-alive connections, each sending a request every
    `concurrency / rate` seconds from a random initial phase (seeded), so that `rate` requests/s
    arrive spread evenly; `make_request(connection, k)` builds that connection's k-th request.

    Latency counts from each request's *scheduled* time, not from when it was written: when an
    answer comes back after the connection's next scheduled time, the next request goes at once
    and its lateness counts in its latency (no coordinated omission). After `warmup` seconds,
    `windows` windows of `window` seconds are timed back to back; the connections then finish
    the requests scheduled before the end and are cut off `drain` seconds after it.
    """
    runner, _ = event_loop_runner()
    return runner(
        _paced(port, make_request, concurrency, rate, warmup, window, windows, drain, seed)
    )


async def _probe(port: int, request: bytes, probes: int) -> float:
    """The slowest of `probes` requests sent at once, each on a new connection (seconds)."""

    async def one() -> float:
        start = time.perf_counter()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(request)
            await _read_response(reader)
        finally:
            writer.close()
        return time.perf_counter() - start

    return max(await asyncio.gather(*(one() for _ in range(probes))))


def settle(
    port: int,
    *,
    path: str = "/healthz",
    probes: int = 16,
    below: float = 0.02,
    rounds: int = 3,
    timeout: float = 60.0,
) -> float:
    """Wait until the server is idle again: a run cut off at its deadline leaves requests queued
    in the server, which would slow the next run down. Idle is `rounds` probes in a row (each
    `probes` GET `path` at once, spread over the workers) all answered within `below` seconds.
    Returns the seconds waited (raises TimeoutError after `timeout`)."""
    request = request_bytes("GET", path, None, {})
    start = time.perf_counter()
    good = 0
    while good < rounds:
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"the server was still busy after {timeout:g} s")
        good = good + 1 if asyncio.run(_probe(port, request, probes)) < below else 0
        time.sleep(0.1)
    return time.perf_counter() - start
