"""Case pages (案件办理): who sees what, the whole journey through the forms from a public tip
to a published typical case, and the error paths (stale page, wrong role, bad parameters,
missing CSRF token), with every form field labelled."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dbfixtures import PASSWORD
from qinglang.govern.campaigns import templates
from qinglang.govern.clock import shanghai_date
from qinglang.services import campaigns as campaign_service
from qinglang.services import cases as case_service
from qinglang.services.users import create_user
from qinglang.store.models import IntakeItem, Subject
from qinglang.store.passwords import hash_password
from uifixtures import assert_accessible, csrf_of, ui_login

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
NOW = datetime.now(UTC)


# ---------------------------------------------------------------- accessibility helper


def test_the_label_check_can_fail() -> None:
    with pytest.raises(AssertionError):
        assert_accessible('<h1>x</h1><form id="f"><input id="a" name="a"></form>')
    with pytest.raises(AssertionError):
        assert_accessible('<h1>x</h1><label for="a">A</label><input id="a"><textarea id="a">')


# ---------------------------------------------------------------- the world of a case


def in_days(n: int) -> str:
    return (shanghai_date(datetime.now(UTC)) + timedelta(days=n)).isoformat()


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)


def make_user(
    db,
    username: str,
    roles: tuple[str, ...],
    *,
    department: str | None = None,
    jurisdiction: str = "410000",
    organisation_id: int | None = None,
) -> None:
    """A user who logs in with dbfixtures.PASSWORD; the Argon2 hash is computed once."""
    with db.write() as s:
        user = create_user(
            s, username=username, password=None, roles=roles, jurisdiction=jurisdiction,
            department=department, organisation_id=organisation_id, by="system:test", at=NOW,
        )  # fmt: skip
        user.password_hash = password_hash()


@dataclass
class World:
    ui: TestClient
    db: object
    people: object
    org: int
    subject: int

    def client(self, username: str) -> TestClient:
        """Another browser on the same app, logged in as `username`."""
        client = TestClient(self.ui.app, raise_server_exceptions=False, follow_redirects=False)
        ui_login(client, username)
        return client


@pytest.fixture
def world(ui, ui_db, ui_people) -> World:
    org = ui_people.organisation("某游戏科技有限公司", "410100")
    with ui_db.write() as s:
        row = Subject(
            kind="game", name="某某传奇", organisation_id=org, region="410100",
            created_at=NOW, updated_at=NOW,
        )  # fmt: skip
        s.add(row)
        s.flush()
        subject = row.id
    people = {
        "police-officer-zhang": dict(roles=("officer",), department="police"),
        "police-analyst-li": dict(roles=("analyst",), department="police"),
        "police-leader-wang": dict(roles=("leader",), department="police"),
        "cyber-officer-zhao": dict(roles=("officer",), department="cyberspace"),
        "province-admin": dict(roles=("admin",), department=None),
    }
    for name, spec in people.items():
        make_user(ui_db, name, spec["roles"], department=spec["department"])
    make_user(ui_db, "sh-officer", ("officer",), department="police", jurisdiction="310000")
    make_user(ui_db, "game-op", ("operator",), organisation_id=org)
    return World(ui, ui_db, ui_people, org, subject)


def tip_case(world: World) -> int:
    """A public tip through the reporting API; intake links it to the subject and opens a lead."""
    r = world.ui.post(
        "/api/v1/reports",
        json={
            "text": "某某传奇游戏内公告引流至博彩网站，诱导未成年人参与赌博。",
            "region": "410100",
            "platform": "某某传奇",
            "category": "gambling",
        },
    )
    assert r.status_code == 201, r.text
    with world.db.read() as s:
        item = s.execute(
            select(IntakeItem).where(IntakeItem.ticket == r.json()["ticket"])
        ).scalar_one()
        return item.case_id


def hand_case(world: World, username: str = "police-officer-zhang") -> int:
    from qinglang.services.users import principal_of
    from qinglang.store.models import User

    with world.db.write() as s:
        user = s.execute(select(User).where(User.username == username)).scalar_one()
        detail = case_service.create_case(
            s, principal_of(user), grounds=["gambling"], jurisdiction="410100", at=NOW,
            title="某某传奇 博彩引流", subject_id=world.subject,
        )  # fmt: skip
        return detail.case.id


def version_of(html: str) -> str:
    match = re.search(r'name="version" value="(\d+)"', html)
    assert match, "no version on the page"
    return match.group(1)


def submit(client: TestClient, case_id: int, path: str, data: dict, status: int = 303, files=None):
    """Post a form of the case page as a browser would: with the page's token and version."""
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200, page.text[:300]
    body = {"csrf": csrf_of(page.text), **data}
    if "version" not in data and 'name="version"' in page.text:
        body["version"] = version_of(page.text)
    r = client.post(f"/cases/{case_id}{path}", data=body, files=files)
    assert r.status_code == status, r.text[:2000]
    return r


