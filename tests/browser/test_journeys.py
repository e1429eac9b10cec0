"""The main journeys in a real browser, on the demo campaign.

A citizen files a tip and follows it by ticket; an officer triages it into a case; a leader
approves the disposition; the operator answers the notice; the officer re-checks and closes;
the leader publishes it; the case appears on the disclosure page and in the dashboard counts;
the summary .docx opens and holds the same figures. Each page is screenshotted
(`test-artifacts/screenshots/`), checked for labelled fields and text contrast, and the public
pages are also checked on a phone-sized screen. Role checks show that each role sees only what
it may.
"""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from browserfixtures import LiveServer, check_accessible, shot, start_server

pytestmark = pytest.mark.slow

PASSWORD = "Browser-Test-Pass-1"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> LiveServer:
    from qinglang.services import demo as demo_service
    from qinglang.store.blobs import BlobStore

    facts: dict = {}

    def prepare(db, settings) -> None:
        result = demo_service.load(
            db, BlobStore(settings.blob_dir), settings, at=datetime.now(UTC), password=PASSWORD
        )
        facts["campaign_id"] = result.campaign_id

    server = start_server(tmp_path_factory.mktemp("browser"), prepare)
    server.facts = facts  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN", accept_downloads=True)
    yield ctx
    ctx.close()


def login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert "/login" not in page.url, page.content()[:2000]


def logout(page) -> None:
    with page.expect_navigation():
        page.click("form[action='/logout'] button")


def operator_domain(server: LiveServer) -> str:
    """A domain of a ledger subject run by operator_game's organisation."""
    from qinglang.store.models import Subject, SubjectDomain, User

    with server.database.read() as s:
        org = s.scalar(select(User.organisation_id).where(User.username == "operator_game"))
        return s.scalars(
            select(SubjectDomain.domain)
            .join(Subject, Subject.id == SubjectDomain.subject_id)
            .where(Subject.organisation_id == org)
        ).first()


def dashboard_total(page, base: str, campaign_id: int) -> int:
    page.goto(f"{base}/campaigns/{campaign_id}/dashboard")
    text = page.locator("[data-figure=total_cases]").first.inner_text()
    return int(re.sub(r"[^\d]", "", text))


def submit(page, form_id: str) -> None:
    with page.expect_navigation():
        page.locator(f"#{form_id} button[type=submit]").click()


