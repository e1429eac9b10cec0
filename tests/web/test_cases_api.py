"""The cases and notices API over HTTP, on SQLite and PostgreSQL: the whole journey, paging,
evidence, and bad input answered with 4xx problem documents, never 500."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from dbfixtures import People, Person
from qinglang.govern.clock import shanghai_date
from qinglang.services import cases
from qinglang.services.users import create_token, create_user, principal_of
from qinglang.store.audit_log import records_for, verify_log
from qinglang.store.models import IntakeItem, Subject

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
NOW = datetime.now(UTC)


class QuickPeople(People):
    """Users without passwords (API tokens only): no Argon2 hashing, so tests stay fast."""

    def make(  # type: ignore[override]
        self, *roles: str, department: str | None = None, jurisdiction: str = "100000",
        organisation_id: int | None = None, username: str | None = None,
    ) -> Person:  # fmt: skip
        self._n += 1
        with self.db.write() as s:
            user = create_user(
                s, username=username or f"{'-'.join(roles)}{self._n}", password=None,
                roles=roles, jurisdiction=jurisdiction, department=department,
                organisation_id=organisation_id, by="system:test", at=NOW,
            )  # fmt: skip
            token, _ = create_token(s, user.id, "test", NOW)
            return Person(principal_of(user), token)


@pytest.fixture
def crew(database) -> QuickPeople:
    return QuickPeople(database)


def in_days(n: int) -> str:
    return (shanghai_date(datetime.now(UTC)) + timedelta(days=n)).isoformat()


def subject_of(database, org: int | None, name: str = "某某传奇") -> int:
    with database.write() as s:
        row = Subject(
            kind="game", name=name, organisation_id=org, region="410100",
            created_at=NOW, updated_at=NOW,
        )  # fmt: skip
        s.add(row)
        s.flush()
        return row.id


def problem(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["detail"]
    if code is not None:
        assert body.get("code") == code, body
    return body


def test_the_whole_journey_over_http(api, crew, database) -> None:
    officer = crew.make("officer", department="police", jurisdiction="410000")
    analyst = crew.make("analyst", department="police", jurisdiction="410000")
    leader = crew.make("leader", department="police", jurisdiction="410000")
    co = crew.make("officer", department="cyberspace", jurisdiction="410100")
    org = crew.organisation("某游戏公司", "410100")
    operator = crew.make("operator", organisation_id=org, jurisdiction="410000")
    subject = subject_of(database, org)

    created = api.post(
        "/api/v1/cases",
        json={
            "grounds": ["gambling"],
            "jurisdiction": "410100",
            "title": "某某传奇 博彩引流",
            "subject_id": subject,
            "summary": "巡查发现游戏内公告引流至博彩网站",
        },
        headers=officer.headers,
    )
    assert created.status_code == 201, created.text
    case_id = created.json()["case"]["id"]
    assert created.headers["location"] == f"/api/v1/cases/{case_id}"
    assert created.json()["subject"]["organisation_name"] == "某游戏公司"
    with database.write() as s:  # a public tip that intake linked to this case
        s.add(
            IntakeItem(
                ticket="QL-HTTP-1", source="public_tip", status="linked", urls=[],
                jurisdiction="410100", categories=["gambling"], flags=[],
                created_by="public:QL-HTTP-1", case_id=case_id, received_at=NOW, updated_at=NOW,
            )
        )  # fmt: skip
    base = f"/api/v1/cases/{case_id}"

    def step(person: Person, path: str, body: dict | None = None, status: int = 200) -> dict:
        response = api.post(base + path, json=body, headers=person.headers)
        assert response.status_code == status, response.text
        return response.json()

    opened = step(officer, "/transitions", {"action": "open", "version": 0})
    task = opened["tasks"][0]
    assert (task["department"], task["status"]) == ("cyberspace", "open")
    step(co, f"/tasks/{task['id']}/done", {"note": "已协查涉事账号"})
    step(analyst, "/transitions", {"action": "assess"})
    step(analyst, "/dispositions", {"code": "rectify", "params": {"deadline": in_days(15)}}, 201)
    step(analyst, "/dispositions", {"code": "close_accounts", "params": {"count": 120}}, 201)
    disposing = step(analyst, "/transitions", {"action": "dispose", "reason": "研判属实"})
    assert disposing["case"]["state"] == "disposing"
    problem(
        api.post(base + "/transitions", json={"action": "notify"}, headers=officer.headers),
        409,
        "dispositions_pending",
    )
    problem(api.post(base + "/dispositions/1/approve", headers=analyst.headers), 403)
    step(leader, "/dispositions/1/approve", {"reason": "同意"})
    approved = step(leader, "/dispositions/2/approve")
    assert [d["status"] for d in approved["dispositions"]] == ["approved", "approved"]
    assert [a["action"] for a in approved["allowed_actions"]] == ["notify", "transfer"]

    notified = step(officer, "/transitions", {"action": "notify"})
    assert notified["case"]["state"] == "rectifying" and notified["warnings"] == []
    notice = notified["notices"][0]
    assert notice["organisation_id"] == org and notice["deadline"] == in_days(15)

    # The notice reaches the operator, in Chinese, without the official's id.
    inbox = api.get("/api/v1/notices", headers=operator.headers).json()["items"]
    assert [n["id"] for n in inbox] == [notice["id"]]
    assert inbox[0]["sent_by"] is None and inbox[0]["ground_names"] == ["赌博、博彩引流"]
    assert [d["text"] for d in inbox[0]["dispositions"]] == [
        f"责令限期整改（整改期限：{in_days(15)}）",
        "关闭账号（账号数量：120）",
    ]
    reported = api.post(
        f"/api/v1/notices/{notice['id']}/rectifications",
        json={
            "summary": "已关闭涉事账号120个，删除引流公告",
            "attachments": [
                {
                    "name": "整改截图.png",
                    "media_type": "image/png",
                    "content_base64": base64.b64encode(PNG).decode(),
                }
            ],
        },
        headers=operator.headers,
    )
    assert reported.status_code == 201, reported.text
    attachment = reported.json()["rectifications"][0]["attachments"][0]
    assert reported.json()["status"] == "answered"
    download = api.get(
        f"/api/v1/notices/{notice['id']}/evidence/{attachment['digest']}", headers=leader.headers
    )
    assert download.status_code == 200 and download.content == PNG
    assert download.headers["content-type"] == "image/png"
    assert "filename*=UTF-8''%E6%95%B4" in download.headers["content-disposition"]

    seen = api.get(base, headers=leader.headers).json()
    assert seen["notices"][0]["rectifications"][0]["summary"] == "已关闭涉事账号120个，删除引流公告"
    step(officer, "/transitions", {"action": "recheck"})
    problem(
        api.post(base + "/transitions", json={"action": "close"}, headers=officer.headers),
        422,
        "public_result_required",
    )
    closed = step(
        leader, "/transitions", {"action": "close", "public_result": "经查属实，已责令整改。"}
    )
    assert (
        closed["case"]["state"] == "closed" and closed["public_result"] == "经查属实，已责令整改。"
    )
    assert closed["allowed_actions"] == []
    events = api.get(base + "/events?limit=500", headers=co.headers).json()
    kinds = [e["kind"] for e in events["items"]]
    assert kinds[0] == "case.created" and kinds[-1] == "case.result_published"
    assert events["items"][-1]["payload"] == {
        "tickets": ["QL-HTTP-1"],
        "result": "经查属实，已责令整改。",
    }
    assert events["items"][0]["actor_name"] == officer.principal.username
    page = api.get(base + "/events?limit=2", headers=co.headers).json()
    assert len(page["items"]) == 2 and page["next_after_seq"] == page["items"][1]["seq"]
    with database.read() as s:
        assert [r.kind for r in records_for(s, f"case:{case_id}")] == kinds
        assert verify_log(s).ok


def test_listing_paging_and_search(api, crew, database) -> None:
    officer = crew.make("officer", department="cyberspace", jurisdiction="410000")
    made = []
    for i in range(5):
        r = api.post(
            "/api/v1/cases",
            json={"grounds": ["porn_vulgar"], "jurisdiction": "410100", "title": f"低俗直播{i}号"},
            headers=officer.headers,
        )
        made.append(r.json()["case"]["id"])
    ids, cursor = [], None
    while True:
        url = "/api/v1/cases?limit=2&total=true" + (f"&cursor={cursor}" if cursor else "")
        body = api.get(url, headers=officer.headers).json()
        assert body["total"] == 5 and body["total_exact"] is True
        ids += [c["id"] for c in body["items"]]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            break
    assert ids == made[::-1]
    found = api.get("/api/v1/cases", params={"q": "直播3"}, headers=officer.headers).json()
    assert [c["id"] for c in found["items"]] == [made[3]]
    states = api.get("/api/v1/cases?state=lead&state=opened", headers=officer.headers).json()
    assert len(states["items"]) == 5 and states["total"] is None
    for query, code in (
        ("state=bogus", "unknown_state"),
        ("ground=bogus", "unknown_ground"),
        ("department=army", "unknown_department"),
        ("involvement=x", "unknown_involvement"),
        ("cursor=AAAA", "bad_cursor"),
        ("jurisdiction=999999", "bad_jurisdiction"),
    ):
        body = problem(api.get(f"/api/v1/cases?{query}", headers=officer.headers), 422, code)
        if code != "bad_cursor" and code != "bad_jurisdiction":
            assert body["allowed"], body
    problem(api.get("/api/v1/cases?jurisdiction=110000", headers=officer.headers), 403)
    for query in ("limit=0", "limit=201", "subject_id=0", "overdue=maybe", "q=" + "x" * 201):
        problem(api.get(f"/api/v1/cases?{query}", headers=officer.headers), 422)


def test_bad_input_is_a_4xx(api, crew, database) -> None:
    officer = crew.make("officer", department="police", jurisdiction="410000")
    r = api.post(
        "/api/v1/cases", json={"grounds": ["gambling"], "jurisdiction": "410100"},
        headers=officer.headers,
    )  # fmt: skip
    case_id = r.json()["case"]["id"]
    base = f"/api/v1/cases/{case_id}"
    h = officer.headers
    body = problem(api.post(base + "/transitions", json={"action": "fly"}, headers=h), 422)
    assert body["code"] == "unknown_action" and "open" in body["allowed"]
    body = problem(api.post(base + "/transitions", json={"action": "assess"}, headers=h), 409)
    assert body["code"] == "invalid_from_state" and body["allowed"] == [
        "open",
        "dismiss",
        "transfer",
    ]
    problem(
        api.post(base + "/transitions", json={"action": "open", "version": 3}, headers=h),
        409,
        "stale_case",
    )
    api.post(base + "/transitions", json={"action": "open"}, headers=h)
    analyst = crew.make("analyst", department="police", jurisdiction="410000")
    api.post(base + "/transitions", json={"action": "assess"}, headers=analyst.headers)
    body = problem(api.post(base + "/dispositions", json={"code": "fine"}, headers=h), 422)
    assert body["code"] == "unknown_disposition_code" and "rectify" in body["allowed"]
    for params in ({"amount": 1.5}, {"amount": {"x": 1}}, {"deadline": "2020-02-30"}, {"n": [1]}):
        code = "penalty" if "amount" in params else "rectify"
        problem(
            api.post(base + "/dispositions", json={"code": code, "params": params}, headers=h),
            422,
            "invalid_disposition",
        )
    problem(
        api.post(base + "/dispositions", json={"code": "warning", "params": []}, headers=h), 422
    )
    # The core checks the state before the role: nothing is approved during assessment.
    problem(api.post(base + "/dispositions/9/approve", headers=h), 409, "invalid_from_state")
    leader = crew.make("leader", department="police", jurisdiction="410000")
    problem(
        api.post(base + "/dispositions/9/withdraw", headers=leader.headers),
        404,
        "unknown_disposition",
    )
    for path in (
        "/api/v1/cases/0",
        "/api/v1/cases/2147483648",
        "/api/v1/cases/abc",
        "/api/v1/cases/-1",
    ):
        problem(api.get(path, headers=h), 422)
    problem(api.get("/api/v1/cases/2147483647", headers=h), 404, "case_not_found")
    problem(api.get("/api/v1/notices/99999", headers=h), 404, "notice_not_found")
    problem(
        api.post(
            base + "/transitions",
            content=b'{"action": ',
            headers={**h, "content-type": "application/json"},
        ),
        400,
    )
    problem(api.post(base + "/transitions", json={"action": "open", "extra": 1}, headers=h), 422)
    problem(api.post(base + "/transitions", json={"action": "x" * 33}, headers=h), 422)
    problem(api.post(base + "/transitions", json=["open"], headers=h), 422)
    problem(api.post(base + "/tasks/1/done", json={"note": 5}, headers=h), 422)
    problem(api.get(base), 401)


@pytest.mark.parametrize(
    "body",
    [
        None,
        {},
        {"action": None},
        {"action": "", "reason": "x"},
        {"action": "open", "reason": "\x00"},
        {"action": "transfer", "reason": "x", "target": "\ud800"},
        {"action": "dismiss", "reason": "a" * 2001},
        {"action": "open", "version": -1},
        {"action": "open", "version": 2**40},
        {"action": "open", "public_result": 5},
        {"action": "close", "public_result": "\x00"},
    ],
)
def test_odd_transition_bodies_never_500(api, crew, body) -> None:
    officer = crew.make("officer", department="police", jurisdiction="410000")
    case_id = api.post(
        "/api/v1/cases", json={"grounds": ["abuse"], "jurisdiction": "410000"},
        headers=officer.headers,
    ).json()["case"]["id"]  # fmt: skip
    # json.dumps escapes lone surrogates as \ud800, as a client in another language would.
    r = api.post(
        f"/api/v1/cases/{case_id}/transitions",
        content=json.dumps(body).encode(),
        headers={**officer.headers, "content-type": "application/json"},
    )
    assert 400 <= r.status_code < 500, r.text


def test_notices_over_http(api, crew, database, app_settings) -> None:
    officer = crew.make("officer", department="police", jurisdiction="410000")
    analyst = crew.make("analyst", department="police", jurisdiction="410000")
    leader = crew.make("leader", department="police", jurisdiction="410000")
    no_org_subject = subject_of(database, None, "无主体网站")
    org = crew.organisation("某公司", "410100")
    operator = crew.make("operator", organisation_id=org, jurisdiction="410000")
    h = officer.headers
    case_id = api.post(
        "/api/v1/cases",
        json={"grounds": ["gambling"], "jurisdiction": "410100", "subject_id": no_org_subject},
        headers=h,
    ).json()["case"]["id"]
    base = f"/api/v1/cases/{case_id}"
    api.post(base + "/transitions", json={"action": "open"}, headers=h)
    api.post(base + "/transitions", json={"action": "assess"}, headers=h)
    api.post(base + "/dispositions", json={"code": "warning"}, headers=analyst.headers)
    api.post(base + "/transitions", json={"action": "dispose", "reason": "属实"}, headers=h)
    api.post(base + "/dispositions/1/approve", headers=leader.headers)
    notified = api.post(base + "/transitions", json={"action": "notify"}, headers=h).json()
    # No operator on record: the notice is recorded, addressed to nobody, and we say so.
    assert notified["warnings"] == [cases.NO_RECIPIENT_WARNING]
    assert notified["notices"][0]["organisation_id"] is None
    assert api.get("/api/v1/notices", headers=operator.headers).json()["items"] == []
    notice_id = notified["notices"][0]["id"]
    problem(api.get(f"/api/v1/notices/{notice_id}", headers=operator.headers), 404)
    problem(
        api.post(
            f"/api/v1/notices/{notice_id}/rectifications", json={"summary": "x"},
            headers=operator.headers,
        ),
        404,
    )  # fmt: skip
    problem(api.get("/api/v1/notices?status=read", headers=h), 422, "unknown_status")
    problem(api.get("/api/v1/notices?cursor=zz", headers=h), 422, "bad_cursor")
    overdue = api.get("/api/v1/cases/overdue", headers=h).json()
    assert overdue["cases"] == [] and overdue["notices"] == []

    # A case of this operator, whose rectification was due long ago (driven by the services).
    subject = subject_of(database, org)
    past = datetime(2020, 9, 1, 2, tzinfo=UTC)
    with database.write() as s:
        late = cases.create_case(
            s, officer.principal, grounds=["gambling"], jurisdiction="410100",
            subject_id=subject, at=past,
        ).case.id  # fmt: skip
    steps = [
        lambda s, t: cases.act(s, officer.principal, late, "open", at=t),
        lambda s, t: cases.act(s, analyst.principal, late, "assess", at=t),
        lambda s, t: cases.propose(
            s, analyst.principal, late, "rectify", {"deadline": "2020-09-30"}, at=t
        ),
        lambda s, t: cases.act(s, analyst.principal, late, "dispose", at=t, reason="属实"),
        lambda s, t: cases.decide(s, leader.principal, late, 1, "approve", at=t),
        lambda s, t: cases.act(s, officer.principal, late, "notify", at=t),
    ]
    for i, fn in enumerate(steps, start=1):
        with database.write() as s:
            fn(s, past + timedelta(minutes=i))
    overdue = api.get("/api/v1/cases/overdue", headers=h).json()
    assert [c["id"] for c in overdue["cases"]] == [late] and overdue["cases"][0]["overdue"]
    assert [n["case_id"] for n in overdue["notices"]] == [late]
    listed = api.get("/api/v1/cases?overdue=true", headers=h).json()
    assert [c["id"] for c in listed["items"]] == [late]
    problem(api.get("/api/v1/cases/overdue", headers=operator.headers), 403)
    inbox = api.get("/api/v1/notices?overdue=true", headers=operator.headers).json()["items"]
    notice = inbox[0]
    assert notice["overdue"] and notice["case_id"] == late
    url = f"/api/v1/notices/{notice['id']}/rectifications"
    for attachment, status, code in (
        ({"media_type": "image/png", "content_base64": "not base64!"}, 422, "bad_base64"),
        (
            {"media_type": "image/png", "content_base64": base64.b64encode(b"GIF89a").decode()},
            422,
            "media_type_mismatch",
        ),
        (
            {"media_type": "application/x-sh", "content_base64": "IyE="},
            422,
            "unsupported_media_type",
        ),
        (
            {
                "media_type": "text/plain",
                "content_base64": base64.b64encode(
                    b"a" * (app_settings.max_attachment_bytes + 1)
                ).decode(),
            },
            413,
            "attachment_too_large",
        ),
    ):
        body = {"summary": "已整改", "attachments": [attachment]}
        problem(api.post(url, json=body, headers=operator.headers), status, code)
    too_many = {
        "summary": "x",
        "attachments": [{"media_type": "text/plain", "content_base64": "YQ=="}] * 11,
    }
    problem(api.post(url, json=too_many, headers=operator.headers), 422)
    problem(api.post(url, json={"summary": ""}, headers=operator.headers), 422)
    ok = api.post(
        url,
        json={
            "summary": "已整改（逾期）",
            "attachments": [
                {
                    "name": "../../etc/passwd",
                    "media_type": "text/plain",
                    "content_base64": "5bey5pW05pS5",
                }
            ],
        },
        headers=operator.headers,
    )
    assert ok.status_code == 201, ok.text
    report = ok.json()["rectifications"][0]
    assert report["late"] and report["attachments"][0]["name"] == "passwd"
    problem(
        api.get(f"/api/v1/notices/{notice['id']}/evidence/{'0' * 64}", headers=operator.headers),
        404,
    )
    problem(
        api.get(f"/api/v1/notices/{notice['id']}/evidence/..%2F..%2Fetc", headers=operator.headers),
        404,
    )
    with database.read() as s:
        assert verify_log(s).ok


def test_text_no_database_can_hold_is_refused(api, crew) -> None:
    """NUL and lone surrogates (sent as JSON escapes) get 4xx, before any row or audit event."""
    officer = crew.make("officer", department="police", jurisdiction="410000")

    def post(who, path: str, body: dict):
        headers = {**who.headers, "content-type": "application/json"}
        return api.post(path, content=json.dumps(body).encode(), headers=headers)

    def refused(response, code: str) -> None:
        # The JSON parser may refuse a lone surrogate itself (400/422 without a code).
        assert response.status_code in (400, 422), response.text
        assert response.json().get("code") in (code, None)

    case = {"grounds": ["abuse"], "jurisdiction": "410000"}
    for text in ("\x00", "\ud800", "a\ud800b"):
        refused(post(officer, "/api/v1/cases", {**case, "title": text}), "bad_title")
        refused(post(officer, "/api/v1/cases", {**case, "reason": text}), "bad_reason")
    problem(post(officer, "/api/v1/cases", {**case, "title": "\x00"}), 422, "bad_title")
    problem(api.get("/api/v1/cases?q=%00", headers=officer.headers), 422, "bad_q")
    odd = api.get("/api/v1/cases?q=%ED%A0%80", headers=officer.headers)  # a surrogate, CESU-8
    assert odd.status_code == 422 or odd.json()["items"] == [], odd.text
    base = f"/api/v1/cases/{post(officer, '/api/v1/cases', case).json()['case']['id']}"
    task = post(officer, base + "/transitions", {"action": "open"}).json()["tasks"][0]["id"]
    co = crew.make("officer", department="cyberspace", jurisdiction="410000")
    problem(post(co, f"{base}/tasks/{task}/done", {"note": "\x00"}), 422, "bad_note")
    refused(post(co, f"{base}/tasks/{task}/done", {"note": "\ud800"}), "bad_note")
    problem(
        post(officer, base + "/dispositions", {"code": "warning", "reason": "\x00"}),
        422,
        "bad_reason",
    )
