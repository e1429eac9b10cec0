"""Rectification notices through the services: what operators and regulators see, reports
back with evidence, and their limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from qinglang.govern.actors import Role
from qinglang.services import cases, notices
from qinglang.services.errors import ServiceError
from qinglang.services.principal import Principal
from qinglang.services.users import create_organisation
from qinglang.store.audit_log import verify_log
from qinglang.store.blobs import BlobStore
from qinglang.store.models import Notice, Subject

T0 = datetime(2020, 9, 1, 2, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def P(uid: int, *roles: str, department: str | None = None, jurisdiction: str = "410000",
      org: int | None = None) -> Principal:  # fmt: skip
    return Principal(
        uid, f"u{uid}", frozenset(Role(r) for r in roles), department, jurisdiction, org
    )


OFFICER = P(1, "officer", department="police")
ANALYST = P(2, "analyst", department="police")
LEADER = P(3, "leader", department="police")
CO_OFFICER = P(5, "officer", department="cyberspace")
OTHER_DEPT = P(6, "officer", department="education")


def t(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def code_of(exc: pytest.ExceptionInfo[ServiceError]) -> tuple[int, str]:
    return exc.value.status, exc.value.code


@pytest.fixture
def org(database) -> int:
    with database.write() as s:
        return create_organisation(
            s, name="某游戏公司", uscc=None, region="410100", by="system:test", at=T0
        ).id


@pytest.fixture
def subject(database, org) -> int:
    with database.write() as s:
        row = Subject(
            kind="game", name="某某传奇", organisation_id=org, region="410100",
            created_at=T0, updated_at=T0,
        )  # fmt: skip
        s.add(row)
        s.flush()
        return row.id


def new_case(database, *, subject_id: int, at: datetime = T0) -> int:
    with database.write() as s:
        return cases.create_case(
            s, OFFICER, grounds=["gambling"], jurisdiction="410100", subject_id=subject_id, at=at
        ).case.id


def to_rectifying(database, case_id: int, start: float = 1) -> None:
    """open → assess → propose rectify → dispose → approve → notify."""
    steps = [
        lambda s, at: cases.act(s, OFFICER, case_id, "open", at=at),
        lambda s, at: cases.act(s, ANALYST, case_id, "assess", at=at),
        lambda s, at: cases.propose(
            s, ANALYST, case_id, "rectify", {"deadline": "2020-09-30"}, at=at
        ),
        lambda s, at: cases.act(s, ANALYST, case_id, "dispose", at=at, reason="属实"),
        lambda s, at: cases.decide(s, LEADER, case_id, 1, "approve", at=at),
        lambda s, at: cases.act(s, OFFICER, case_id, "notify", at=at),
    ]
    for i, step in enumerate(steps):
        with database.write() as s:
            step(s, t(start + i))


def test_rectification_rules(database, subject, org, tmp_path) -> None:
    operator = P(20, "operator", org=org)
    case_id = new_case(database, subject_id=subject)
    to_rectifying(database, case_id)
    with database.read() as s:
        notice_id = cases.get_case(s, OFFICER, case_id).notices[0].id
    blobs = BlobStore(tmp_path)

    def report(who=operator, summary="已整改", attachments=(), **kw):
        with database.write() as s:
            return notices.report_rectification(
                s, blobs, who, notice_id, summary, list(attachments), at=t(100), **kw
            )

    png = notices.Attachment("a.png", "image/png", PNG)
    for kw, expected in (
        ({"who": OFFICER}, (403, "forbidden_role")),
        ({"who": P(21, "operator", org=org + 7)}, (404, "notice_not_found")),
        ({"summary": "  "}, (422, "summary_required")),
        ({"attachments": [png] * 11}, (422, "too_many_attachments")),
        (
            {"attachments": [notices.Attachment("a.pdf", "application/pdf", PNG)]},
            (422, "media_type_mismatch"),
        ),
        (
            {"attachments": [notices.Attachment("a.exe", "application/x-msdownload", b"MZ")]},
            (422, "unsupported_media_type"),
        ),
        (
            {"attachments": [notices.Attachment("a.txt", "text/plain", b"\xff\xfe")]},
            (422, "media_type_mismatch"),
        ),
        ({"attachments": [notices.Attachment("e", "text/plain", b"")]}, (422, "empty_attachment")),
        ({"attachments": [png], "max_attachment_bytes": 10}, (413, "attachment_too_large")),
    ):
        with pytest.raises(ServiceError) as err:
            report(**kw)
        assert code_of(err) == expected, kw
    with database.read() as s:
        assert s.get(Notice, notice_id).status == "sent"  # nothing half-written
    first = report(
        attachments=[png, notices.Attachment(None, "text/plain; charset=utf-8", "说明".encode())]
    )
    second = report(summary="补充材料", attachments=[png])
    assert first.status == second.status == "answered"
    assert first.answered_at == second.answered_at
    assert [len(r.attachments) for r in second.rectifications] == [2, 1]
    assert second.rectifications[0].attachments[1].name == "attachment"
    with database.read() as s:
        content, media, name = notices.evidence(
            s, blobs, LEADER, notice_id, first.rectifications[0].attachments[0].digest
        )
        assert (content, media, name) == (PNG, "image/png", "a.png")
        for who, digest in (
            (P(21, "operator", org=org + 7), first.rectifications[0].attachments[0].digest),
            (operator, "0" * 64),
            (operator, "../../etc/passwd"),
        ):
            with pytest.raises(ServiceError) as err:
                notices.evidence(s, blobs, who, notice_id, digest)
            assert err.value.status == 404
        # The case's regulators see the reports; an unrelated department does not.
        assert len(notices.get_notice(s, CO_OFFICER, notice_id).rectifications) == 2
        with pytest.raises(ServiceError) as err:
            notices.get_notice(s, OTHER_DEPT, notice_id)
        assert code_of(err) == (404, "notice_not_found")
        assert [n.id for n in notices.list_notices(s, LEADER, at=t(101)).items] == [notice_id]
        assert notices.list_notices(s, OTHER_DEPT, at=t(101)).items == []
        assert notices.list_notices(s, operator, at=t(101), status="sent").items == []
        with pytest.raises(ServiceError) as err:
            notices.list_notices(s, operator, at=t(101), status="read")
        assert code_of(err) == (422, "unknown_status")
        assert verify_log(s).ok


def test_too_many_reports(database, subject, org, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(notices, "MAX_REPORTS", 2)
    operator = P(20, "operator", org=org)
    case_id = new_case(database, subject_id=subject)
    to_rectifying(database, case_id)
    with database.read() as s:
        notice_id = cases.get_case(s, OFFICER, case_id).notices[0].id
    for i in range(3):
        with database.write() as s:
            if i < 2:
                notices.report_rectification(
                    s, BlobStore(tmp_path), operator, notice_id, "x", at=t(99)
                )
            else:
                with pytest.raises(ServiceError) as err:
                    notices.report_rectification(
                        s, BlobStore(tmp_path), operator, notice_id, "x", at=t(99)
                    )
                assert code_of(err) == (409, "too_many_reports")


def test_notice_pages(database, subject, org) -> None:
    operator = P(20, "operator", org=org)
    made = []
    for i in range(3):
        case_id = new_case(database, subject_id=subject, at=t(i * 10))
        to_rectifying(database, case_id, start=i * 10 + 1)
        made.append(case_id)
    seen, cursor = [], None
    with database.read() as s:
        while True:
            page = notices.list_notices(s, operator, at=t(100), limit=2, cursor=cursor)
            seen += [n.case_id for n in page.items]
            if not page.has_more:
                break
            cursor = page.next_cursor
        with pytest.raises(ServiceError) as err:
            notices.list_notices(s, operator, at=t(100), cursor="xx")
        assert code_of(err) == (422, "bad_cursor")
    assert seen == made[::-1]


def test_media_types_are_checked_against_the_bytes() -> None:
    assert notices.media_type_of("IMAGE/PNG; q=1", PNG) == "image/png"
    assert notices.media_type_of("image/webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert notices.media_type_of("video/mp4", b"\x00\x00\x00\x18ftypmp42") == "video/mp4"
    assert notices.media_type_of("application/pdf", b"%PDF-1.7\n") == "application/pdf"
    for declared, content, code in (
        ("image/jpeg", PNG, "media_type_mismatch"),
        ("text/plain", b"a\x00b", "media_type_mismatch"),
        ("text/html", b"<p>", "unsupported_media_type"),
        ("", b"x", "unsupported_media_type"),
    ):
        with pytest.raises(ServiceError) as err:
            notices.media_type_of(declared, content)
        assert code_of(err) == (422, code)
    assert notices.decode_attachment("a", "text/plain", "YQ==").content == b"a"
    for bad in ("YQ", "Y Q==", "not base64!", "YQ==\n"):
        with pytest.raises(ServiceError) as err:
            notices.decode_attachment("a", "text/plain", bad)
        assert code_of(err) == (422, "bad_base64")