def test_the_whole_journey(demo, context):
    base = demo.url
    cid = demo.facts["campaign_id"]
    page = context.new_page()
    marker = uuid.uuid4().hex[:8]

    # A leader reads the dashboard before.
    login(page, base, "ga_leader")
    before = dashboard_total(page, base, cid)
    logout(page)

    # 1. A citizen files a tip and keeps the ticket.
    domain = operator_domain(demo)
    page.goto(f"{base}/public/report")
    check_accessible(page)
    page.select_option("#f-category", "gambling")
    page.fill(
        "#f-text",
        f"某游戏社区帖子里反复出现赌博网站引流信息，诱导未成年人下载博彩App，编号{marker}。",
    )
    page.fill("#f-urls", f"https://{domain}/forum/thread-{marker}")
    page.select_option("#f-region", "310000")
    shot(page, "01-public-report")
    submit(page, "report-form")
    ticket = page.locator("#ticket").inner_text().strip()
    assert ticket.startswith("QL-")
    shot(page, "02-public-receipt")
    page.goto(f"{base}/public/track?ticket={ticket}")
    assert "已受理" in page.content()
    shot(page, "03-public-track")

    # 2. The police officer finds it in the intake queue and opens the case (立案).
    login(page, base, "ga_officer")
    page.goto(f"{base}/intake?ticket={ticket}")
    check_accessible(page)
    shot(page, "04-intake-queue")
    with page.expect_navigation():
        page.locator("a[href^='/cases/']").first.click()
    case_url = page.url.split("?")[0]
    case_id = int(case_url.rstrip("/").rsplit("/", 1)[1])
    check_accessible(page)
    shot(page, "05-case-lead")
    submit(page, "transition-open")
    submit(page, "transition-assess")
    page.select_option("#propose-code", "rectify")
    deadline = (datetime.now(UTC) + timedelta(days=15)).date().isoformat()
    page.fill("#propose-param-deadline", deadline)
    page.fill("#propose-reason", "赌博引流信息属实，责令平台限期清理。")
    submit(page, "propose")
    page.fill("#transition-dispose-reason", "经研判，平台未尽审核义务。")
    submit(page, "transition-dispose")
    assert "处置中" in page.content()
    logout(page)

    # 3. The leader approves the disposition.
    login(page, base, "ga_leader")
    page.goto(case_url)
    with page.expect_navigation():
        page.locator("form[id^='disposition-'][id$='-approve'] button[type=submit]").first.click()
    shot(page, "06-case-approved")
    logout(page)

    # 4. The officer sends the notice.
    login(page, base, "ga_officer")
    page.goto(case_url)
    submit(page, "transition-notify")
    assert "整改中" in page.content()
    logout(page)

    # 5. The operator reads the notice and reports the rectification.
    login(page, base, "operator_game")
    assert page.url.endswith("/portal")
    check_accessible(page)
    shot(page, "07-portal")
    with page.expect_navigation():
        page.locator("a[href^='/portal/notices/']").first.click()
    check_accessible(page)
    page.fill("#report-summary", "已删除全部引流帖子并封禁发帖账号，完善了关键词审核。")
    shot(page, "08-portal-notice")
    submit(page, "report")
    assert "已反馈" in page.content() or "已整改" in page.content() or "整改情况" in page.content()
    # An operator never reaches the case pages.
    assert page.goto(f"{base}/cases/{case_id}").status == 403
    logout(page)

    # 6. The officer re-checks and closes with a public result.
    login(page, base, "ga_officer")
    page.goto(case_url)
    submit(page, "transition-recheck")
    page.fill("#transition-close-public_result", "经查证属实，已责令平台整改，整改已通过复查。")
    submit(page, "transition-close")
    assert "已办结" in page.content()
    check_accessible(page)
    shot(page, "09-case-closed")
    logout(page)

    # 7. The leader publishes it as a typical case.
    login(page, base, "ga_leader")
    page.goto(case_url)
    title = f"某游戏社区为赌博网站引流被责令整改（{marker}）"
    page.fill("#publish-title", title)
    page.fill("#publish-body", "属地公安、网信部门依法责令平台限期整改，平台已完成整改。")
    submit(page, "publish")
    after = dashboard_total(page, base, cid)
    assert after == before + 1
    check_accessible(page)
    shot(page, "10-dashboard")

    # 8. The summary document holds the dashboard's figures.
    page.goto(f"{base}/campaigns/{cid}")
    check_accessible(page)
    shot(page, "11-campaign")
    with page.expect_download() as info:
        page.locator("a[href$='/summary.docx']").first.click()
    data = info.value.path().read_bytes()
    import docx

    text = "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)
    tables = "\n".join(
        c.text for t in docx.Document(io.BytesIO(data)).tables for r in t.rows for c in r.cells
    )
    assert f"{after:,}" in text + tables or str(after) in text + tables
    logout(page)

    # 9. The public sees the outcome and the typical case.
    page.goto(f"{base}/public/track?ticket={ticket}")
    assert "已办结" in page.content() and "整改已通过复查" in page.content()
    page.goto(f"{base}/public/disclosure")
    assert title in page.content()
    assert "赌博引流信息属实" not in page.content()  # the internal reason stays internal
    check_accessible(page)
    shot(page, "12-public-disclosure")


PUBLIC_PAGES = [
    "/public",
    "/public/report",
    "/public/track",
    "/public/disclosure",
    "/public/campaigns",
]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_fit_a_phone(demo, browser, path):
    ctx = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    page = ctx.new_page()
    response = page.goto(demo.url + path)
    assert response.status == 200
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{path} scrolls sideways on a phone ({width}px)"
    check_accessible(page)
    shot(page, "phone" + path.replace("/", "-"))
    ctx.close()


