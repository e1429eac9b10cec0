"""Rectification notices (整改通知) as their recipients and the case's regulators see them,
and the platform operator's report back (整改情况反馈).

Notices are sent by case work (`cases.act`, action `notify`, and later re-notifications).
Here:

- a platform operator lists and reads the notices addressed to its own organisation; any
  other notice answers 404, exactly like one that does not exist;
- regulators who see the case (see `cases`) list and read its notices with every report;
- the operator reports rectification: a summary and up to MAX_ATTACHMENTS pieces of evidence,
  stored content-addressed in the blob store (`evidence.added` per piece, then
  `rectification.reported`); the notice becomes `answered`.

A second report on an answered notice is accepted and added (a platform often finishes in
steps or sends missing evidence later), up to MAX_REPORTS per notice; the notice keeps the time
of its first answer. Notices that no longer wait for an answer (superseded by a newer one, or
closed with their case) refuse reports with 409.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from qinglang.govern.clock import require_aware, shanghai_date, to_shanghai
from qinglang.services import cursors
from qinglang.services.cases import (
    NOTICE_ANSWERED,
    NOTICE_SENT,
    NOTICE_STATUSES,
    PAGE_DEFAULT,
    PAGE_MAX,
    NoticeView,
    can_see,
    check_text,
    notice_views,
    require_case_reader,
    scoped_notices,
)
from qinglang.services.errors import ServiceError, conflict, forbidden, invalid, not_found
from qinglang.services.principal import Principal
from qinglang.store import audit_log
from qinglang.store.blobs import BlobError, BlobStore, check_digest, safe_name
from qinglang.store.models import Blob, Case, Notice, Rectification

MAX_REPORTS = 20
MAX_ATTACHMENTS = 10
MAX_SUMMARY = 5000
DEFAULT_MAX_ATTACHMENT_BYTES = 2 * 1024 * 1024

# Evidence a platform sends back: screenshots, documents, screen recordings, plain text. The
# bytes must look like the declared type, so a renamed executable is not served as a PDF.
MEDIA_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "video/mp4",
    "text/plain",
)
_MAGIC: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
}
_CURSOR = re.compile(r"n:([0-9]{1,10})")


@dataclass(frozen=True, slots=True)
class Attachment:
    """One piece of evidence as received (already base64-decoded)."""

    name: str | None
    media_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class NoticePage:
    items: list[NoticeView]
    has_more: bool
    next_cursor: str | None


# ---------------------------------------------------------------- access


def _require_notice_reader(principal: Principal) -> None:
    if principal.is_operator:
        if principal.organisation_id is None:
            raise forbidden(
                "no_organisation",
                "operator account without an organisation",
                "您的账号未关联运营主体，不能查看整改通知。",
            )
        return
    require_case_reader(principal)


def _visible(session: Session, principal: Principal, notice: Notice | None) -> bool:
    if notice is None:
        return False
    if principal.is_operator:
        return notice.organisation_id is not None and (
            notice.organisation_id == principal.organisation_id
        )
    case = session.get(Case, notice.case_id)
    return case is not None and can_see(principal, case)


def _load(
    session: Session, principal: Principal, notice_id: int, *, for_update: bool = False
) -> Notice:
    _require_notice_reader(principal)
    query = select(Notice).where(Notice.id == notice_id)
    if for_update:
        query = query.with_for_update()
    notice = session.execute(query).scalar_one_or_none()
    if notice is None or not _visible(session, principal, notice):
        raise not_found("notice", "整改通知", notice_id)
    return notice


def _for(principal: Principal, view: NoticeView) -> NoticeView:
    """Operators do not see which official sent the notice, only the issuing department."""
    if principal.is_operator:
        return replace(view, sent_by=None)
    return view


# ---------------------------------------------------------------- reading


def _encode(notice_id: int) -> str:
    return cursors.encode(f"n:{notice_id}")


def _decode(cursor: str) -> int:
    bad = invalid(
        "bad_cursor", "cursor is not one this API gave out", "分页游标无效，请从第一页重新查询。"
    )
    return int(cursors.decode(cursor, _CURSOR, bad, 32)[1])


def list_notices(
    session: Session,
    principal: Principal,
    *,
    at: datetime,
    status: str | None = None,
    overdue: bool | None = None,
    case_id: int | None = None,
    limit: int = PAGE_DEFAULT,
    cursor: str | None = None,
) -> NoticePage:
    """Newest first: an operator's own notices, or those of the cases a regulator sees.

    `overdue`: sent, unanswered and past the deadline (China calendar day of `at`).
    """
    _require_notice_reader(principal)
    if status is not None and status not in NOTICE_STATUSES:
        raise invalid(
            "unknown_status",
            f"unknown notice status {status!r}",
            f"未知的通知状态：{status[:32]}。可选：{'、'.join(NOTICE_STATUSES)}",
            allowed=list(NOTICE_STATUSES),
        )
    if not 1 <= limit <= PAGE_MAX:
        raise invalid(
            "bad_limit", f"limit must be 1..{PAGE_MAX}", f"每页条数应在1至{PAGE_MAX}之间。"
        )
    if principal.is_operator:
        stmt = select(Notice).where(Notice.organisation_id == principal.organisation_id)
    else:
        stmt = scoped_notices(principal)
    if status is not None:
        stmt = stmt.where(Notice.status == status)
    if case_id is not None:
        stmt = stmt.where(Notice.case_id == case_id)
    if overdue is not None:
        today = shanghai_date(at)
        late = (Notice.status == NOTICE_SENT) & (Notice.deadline < today)
        stmt = stmt.where(late if overdue else or_(~late, Notice.deadline.is_(None)))
    if cursor:
        stmt = stmt.where(Notice.id < _decode(cursor))
    rows = list(session.execute(stmt.order_by(Notice.id.desc()).limit(limit + 1)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    views = [_for(principal, v) for v in notice_views(session, rows, at)]
    return NoticePage(views, more, _encode(rows[-1].id) if more and rows else None)


def get_notice(
    session: Session, principal: Principal, notice_id: int, *, at: datetime | None = None
) -> NoticeView:
    """One notice with its measures in Chinese, its deadline and every report back."""
    notice = _load(session, principal, notice_id)
    return _for(principal, notice_views(session, [notice], at)[0])


# ---------------------------------------------------------------- reporting back


def media_type_of(declared: str, content: bytes) -> str:
    """The normalised declared media type, if allowed and if the bytes look like it."""
    media = (declared or "").split(";", 1)[0].strip().lower()
    if media not in MEDIA_TYPES:
        raise invalid(
            "unsupported_media_type",
            f"media type {media[:64]!r} not accepted",
            f"不支持的证据文件类型：{media[:64]}。可选：{'、'.join(MEDIA_TYPES)}",
            allowed=list(MEDIA_TYPES),
        )
    ok = True
    if media in _MAGIC:
        ok = content.startswith(_MAGIC[media])
    elif media == "image/webp":
        ok = content[:4] == b"RIFF" and content[8:12] == b"WEBP"
    elif media == "video/mp4":
        ok = content[4:8] == b"ftyp"
    elif media == "text/plain":
        try:
            ok = "\x00" not in content.decode("utf-8")
        except UnicodeDecodeError:
            ok = False
    if not ok:
        raise invalid(
            "media_type_mismatch",
            f"content does not look like {media}",
            f"证据文件内容与声明的类型（{media}）不符。",
        )
    return media


def decode_attachment(name: str | None, media_type: str, content_base64: str) -> Attachment:
    """An attachment from its JSON form; 422 for anything that is not strict base64."""
    try:
        content = base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise invalid(
            "bad_base64", "attachment content is not base64", "证据文件内容须为 Base64 编码。"
        ) from None
    return Attachment(name, media_type, content)


def _store_blob(session: Session, digest: str, size: int, media: str, at: datetime) -> None:
    values = {"digest": digest, "size": size, "media_type": media, "created_at": at}
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(Blob).values(**values).on_conflict_do_nothing(index_elements=["digest"]))


def report_rectification(
    session: Session,
    blobs: BlobStore,
    principal: Principal,
    notice_id: int,
    summary: str,
    attachments: Sequence[Attachment] = (),
    *,
    at: datetime,
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
) -> NoticeView:
    """The operator reports what it did, with evidence; the notice becomes `answered`."""
    if not principal.is_operator:
        raise forbidden(
            "forbidden_role",
            "only platform operators report rectification",
            "只有平台运营者可以反馈整改情况。",
        )
    notice = _load(session, principal, notice_id, for_update=True)
    if notice.status not in (NOTICE_SENT, NOTICE_ANSWERED):
        raise conflict(
            "notice_closed",
            f"notice {notice_id} is {notice.status}",
            "该整改通知已被新通知替代或已终结，请按最新的整改通知反馈。",
        )
    reports = session.execute(
        select(func.count(Rectification.id)).where(Rectification.notice_id == notice.id)
    ).scalar_one()
    if reports >= MAX_REPORTS:
        raise conflict(
            "too_many_reports",
            f"notice {notice_id} already has {reports} reports",
            f"每份整改通知最多反馈{MAX_REPORTS}次。",
        )
    check_text(summary, "summary", "整改情况说明")
    text = (summary or "").strip()
    if not text:
        raise invalid("summary_required", "summary is required", "请填写整改情况说明。")
    if len(text) > MAX_SUMMARY:
        raise invalid(
            "summary_too_long", "summary too long", f"整改情况说明不能超过{MAX_SUMMARY}个字。"
        )
    if len(attachments) > MAX_ATTACHMENTS:
        raise invalid(
            "too_many_attachments",
            f"at most {MAX_ATTACHMENTS} attachments",
            f"证据文件最多{MAX_ATTACHMENTS}个。",
        )
    try:
        require_aware(at)
    except (TypeError, ValueError) as exc:
        raise invalid("bad_time", str(exc), "时间无效：必须带时区。") from None
    at = to_shanghai(at)
    checked = []
    for i, a in enumerate(attachments):
        if not a.content:
            raise invalid("empty_attachment", f"attachment {i} is empty", "证据文件不能为空。")
        if len(a.content) > max_attachment_bytes:
            raise ServiceError(
                "body-too-large",
                "attachment_too_large",
                f"attachment {i} has {len(a.content)} bytes",
                f"第{i + 1}个证据文件过大：最多{max_attachment_bytes}字节。",
            )
        checked.append((a, media_type_of(a.media_type, a.content), safe_name(a.name)))
    digests = []
    for a, media, name in checked:
        digest = blobs.put(a.content)
        _store_blob(session, digest, len(a.content), media, at)
        audit_log.record(
            session,
            at=at,
            actor=principal.actor_id,
            kind="evidence.added",
            subject=f"case:{notice.case_id}",
            payload={"digest": digest, "size": len(a.content), "media_type": media, "name": name},
        )
        digests.append(digest)
    session.add(
        Rectification(
            notice_id=notice.id,
            summary=text,
            digests=digests,
            reported_by=principal.actor_id,
            reported_at=at,
        )
    )
    notice.status = NOTICE_ANSWERED
    notice.answered_at = notice.answered_at or at
    audit_log.record(
        session,
        at=at,
        actor=principal.actor_id,
        kind="rectification.reported",
        subject=f"case:{notice.case_id}",
        payload={"notice_id": str(notice.id), "summary": text, "digests": digests},
    )
    session.flush()
    return _for(principal, notice_views(session, [notice], at)[0])


def evidence(
    session: Session, blobs: BlobStore, principal: Principal, notice_id: int, digest: str
) -> tuple[bytes, str, str]:
    """(bytes, media type, file name) of one piece of evidence reported on the notice."""
    notice = _load(session, principal, notice_id)
    try:
        check_digest(digest)
    except BlobError:
        raise not_found("evidence", "证据文件", digest[:64]) from None
    reported = session.execute(
        select(Rectification.digests).where(Rectification.notice_id == notice.id)
    ).scalars()
    if not any(digest in (ds or []) for ds in reported):
        raise not_found("evidence", "证据文件", digest)
    blob = session.get(Blob, digest)
    try:
        content = blobs.get(digest)
    except BlobError as exc:
        raise ServiceError("not-found", "evidence_missing", str(exc), exc.message_zh) from None
    view = notice_views(session, [notice], None)[0]
    name = next(
        (
            att.name
            for r in view.rectifications
            for att in r.attachments
            if att.digest == digest and att.name
        ),
        digest,
    )
    return content, blob.media_type if blob is not None else "application/octet-stream", name
