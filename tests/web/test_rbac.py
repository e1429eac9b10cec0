"""The access matrix of the case and notice endpoints, role by role.

One case in Zhengzhou (410100) on gambling: police leads, cyberspace cooperates, education
takes no part. Each caller below is checked against every row of ENDPOINTS; each row names
the state the case must be in and the status every caller must get. Rules (docs/cases.md):
401 without credentials; 403 for a role that never works on cases (before any lookup) and
for a case the caller sees but may not act on; 404 for a case or notice the caller cannot
see at all. "200+" / "200-" mean 200 with / without the case (or notice) in the list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dbfixtures import People, Person
from qinglang.govern.clock import shanghai_date
from qinglang.services import cases
from qinglang.services.users import create_token, create_user, principal_of
from qinglang.store.models import Subject

# Caller -> (roles, department, jurisdiction, organisation: "own" / "other" / None)
CALLERS: dict[str, tuple[tuple[str, ...], str | None, str, str | None]] = {
    "officer-lead": (("officer",), "police", "410000", None),
    "analyst-lead": (("analyst",), "police", "410000", None),
    "leader-lead": (("leader",), "police", "410000", None),
    "leader-national": (("leader",), "police", "100000", None),
    "officer-co": (("officer",), "cyberspace", "410000", None),
    "officer-unrelated": (("officer",), "education", "410000", None),
    "officer-out": (("officer",), "police", "310000", None),
    "leader-city-elsewhere": (("leader",), "police", "410300", None),
    "admin-in": (("admin",), None, "410000", None),
    "admin-out": (("admin",), None, "310000", None),
    "operator-own": (("operator",), None, "410000", "own"),
    "operator-other": (("operator",), None, "410000", "other"),
    "anonymous": ((), None, "100000", None),
}
SEE = ("officer-lead", "analyst-lead", "leader-lead", "leader-national", "officer-co", "admin-in")
BLIND = ("officer-unrelated", "officer-out", "leader-city-elsewhere", "admin-out")
OPERATORS = ("operator-own", "operator-other")
NOT_CASE_ROLES = ("admin-in", "admin-out", *OPERATORS)


def matrix(default: str, *overrides: dict[str, str]) -> dict[str, str]:
    """A full row: `default` for every caller, then the overrides in order (later wins)."""
    row = {name: default for name in CALLERS}
    for override in overrides:
        row.update(override)
    row["anonymous"] = "401"  # no credentials: always 401, whatever the endpoint
    return row


def each(names: tuple[str, ...], value: str) -> dict[str, str]:
    return dict.fromkeys(names, value)


@dataclass(frozen=True)
class Endpoint:
    name: str
    state: str  # what `World.case_in` prepares: see STEPS
    method: str
    path: str  # {case}, {notice}, {task} are filled in
    body: dict | None
    expect: dict[str, str]
    changes: bool = False  # a success consumes the prepared case


# Callers that may never act on a case are refused by role (403) before any lookup, so
# their group comes after BLIND: an administrator elsewhere gets 403, not 404.
READ = matrix("200", each(BLIND, "404"), each(OPERATORS, "403"))
LEAD_ONLY = (each(BLIND, "404"), each(NOT_CASE_ROLES, "403"))

ENDPOINTS = (
    Endpoint(
        "list cases", "lead", "GET", "/cases?q=%23{case}", None,
        matrix("200+", each(BLIND, "200-"), each(OPERATORS, "403")),
    ),
    Endpoint("read case", "lead", "GET", "/cases/{case}", None, READ),
    Endpoint("case events", "lead", "GET", "/cases/{case}/events", None, READ),
    Endpoint(
        "overdue", "lead", "GET", "/cases/overdue", None,
        matrix("200", each(OPERATORS, "403")),
    ),
    Endpoint(
        "create case", "none", "POST", "/cases",
        {"grounds": ["gambling"], "jurisdiction": "410100", "title": "巡查发现"},
        matrix(
            "201",
            each(("analyst-lead", *BLIND, *NOT_CASE_ROLES), "403"),
        ),
        changes=True,
    ),
    Endpoint(
        "open", "lead", "POST", "/cases/{case}/transitions", {"action": "open"},
        matrix("200", each(("analyst-lead", "officer-co"), "403"), *LEAD_ONLY),
        changes=True,
    ),
    Endpoint(
        "assess", "opened", "POST", "/cases/{case}/transitions", {"action": "assess"},
        matrix(
            "200", each(("leader-lead", "leader-national", "officer-co"), "403"), *LEAD_ONLY
        ),
        changes=True,
    ),
    Endpoint(
        "dismiss opened case", "opened", "POST", "/cases/{case}/transitions",
        {"action": "dismiss", "reason": "不属实"},
        matrix("403", each(("leader-lead", "leader-national"), "200"), *LEAD_ONLY),
        changes=True,
    ),
    Endpoint(
        "propose", "assessing", "POST", "/cases/{case}/dispositions",
        {"code": "warning", "params": {}},
        matrix("201", each(("officer-co",), "403"), *LEAD_ONLY),
        changes=True,
    ),
    Endpoint(
        "withdraw", "assessing+proposed", "POST", "/cases/{case}/dispositions/1/withdraw", None,
        matrix(
            "403", each(("analyst-lead", "leader-lead", "leader-national"), "200"), *LEAD_ONLY
        ),
        changes=True,
    ),
    Endpoint(
        "approve", "disposing", "POST", "/cases/{case}/dispositions/1/approve", None,
        matrix("403", each(("leader-lead", "leader-national"), "200"), *LEAD_ONLY),
        changes=True,
    ),
    Endpoint(
        "notify", "disposing+approved", "POST", "/cases/{case}/transitions",
        {"action": "notify"},
        matrix(
            "403", each(("officer-lead", "leader-lead", "leader-national"), "200"), *LEAD_ONLY
        ),
        changes=True,
    ),
    Endpoint(
        "task done", "opened", "POST", "/cases/{case}/tasks/{task}/done", {"note": "已协查"},
        matrix("403", each(("officer-co",), "200"), *LEAD_ONLY),
        changes=True,
    ),
    Endpoint(
        "list notices", "rectifying", "GET", "/notices?case_id={case}", None,
        matrix("200+", each((*BLIND, "operator-other"), "200-")),
    ),
    Endpoint(
        "read notice", "rectifying", "GET", "/notices/{notice}", None,
        matrix("200", each((*BLIND, "operator-other"), "404")),
    ),
    Endpoint(
        "report rectification", "rectifying", "POST", "/notices/{notice}/rectifications",
        {"summary": "已整改"},
        matrix("403", {"operator-own": "201", "operator-other": "404"}),
        changes=True,
    ),
)  # fmt: skip


class World:
    """Users for every caller, and cases prepared in a wanted state through the services."""

    def __init__(self, database) -> None:
        self.db = database
        self.now = datetime.now(UTC) - timedelta(hours=1)
        self.tick = 0
        deadline = shanghai_date(datetime.now(UTC)) + timedelta(days=30)
        self.deadline = deadline.isoformat()
        people = People(database)
        self.org = people.organisation("本平台公司", "410100")
        other_org = people.organisation("另一家公司", "410100")
        with database.write() as s:
            subject = Subject(
                kind="app", name="某应用", organisation_id=self.org, region="410100",
                created_at=self.now, updated_at=self.now,
            )  # fmt: skip
            s.add(subject)
            s.flush()
            self.subject = subject.id
        self.people: dict[str, Person | None] = {}
        for i, (name, (roles, dept, juris, org)) in enumerate(CALLERS.items()):
            if not roles:
                self.people[name] = None
                continue
            org_id = {"own": self.org, "other": other_org, None: None}[org]
            with database.write() as s:
                user = create_user(
                    s, username=f"u{i}", password=None, roles=roles, jurisdiction=juris,
                    department=dept, organisation_id=org_id, by="system:test", at=self.now,
                )  # fmt: skip
                token, _ = create_token(s, user.id, "t", self.now)
                self.people[name] = Person(principal_of(user), token)

    def p(self, name: str):
        person = self.people[name]
        assert person is not None
        return person.principal

    def at(self) -> datetime:
        self.tick += 1
        return self.now + timedelta(seconds=self.tick)

    def case_in(self, state: str) -> dict[str, int]:
        """A new case in `state`; returns the ids the paths need."""
        if state == "none":
            return {}
        with self.db.write() as s:
            case = cases.create_case(
                s, self.p("officer-lead"), grounds=["gambling"], jurisdiction="410100",
                subject_id=self.subject, at=self.at(),
            ).case.id  # fmt: skip
        ids = {"case": case, "n": 1}
        for step in STEPS[state]:
            with self.db.write() as s:
                detail = step(self, s, case)
        if state != "lead":
            ids["task"] = detail.tasks[0].id
            if detail.notices:
                ids["notice"] = detail.notices[-1].id
        return ids


def _act(who: str, action: str, **kw) -> Callable:
    return lambda w, s, c: cases.act(s, w.p(who), c, action, at=w.at(), **kw)


def _propose(w, s, c):
    return cases.propose(s, w.p("analyst-lead"), c, "rectify", {"deadline": w.deadline}, at=w.at())


def _approve(w, s, c):
    return cases.decide(s, w.p("leader-lead"), c, 1, "approve", at=w.at())


STEPS: dict[str, list[Callable]] = {
    "lead": [],
    "opened": [_act("officer-lead", "open")],
    "assessing": [_act("officer-lead", "open"), _act("analyst-lead", "assess")],
}
STEPS["assessing+proposed"] = [*STEPS["assessing"], _propose]
STEPS["disposing"] = [*STEPS["assessing+proposed"], _act("analyst-lead", "dispose", reason="属实")]
STEPS["disposing+approved"] = [*STEPS["disposing"], _approve]
STEPS["rectifying"] = [*STEPS["disposing+approved"], _act("officer-lead", "notify")]


def test_every_row_covers_every_caller() -> None:
    for endpoint in ENDPOINTS:
        assert set(endpoint.expect) == set(CALLERS), endpoint.name
        assert endpoint.expect["anonymous"] == "401", endpoint.name


def test_access_matrix(database, api) -> None:
    """Every caller against every row; cases are prepared once and reused until consumed."""
    world = World(database)
    prepared: dict[str, dict[str, int]] = {}
    failures = []
    for caller, person in world.people.items():
        headers = person.headers if person is not None else {}
        for endpoint in ENDPOINTS:
            if endpoint.state not in prepared:
                prepared[endpoint.state] = world.case_in(endpoint.state)
            ids = prepared[endpoint.state]
            path = "/api/v1" + endpoint.path.format(**ids)
            response = api.request(endpoint.method, path, json=endpoint.body, headers=headers)
            expected = endpoint.expect[caller]
            got = str(response.status_code)
            if expected in ("200+", "200-") and got == "200":
                listed = {item["id"] for item in response.json()["items"]}
                target = ids["notice"] if endpoint.path.startswith("/notices") else ids["case"]
                got = "200+" if target in listed else "200-"
            if got != expected:
                failures.append(
                    f"{caller:22s} {endpoint.name:22s} expected {expected}, got {got}: "
                    + response.text[:160]
                )
            if response.status_code >= 400:
                assert response.headers["content-type"].startswith("application/problem+json")
                assert response.json()["status"] == response.status_code
            elif endpoint.changes:
                prepared.pop(endpoint.state)
    assert not failures, "\n" + "\n".join(failures)
