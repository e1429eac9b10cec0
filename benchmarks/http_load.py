"""A small HTTP/1.1 load generator on asyncio streams, for the benchmarks.

Plain sockets with keep-alive and no HTTP library in the loop, so that on a 2-core machine the
client costs the server as little CPU as possible. Each of `concurrency` connections sends its
requests one after another and reads each response (Content-Length bodies only, as uvicorn
answers JSON).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


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
