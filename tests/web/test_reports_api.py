"""The public reporting channel over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from qinglang.govern.tickets import ALPHABET, check_character, format_ticket, is_canonical
from qinglang.settings import Settings
from qinglang.store.db import Database
from qinglang.store.models import AuditRow, Case, IntakeAttachment, IntakeItem
from qinglang.web.app import create_app

REPORTS = "/api/v1/reports"
PROBLEM = "application/problem+json"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
PUBLIC_KEYS = {
    "ticket",
    "status",
    "status_zh",
    "description",
    "received_at",
    "updated_at",
    "result",
}


@pytest.fixture(autouse=True)
def no_unhandled_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.INFO, logger="qinglang.web")
    yield
    assert not [r for r in caplog.records if r.getMessage().startswith("unhandled")]


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


def file(api: TestClient, **body) -> dict:
    r = api.post(REPORTS, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def rows(db: Database, model) -> int:
    with db.read() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def forged_ticket(seed: str = "A") -> str:
    body = (seed * 23)[:23]
    return format_ticket(body + check_character(body))


# ---------------------------------------------------------------- filing


def test_a_report_is_accepted_committed_and_answered_with_a_ticket(
    api: TestClient, database: Database
) -> None:
    r = api.post(
        REPORTS,
        json={
            "text": "某学习App在课程页面推送网络游戏广告，诱导小学生充值。",
            "urls": ["https://learn.example.cn/course/1?utm_source=wx"],
            "region": "310000",
            "platform": "某学习",
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"ticket", "status", "status_zh", "received_at", "message"}
    assert body["status"] == "accepted" and body["status_zh"] == "已受理"
    assert is_canonical(body["ticket"])
    assert r.headers["cache-control"] == "no-store"
    # 201 means committed: a fresh connection sees the row.
    fresh = Database(database.url)
    try:
        with fresh.read() as s:
            item = s.execute(
                select(IntakeItem).where(IntakeItem.ticket == body["ticket"])
            ).scalar_one()
            assert item.urls == ["https://learn.example.cn/course/1"]
            assert item.jurisdiction == "310000" and item.client_hash
            assert item.case_id is not None
    finally:
        fresh.dispose()


def test_a_url_alone_is_enough(api: TestClient) -> None:
    assert file(api, urls=["bet.example.cn"])["status"] == "accepted"


def test_the_same_page_reported_twice_is_one_lead(api: TestClient, database: Database) -> None:
    a = file(api, text="有赌博广告", urls=["https://bet.example.cn/a"])
    b = file(api, text="有赌博广告，快查", urls=["http://BET.example.cn/a/#top"])
    assert a["ticket"] != b["ticket"]
    with database.read() as s:
        cases = set(s.execute(select(IntakeItem.case_id)).scalars())
    assert len(cases) == 1
    assert api.get(f"{REPORTS}/{b['ticket']}").json()["status"] == "accepted"


# ---------------------------------------------------------------- status by ticket


@pytest.mark.parametrize(
    ("state", "status", "status_zh", "shows_result"),
    [
        ("lead", "accepted", "已受理", False),
        ("opened", "processing", "处理中", False),
        ("rectifying", "processing", "处理中", False),
        ("closed", "concluded", "已办结", True),
        ("dismissed", "declined", "不予立案", True),
        ("transferred", "transferred", "已移交", True),
    ],
)
def test_status_follows_the_case_and_shows_only_the_public_result(
    api: TestClient,
    database: Database,
    state: str,
    status: str,
    status_zh: str,
    shows_result: bool,
) -> None:
    ticket = file(api, text="有人在直播间诱导未成年人打赏", urls=["https://live.example.cn/9"])[
        "ticket"
    ]
    with database.write() as s:
        s.execute(
            update(Case).values(
                state=state,
                public_result="已责令平台清理违规内容并关闭直播间。",
                summary="内部研判意见：不得公开",
                updated_at=datetime(2030, 1, 1, tzinfo=UTC),
            )
        )
    r = api.get(f"{REPORTS}/{ticket}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == PUBLIC_KEYS
    assert (body["status"], body["status_zh"]) == (status, status_zh)
    assert body["result"] == ("已责令平台清理违规内容并关闭直播间。" if shows_result else None)
    assert "内部" not in r.text and "police" not in r.text and "cyberspace" not in r.text
    assert body["updated_at"].startswith("2030-01-01")


def test_tickets_are_read_forgivingly(api: TestClient) -> None:
    ticket = file(api, text="举报内容")["ticket"]
    typed = ticket.lower().replace("-", " ").removeprefix("ql ")
    r = api.get(f"{REPORTS}/{typed}")
    assert r.status_code == 200 and r.json()["ticket"] == ticket


def test_a_mistyped_ticket_is_malformed_before_any_lookup(api: TestClient) -> None:
    ticket = file(api, text="举报内容")["ticket"]
    last = ticket[-1]
    typo = ticket[:-1] + next(c for c in ALPHABET if c != last)
    r = api.get(f"{REPORTS}/{typo}")
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == "malformed_ticket"
    assert "校验" in r.json()["detail"]
    assert ticket not in r.text


@pytest.mark.parametrize(
    "bad", ["x", "QL-0000-0000-0000-0000-0000-0000", "1%20OR%201=1", "..%2F..%2Fetc", "Q" * 300]
)
def test_malformed_tickets_are_422_in_chinese(api: TestClient, bad: str) -> None:
    r = api.get(f"{REPORTS}/{bad}")
    assert r.status_code in (404, 422), r.text
    assert r.headers["content-type"] == PROBLEM
    assert any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["detail"])


def test_a_forged_well_formed_ticket_finds_nothing(api: TestClient) -> None:
    file(api, text="举报内容")
    r = api.get(f"{REPORTS}/{forged_ticket()}")
    assert r.status_code == 404
    assert r.json()["code"] == "report_not_found"
    assert r.json()["detail"] == "未找到该受理编号对应的举报，请核对受理编号。"


def test_other_sources_are_not_visible_through_the_public_channel(api: TestClient, people) -> None:
    op = people.make("operator", organisation_id=people.organisation())
    r = api.post(
        "/api/v1/intake",
        headers=op.headers,
        json={
            "source": "self_report",
            "title": "自查发现违规内容",
            "text": "已处置",
            "discovered_at": "2020-11-30T10:00:00+08:00",
        },
    )
    assert r.status_code == 201, r.text
    assert api.get(f"{REPORTS}/{r.json()['ticket']}").status_code == 404


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 422, "no_content"),
        ({"text": "   "}, 422, "no_content"),
        ({"text": "x" * 5001}, 413, "text_too_long"),
        ({"urls": [f"https://a.cn/{i}" for i in range(11)]}, 422, "too_many_urls"),
        ({"urls": ["javascript:alert(1)"]}, 422, "unsupported_url_scheme"),
        ({"urls": ["https://a.cn/", "http://"]}, 422, "bad_url"),
        ({"urls": ["https://" + "a" * 3000 + ".cn/"]}, 422, "url_too_long"),
        ({"text": "举报", "category": "nonsense"}, 422, "unknown_category"),
        ({"text": "举报", "region": "999999"}, 422, "bad_jurisdiction"),
        ({"text": "举报", "icp": "ICP123"}, 422, "bad_icp"),
        ({"text": "举报", "attachments": [{"data": "%%%"}]}, 422, "bad_base64"),
        (
            {"text": "举报", "attachments": [{"data": b64(b"MZ\x90\x00")}]},
            422,
            "unsupported_attachment_type",
        ),
        (
            {"text": "举报", "attachments": [{"data": b64(PNG), "media_type": "image/gif"}]},
            422,
            "attachment_type_mismatch",
        ),
        ({"text": "举报", "attachments": [{"data": b64(PNG)}] * 6}, 422, "too_many_attachments"),
    ],
)
def test_bad_reports_get_a_clear_chinese_4xx(
    api: TestClient, database: Database, body: dict, status: int, code: str
) -> None:
    r = api.post(REPORTS, json=body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    problem = r.json()
    assert problem["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in problem["detail"])
    assert rows(database, IntakeItem) == 0 and rows(database, AuditRow) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"text": 123},
        {"urls": "https://a.cn/"},
        {"urls": [1]},
        {"text": "举报", "unknown": 1},
        {"text": "举报", "attachments": [{"name": "a.png"}]},
        {"text": "举报", "attachments": "x"},
        [],
        "text",
    ],
)
def test_wrong_shapes_are_422(api: TestClient, body) -> None:
    r = api.post(REPORTS, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"]


def test_malformed_json_is_400(api: TestClient) -> None:
    r = api.post(REPORTS, content=b'{"text": ', headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["type"].endswith("invalid-json")


def test_an_oversize_attachment_after_valid_text_writes_nothing(
    api: TestClient, database: Database
) -> None:
    big = PNG + b"\x00" * (2 * 1024 * 1024)
    r = api.post(REPORTS, json={"text": "见附件", "attachments": [{"data": b64(big)}]})
    assert r.status_code == 413, r.text
    assert r.json()["code"] == "attachment_too_large"
    assert "附件" in r.json()["detail"]
    assert rows(database, IntakeItem) == 0 and rows(database, Case) == 0
    assert rows(database, AuditRow) == 0


def test_path_traversal_in_attachment_names_goes_nowhere(
    api: TestClient, database: Database, app_settings: Settings
) -> None:
    names = ["../../../../etc/cron.d/x.png", "..\\..\\windows\\a.png", "/abs/b.png", "\x00..", ".."]
    file(
        api,
        text="见附件",
        attachments=[{"name": n, "data": b64(PNG + bytes([i]))} for i, n in enumerate(names)],
    )
    with database.read() as s:
        stored = list(
            s.execute(select(IntakeAttachment.name).order_by(IntakeAttachment.id)).scalars()
        )
    assert stored == ["x.png", "a.png", "b.png", "附件4.png", "附件5.png"]
    root = app_settings.blob_dir
    assert all(p.resolve().is_relative_to(root.resolve()) for p in root.rglob("*"))


def test_raw_id_numbers_do_not_come_back_or_stay(api: TestClient, database: Database) -> None:
    number = "110101200808151232"
    ticket = file(api, text=f"有人公开了学生身份证{number}和手机13912345678")["ticket"]
    with database.read() as s:
        item = s.execute(select(IntakeItem).where(IntakeItem.ticket == ticket)).scalar_one()
        assert number not in (item.text or "") and "13912345678" not in (item.text or "")
        assert "[REDACTED-ID]" in item.text


# ---------------------------------------------------------------- rate limit


def limited_client(database: Database, tmp_path, per_hour: int, host: str) -> TestClient:
    app = create_app(
        Settings(
            blob_dir=tmp_path / "blobs",
            rate_limit_per_minute=0,
            report_rate_limit_per_hour=per_hour,
        ),
        database,
    )
    return TestClient(app, raise_server_exceptions=False, client=(host, 50000))


def test_reports_are_rate_limited_per_client(sqlite_database: Database, tmp_path) -> None:
    client = limited_client(sqlite_database, tmp_path, 2, "203.0.113.5")
    assert client.post(REPORTS, json={"text": "一"}).status_code == 201
    assert client.post(REPORTS, json={"text": "二"}).status_code == 201
    r = client.post(REPORTS, json={"text": "三"})
    assert r.status_code == 429
    assert r.headers["content-type"] == PROBLEM
    assert int(r.headers["retry-after"]) > 60 * 29  # 2 per hour: one token in 30 minutes
    assert "每小时最多 2 次" in r.json()["detail"] and "分钟" in r.json()["detail"]
    assert rows(sqlite_database, IntakeItem) == 2
    # Malformed bodies are counted too, and another client has its own allowance.
    assert client.post(REPORTS, json={}).status_code == 429
    other = TestClient(client.app, raise_server_exceptions=False, client=("198.51.100.7", 1))
    assert other.post(REPORTS, json={"text": "四"}).status_code == 201


def test_ipv6_clients_are_counted_per_64(sqlite_database: Database, tmp_path) -> None:
    a = limited_client(sqlite_database, tmp_path, 1, "2001:db8:1:2::1")
    assert a.post(REPORTS, json={"text": "一"}).status_code == 201
    b = TestClient(a.app, raise_server_exceptions=False, client=("2001:db8:1:2:ffff::9", 1))
    assert b.post(REPORTS, json={"text": "二"}).status_code == 429
    c = TestClient(a.app, raise_server_exceptions=False, client=("2001:db8:1:3::1", 1))
    assert c.post(REPORTS, json={"text": "三"}).status_code == 201


def test_status_lookups_have_their_own_larger_allowance(
    sqlite_database: Database, tmp_path
) -> None:
    client = limited_client(sqlite_database, tmp_path, 1, "203.0.113.9")
    ticket = client.post(REPORTS, json={"text": "一"}).json()["ticket"]
    answers = [client.get(f"{REPORTS}/{ticket}").status_code for _ in range(11)]
    assert answers == [200] * 10 + [429]


def test_the_client_address_is_kept_only_as_a_keyed_hash(
    sqlite_database: Database, tmp_path
) -> None:
    client = limited_client(sqlite_database, tmp_path, 0, "203.0.113.77")
    client.post(REPORTS, json={"text": "一"})
    with sqlite_database.read() as s:
        stored = s.execute(select(IntakeItem.client_hash)).scalar_one()
    assert len(stored) == 64 and "203.0.113.77" not in stored


# ---------------------------------------------------------------- robustness


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "text": st.one_of(st.none(), st.text(max_size=50), st.integers()),
            "urls": st.one_of(st.lists(st.text(max_size=30), max_size=3), st.text(max_size=5)),
            "category": st.one_of(st.none(), st.text(max_size=10)),
            "region": st.one_of(st.none(), st.text(max_size=8)),
            "icp": st.one_of(st.none(), st.text(max_size=12)),
            "platform": st.one_of(st.none(), st.text(max_size=12)),
            "attachments": st.lists(
                st.fixed_dictionaries(
                    {"data": st.text(max_size=20)}, optional={"name": st.text(max_size=10)}
                ),
                max_size=2,
            ),
        },
    )
)
def test_fuzzed_reports_never_500(sqlite_api: TestClient, body: dict) -> None:
    r = sqlite_api.post(REPORTS, json=body)
    assert r.status_code in (201, 413, 422), r.text


@pytest.fixture
def sqlite_api(sqlite_database: Database, tmp_path) -> TestClient:
    app = create_app(
        Settings(
            blob_dir=tmp_path / "blobs", rate_limit_per_minute=0, report_rate_limit_per_hour=0
        ),
        sqlite_database,
    )
    return TestClient(app, raise_server_exceptions=False)


def test_openapi_documents_the_channel(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    post = spec["paths"]["/api/v1/reports"]["post"]
    assert "201" in post["responses"] and "429" in post["responses"]
    assert "/api/v1/reports/{ticket}" in spec["paths"]