# ---------------------------------------------------------------- roles


def test_anonymous_callers_go_to_the_login_page(ui) -> None:
    r = ui.get("/cases")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/cases"
    assert ui.get("/cases/1").headers["location"] == "/login?next=/cases/1"


def test_each_role_sees_only_what_it_may(world: World) -> None:
    case_id = hand_case(world)
    officer = world.client("police-officer-zhang")
    page = officer.get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert_accessible(page.text)
    assert 'id="transition-open"' in page.text and 'id="transition-dismiss"' in page.text
    assert "某游戏科技有限公司" in page.text and f'href="/ledger/{world.subject}"' in page.text

    listing = officer.get("/cases")
    assert listing.status_code == 200 and f'href="/cases/{case_id}"' in listing.text
    assert "共 1 件" in listing.text
    assert_accessible(listing.text)

    analyst = world.client("police-analyst-li")
    page = analyst.get(f"/cases/{case_id}")
    assert page.status_code == 200 and 'id="transition-' not in page.text  # open: officer, leader
    assert analyst.get("/cases/new").status_code == 403

    leader = world.client("police-leader-wang")
    page = leader.get(f"/cases/{case_id}")
    assert 'id="transition-open"' in page.text and 'id="transition-transfer"' in page.text

    # A cooperating department sees the file but drives nothing.
    co = world.client("cyber-officer-zhao")
    page = co.get(f"/cases/{case_id}")
    assert page.status_code == 200 and 'id="transition-' not in page.text
    assert 'id="propose"' not in page.text
    submit(co, case_id, "/transitions", {"action": "open"}, status=403)

    # An admin of the jurisdiction reads it, read-only.
    admin = world.client("province-admin")
    page = admin.get(f"/cases/{case_id}")
    assert page.status_code == 200 and "<form id=" not in page.text.split("</header>")[1]
    assert admin.get("/cases").status_code == 200
    r = admin.post(
        f"/cases/{case_id}/transitions", data={"csrf": csrf_of(page.text), "action": "open"}
    )
    assert r.status_code == 403 and "无权" in r.text

    # Another province: the case does not exist for them.
    far = world.client("sh-officer")
    assert far.get(f"/cases/{case_id}").status_code == 404
    assert f'href="/cases/{case_id}"' not in far.get("/cases").text

    # Platform operators never see cases.
    op = world.client("game-op")
    assert op.get("/cases").status_code == 403
    r = op.get(f"/cases/{case_id}")
    assert r.status_code == 403 and "整改通知" in r.text


# ---------------------------------------------------------------- the journey


