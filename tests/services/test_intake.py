"""Intake on SQLite and PostgreSQL: leads, dedupe, flags, ledger links, redaction, atomicity."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, text, update

from qinglang.detect.patterns.checksums import gb11643_check_char
from qinglang.govern.tickets import is_canonical
from qinglang.services import intake
from qinglang.services.errors import ServiceError
from qinglang.settings import Settings
from qinglang.store.blobs import BlobStore
from qinglang.store.db import Database
from qinglang.store.models import (
    AuditRow,
    Base,
    Blob,
    Case,
    IntakeAttachment,
    IntakeItem,
    IntakeUrl,
    Subject,
    SubjectDomain,
)

T0 = datetime(2020, 11, 2, 2, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(40))
LONG_TEXT = "某学习平台在课程页面向小学生推送网络游戏广告并诱导充值，已截图保存。"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        blob_dir=tmp_path / "blobs",
        flood_threshold=6,
        flood_window_minutes=60,
        self_report_hours=24,
        max_attachment_bytes=4096,
    )


@pytest.fixture
def blobs(settings: Settings) -> BlobStore:
    return BlobStore(settings.blob_dir)


class Filer:
    """Files arrivals into `database` the way the API does (prepare, then commit)."""

    def __init__(self, database: Database, blobs: BlobStore, detector, settings: Settings):
        self.db, self.blobs, self.detector, self.settings = database, blobs, detector, settings

    def __call__(self, source: str = "public_tip", principal=None, at=T0, **fields):
        # The public channel's names for two of prepare's fields.
        if "platform" in fields:
            fields["subject_name"] = fields.pop("platform")
        if "region" in fields:
            fields["jurisdiction"] = fields.pop("region")
        prepared = intake.prepare(
            self.detector, self.settings, source=source, principal=principal, at=at, **fields
        )
        return intake.commit(self.db, self.blobs, prepared)


@pytest.fixture
def file(database: Database, blobs: BlobStore, detector, settings: Settings) -> Filer:
    return Filer(database, blobs, detector, settings)


def audit_kinds(db: Database) -> list[str]:
    with db.read() as s:
        return list(s.execute(select(AuditRow.kind).order_by(AuditRow.seq)).scalars())


def count(db: Database, model) -> int:
    with db.read() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


# ---------------------------------------------------------------- leads


def test_a_public_tip_becomes_a_lead_routed_by_triage(file: Filer, database: Database) -> None:
    r = file(text="举报：澳门新葡京线上娱乐，首充送100%，加微信abc123下注", urls=["site.cn/a"])
    assert is_canonical(r.ticket)
    assert (r.status, r.case_state, r.merged_by, r.flags) == ("lead", "lead", None, ())
    assert r.public_status.name_zh == "已受理"
    with database.read() as s:
        item = s.get(IntakeItem, r.item_id)
        case = s.get(Case, r.case_id)
        assert item.case_id == case.id and item.source == "public_tip"
        assert item.categories[0]["code"] == "gambling" and item.categories[0]["by"] == "triage"
        assert item.verdict in ("review", "block")
        assert item.urls == ["http://site.cn/a"]
        assert item.target_key == "domain:site.cn"
        assert item.jurisdiction == "100000"
        assert item.created_by == f"public:{r.ticket}"
        assert case.grounds[0] == "gambling" and case.lead_department == "police"
        assert case.source == "public_tip" and case.title == "公众举报：site.cn"
    assert audit_kinds(database) == ["case.created", "report.received"]


def test_without_triage_or_category_the_default_ground_applies(
    file: Filer, database: Database
) -> None:
    r = file(urls=["https://example.cn/page"])
    with database.read() as s:
        assert s.get(Case, r.case_id).grounds == ["moderation_failure"]


def test_a_declared_category_leads_and_triage_follows(file: Filer, database: Database) -> None:
    r = file(text="这个App里有人骂人：你就是个傻逼", category="game_ad")
    with database.read() as s:
        item = s.get(IntakeItem, r.item_id)
        assert [c["code"] for c in item.categories][:2] == ["game_ad", "abuse"]
        assert item.categories[0] == {"code": "game_ad", "score": None, "by": "filer"}
        assert s.get(Case, r.case_id).lead_department == "market"


def test_unknown_category_is_refused(file: Filer) -> None:
    with pytest.raises(ServiceError) as err:
        file(text="举报", category="no_such_thing")
    assert err.value.code == "unknown_category" and err.value.status == 422


# ---------------------------------------------------------------- dedupe


def test_dedupe_by_url_merges_into_one_lead(file: Filer, database: Database) -> None:
    first = file(text="这个网站有赌博广告", urls=["https://bet.example.cn/a/b?id=3"])
    again = file(
        text="同一个页面，另一个人举报",
        urls=["other.cn", "HTTP://Bet.Example.CN:80/a/./b/?utm_source=wx&id=3#comments"],
    )
    assert (again.status, again.merged_by, again.case_id) == ("merged", "url", first.case_id)
    assert again.flags == ("duplicate",)
    assert again.ticket != first.ticket
    with database.read() as s:
        merged = s.execute(select(AuditRow).where(AuditRow.kind == "lead.merged")).scalar_one()
        assert merged.subject == f"intake:{again.item_id}"
        assert merged.payload == {"into": f"case:{first.case_id}", "by": "url"}
        assert s.execute(select(func.count()).select_from(Case)).scalar_one() == 1
        assert s.get(IntakeItem, again.item_id).status == "merged"
    other = file(text="另一个页面", urls=["https://bet.example.cn/a/c"])
    assert other.status == "lead" and other.case_id != first.case_id


def test_dedupe_by_content_hash(file: Filer) -> None:
    first = file(text=LONG_TEXT)
    again = file(text=LONG_TEXT.replace("，", " ").replace("。", "!"), urls=["https://x.cn/1"])
    assert (again.merged_by, again.case_id) == ("content_hash", first.case_id)


def test_short_texts_do_not_merge_different_pages(file: Filer) -> None:
    a = file(text="举报这个网站", urls=["https://a.cn/"])
    b = file(text="举报这个网站", urls=["https://b.cn/"])
    assert b.status == "lead" and b.case_id != a.case_id


def test_the_same_evidence_file_merges(file: Filer) -> None:
    a = file(text="见截图", urls=["https://a.cn/"], attachments=[intake.AttachmentIn(b64(PNG))])
    b = file(text="见截图", attachments=[intake.AttachmentIn(b64(PNG), "截图.png")])
    assert (b.merged_by, b.case_id) == ("content_hash", a.case_id)


@pytest.mark.parametrize("ended", ["closed", "dismissed", "transferred"])
def test_no_merge_into_a_case_that_has_ended(file: Filer, database: Database, ended: str) -> None:
    first = file(text=LONG_TEXT, urls=["https://a.cn/x"])
    with database.write() as s:
        s.execute(update(Case).where(Case.id == first.case_id).values(state=ended))
    again = file(text=LONG_TEXT, urls=["https://a.cn/x"])
    assert again.status == "lead" and again.case_id != first.case_id


def test_merging_into_an_opened_case_reports_its_progress(file: Filer, database: Database) -> None:
    first = file(text=LONG_TEXT)
    with database.write() as s:
        s.execute(update(Case).where(Case.id == first.case_id).values(state="assessing"))
    again = file(text=LONG_TEXT)
    assert again.case_state == "assessing" and again.public_status.name_zh == "处理中"


# ---------------------------------------------------------------- flags


def flagged_payloads(db: Database) -> list[dict]:
    with db.read() as s:
        return [
            r.payload
            for r in s.execute(
                select(AuditRow).where(AuditRow.kind == "lead.flagged").order_by(AuditRow.seq)
            ).scalars()
        ]


def test_one_client_flooding_a_target_is_coordinated(file: Filer, database: Database) -> None:
    receipts = [
        file(
            text=f"第{i}次举报",
            urls=[f"https://m.target.cn/p/{i}"],
            client_hash="c" * 64,
            at=T0 + timedelta(minutes=i),
        )
        for i in range(7)
    ]
    assert [r.flags for r in receipts[:6]] == [()] * 6
    assert receipts[6].flags == ("flood", "coordinated")
    assert flagged_payloads(database) == [
        {"flags": ["flood", "coordinated"], "target": "domain:target.cn", "count": 7, "clients": 1}
    ]
    with database.read() as s:
        assert s.get(IntakeItem, receipts[6].item_id).flags == ["flood", "coordinated"]


def test_many_clients_flooding_a_target_is_a_flood_only(file: Filer) -> None:
    receipts = [
        file(text=f"第{i}次举报", urls=[f"https://www.target.cn/p/{i}"], client_hash=f"{i:064x}")
        for i in range(7)
    ]
    assert receipts[6].flags == ("flood",)


def test_one_template_from_many_clients_is_coordinated(file: Filer) -> None:
    receipts = [
        file(text=LONG_TEXT, urls=[f"https://t.cn/p/{i}"], client_hash=f"{i:064x}")
        for i in range(7)
    ]
    assert receipts[6].flags == ("duplicate", "flood", "coordinated")


def test_flood_counting_reads_a_bounded_sample(file: Filer, database: Database) -> None:
    sample = file.settings.flood_threshold * 5
    with database.write() as s:
        for i in range(sample + 10):
            s.add(
                IntakeItem(
                    ticket=f"T{i}",
                    source="public_tip",
                    status="lead",
                    urls=[],
                    target_key="domain:busy.cn",
                    jurisdiction="100000",
                    categories=[],
                    flags=[],
                    client_hash=f"{i:064x}",
                    created_by="test",
                    received_at=T0,
                    updated_at=T0,
                )
            )
    file(text="又一条", urls=["https://busy.cn/x"], client_hash="f" * 64)
    assert flagged_payloads(database)[-1]["count"] == sample


def test_tips_outside_the_window_do_not_count(file: Filer) -> None:
    for i in range(6):
        file(text=f"旧举报{i}", urls=[f"https://t.cn/{i}"], client_hash="c" * 64)
    late = file(
        text="新举报", urls=["https://t.cn/9"], client_hash="c" * 64, at=T0 + timedelta(hours=2)
    )
    assert late.flags == ()


def test_self_reports_are_flagged_late_after_the_deadline(
    file: Filer, people, database: Database
) -> None:
    org = people.organisation()
    op = people.make("operator", organisation_id=org, jurisdiction="310000").principal
    on_time = file(
        "self_report",
        op,
        title="发现违规直播",
        text="已封禁账号并留存日志",
        discovered_at=T0 - timedelta(hours=23),
    )
    late = file(
        "self_report",
        op,
        title="发现涉未成年人色情信息",
        text="已删除",
        discovered_at=T0 - timedelta(hours=30),
    )
    assert on_time.flags == () and late.flags == ("late",)
    with database.read() as s:
        item = s.get(IntakeItem, late.item_id)
        assert item.deadline_at == T0 - timedelta(hours=6)
        assert item.organisation_id == org and item.jurisdiction == "310000"
        assert item.created_by == f"user:{op.user_id}"
    assert flagged_payloads(database) == [{"flags": ["late"], "target": None}]


def test_self_report_needs_a_discovery_time_with_a_zone_not_in_the_future(
    file: Filer, people
) -> None:
    op = people.make("operator", organisation_id=people.organisation()).principal
    base = {"title": "自查", "text": "情况"}
    for when, code in (
        (None, "missing_discovered_at"),
        (datetime(2020, 11, 1, 10), "naive_time"),
        (T0 + timedelta(hours=1), "time_in_future"),
    ):
        with pytest.raises(ServiceError) as err:
            file("self_report", op, discovered_at=when, **base)
        assert err.value.code == code


# ---------------------------------------------------------------- who files what


def test_sources_are_filed_by_their_roles_only(file: Filer, people) -> None:
    officer = people.make("officer", department="cyberspace", jurisdiction="310000").principal
    op = people.make("operator", organisation_id=people.organisation()).principal
    admin = people.make("admin").principal
    ok = file("patrol", officer, urls=["https://a.cn/"])
    assert ok.source == "patrol"
    for principal, source, fields in (
        (op, "patrol", {"urls": ["https://a.cn/"]}),
        (officer, "self_report", {"title": "t", "text": "t", "discovered_at": T0}),
        (admin, "patrol", {"urls": ["https://a.cn/"]}),
        (None, "handoff", {"title": "t", "text": "t", "category": "gambling"}),
    ):
        with pytest.raises(ServiceError) as err:
            file(source, principal, **fields)
        assert (err.value.status, err.value.code) == (403, "source_not_allowed")


def test_the_largest_filing_fits_the_audit_log(file: Filer, people, database: Database) -> None:
    officer = people.make("officer", department="police", jurisdiction="310000").principal
    urls = [f"https://a{i}.example.cn/" + "p" * 2000 for i in range(20)]
    r = file("patrol", officer, text="长" * 20_000, urls=urls)
    with database.read() as s:
        assert len(s.get(IntakeItem, r.item_id).urls) == 20
    with pytest.raises(ServiceError) as err:
        file("patrol", officer, urls=[*urls, "https://one-more.cn/"])
    assert err.value.code == "too_many_urls"


def test_regulators_file_only_inside_their_jurisdiction(file: Filer, people) -> None:
    officer = people.make("officer", department="police", jurisdiction="310000").principal
    assert file("patrol", officer, urls=["https://a.cn/"], jurisdiction="310104").case_id
    with pytest.raises(ServiceError) as err:
        file("patrol", officer, urls=["https://a.cn/"], jurisdiction="110000")
    assert err.value.status == 403
    with pytest.raises(ServiceError) as err:
        file("patrol", officer, urls=["https://a.cn/"], jurisdiction="99")
    assert err.value.code == "bad_jurisdiction"


def test_a_handoff_is_routed_by_its_declared_category(
    file: Filer, people, database: Database
) -> None:
    leader = people.make("leader", department="police", jurisdiction="310000").principal
    r = file("handoff", leader, title="公安移交：网络赌博引流", text="见材料", category="gambling")
    with database.read() as s:
        case = s.get(Case, r.case_id)
        assert case.grounds[0] == "gambling" and case.jurisdiction == "310000"


# ---------------------------------------------------------------- ledger links


def add_subject(db: Database, name: str, region: str, *, domains=(), icp=None, org=None) -> int:
    with db.write() as s:
        subject = Subject(
            kind="website",
            name=name,
            region=region,
            icp_filing=icp,
            organisation_id=org,
            created_at=T0,
            updated_at=T0,
        )
        s.add(subject)
        s.flush()
        for d in domains:
            s.add(SubjectDomain(domain=d, subject_id=subject.id))
        return subject.id


def test_subjects_are_linked_by_domain_icp_and_name(file: Filer, database: Database) -> None:
    by_domain = add_subject(database, "某视频", "440300", domains=["video.example.cn"])
    by_icp = add_subject(database, "某论坛", "110000", icp="京ICP备12345678号-1")
    by_name = add_subject(database, "某某学习", "330100")
    r1 = file(text="有低俗内容", urls=["https://m.video.example.cn/v/1"])
    r2 = file(text="论坛里有赌博广告", icp="京ICP备 12345678号-1")
    r3 = file(text="推送游戏广告", platform="  某某学习 ")
    r4 = file(text="不在台账里", urls=["https://unknown.cn/"], platform="没有这个")
    assert (r1.subject_id, r2.subject_id, r3.subject_id, r4.subject_id) == (
        by_domain,
        by_icp,
        by_name,
        None,
    )
    with database.read() as s:
        item = s.get(IntakeItem, r1.item_id)
        assert item.target_key == f"subject:{by_domain}"
        assert item.jurisdiction == "440300"  # a public tip goes to the subject's region
        assert s.get(Case, r1.case_id).subject_id == by_domain


def test_a_given_region_wins_over_the_subject(file: Filer, database: Database) -> None:
    add_subject(database, "某视频", "440300", domains=["video.cn"])
    r = file(text="有低俗内容", urls=["https://video.cn/1"], region="310000")
    with database.read() as s:
        assert s.get(IntakeItem, r.item_id).jurisdiction == "310000"


def test_operators_self_report_only_on_their_own_subjects(
    file: Filer, people, database: Database
) -> None:
    mine, theirs = people.organisation("甲公司"), people.organisation("乙公司")
    op = people.make("operator", organisation_id=mine).principal
    own = add_subject(database, "甲App", "310000", domains=["jia.cn"], org=mine)
    other = add_subject(database, "乙App", "310000", domains=["yi.cn"], org=theirs)
    base = {"title": "自查", "text": "情况说明", "discovered_at": T0}
    assert file("self_report", op, subject_id=own, **base).subject_id == own
    with pytest.raises(ServiceError) as err:
        file("self_report", op, subject_id=other, **base)
    assert err.value.code == "not_own_subject"
    # Linking by domain never lands on another organisation's subject.
    assert file("self_report", op, urls=["https://yi.cn/"], **base).subject_id is None
    with pytest.raises(ServiceError) as err:
        file("self_report", op, subject_id=99999, **base)
    assert err.value.code == "unknown_subject"


# ---------------------------------------------------------------- attachments and evidence


def test_attachments_are_stored_content_addressed(
    file: Filer, database: Database, blobs: BlobStore
) -> None:
    r = file(
        text="见截图",
        attachments=[
            intake.AttachmentIn(b64(PNG), "../../etc/passwd", "image/png"),
            intake.AttachmentIn(b64("聊天记录".encode()), None),
        ],
    )
    with database.read() as s:
        rows = list(
            s.execute(
                select(IntakeAttachment)
                .where(IntakeAttachment.intake_id == r.item_id)
                .order_by(IntakeAttachment.id)
            ).scalars()
        )
        assert [(a.name, a.media_type) for a in rows] == [
            ("passwd", "image/png"),
            ("附件2.txt", "text/plain"),
        ]
        assert blobs.get(rows[0].digest) == PNG
        assert s.get(Blob, rows[0].digest).size == len(PNG)
        events = list(
            s.execute(select(AuditRow).where(AuditRow.kind == "evidence.added")).scalars()
        )
        assert [e.payload["digest"] for e in events] == [a.digest for a in rows]
    assert not (Path(blobs.root).parent / "etc").exists()
    # The same file again: one blob row, two attachment rows.
    file(text="再次举报", urls=["https://z.cn/"], attachments=[intake.AttachmentIn(b64(PNG))])
    assert count(database, Blob) == 2 and count(database, IntakeAttachment) == 3


def test_nothing_is_written_when_an_attachment_is_refused(
    file: Filer, database: Database, blobs: BlobStore
) -> None:
    before = count(database, AuditRow)
    with pytest.raises(ServiceError) as err:
        file(
            text=LONG_TEXT,
            urls=["https://a.cn/"],
            attachments=[
                intake.AttachmentIn(b64(PNG)),
                intake.AttachmentIn(b64(b"x" * 5000)),
            ],
        )
    assert (err.value.status, err.value.code) == (413, "attachment_too_large")
    assert count(database, IntakeItem) == 0 and count(database, Case) == 0
    assert count(database, AuditRow) == before
    assert not Path(blobs.root).exists() or not any(Path(blobs.root).rglob("*"))


def test_a_failure_inside_the_transaction_rolls_everything_back(
    file: Filer, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(intake.case_store, "create_case", broken)
    with pytest.raises(RuntimeError):
        file(text=LONG_TEXT, urls=["https://a.cn/"], attachments=[intake.AttachmentIn(b64(PNG))])
    for model in (IntakeItem, IntakeUrl, IntakeAttachment, Blob, AuditRow, Case):
        assert count(database, model) == 0, model


def test_a_receipt_means_committed(file: Filer, database: Database) -> None:
    r = file(text=LONG_TEXT)
    fresh = Database(database.url)
    try:
        with fresh.read() as s:
            assert s.get(IntakeItem, r.item_id).ticket == r.ticket
    finally:
        fresh.dispose()


def test_receive_runs_in_the_callers_transaction(
    database: Database, blobs: BlobStore, detector, settings: Settings
) -> None:
    with database.write() as s:
        r = intake.receive(
            s,
            blobs,
            detector,
            settings,
            source="public_tip",
            principal_or_none=None,
            at=T0,
            text=LONG_TEXT,
        )
    assert count(database, IntakeItem) == 1 and r.status == "lead"


# ---------------------------------------------------------------- personal data


def valid_id(region: str = "110101", born: date = date(2008, 8, 15), seq: str = "123") -> str:
    body = f"{region}{born:%Y%m%d}{seq}"
    return body + gb11643_check_char(body)


ID = valid_id()
FULL_WIDTH_ID = "".join(chr(ord(c) + 0xFEE0) for c in valid_id(seq="456"))
SPACED_ID = valid_id(seq="789")
PHONE = "13912345678"


def test_no_raw_id_or_mobile_number_is_stored_anywhere(
    file: Filer, people, database: Database
) -> None:
    officer = people.make("officer", department="police", jurisdiction="310000").principal
    spaced = f"{SPACED_ID[:6]} {SPACED_ID[6:14]} {SPACED_ID[14:]}"
    file(
        title=f"开盒 {ID}",
        text=f"有人在群里发了我同学的身份证号{ID}、{FULL_WIDTH_ID}、{spaced}和电话{PHONE}",
        urls=[f"https://leak.example.cn/u/{ID}?phone={PHONE}"],
        platform=f"群{ID}",
        attachments=[intake.AttachmentIn(b64(PNG), f"{ID}.png")],
        client_hash="c" * 64,
    )
    file(
        "patrol",
        officer,
        text=f"巡查发现：身份证 {ID} 手机 +86 139-1234-5678",
        urls=[f"https://leak.example.cn/u/{ID}"],
    )
    with database.read() as s:
        dump = []
        for table in Base.metadata.sorted_tables:
            for row in s.execute(select(table)):
                dump.append(repr(tuple(row)))
        dump.append(repr(s.execute(text("SELECT payload FROM audit_log")).all()))
    everything = "\n".join(dump)
    assert "[REDACTED-ID]" in everything and "REDACTED-ID" in everything
    for secret in (ID, SPACED_ID, valid_id(seq="456"), FULL_WIDTH_ID, PHONE, ID[:17]):
        assert secret not in everything
    # The evidence file is kept as it was: blobs are evidence, only its name is redacted.
    assert ".png" in everything


ids = st.builds(
    valid_id,
    st.sampled_from(["110101", "310104", "440305", "330106", "510107"]),
    st.dates(date(1950, 1, 1), date(2019, 12, 31)),
    st.integers(0, 999).map(lambda n: f"{n:03d}"),
)
fillers = st.text(alphabet=st.sampled_from(list("的了是他她身份证号码，。 abc")), max_size=12)


@given(ids, fillers, fillers, st.sampled_from(["plain", "spaced", "hyphen", "wide", "lower"]))
def test_redaction_removes_every_valid_id(number: str, before: str, after: str, form: str) -> None:
    shown = {
        "plain": number,
        "spaced": f"{number[:6]} {number[6:14]} {number[14:]}",
        "hyphen": f"{number[:6]}-{number[6:14]}-{number[14:]}",
        "wide": "".join(chr(ord(c) + 0xFEE0) for c in number),
        "lower": number.lower(),
    }[form]
    out = intake.redact_personal(before + shown + after)
    assert number[:14] not in out.replace(" ", "").replace("-", "")
    assert shown not in out


@given(st.text(max_size=40))
def test_redaction_leaves_ordinary_text_alone(text_: str) -> None:
    if not any(ch.isdigit() for ch in text_):
        assert intake.redact_personal(text_) == text_


def test_clean_text_makes_text_storable() -> None:
    assert intake.clean_text("a\x00b\ud800c\r\nd\x07") == "ab\ufffdc\nd"
    assert intake.clean_text("  \n ") is None
    assert intake.clean_text(" a \n b ", single_line=True) == "a b"


def test_control_characters_and_surrogates_never_reach_the_database(
    file: Filer, database: Database
) -> None:
    r = file(text="举报\x00内容\ud800", title="标题\x00", platform="平台\udfff")
    with database.read() as s:
        item = s.get(IntakeItem, r.item_id)
        assert item.text == "举报内容\ufffd" and item.title == "标题"
