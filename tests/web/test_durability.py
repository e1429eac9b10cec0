"""A killed server loses no accepted report: every `201` names a committed row.

A real `qinglang serve` process on a SQLite file takes public reports from several client
threads; it is killed with SIGKILL while they are in flight. Every ticket that was answered
`201` must then be in the database, read through a fresh connection.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from qinglang.store import migrate
from qinglang.store.db import Database
from qinglang.store.models import IntakeItem

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_every_201_survives_a_kill(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'reports.db'}"
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "QINGLANG_DATABASE_URL": url,
        "QINGLANG_BLOB_DIR": str(tmp_path / "blobs"),
        "QINGLANG_REPORT_RATE_LIMIT_PER_HOUR": "0",
        "QINGLANG_LOG_LEVEL": "WARNING",
    }
    qinglang = Path(sys.executable).with_name("qinglang")
    server = subprocess.Popen(
        [str(qinglang), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                assert server.poll() is None, "server exited during start-up"
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)

        accepted: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        def client(n: int) -> None:
            with httpx.Client(base_url=base, timeout=5) as http:
                i = 0
                while not stop.is_set():
                    i += 1
                    body = {
                        "text": f"有人在群里发赌博网站链接，诱导学生下注（客户{n}第{i}条）",
                        "urls": [f"https://kill{n}-{i}.cn/p"],
                    }
                    try:
                        r = http.post("/api/v1/reports", json=body)
                    except httpx.HTTPError:
                        return
                    if r.status_code == 201:
                        with lock:
                            accepted.append(r.json()["ticket"])

        threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        while len(accepted) < 30 and time.monotonic() < deadline + 60:
            time.sleep(0.05)
        server.send_signal(signal.SIGKILL)
        server.wait()
        stop.set()
        for t in threads:
            t.join(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()

    assert len(accepted) >= 30
    db = Database(url)
    with db.read() as session:
        stored = set(session.execute(select(IntakeItem.ticket)).scalars())
    db.dispose()
    missing = [t for t in accepted if t not in stored]
    assert missing == []