def test_from_a_public_tip_to_a_published_typical_case(world: World) -> None:
    case_id = tip_case(world)
    officer = world.client("police-officer-zhang")
    page = officer.get(f"/cases/{case_id}")
    assert "公众举报 1 条" in page.text and "线索" in page.text

    # 立案: the cooperating department gets its task.
    r = submit(officer, case_id, "/transitions", {"action": "open"})
    assert r.headers["location"] == f"/cases/{case_id}"
    page = officer.get(f"/cases/{case_id}")
    assert "案件已进入“已立案”环节。" in page.text
    assert "立案" in page.text and "分派协办任务" in page.text  # the timeline
    co = world.client("cyber-officer-zhao")
    co_page = co.get(f"/cases/{case_id}")
    task_form = re.search(r'<form id="task-(\d+)-done"', co_page.text)
    assert task_form, "the cooperating department has no task form"
    assert_accessible(co_page.text)
    submit(co, case_id, f"/tasks/{task_form.group(1)}/done", {"note": "已协查涉事账号"})
    assert "已协查涉事账号" in officer.get(f"/cases/{case_id}").text

    submit(officer, case_id, "/transitions", {"action": "assess"})
    page = officer.get(f"/cases/{case_id}")
    assert 'id="propose"' in page.text
    assert_accessible(page.text)

    # Bad parameters: the message next to the field, the typed values kept.
    r = submit(
        officer,
        case_id,
        "/dispositions",
        {"code": "rectify", "param-deadline": "2020-02-30", "reason": "先整改"},
        status=422,
    )
    assert "整改期限应为日期" in r.text and 'value="2020-02-30"' in r.text
    assert "先整改" in r.text and 'aria-invalid="true"' in r.text
    r = submit(
        officer, case_id, "/dispositions", {"code": "rectify", "param-deadline": "2020-01-01"},
        status=422,
    )  # fmt: skip
    assert "应晚于决定日期" in r.text
    r = submit(
        officer, case_id, "/dispositions", {"code": "penalty", "param-amount": "12.345"}, 422
    )
    assert "罚款金额（元）应为金额" in r.text and 'value="12.345"' in r.text
    deadline = in_days(15)
    submit(officer, case_id, "/dispositions", {"code": "rectify", "param-deadline": deadline})
    page = officer.get(f"/cases/{case_id}")
    assert f"责令限期整改（整改期限：{deadline}）" in page.text and "待审批" in page.text

    # 提出处置意见 needs the assessment's conclusion.
    r = submit(officer, case_id, "/transitions", {"action": "dispose"}, status=422)
    assert 'id="transition-dispose-reason-error"' in r.text
    submit(officer, case_id, "/transitions", {"action": "dispose", "reason": "研判属实"})

    # The proposer cannot approve; an analyst is refused; the leader approves.
    page = officer.get(f"/cases/{case_id}")
    assert 'id="disposition-1-approve"' not in page.text
    assert 'id="disposition-1-withdraw"' in page.text
    analyst = world.client("police-analyst-li")
    r = analyst.post(
        f"/cases/{case_id}/dispositions/1/approve",
        data={"csrf": csrf_of(analyst.get(f"/cases/{case_id}").text)},
    )
    assert r.status_code == 403
    leader = world.client("police-leader-wang")
    page = leader.get(f"/cases/{case_id}")
    assert 'id="disposition-1-approve"' in page.text and 'id="disposition-1-reject"' in page.text
    assert_accessible(page.text)
    submit(leader, case_id, "/dispositions/1/approve", {"reason": "同意"})
    assert "已批准" in leader.get(f"/cases/{case_id}").text

    # 下发整改通知: the notice reaches the operator's portal.
    submit(officer, case_id, "/transitions", {"action": "notify"})
    page = officer.get(f"/cases/{case_id}")
    notice_id = int(re.search(r'id="notice-(\d+)"', page.text).group(1))
    assert "待整改" in page.text and f"/cases/{case_id}/notices/{notice_id}.docx" in page.text
    assert "下载整改通知书（Word）" in page.text

    op = world.client("game-op")
    portal = op.get("/portal")
    assert portal.status_code == 200 and f'href="/portal/notices/{notice_id}"' in portal.text
    notice = op.get(f"/portal/notices/{notice_id}")
    assert notice.status_code == 200 and f"责令限期整改（整改期限：{deadline}）" in notice.text
    assert "police-officer-zhang" not in notice.text and "police-leader-wang" not in notice.text
    r = op.post(
        f"/portal/notices/{notice_id}/rectifications",
        data={"csrf": csrf_of(notice.text), "summary": "已删除引流公告，封禁相关账号。"},
        files=[("attachments", ("screenshot.png", PNG, "image/png"))],
    )
    assert r.status_code == 303, r.text[:1000]

    # The officer reads the report with the file's digest, downloads it, and re-checks.
    page = officer.get(f"/cases/{case_id}")
    assert "已删除引流公告，封禁相关账号。" in page.text and "已反馈" in page.text
    digest = re.search(r'<span class="hash">([0-9a-f]{64})</span>', page.text).group(1)
    evidence = officer.get(f"/cases/{case_id}/notices/{notice_id}/evidence/{digest}")
    assert evidence.status_code == 200 and evidence.content == PNG
    assert "反馈整改情况" in page.text  # the timeline names the operator's step
    submit(officer, case_id, "/transitions", {"action": "recheck"})

    # A case with a public tip closes with a result for the reporter.
    r = submit(officer, case_id, "/transitions", {"action": "close"}, status=422)
    assert "请填写向举报人公开的处理结果" in r.text
    assert 'id="transition-close-public_result-error"' in r.text
    result = "经核查，涉事游戏已删除引流公告并封禁相关账号。"
    submit(officer, case_id, "/transitions", {"action": "close", "public_result": result})
    page = officer.get(f"/cases/{case_id}")
    assert "已办结" in page.text and result in page.text
    assert 'id="transition-' not in page.text and 'id="publish"' not in page.text

    # The leader publishes it as a typical case.
    page = leader.get(f"/cases/{case_id}")
    assert 'id="publish"' in page.text and 'id="publish-field-subject" name="fields"' in page.text
    assert_accessible(page.text)
    r = submit(leader, case_id, "/publish", {"title": "", "body": "x"}, status=422)
    assert "请填写标题" in r.text
    r = submit(
        leader,
        case_id,
        "/publish",
        {"title": "某某传奇博彩引流案", "body": "依法责令整改。", "fields": ["subject", "result"]},
    )
    page = leader.get(f"/cases/{case_id}")
    assert "某某传奇博彩引流案" in page.text and "在曝光台查看" in page.text
    assert 'id="publish"' not in page.text
    pub = re.search(r'id="withdraw-publication-(\d+)"', page.text).group(1)
    submit(leader, case_id, f"/publications/{pub}/withdraw", {"reason": "信息需更正"})
    assert "已撤回" in leader.get(f"/cases/{case_id}").text

    listing = officer.get("/cases?state=closed")
    assert f'href="/cases/{case_id}"' in listing.text and "已办结" in listing.text
    assert f'href="/cases/{case_id}"' not in officer.get("/cases?state=lead").text


