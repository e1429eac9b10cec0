"""Load client for the kill test: posts public reports and appends each ticket answered 201
to a file, flushed at once, until the server dies.

    python -m benchmarks.kill_client PORT LOGFILE CONCURRENCY
"""

from __future__ import annotations

import asyncio
import json
import sys

from benchmarks.http_load import _read_response, request_bytes


async def main(port: int, log_path: str, concurrency: int) -> None:
    log = open(log_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 (lives as long as the run)
    counter = iter(range(10**9))

    async def worker() -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return
        try:
            for i in counter:
                body = {"text": f"快来这个赌博网站下注，返水高（压力测试{i}）", "urls": []}
                body["urls"] = [f"https://kill{i % 50}.cn/{i}"]
                writer.write(request_bytes("POST", "/api/v1/reports", body, {}))
                status, payload = await _read_response(reader)
                if status == 201:
                    log.write(json.loads(payload)["ticket"] + "\n")
        except (OSError, asyncio.IncompleteReadError, ValueError):
            return
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    log.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3])))
