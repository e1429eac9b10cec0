"""The operators' portal (整改通知): only operators, only their organisation's notices, nothing
internal; the rectification report with evidence files, its errors, and the Word download."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from dbfixtures import PASSWORD
from qinglang.govern.clock import shanghai_date
from qinglang.services import cases as case_service
from qinglang.services.users import create_user, principal_of
from qinglang.store.models import Notice, Subject, User
from qinglang.store.passwords import hash_password
from uifixtures import assert_accessible, csrf_of, ui_login

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
NOW = datetime.now(UTC)


def test_the_label_check_can_fail() -> None:
    with pytest.raises(AssertionError):
        assert_accessible('<input id="x" name="x" type="file">')


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)


def make_user(db, username: str, *roles: str, **extra) -> None:
    """A user who logs in with dbfixtures.PASSWORD (the Argon2 hash is computed once)."""
    with db.write() as s:
        user = create_user(
            s, username=username, password=None, roles=roles, by="system:test", at=NOW,
            jurisdiction=extra.get("jurisdiction", "410000"),
            department=extra.get("department"), organisation_id=extra.get("organisation_id"),
        )  # fmt: skip
        user.password_hash = password_hash()


def in_days(n: int) -> date:
    return shanghai_date(datetime.now(UTC)) + timedelta(days=n)


@dataclass
class Portal:
    ui: TestClient
    db: object
    notice_id: int
    case_id: int

    def client(self, username: str) -> TestClient:
        client = TestClient(self.ui.app, raise_server_exceptions=False, follow_redirects=False)
        ui_login(client, username)
        return client

    def principal(self, username: str):
        with self.db.read() as s:
            return principal_of(
                s.execute(select(User).where(User.username == username)).scalar_one()
            )


@pytest.fixture
def portal(ui, ui_db, ui_people) -> Portal:
    org = ui_people.organisation("某游戏科技有限公司", "410100")
    other = ui_people.organisation("另一家网络公司", "410100")
    with ui_db.write() as s:
        row = Subject(
            kind="game", name="某某传奇", organisation_id=org, region="410100",
            created_at=NOW, updated_at=NOW,
        )  # fmt: skip
        s.add(row)
        s.flush()
        subject = row.id
    make_user(ui_db, "police-officer-zhang", "officer", department="police")
    make_user(ui_db, "police-leader-wang", "leader", department="police")
    make_user(ui_db, "game-op", "operator", organisation_id=org)
    make_user(ui_db, "other-op", "operator", organisation_id=other)
    p = Portal(ui, ui_db, 0, 0)
    officer, leader = p.principal("police-officer-zhang"), p.principal("police-leader-wang")
    at = datetime.now(UTC)
    with ui_db.write() as s:
        detail = case_service.create_case(
            s, officer, grounds=["gambling"], jurisdiction="410100", at=at,
            title="某某传奇 博彩引流", subject_id=subject,
        )  # fmt: skip
        case_id = detail.case.id
        case_service.act(s, officer, case_id, "open", at=at)
        case_service.act(s, officer, case_id, "assess", at=at)
        deadline = in_days(10).isoformat()
        case_service.propose(s, officer, case_id, "rectify", {"deadline": deadline}, at=at)
        case_service.propose(s, officer, case_id, "close_accounts", {"count": "120"}, at=at)
        case_service.act(s, officer, case_id, "dispose", at=at, reason="属实")
        case_service.decide(s, leader, case_id, 1, "approve", at=at)
        case_service.decide(s, leader, case_id, 2, "approve", at=at)
        detail = case_service.act(s, officer, case_id, "notify", at=at)
    p.notice_id, p.case_id = detail.notices[0].id, case_id
    return p


def test_only_operators_use_the_portal(portal: Portal) -> None:
    r = portal.ui.get("/portal")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/portal"
    officer = portal.client("police-officer-zhang")
    for path in ("/portal", f"/portal/notices/{portal.notice_id}"):
        r = officer.get(path)
        assert r.status_code == 403 and "仅供平台运营者使用" in r.text
    page = officer.get(f"/cases/{portal.case_id}")
    r = officer.post(
        f"/portal/notices/{portal.notice_id}/rectifications",
        data={"csrf": csrf_of(page.text), "summary": "冒充"},
    )
    assert r.status_code == 403


def test_the_operator_sees_its_notices_and_nothing_internal(portal: Portal) -> None:
    op = portal.client("game-op")
    page = op.get("/portal")
    assert page.status_code == 200 and "<h1>整改通知</h1>" in page.text
    assert f'href="/portal/notices/{portal.notice_id}"' in page.text
    assert "待整改" in page.text and "赌博、博彩引流" in page.text
    assert_accessible(page.text)
    notice = op.get(f"/portal/notices/{portal.notice_id}")
    assert notice.status_code == 200
    assert f"责令限期整改（整改期限：{in_days(10).isoformat()}）" in notice.text
    assert "关闭账号（账号数量：120）" in notice.text and "公安" in notice.text
    assert f"/portal/notices/{portal.notice_id}.docx" in notice.text
    assert 'enctype="multipart/form-data"' in notice.text
    assert_accessible(notice.text)
    for internal in ("police-officer-zhang", "police-leader-wang", "属实", "/cases/", "审计"):
        assert internal not in notice.text and internal not in page.text

    # Another organisation's operator: an empty list, and the notice does not exist for them.
    other = portal.client("other-op")
    assert f"/portal/notices/{portal.notice_id}" not in other.get("/portal").text
    assert "暂无整改通知" in other.get("/portal").text
    assert other.get(f"/portal/notices/{portal.notice_id}").status_code == 404
    assert other.get(f"/portal/notices/{portal.notice_id}.docx").status_code == 404
    r = other.post(
        f"/portal/notices/{portal.notice_id}/rectifications",
        data={"csrf": csrf_of(other.get("/portal").text), "summary": "不是我们的"},
    )
    assert r.status_code == 404
    assert op.get("/portal?status=nonsense").status_code == 422


def test_reporting_rectification_with_evidence(portal: Portal) -> None:
    op = portal.client("game-op")
    url = f"/portal/notices/{portal.notice_id}"
    token = csrf_of(op.get(url).text)

    # Without the token: refused, nothing stored.
    r = op.post(url + "/rectifications", data={"summary": "已整改"})
    assert r.status_code == 403

    # An empty summary, then a file of a type we do not take: the typed text stays.
    r = op.post(url + "/rectifications", data={"csrf": token, "summary": "  "})
    assert r.status_code == 422 and "请填写整改情况说明" in r.text
    assert 'id="report-summary-error"' in r.text
    r = op.post(
        url + "/rectifications",
        data={"csrf": token, "summary": "已删除引流公告。"},
        files=[("attachments", ("tool.exe", b"MZ\x90\x00", "application/x-msdownload"))],
    )
    assert r.status_code == 422 and "不支持的证据文件类型" in r.text
    assert "已删除引流公告。" in r.text and "须重新选择文件" in r.text
    r = op.post(
        url + "/rectifications",
        data={"csrf": token, "summary": "已删除引流公告。"},
        files=[("attachments", ("fake.png", b"not a png", "image/png"))],
    )
    assert r.status_code == 422 and "不符" in r.text
    big = PNG + bytes(2 * 1024 * 1024)
    r = op.post(
        url + "/rectifications",
        data={"csrf": token, "summary": "大文件"},
        files=[("attachments", ("big.png", big, "image/png"))],
    )
    assert r.status_code == 422 and "过大" in r.text and "大文件" in r.text

    r = op.post(
        url + "/rectifications",
        data={"csrf": token, "summary": "已删除引流公告，封禁相关账号120个。"},
        files=[
            ("attachments", ("截图.png", PNG, "image/png")),
            ("attachments", ("说明.txt", "整改说明".encode(), "application/octet-stream")),
        ],
    )
    assert r.status_code == 303 and r.headers["location"] == url
    page = op.get(url)
    assert "整改情况已提交" in page.text and "已反馈" in page.text
    assert "已删除引流公告，封禁相关账号120个。" in page.text
    digests = re.findall(r'<span class="hash">([0-9a-f]{64})</span>', page.text)
    assert len(digests) == 2 and "截图.png" in page.text and "text/plain" in page.text
    download = op.get(f"{url}/evidence/{digests[0]}")
    assert download.status_code == 200 and download.content == PNG
    assert download.headers["content-disposition"].startswith("attachment;")
    assert portal.client("other-op").get(f"{url}/evidence/{digests[0]}").status_code == 404

    # A second report is added to the first.
    r = op.post(url + "/rectifications", data={"csrf": token, "summary": "补充：已完成复核。"})
    assert r.status_code == 303
    page = op.get(url)
    assert "第 2 次反馈" in page.text and "补充：已完成复核。" in page.text

    # The officer sees both in the case file.
    case_page = portal.client("police-officer-zhang").get(f"/cases/{portal.case_id}")
    assert "补充：已完成复核。" in case_page.text and digests[0] in case_page.text


def test_overdue_notices_are_tagged_and_late_reports_marked(portal: Portal) -> None:
    with portal.db.write() as s:
        s.execute(update(Notice).where(Notice.id == portal.notice_id).values(deadline=in_days(-2)))
    op = portal.client("game-op")
    assert "逾期" in op.get("/portal").text
    assert f"/portal/notices/{portal.notice_id}" in op.get("/portal?overdue=true").text
    assert f"/portal/notices/{portal.notice_id}" not in op.get("/portal?overdue=false").text
    url = f"/portal/notices/{portal.notice_id}"
    r = op.post(
        url + "/rectifications", data={"csrf": csrf_of(op.get(url).text), "summary": "迟交"}
    )
    assert r.status_code == 303
    assert "逾期反馈" in op.get(url).text


def test_a_closed_notice_takes_no_report(portal: Portal) -> None:
    leader = portal.principal("police-leader-wang")
    with portal.db.write() as s:
        case_service.act(
            s, leader, portal.case_id, "transfer", at=datetime.now(UTC), reason="移送",
            target="公安机关",
        )  # fmt: skip
    op = portal.client("game-op")
    url = f"/portal/notices/{portal.notice_id}"
    page = op.get(url)
    assert "已终结" in page.text and 'id="report"' not in page.text
    r = op.post(url + "/rectifications", data={"csrf": csrf_of(page.text), "summary": "已整改"})
    assert r.status_code == 409 and "已被新通知替代或已终结" in r.text


def test_the_notice_as_a_word_document(portal: Portal, monkeypatch) -> None:
    op = portal.client("game-op")
    url = f"/portal/notices/{portal.notice_id}.docx"
    try:
        import qinglang.services.documents.notice_docx  # noqa: F401
    except ImportError:
        pass
    else:
        r = op.get(url)
        assert r.status_code == 200 and r.content[:2] == b"PK"
    monkeypatch.setitem(sys.modules, "qinglang.services.documents.notice_docx", None)
    r = op.get(url)
    assert r.status_code == 503 and "暂时无法生成" in r.text
    assert portal.client("police-officer-zhang").get(url).status_code == 403