# ---------------------------------------------------------------- error paths


def test_a_stale_page_answers_409_with_the_case_as_it_now_stands(world: World) -> None:
    case_id = hand_case(world)
    officer = world.client("police-officer-zhang")
    old = officer.get(f"/cases/{case_id}")
    token, version = csrf_of(old.text), version_of(old.text)
    leader = world.client("police-leader-wang")
    submit(leader, case_id, "/transitions", {"action": "open"})
    r = officer.post(
        f"/cases/{case_id}/transitions",
        data={"csrf": token, "action": "dismiss", "version": version, "reason": "无需处理"},
    )
    assert r.status_code == 409
    assert "案件已被他人更新" in r.text and "已立案" in r.text
    assert 'role="alert"' in r.text


def test_a_form_without_the_csrf_token_is_refused(world: World) -> None:
    case_id = hand_case(world)
    officer = world.client("police-officer-zhang")
    r = officer.post(f"/cases/{case_id}/transitions", data={"action": "open"})
    assert r.status_code == 403 and "表单已过期" in r.text
    assert "线索" in officer.get(f"/cases/{case_id}").text
    r = officer.post("/cases/new", data={"ground": "gambling", "jurisdiction": "410100"})
    assert r.status_code == 403


def test_an_action_the_state_forbids_is_409_and_bad_ids_are_not_500(world: World) -> None:
    case_id = hand_case(world)
    officer = world.client("police-officer-zhang")
    r = submit(officer, case_id, "/transitions", {"action": "close"}, status=409)
    assert 'role="alert"' in r.text
    r = submit(officer, case_id, "/transitions", {"action": "fly"}, status=422)
    assert "未知的操作" in r.text
    assert officer.get("/cases/0").status_code == 422
    assert officer.get("/cases/abc").status_code == 422
    assert officer.get("/cases/99999").status_code == 404
    r = officer.get("/cases?state=nonsense")
    assert r.status_code == 422 and "未知的案件状态" in r.text
    r = officer.get("/cases?jurisdiction=12")
    assert r.status_code == 422 and "筛选条件有误" in r.text
    r = officer.get("/cases?cursor=garbage")
    assert r.status_code == 422 and "分页游标无效" in r.text


def test_opening_a_lead_by_hand(world: World) -> None:
    officer = world.client("police-officer-zhang")
    page = officer.get("/cases/new")
    assert page.status_code == 200
    assert_accessible(page.text)
    token = csrf_of(page.text)
    r = officer.post(
        "/cases/new",
        data={"csrf": token, "ground": "gambling", "jurisdiction": "999999", "title": "巡查发现"},
    )
    assert r.status_code == 422 and 'value="巡查发现"' in r.text
    assert 'id="new-case-jurisdiction-error"' in r.text
    r = officer.post(
        "/cases/new",
        data={"csrf": token, "ground": "gambling", "jurisdiction": "310000", "title": "外省"},
    )
    assert r.status_code == 403 and "管辖范围" in r.text and 'value="外省"' in r.text
    r = officer.post(
        "/cases/new",
        data={
            "csrf": token,
            "ground": "gambling",
            "more_grounds": ["fraud"],
            "jurisdiction": "410100",
            "title": "巡查发现博彩引流",
            "subject_id": str(world.subject),
            "source": "patrol",
        },
    )
    assert r.status_code == 303
    case_id = int(r.headers["location"].rsplit("/", 1)[1])
    page = officer.get(f"/cases/{case_id}")
    assert "巡查发现博彩引流" in page.text and "线索已创建" in page.text
    assert "诈骗" in page.text and "巡查" in page.text


