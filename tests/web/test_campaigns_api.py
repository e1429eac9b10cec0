"""The campaigns and disclosure endpoints: create from a template or a plan, progress,
reports, filing a case, publishing a typical case, and what bad input gets."""

from __future__ import annotations

import pytest


@pytest.fixture
def leader(people):
    return people.make("leader", department="police", jurisdiction="410000")


@pytest.fixture
def officer(people):
    return people.make("officer", department="police", jurisdiction="410000")


def test_templates_are_listed_without_login(api):
    r = api.get("/api/v1/campaigns/templates")
    assert r.status_code == 200
    codes = {t["template"] for t in r.json()}
    assert codes == {"national-2020", "shanghai-2020", "henan-2020", "hunan-2018"}


def test_create_from_template_then_read_progress_and_report(api, leader, officer):
    r = api.post(
        "/api/v1/campaigns",
        json={"template": "henan-2020", "year": 2020, "public": True},
        headers=leader.headers,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    cid = body["id"]
    assert [s["deadline"] for s in body["stages"]] == ["2020-10-20", "2020-11-30", "2020-12-31"]
    assert api.get(f"/api/v1/campaigns/{cid}", headers=officer.headers).status_code == 200
    r = api.post(
        f"/api/v1/campaigns/{cid}/reports",
        json={"stage": 1, "body": "摸排完成", "figures": {"items_cleaned": 10}},
        headers=officer.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["department"] == "police"
    progress = api.get(f"/api/v1/campaigns/{cid}/progress", headers=officer.headers).json()
    police = [c for c in progress["cells"] if c["department"] == "police" and c["stage"] == 1]
    assert police[0]["status"] in {"reported", "late_reported"}
    reports = api.get(f"/api/v1/campaigns/{cid}/reports", headers=officer.headers).json()
    assert [r["figures"] for r in reports] == [{"items_cleaned": 10}]


def test_create_from_a_plan(api, leader):
    plan = {
        "name": "暑期网络环境整治",
        "jurisdiction": "410100",
        "departments": ["police", "cyberspace"],
        "starts_on": "2026-07-01",
        "stages": [
            {"name": "摸排", "deadline": "2026-07-31"},
            {"name": "整治", "deadline": "2026-08-31"},
        ],
        "tasks": [
            {
                "code": "1",
                "name": "整治赌博引流",
                "lead": "police",
                "co": ["cyberspace"],
                "grounds": ["gambling"],
            }
        ],
    }
    r = api.post("/api/v1/campaigns", json=plan, headers=leader.headers)
    assert r.status_code == 201, r.text
    assert r.json()["ends_on"] == "2026-08-31"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"template": "nowhere"}, 422, "unknown_template"),
        ({"name": "x"}, 422, "plan_incomplete"),
        (
            {
                "name": "x",
                "departments": ["police"],
                "starts_on": "2026-07-01",
                "stages": [{"name": "一", "deadline": "2026-06-01"}],
            },
            422,
            "bad_stage_deadline",
        ),
        ({"template": "shanghai-2020"}, 403, "out_of_jurisdiction"),
    ],
)
def test_bad_plans(api, leader, body, status, code):
    r = api.post("/api/v1/campaigns", json=body, headers=leader.headers)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code


def test_roles(api, people, officer):
    operator = people.make("operator", jurisdiction="410000", organisation_id=people.organisation())
    assert api.get("/api/v1/campaigns").status_code == 401
    assert api.get("/api/v1/campaigns", headers=operator.headers).status_code == 403
    r = api.post("/api/v1/campaigns", json={"template": "henan-2020"}, headers=officer.headers)
    assert r.status_code == 403
    assert api.get("/api/v1/campaigns/999", headers=officer.headers).status_code == 404


def test_disclosure_is_public_and_validates_its_filters(api):
    r = api.get("/api/v1/disclosure")
    assert r.status_code == 200 and r.json()["total"] == 0
    assert api.get("/api/v1/disclosure?jurisdiction=990000").status_code == 422
    assert api.get("/api/v1/disclosure?limit=0").status_code == 422


def test_publish_needs_a_case_that_reached_a_notice(api, people, leader):
    officer = people.make("officer", department="police", jurisdiction="410000")
    r = api.post(
        "/api/v1/cases",
        json={"grounds": ["gambling"], "jurisdiction": "410100", "title": "赌博引流"},
        headers=officer.headers,
    )
    assert r.status_code == 201, r.text
    case_id = r.json()["case"]["id"]
    r = api.post(
        f"/api/v1/cases/{case_id}/publication",
        json={"title": "典型案例", "body": "正文"},
        headers=leader.headers,
    )
    assert r.status_code == 409 and r.json()["code"] == "not_publishable"
    r = api.put(
        f"/api/v1/cases/{case_id}/campaign",
        json={"campaign_id": None, "task": None},
        headers=officer.headers,
    )
    assert r.status_code == 204