# Each role's pages: what it may open (200) and what it may not (403 page or login redirect).
ROLE_PAGES = {
    "wx_officer": (
        ["/workbench", "/campaigns", "/ledger", "/intake", "/cases"],
        ["/admin/users", "/portal"],
    ),
    "wx_leader": (["/campaigns/new", "/dashboard"], ["/admin/users"]),
    "admin": (["/admin/users", "/admin/organisations", "/ledger"], ["/portal"]),
    # Operators see their own self-reports in the intake queue, nothing else of it.
    "operator_game": (
        ["/portal", "/intake"],
        ["/cases", "/campaigns", "/dashboard", "/admin/users"],
    ),
}


@pytest.mark.parametrize("username", sorted(ROLE_PAGES))
def test_each_role_sees_only_its_pages(demo, context, username):
    page = context.new_page()
    login(page, demo.url, username)
    allowed, refused = ROLE_PAGES[username]
    for path in allowed:
        response = page.goto(demo.url + path)
        assert response.status == 200, f"{username} {path}: {response.status}"
        check_accessible(page)
        shot(page, f"role-{username}{path.replace('/', '-')}")
    for path in refused:
        response = page.goto(demo.url + path)
        assert response.status == 403, f"{username} {path}: {response.status}"
    logout(page)
    assert page.goto(demo.url + "/cases").url.startswith(demo.url + "/login")


def test_keyboard_alone_skips_to_content_and_logs_in(demo, context):
    page = context.new_page()
    page.goto(demo.url + "/public")
    page.bring_to_front()
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.goto(demo.url + "/login")  # the username field has the focus
    page.keyboard.type("ga_officer")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/workbench")


def _first_ids(server: LiveServer) -> dict[str, int]:
    from qinglang.store.models import Case, IntakeItem, Notice, Subject

    with server.database.read() as s:
        return {
            "subject": s.scalar(select(Subject.id).order_by(Subject.id)),
            "item": s.scalar(
                select(IntakeItem.id)
                .join(Case, Case.id == IntakeItem.case_id)
                .where(Case.lead_department == "cyberspace")
                .order_by(IntakeItem.id)
            ),
            "case": s.scalar(
                select(Case.id).where(Case.lead_department == "cyberspace").order_by(Case.id)
            ),
            "notice": s.scalar(select(Notice.id).order_by(Notice.id)),
        }


def test_every_work_page_renders_labelled_and_legible(demo, context):
    """Each page of the workbench, opened by a role that may, screenshotted at 1280×800."""
    ids = _first_ids(demo)
    cid = demo.facts["campaign_id"]
    pages = {
        "wx_leader": [
            "/workbench",
            f"/campaigns/{cid}",
            f"/campaigns/{cid}/dashboard",
            "/campaigns/new",
            "/ledger",
            f"/ledger/{ids['subject']}",
            "/intake",
            "/intake?group=1",
            f"/intake/{ids['item']}",
            "/intake/new",
            "/cases",
            "/cases/new",
            f"/cases/{ids['case']}",
            f"/cases/{ids['case']}/events",
        ],
        "wx_officer": [  # keeping the ledger is for officers, analysts and admins
            f"/ledger/{ids['subject']}/edit",
            "/ledger/new?kind=website",
            "/ledger/import",
        ],
        "admin": [
            "/admin/users",
            "/admin/users/new",
            "/admin/departments",
            "/admin/organisations",
        ],
    }
    page = context.new_page()
    for username, paths in pages.items():
        login(page, demo.url, username)
        for path in paths:
            response = page.goto(demo.url + path)
            assert response.status == 200, f"{username} {path}: {response.status}"
            assert page.locator("h1").count() == 1, path
            check_accessible(page)
            name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
            shot(page, f"page-{username}-{name}")
        logout(page)