def test_the_audit_trail_pages_by_sequence(world: World) -> None:
    case_id = hand_case(world)
    officer = world.client("police-officer-zhang")
    submit(officer, case_id, "/transitions", {"action": "open"})
    page = officer.get(f"/cases/{case_id}/events")
    assert page.status_code == 200
    assert_accessible(page.text)
    hashes = re.findall(r'<td class="hash">([0-9a-f]{64})</td>', page.text)
    assert len(hashes) >= 3  # created, opened, task
    assert "创建线索" in page.text and "分派协办任务" in page.text
    seqs = [int(s) for s in re.findall(r'<td class="num">(\d+)</td>', page.text)]
    later = officer.get(f"/cases/{case_id}/events?after_seq={seqs[0]}")
    assert later.status_code == 200 and hashes[0] not in later.text and hashes[1] in later.text
    assert world.client("sh-officer").get(f"/cases/{case_id}/events").status_code == 404
    case_page = officer.get(f"/cases/{case_id}")
    assert hashes[-1] in case_page.text and f'href="/cases/{case_id}/events"' in case_page.text


def test_filing_under_a_campaign_task(world: World) -> None:
    case_id = hand_case(world)
    from qinglang.services.users import principal_of
    from qinglang.store.models import User

    with world.db.write() as s:
        leader = s.execute(select(User).where(User.username == "police-leader-wang")).scalar_one()
        campaign = campaign_service.create_campaign(
            s, principal_of(leader), templates()["henan-2020"], at=NOW
        )
    officer = world.client("police-officer-zhang")
    page = officer.get(f"/cases/{case_id}")
    assert f'value="{campaign.id}:2"' in page.text
    submit(officer, case_id, "/campaign", {"campaign": f"{campaign.id}:2"})
    page = officer.get(f"/cases/{case_id}")
    assert f'href="/campaigns/{campaign.id}"' in page.text and "已归入专项行动" in page.text
    r = submit(officer, case_id, "/campaign", {"campaign": f"{campaign.id}:zz"}, status=422)
    assert "没有这项任务" in r.text
    r = submit(officer, case_id, "/campaign", {"campaign": "x:1"}, status=422)
    assert "请从列表中选择专项行动" in r.text
    submit(officer, case_id, "/campaign", {"campaign": ""})
    assert "未归入专项行动" in officer.get(f"/cases/{case_id}").text


def test_the_notice_document_downloads(world: World) -> None:
    pytest.importorskip("qinglang.services.documents.notice_docx")
    case_id, notice_id = _notified_case(world)
    officer = world.client("police-officer-zhang")
    r = officer.get(f"/cases/{case_id}/notices/{notice_id}.docx")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert (
        world.client("sh-officer").get(f"/cases/{case_id}/notices/{notice_id}.docx").status_code
        == 404
    )


def test_without_the_document_module_the_download_says_so(world: World, monkeypatch) -> None:
    case_id, notice_id = _notified_case(world)
    monkeypatch.setitem(sys.modules, "qinglang.services.documents.notice_docx", None)
    officer = world.client("police-officer-zhang")
    r = officer.get(f"/cases/{case_id}/notices/{notice_id}.docx")
    assert r.status_code == 503 and "整改通知书（Word）暂时无法生成" in r.text
    assert officer.get(f"/cases/{case_id + 1}/notices/{notice_id}.docx").status_code == 404


def _notified_case(world: World) -> tuple[int, int]:
    """A case whose notice went out (set up through the services, not the forms)."""
    from qinglang.services.users import principal_of
    from qinglang.store.models import User

    case_id = hand_case(world)

    def who(name: str):
        with world.db.read() as s:
            return principal_of(s.execute(select(User).where(User.username == name)).scalar_one())

    officer, leader = who("police-officer-zhang"), who("police-leader-wang")
    at = datetime.now(UTC)
    with world.db.write() as s:
        case_service.act(s, officer, case_id, "open", at=at)
        case_service.act(s, officer, case_id, "assess", at=at)
        case_service.propose(s, officer, case_id, "rectify", {"deadline": in_days(10)}, at=at)
        case_service.act(s, officer, case_id, "dispose", at=at, reason="属实")
        case_service.decide(s, leader, case_id, 1, "approve", at=at)
        detail = case_service.act(s, officer, case_id, "notify", at=at)
    return case_id, detail.notices[0].id
