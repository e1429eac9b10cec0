"""Intake and evidence over HTTP, role by role, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from functools import cached_property

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from qinglang.store.db import Database
from qinglang.store.models import AuditRow, IntakeItem

INTAKE = "/api/v1/intake"
PROBLEM = "application/problem+json"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(32))
SELF_REPORT = {
    "source": "self_report",
    "title": "自查发现涉未成年人色情信息",
    "text": "已下架相关内容，封禁账号3个，日志已留存。",
    "discovered_at": "2020-11-30T10:00:00+08:00",
}


@pytest.fixture(autouse=True)
def no_unhandled_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.INFO, logger="qinglang.web")
    yield
    assert not [r for r in caplog.records if r.getMessage().startswith("unhandled")]


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


def post(api: TestClient, person, **body) -> dict:
    r = api.post(INTAKE, json=body, headers=person.headers)
    assert r.status_code == 201, r.text
    return r.json()


def patrol(n: int, **extra) -> dict:
    return {"source": "patrol", "urls": [f"https://patrol{n}.example.cn/p"], **extra}


class Cast:
    """The people of a two-province, two-company scenario, made when first needed (each
    account costs an Argon2 hash)."""

    def __init__(self, people) -> None:
        self.people = people

    @cached_property
    def org_a(self) -> int:
        return self.people.organisation("甲网络科技有限公司")

    @cached_property
    def org_b(self) -> int:
        return self.people.organisation("乙网络科技有限公司")

    @cached_property
    def op_a(self):
        return self.people.make("operator", organisation_id=self.org_a, jurisdiction="310000")

    @cached_property
    def op_b(self):
        return self.people.make("operator", organisation_id=self.org_b, jurisdiction="310000")

    @cached_property
    def sh(self):
        return self.people.make("officer", department="cyberspace", jurisdiction="310000")

    @cached_property
    def sh_city(self):
        return self.people.make("analyst", department="police", jurisdiction="310100")

    @cached_property
    def bj(self):
        return self.people.make("officer", department="cyberspace", jurisdiction="110000")

    @cached_property
    def national(self):
        return self.people.make("leader", department="cyberspace", jurisdiction="100000")

    @cached_property
    def admin(self):
        return self.people.make("admin", jurisdiction="100000")


@pytest.fixture
def cast(people) -> Cast:
    return Cast(people)


def test_credentials_are_required(api: TestClient) -> None:
    for method, path in (
        ("post", INTAKE),
        ("get", INTAKE),
        ("get", f"{INTAKE}/1"),
        ("get", "/api/v1/evidence/" + "a" * 64),
    ):
        r = getattr(api, method)(path, **({"json": patrol(1)} if method == "post" else {}))
        assert r.status_code == 401, (path, r.text)
        assert r.headers["www-authenticate"] == "Bearer"


def test_who_files_what(api: TestClient, cast: Cast) -> None:
    own = post(api, cast.op_a, **SELF_REPORT)
    assert own["source"] == "self_report" and own["status"] == "lead"
    assert own["case_state"] == "lead" and own["flags"] == ["late"]
    assert post(api, cast.sh, **patrol(1))["source"] == "patrol"
    assert post(api, cast.sh_city, **patrol(2))["source"] == "patrol"
    handoff = {"source": "handoff", "title": "公安移交", "text": "赌博引流", "category": "gambling"}
    assert post(api, cast.national, **handoff)["source"] == "handoff"
    hotline = {"source": "public_tip", "text": "电话举报：直播间诱导未成年人打赏"}
    assert post(api, cast.sh, **hotline)["source"] == "public_tip"
    refused = [
        (cast.op_a, patrol(3)),
        (cast.op_a, handoff),
        (cast.sh, SELF_REPORT),
        (cast.admin, patrol(4)),
        (cast.admin, SELF_REPORT),
    ]
    for person, body in refused:
        r = api.post(INTAKE, json=body, headers=person.headers)
        assert r.status_code == 403, r.text
        assert r.json()["code"] == "source_not_allowed"
        assert r.headers["content-type"] == PROBLEM


def test_regulators_file_only_inside_their_jurisdiction(api: TestClient, cast: Cast) -> None:
    assert post(api, cast.sh, **patrol(1, jurisdiction="310115"))["case_id"]
    r = api.post(INTAKE, json=patrol(2, jurisdiction="110000"), headers=cast.sh.headers)
    assert r.status_code == 403 and r.json()["code"] == "out_of_jurisdiction"


def test_listing_is_scoped_by_jurisdiction_and_organisation(api: TestClient, cast: Cast) -> None:
    sh_item = post(api, cast.sh, **patrol(1))
    bj_item = post(api, cast.bj, **patrol(2))
    city_item = post(api, cast.sh, **patrol(3, jurisdiction="310104"))
    a_report = post(api, cast.op_a, **SELF_REPORT)
    b_report = post(api, cast.op_b, **{**SELF_REPORT, "text": "乙公司自查报告：已处置"})
    tip = api.post("/api/v1/reports", json={"text": "公众举报内容"}).json()

    def ids(person, **params) -> set[int]:
        r = api.get(INTAKE, headers=person.headers, params=params)
        assert r.status_code == 200, r.text
        return {i["id"] for i in r.json()["items"]}

    assert ids(cast.national) >= {sh_item["id"], bj_item["id"], city_item["id"]}
    assert len(ids(cast.national)) == 6  # the public tip is national
    assert ids(cast.sh) == {sh_item["id"], city_item["id"], a_report["id"], b_report["id"]}
    assert ids(cast.sh_city) == {city_item["id"]}
    assert ids(cast.bj) == {bj_item["id"]}
    assert ids(cast.op_a) == {a_report["id"]}
    assert ids(cast.op_b) == {b_report["id"]}
    r = api.get(INTAKE, headers=cast.admin.headers)
    assert r.status_code == 403 and r.json()["code"] == "forbidden_role"
    assert tip["ticket"]

    def get(person, item) -> int:
        return api.get(f"{INTAKE}/{item['id']}", headers=person.headers).status_code

    assert get(cast.sh, sh_item) == 200 and get(cast.sh_city, city_item) == 200
    assert get(cast.bj, sh_item) == 403 and get(cast.sh_city, sh_item) == 403
    assert get(cast.op_a, a_report) == 200 and get(cast.op_a, b_report) == 403
    assert get(cast.op_a, sh_item) == 403 and get(cast.admin, sh_item) == 403
    assert api.get(f"{INTAKE}/999999", headers=cast.sh.headers).status_code == 404


def test_filters_and_pagination(api: TestClient, cast: Cast, database: Database) -> None:
    first = post(api, cast.sh, **patrol(1, text="发现赌博引流：澳门新葡京首充送100%"))
    dup = post(api, cast.sh, **patrol(1))
    for n in range(2, 6):
        post(api, cast.sh, **patrol(n))
    post(api, cast.op_a, **SELF_REPORT)

    def page(**params) -> dict:
        r = api.get(INTAKE, headers=cast.sh.headers, params=params)
        assert r.status_code == 200, r.text
        return r.json()

    everything = page()
    assert everything["total"] == 7 and len(everything["items"]) == 7
    received = [i["received_at"] for i in everything["items"]]
    assert received == sorted(received, reverse=True)
    p1, p2 = page(limit=3), page(limit=3, offset=3)
    assert p1["total"] == 7 and len(p1["items"]) == 3 and len(p2["items"]) == 3
    assert not {i["id"] for i in p1["items"]} & {i["id"] for i in p2["items"]}
    assert {i["id"] for i in page(status="merged")["items"]} == {dup["id"]}
    assert {i["id"] for i in page(flag="duplicate")["items"]} == {dup["id"]}
    assert {i["source"] for i in page(source="self_report")["items"]} == {"self_report"}
    assert page(flag="late")["total"] == 1
    assert {i["id"] for i in page(category="gambling")["items"]} == {first["id"]}
    assert page(case_id=first["case_id"])["total"] == 2
    assert {i["id"] for i in page(ticket=dup["ticket"].lower())["items"]} == {dup["id"]}
    assert page(jurisdiction="310104")["total"] == 0
    assert page(received_after="2999-01-01T00:00:00Z")["total"] == 0
    assert page(received_before="2999-01-01T00:00:00+08:00")["total"] == 7
    item = page(limit=1)["items"][0]
    assert {"ticket", "source_zh", "snippet", "categories", "flags", "case_state"} <= set(item)
    assert "client_hash" not in item


BAD_FILTERS = [
    ({"flag": "bogus"}, 422, "unknown_flag"),
    ({"status": "bogus"}, 422, "unknown_status"),
    ({"source": "bogus"}, 422, "unknown_source"),
    ({"category": "bogus"}, 422, "unknown_category"),
    ({"ticket": "QL-1234"}, 422, "malformed_ticket"),
    ({"jurisdiction": "abc"}, 422, "bad_jurisdiction"),
    ({"jurisdiction": "110000"}, 403, "out_of_jurisdiction"),
    ({"received_after": "2020-01-01T00:00:00"}, 422, "naive_time"),
    ({"limit": 0}, 422, None),
    ({"limit": 1000}, 422, None),
    ({"offset": -1}, 422, None),
    ({"case_id": "x"}, 422, None),
]


def test_bad_filters(api: TestClient, cast: Cast) -> None:
    for params, status, code in BAD_FILTERS:
        r = api.get(INTAKE, headers=cast.sh.headers, params=params)
        assert r.status_code == status, (params, r.text)
        assert r.headers["content-type"] == PROBLEM
        if code:
            assert r.json()["code"] == code, params


BAD_SELF_REPORTS = [
    ({"source": "rumour", "text": "x"}, 422, None),
    ({**SELF_REPORT, "discovered_at": "2020-11-30T10:00:00"}, 422, "naive_time"),
    ({**SELF_REPORT, "discovered_at": "2999-01-01T00:00:00Z"}, 422, "time_in_future"),
    ({**SELF_REPORT, "discovered_at": None}, 422, "missing_discovered_at"),
    ({**SELF_REPORT, "title": None}, 422, "missing_title"),
    ({**SELF_REPORT, "subject_id": 424242}, 422, "unknown_subject"),
    ({**SELF_REPORT, "text": "x" * 20_001}, 413, "text_too_long"),
    ({**SELF_REPORT, "surprise": 1}, 422, None),
    ({**SELF_REPORT, "attachments": [{"data": "!!"}]}, 422, "bad_base64"),
]


def test_bad_self_reports_are_refused_and_write_nothing(
    api: TestClient, cast: Cast, database: Database
) -> None:
    for body, status, code in BAD_SELF_REPORTS:
        r = api.post(INTAKE, json=body, headers=cast.op_a.headers)
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"] == PROBLEM
        if code:
            assert r.json()["code"] == code, body
    with database.read() as s:
        assert s.execute(select(func.count()).select_from(IntakeItem)).scalar_one() == 0
        kinds = set(s.execute(select(AuditRow.kind)).scalars())
    assert not kinds & {"report.received", "case.created", "evidence.added"}


def test_a_detail_shows_the_redacted_text_and_attachments(api: TestClient, cast: Cast) -> None:
    created = post(
        api,
        cast.sh,
        source="patrol",
        text="巡查发现开盒帖：身份证110101200808151232",
        attachments=[{"name": "../截图.png", "data": b64(PNG)}],
    )
    r = api.get(f"{INTAKE}/{created['id']}", headers=cast.sh.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert "110101200808151232" not in r.text and "[REDACTED-ID]" in body["text"]
    assert body["attachments"] == [
        {
            "digest": base64.b16encode(__import__("hashlib").sha256(PNG).digest()).decode().lower(),
            "name": "截图.png",
            "media_type": "image/png",
            "size": len(PNG),
        }
    ]
    assert body["created_by"] == f"user:{cast.sh.id}"
    assert body["case_id"] == created["case_id"] and body["case_state"] == "lead"


def test_evidence_is_served_to_those_who_may_see_an_item_holding_it(
    api: TestClient, cast: Cast
) -> None:
    text_file = "聊天记录：放学后来找我".encode()
    sh_item = post(api, cast.sh, **patrol(1, attachments=[{"name": "证据.png", "data": b64(PNG)}]))
    op_item = post(
        api, cast.op_a, **SELF_REPORT, attachments=[{"name": "记录.txt", "data": b64(text_file)}]
    )
    png = api.get(f"{INTAKE}/{sh_item['id']}", headers=cast.sh.headers).json()["attachments"][0]
    txt = api.get(f"{INTAKE}/{op_item['id']}", headers=cast.op_a.headers).json()["attachments"][0]

    r = api.get(f"/api/v1/evidence/{png['digest']}", headers=cast.sh.headers)
    assert r.status_code == 200 and r.content == PNG
    assert r.headers["content-type"] == "image/png"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in r.headers["content-security-policy"]
    assert "filename*=UTF-8''%E8%AF%81%E6%8D%AE.png" in r.headers["content-disposition"]
    assert r.headers["content-disposition"].startswith("attachment;")

    assert (
        api.get(f"/api/v1/evidence/{png['digest']}", headers=cast.national.headers).content == PNG
    )
    for person in (cast.bj, cast.op_a, cast.sh_city):
        r = api.get(f"/api/v1/evidence/{png['digest']}", headers=person.headers)
        assert r.status_code == 404, person
    ok = api.get(f"/api/v1/evidence/{txt['digest']}", headers=cast.op_a.headers)
    assert ok.status_code == 200 and ok.content == text_file
    assert ok.headers["content-type"].startswith("text/plain")
    assert (
        api.get(f"/api/v1/evidence/{txt['digest']}", headers=cast.op_b.headers).status_code == 404
    )
    assert api.get(f"/api/v1/evidence/{txt['digest']}", headers=cast.sh.headers).status_code == 200
    assert api.get("/api/v1/evidence/" + "0" * 64, headers=cast.sh.headers).status_code == 404
    for bad in ("abc", "../../etc/passwd", "A" * 64, "g" * 64):
        r = api.get(f"/api/v1/evidence/{bad}", headers=cast.sh.headers)
        assert r.status_code in (404, 422), r.text
        assert r.headers["content-type"] == PROBLEM


def test_operators_see_the_deadline_and_late_flag(api: TestClient, cast: Cast) -> None:
    created = post(api, cast.op_a, **SELF_REPORT)
    body = api.get(f"{INTAKE}/{created['id']}", headers=cast.op_a.headers).json()
    assert body["deadline_at"].startswith("2020-12-01T02:00:00")  # 24 h after discovery (UTC)
    assert body["flags"] == ["late"] and body["organisation_id"] == cast.org_a


def test_a_damaged_or_missing_evidence_file_is_never_served(
    api: TestClient, cast: Cast, app_settings
) -> None:
    created = post(api, cast.sh, **patrol(1, attachments=[{"data": b64(PNG)}]))
    digest = api.get(f"{INTAKE}/{created['id']}", headers=cast.sh.headers).json()["attachments"][0][
        "digest"
    ]
    path = app_settings.blob_dir / digest[:2] / digest[2:4] / digest
    path.write_bytes(PNG + b"tampered")
    r = api.get(f"/api/v1/evidence/{digest}", headers=cast.sh.headers)
    assert r.status_code == 500 and r.headers["content-type"] == PROBLEM
    assert "校验失败" in r.json()["detail"] and b"tampered" not in r.content
    path.unlink()
    assert api.get(f"/api/v1/evidence/{digest}", headers=cast.sh.headers).status_code == 404
