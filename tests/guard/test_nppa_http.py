"""NppaClient against Qinglang's /nppa endpoint over real HTTP on loopback (uvicorn thread)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select

from qinglang.guard.nppa.client import Event, NppaClient, NppaError, NppaTransportError
from qinglang.guard.nppa.crypto import new_secret_key
from qinglang.services.errors import ServiceError
from qinglang.services.nppa_state import add_partner
from qinglang.store.db import Database
from qinglang.store.models import NppaAuthRecord, NppaBehaviour
from qinglang.web.app import create_app

ID_ADULT = "110101199003071233"
ID_CHILD = "110101201001010015"


@dataclass(frozen=True)
class Live:
    base_url: str
    app_id: str
    biz_id: str
    secret_key: str
    database: Database

    def client(self, **kw) -> NppaClient:
        args = {"app_id": self.app_id, "biz_id": self.biz_id, "secret_key": self.secret_key}
        args.update({k: kw.pop(k) for k in list(kw) if k in args})
        return NppaClient(base_url=self.base_url, **args, **kw)


@pytest.fixture
def live(database: Database, app_settings) -> Iterator[Live]:
    key = new_secret_key()
    with database.write() as session:
        add_partner(
            session,
            app_id="game-1",
            biz_id="1101999999",
            secret_key=key,
            name="示例游戏公司",
            at=datetime.now(UTC),
        )
    app = create_app(app_settings, database)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="on", log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield Live(f"http://127.0.0.1:{port}/nppa", "game-1", "1101999999", key, database)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _count(db: Database, model) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_check_query_and_conflicts(live: Live) -> None:
    with live.client() as client:
        result = client.check("acct-1", "张三", ID_ADULT)
        assert result.status == 0 and len(result.pi or "") == 38
        assert client.query("acct-1") == result
        assert client.check("acct-1", "张三", ID_ADULT) == result
        with pytest.raises(NppaError) as conflict:
            client.check("acct-1", "李四", ID_CHILD)
        assert conflict.value.code == 2004 and conflict.value.message_zh == "编码已经被占用"
        with pytest.raises(NppaError) as unknown:
            client.query("nobody")
        assert unknown.value.code == 2003
        with pytest.raises(NppaError) as illegal:
            client.check("acct-2", "张三", "371321199012310912")
        assert illegal.value.code == 2001
    with live.database.read() as session:
        rows = [(r.ai, r.id_hash, r.pi) for r in session.scalars(select(NppaAuthRecord))]
    assert rows == [("acct-1", rows[0][1], result.pi)]
    assert ID_ADULT not in repr(rows) and len(rows[0][1]) == 64


def test_loginout_batches_dedupes_and_drops_stale_events(live: Live) -> None:
    with live.client() as client:
        pi = client.check("acct-1", "张三", ID_ADULT).pi
        now = int(time.time())
        events = [
            Event(si=f"s{n}", bt=n % 2, ot=now - n % 60, ct=2, di=f"dev{n}") for n in range(280)
        ]
        events += [Event(si="p1", bt=1, ot=now - 30, ct=0, pi=pi)]
        events += [Event(si="p1", bt=0, ot=now - 20, ct=0, pi=pi)]
        stale = Event(si="old", bt=1, ot=now - 600, ct=2, di="dev")
        result = client.loginout([*events[:100], stale, *events[100:]])
        assert len(result.accepted) == len(events)
        assert [(r.event, r.code, r.local) for r in result.rejected] == [(stale, 3005, True)]
        assert "180" in result.rejected[0].errmsg
        assert _count(live.database, NppaBehaviour) == len(events)
        # A client retrying after a lost answer sends the same events again: taken, not stored.
        again = client.loginout(events[:5])
        assert again.ok and len(again.accepted) == 5
        assert _count(live.database, NppaBehaviour) == len(events)


def test_loginout_reports_refused_items(live: Live) -> None:
    now = int(time.time())
    with live.client() as client:
        result = client.loginout(
            [
                Event(si="ok", bt=1, ot=now, ct=2, di="d"),
                Event(si="guest", bt=1, ot=now, ct=2),
                Event(si="cert", bt=1, ot=now, ct=0, pi="1fffbj" + "0" * 32),
                Event(si="future", bt=1, ot=now + 3600, ct=2, di="d"),
            ]
        )
    assert [e.si for e in result.accepted] == ["ok"]
    assert [(r.event.si, r.code, r.local) for r in result.rejected] == [
        ("guest", 3009, False),
        ("cert", 3010, False),
        ("future", 3005, False),
    ]


def test_identity_errors(live: Live) -> None:
    with live.client(secret_key=new_secret_key()) as client, pytest.raises(NppaError) as bad:
        client.query("a")
    assert bad.value.code == 1011
    with live.client(app_id="stranger") as client, pytest.raises(NppaError) as who:
        client.query("a")
    assert who.value.code == 1008
    with live.client(biz_id="other") as client, pytest.raises(NppaError) as biz:
        client.query("a")
    assert biz.value.code == 1010


def test_rate_limit_is_retried_by_the_client(live: Live) -> None:
    with live.client() as client:
        client.check("acct-1", "张三", ID_ADULT)
    pauses: list[float] = []

    def sleep(s: float) -> None:
        pauses.append(s)
        time.sleep(s)

    with live.client(qps=1000, retries=5, backoff_s=0.2, sleep=sleep) as fast:
        for _ in range(15):
            assert fast.query("acct-1").status == 0
    assert any(p >= 0.2 for p in pauses)  # the server said 1006 at least once


def test_client_keeps_to_its_qps(live: Live) -> None:
    with live.client(qps=10) as client:
        client.check("acct-1", "张三", ID_ADULT)
        started = time.monotonic()
        for _ in range(12):
            client.query("acct-1")
        assert time.monotonic() - started >= 1.0


def test_bad_requests_get_nppa_documents_not_500(live: Live) -> None:
    with httpx.Client(base_url=live.base_url) as http:
        cases = [
            ("GET", "/idcard/authentication/check", 1003),
            ("POST", "/idcard/authentication/nothing", 1002),
            ("PUT", "/behavior/collection/loginout", 1003),
            ("POST", "/behavior/collection/loginout", 1004),
            ("GET", "/idcard/authentication/query", 1004),
        ]
        for method, path, code in cases:
            reply = http.request(method, path, content=b"\xff\xfe garbage")
            assert reply.status_code == 200, (method, path)
            assert reply.json()["errcode"] == code, (method, path)
        headers = {"appId": "game-1", "bizId": "x", "timestamps": "1", "sign": "x"}
        reply = http.post("/behavior/collection/loginout", headers=headers, content=b"{")
        assert reply.json() == {"errcode": 1007, "errmsg": "SYS REQ EXPIRE ERROR"}


def test_network_errors_are_retried_then_raised() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    pauses: list[float] = []
    url = f"http://127.0.0.1:{port}/nppa"
    client = NppaClient("a", "b", new_secret_key(), url, qps=1000, sleep=pauses.append)
    with client, pytest.raises(NppaTransportError) as failed:
        client.query("a")
    assert failed.value.code == 1001
    assert [p for p in pauses if p > 0.01] == [0.5, 1.0, 2.0]  # back-off, not the throttle


def test_partner_validation(database: Database) -> None:
    at = datetime.now(UTC)
    with database.write() as session:
        add_partner(session, app_id="g", biz_id="b", secret_key="a" * 32, name="n", at=at)
    for kwargs in (
        {"app_id": "g"},
        {"app_id": "x" * 33},
        {"secret_key": "zz"},
        {"name": " "},
    ):
        args = {"app_id": "g2", "biz_id": "b", "secret_key": "a" * 32, "name": "n", "at": at}
        args.update(kwargs)
        with pytest.raises(ServiceError), database.write() as session:
            add_partner(session, **args)


def test_partner_add_command(database: Database) -> None:
    from typer.testing import CliRunner

    from qinglang.cli import app as cli

    url = database.url.render_as_string(hide_password=False)
    runner = CliRunner()
    made = runner.invoke(cli, ["nppa", "partner-add", "--name", "示例游戏", "--url", url])
    assert made.exit_code == 0, made.output
    partner = json.loads(made.stdout)
    assert len(partner["app_id"]) == len(partner["biz_id"]) == len(partner["secret_key"]) == 32
    args = ["nppa", "partner-add", "--name", "x", "--app-id", partner["app_id"], "--url", url]
    assert runner.invoke(cli, args).exit_code == 2  # the appId is taken
    bad_key = ["nppa", "partner-add", "--name", "x", "--secret-key", "zz", "--url", url]
    assert runner.invoke(cli, bad_key).exit_code == 2
    given = ["--app-id", "g2", "--biz-id", "b2", "--secret-key", "A" * 32]
    made = runner.invoke(cli, ["nppa", "partner-add", "--name", "y", *given, "--url", url])
    assert json.loads(made.stdout)["secret_key"] == "A" * 32
