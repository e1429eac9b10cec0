"""Intake: from a tip, self-report, patrol finding or hand-off to a lead (线索), and back out.

A command has two halves so that the database write lock is held only for the writes:

1. `prepare` (no database): check who files what (`qinglang.govern.intake` sources), clean
   and limit the fields, normalise URLs, decode and type-check attachments, redact resident
   ID numbers and mobile numbers from everything that will be stored, triage with the
   `Detector` and compute the dedupe keys. Every refusal happens here, before anything is
   written.
2. `record` (one transaction): link a ledger subject (domain, ICP filing number, name),
   deduplicate against open leads (URL key, then content hash), create the lead through
   `case_store.create_case` or merge into the existing one, flag floods, coordinated
   reporting and late self-reports, and append every step to the audit log.

`receive` runs both for callers holding a session; `commit` runs both around `db.write()`,
so a returned `Receipt` means the row is committed. Attachments are written to the blob store
between the halves: a blob whose transaction then fails stays as an unreferenced file (same
bytes, same name, harmless), never as a half-written row.

Personal data: triage sees the raw text (that is how it finds 开盒 and privacy leaks), but
what is stored is redacted: validated resident ID numbers (also when spaced or full-width),
anything shaped like one (17 digits and a check character) and mobile numbers in texts,
titles and attachment names; validated ID and mobile numbers in URLs, as keyed tags that keep
different numbers apart (`redact_url`). Evidence files are stored byte-exact, as evidence must
be.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    cast,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from qinglang.detect import Detector
from qinglang.detect.normalize import pattern_view
from qinglang.detect.patterns.base import PatternDetector, PatternMatch
from qinglang.detect.patterns.limits import MAX_MATCHES
from qinglang.detect.patterns.mobile_phone import MobilePhoneDetector
from qinglang.detect.patterns.resident_id import ResidentIdDetector
from qinglang.govern import intake as rules
from qinglang.govern.cases import TERMINAL
from qinglang.govern.identifiers import (
    DivisionLevel,
    IcpFiling,
    IdentifierError,
    division_level,
    normalize_division,
    parse_icp_filing,
)
from qinglang.govern.tickets import TicketError, new_ticket, parse_ticket
from qinglang.logging_setup import ID_PLACEHOLDER, MOBILE_PLACEHOLDER, redact
from qinglang.services import case_store
from qinglang.services.errors import ServiceError, forbidden, invalid, not_found
from qinglang.services.principal import CASE_ROLES, Principal
from qinglang.settings import Settings
from qinglang.store import audit_log
from qinglang.store.blobs import BlobError, BlobStore, check_digest, digest_of, safe_name
from qinglang.store.db import Database
from qinglang.store.models import (
    Blob,
    Case,
    IntakeAttachment,
    IntakeItem,
    IntakeUrl,
    Subject,
    SubjectDomain,
)
from qinglang.taxonomy import get_taxonomy

NATIONAL = "100000"
# Triage suggests every category the engine found evidence for at this score or more. A tip
# names what it reports ("举报赌博网站"): the engine discounts such mentions when deciding to
# block, but for routing a report the mention is exactly the signal.
MIN_TRIAGE_SCORE = 0.02
MAX_GROUNDS = 3  # declared category first, then triage by score
FUTURE_SKEW = timedelta(minutes=5)  # a discovery time this far ahead of the server is refused
MAX_NAME_CHARS = 100  # subject name given by the filer
MAX_ICP_CHARS = 40
SUMMARY_CHARS = 2000
TITLE_SNIPPET = 40

# ---------------------------------------------------------------- errors


def service_error(exc: rules.IntakeError) -> ServiceError:
    slug = {"forbidden": "forbidden", "too_large": "body-too-large"}.get(
        exc.kind, "validation-error"
    )
    extra: dict[str, Any] = {}
    if exc.pointer:
        extra["errors"] = [{"pointer": exc.pointer, "type": exc.code, "detail": exc.message_zh}]
    return ServiceError(slug, exc.code, str(exc), exc.message_zh, **extra)


def _field_error(code: str, message: str, message_zh: str, pointer: str) -> ServiceError:
    return invalid(
        code, message, message_zh, errors=[{"pointer": pointer, "type": code, "detail": message_zh}]
    )


# ---------------------------------------------------------------- cleaning and redaction

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ID_DETECTOR = ResidentIdDetector()
_PHONE_DETECTOR = MobilePhoneDetector()


def clean_text(value: str | None, *, single_line: bool = False) -> str | None:
    """A string the database can hold (no NUL, no lone surrogates, no control characters
    except tab and newline), stripped; None when nothing is left."""
    if value is None:
        return None
    text = _SURROGATE.sub("\ufffd", value).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    if single_line:
        text = " ".join(text.split())
    text = text.strip()
    return text or None


def _redact_with(
    text: str, detector: PatternDetector, placeholder: str | Callable[[PatternMatch], str]
) -> str:
    while True:
        matches = list(detector.find(pattern_view(text)))
        if not matches:
            return text
        for m in reversed(matches):  # non-overlapping, in order: replace from the end
            sub = placeholder if isinstance(placeholder, str) else placeholder(m)
            text = text[: m.start] + sub + text[m.end :]
        if len(matches) < MAX_MATCHES:
            return text


def redact_personal(text: str) -> str:
    """`text` without resident ID numbers or mobile numbers (validated forms with separators
    and full-width digits by the engine's pattern detectors, then the log redaction's broader
    shapes)."""
    text = _redact_with(text, _ID_DETECTOR, ID_PLACEHOLDER)
    text = _redact_with(text, _PHONE_DETECTOR, MOBILE_PLACEHOLDER)
    return redact(text)


def redact_url(url: str, key: bytes) -> str:
    """A normalised URL without validated resident ID numbers or mobile numbers.

    Each number becomes `REDACTED-ID-<tag>` / `REDACTED-MOBILE-<tag>`, the tag being the first
    40 bits of an HMAC under the secret key: URL-safe, not reversible without the key, and
    different numbers stay different, so two pages that differ only by such a number (a
    user id that looks like a phone number) do not collapse into one dedupe key.
    """

    def tagged(kind: str) -> Callable[[PatternMatch], str]:
        def sub(m: PatternMatch) -> str:
            mac = hmac.new(key, f"{kind}:{m.value}".encode(), hashlib.sha256).hexdigest()
            return f"REDACTED-{kind}-{mac[:10]}"

        return sub

    url = _redact_with(url, _ID_DETECTOR, tagged("ID"))
    return _redact_with(url, _PHONE_DETECTOR, tagged("MOBILE"))


def _redacted(value: str | None) -> str | None:
    return None if value is None else redact_personal(value)


# ---------------------------------------------------------------- prepared commands


@dataclass(frozen=True, slots=True)
class AttachmentIn:
    """An attachment as it arrives: base64 (or a data: URL), an optional name and type."""

    data: str
    name: str | None = None
    media_type: str | None = None


@dataclass(frozen=True, slots=True)
class PreparedAttachment:
    digest: str
    name: str
    media_type: str
    size: int
    content: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A checked, redacted and triaged arrival, ready for `record`."""

    source: type[rules.IntakeSource]
    at: datetime
    actor: str | None  # None: the public; the ticket names the actor
    operator_org: int | None  # a platform operator's organisation (self-reports)
    regulator: bool
    title: str | None
    text: str | None
    urls: tuple[str, ...]
    url_keys: tuple[str, ...]
    content_hash: str | None
    substantive: bool
    category: str | None
    categories: tuple[dict[str, Any], ...]
    grounds: tuple[str, ...]
    verdict: str | None
    attachments: tuple[PreparedAttachment, ...]
    jurisdiction: str | None
    fallback_jurisdiction: str
    discovered_at: datetime | None
    deadline_at: datetime | None
    late: bool
    client_hash: str | None
    subject_id: int | None
    subject_name: str | None
    icp: IcpFiling | None
    flood_rule: rules.FloodRule


@dataclass(frozen=True, slots=True)
class Receipt:
    """What `record` did; plain values, safe to use after the transaction."""

    item_id: int
    ticket: str
    source: str
    status: str  # lead | merged
    case_id: int
    case_state: str
    merged_by: str | None  # url | content_hash
    flags: tuple[str, ...]
    subject_id: int | None
    received_at: datetime

    @property
    def public_status(self) -> rules.PublicStatus:
        return rules.public_status(self.case_state)


def _roles(principal: Principal | None) -> list[str] | None:
    return None if principal is None else [r.value for r in principal.roles]


def _check_time(value: datetime | None, at: datetime, pointer: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise _field_error(
            "naive_time",
            "time without a zone",
            "时间须带时区，如 2020-11-30T10:00:00+08:00。",
            pointer,
        )
    if value > at + FUTURE_SKEW:
        raise _field_error(
            "time_in_future", "time in the future", "发现时间不能晚于当前时间。", pointer
        )
    return value


def _jurisdiction(value: str | None, principal: Principal | None, pointer: str) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        code = normalize_division(value)
    except IdentifierError as exc:
        raise _field_error("bad_jurisdiction", str(exc), exc.message_zh, pointer) from None
    if principal is not None and principal.is_regulator:
        principal.require_covers(code)
    return code


def _category(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    code = value.strip()
    tax = get_taxonomy()
    if code not in tax.categories and code not in tax.violations:
        raise _field_error(
            "unknown_category",
            f"unknown category {code!r}",
            "未知的问题类别，请从 GET /api/v1/taxonomy 列出的类别中选择。",
            "#/category",
        )
    return code


def _icp(value: str | None) -> IcpFiling | None:
    text = clean_text(value, single_line=True)
    if text is None:
        return None
    if len(text) > MAX_ICP_CHARS:
        raise _field_error("bad_icp", "ICP too long", "ICP备案号格式不正确。", "#/icp")
    try:
        return parse_icp_filing(text)
    except IdentifierError as exc:
        raise _field_error("bad_icp", str(exc), exc.message_zh, "#/icp") from None


def _attachments(items: Sequence[AttachmentIn], max_bytes: int) -> tuple[PreparedAttachment, ...]:
    out: list[PreparedAttachment] = []
    for i, item in enumerate(items):
        try:
            decoded = rules.decode_attachment(item.data, item.media_type, max_bytes, i)
        except rules.IntakeError as exc:
            raise service_error(exc) from None
        fallback = f"附件{i + 1}{rules.DEFAULT_EXTENSIONS[decoded.media_type]}"
        name = safe_name(clean_text(item.name, single_line=True), fallback)
        name = redact_personal(name)[:255]
        out.append(
            PreparedAttachment(
                digest_of(decoded.content),
                name,
                decoded.media_type,
                len(decoded.content),
                decoded.content,
            )
        )
    return tuple(out)


def _triage(
    detector: Detector, parts: Sequence[str | None]
) -> tuple[str | None, list[dict[str, Any]]]:
    body = "\n".join(p for p in parts if p)
    if not body:
        return None, []
    verdict = detector.check(body)
    found = [
        {"code": c.code, "score": round(c.score, 4), "by": "triage"}
        for c in verdict.categories
        if c.score >= MIN_TRIAGE_SCORE
    ]
    return verdict.verdict.value, found


def prepare(
    detector: Detector,
    settings: Settings,
    *,
    source: str,
    principal: Principal | None,
    at: datetime,
    text: str | None = None,
    urls: Sequence[str] = (),
    attachments: Sequence[AttachmentIn] = (),
    title: str | None = None,
    category: str | None = None,
    jurisdiction: str | None = None,
    discovered_at: datetime | None = None,
    subject_id: int | None = None,
    subject_name: str | None = None,
    icp: str | None = None,
    client_hash: str | None = None,
    jurisdiction_pointer: str = "#/jurisdiction",
) -> Prepared:
    """Check, clean, redact and triage an arrival; raises `ServiceError` on any refusal."""
    try:
        src = rules.get_source(source)
        src.check_filer(_roles(principal))
    except rules.IntakeError as exc:
        raise service_error(exc) from None
    operator_org = None
    if principal is not None and principal.is_operator:
        if principal.organisation_id is None:
            raise forbidden(
                "no_organisation",
                "operator without organisation",
                "您的账号未关联运营主体，不能提交自查报告。",
            )
        operator_org = principal.organisation_id
    raw_text = clean_text(text)
    raw_title = clean_text(title, single_line=True)
    url_list = list(urls)
    draft = rules.Draft(
        text=raw_text,
        title=raw_title,
        urls=tuple(str(u) for u in url_list),
        attachments=len(attachments),
        category=clean_text(category, single_line=True),
        discovered_at=discovered_at,
    )
    try:
        src.check(draft)
        normalised = [rules.normalize_url(clean_text(u) or "", i) for i, u in enumerate(url_list)]
    except rules.IntakeError as exc:
        raise service_error(exc) from None
    declared = _category(draft.category)
    code = _jurisdiction(jurisdiction, principal, jurisdiction_pointer)
    found_at = _check_time(discovered_at, at, "#/discovered_at")
    icp_filing = _icp(icp)
    name = clean_text(subject_name, single_line=True)
    if name is not None and len(name) > MAX_NAME_CHARS:
        raise _field_error(
            "name_too_long",
            "subject name too long",
            f"平台或应用名称过长：最多 {MAX_NAME_CHARS} 个字符。",
            "#/platform",
        )
    files = _attachments(attachments, settings.max_attachment_bytes)

    verdict, triaged = _triage(detector, [raw_title, raw_text, *normalised])
    stored_text = _redacted(raw_text)
    stored_title = _redacted(raw_title)
    key = settings.secret_key.get_secret_value().encode("utf-8")
    stored_urls = tuple(dict.fromkeys(redact_url(u, key) for u in normalised))
    digests = [f.digest for f in files]
    categories: list[dict[str, Any]] = []
    if declared is not None:
        categories.append({"code": declared, "score": None, "by": "filer"})
    categories += [c for c in triaged if c["code"] != declared]
    grounds = tuple(dict.fromkeys(c["code"] for c in categories))[:MAX_GROUNDS]
    deadline = (
        rules.report_deadline(found_at, settings.self_report_hours)
        if src.has_deadline and found_at is not None
        else None
    )
    return Prepared(
        source=src,
        at=at,
        actor=None if principal is None else principal.actor_id,
        operator_org=operator_org,
        regulator=principal is not None and principal.is_regulator,
        title=stored_title,
        text=stored_text,
        urls=stored_urls,
        url_keys=tuple(dict.fromkeys(rules.url_key(u) for u in stored_urls)),
        content_hash=rules.content_hash(stored_text, digests),
        substantive=rules.is_substantive(stored_text, digests),
        category=declared,
        categories=tuple(categories),
        grounds=grounds,
        verdict=verdict,
        attachments=files,
        jurisdiction=code,
        fallback_jurisdiction=principal.jurisdiction if principal is not None else NATIONAL,
        discovered_at=found_at,
        deadline_at=deadline,
        late=rules.is_late(at, deadline),
        client_hash=client_hash,
        subject_id=subject_id,
        subject_name=_redacted(name),
        icp=icp_filing,
        flood_rule=rules.FloodRule(
            settings.flood_threshold, timedelta(minutes=settings.flood_window_minutes)
        ),
    )


def store_attachments(blobs: BlobStore, prepared: Prepared) -> None:
    """Write the evidence files (content-addressed, idempotent) before the transaction."""
    for a in prepared.attachments:
        blobs.put(a.content)


# ---------------------------------------------------------------- recording


def _lock_dedupe_keys(session: Session, p: Prepared) -> None:
    """PostgreSQL: serialise only the writers that could merge into the same lead.

    Each URL key and the content hash take a transaction-level advisory lock (in sorted
    order, so two writers never wait for each other in a cycle); reports about different
    pages proceed side by side, two reports of one page are deduplicated in turn. SQLite
    needs nothing: `Database.write` already holds its one writer lock.
    """
    keys = set(p.url_keys)
    if p.content_hash is not None and p.substantive:
        keys.add(p.content_hash)
    if not keys:
        return
    # 63 bits of the SHA-256 key: a signed bigint, as pg_advisory_xact_lock takes. All locks in
    # one round trip: PostgreSQL evaluates a select list from left to right, so the locks are
    # still taken in sorted order.
    params = _numbered("k", [int(key[:15], 16) for key in sorted(keys)])
    session.connection().execute(_advisory_locks(len(params)), params).first()


def _numbered(prefix: str, values: Sequence[Any]) -> dict[str, Any]:
    return {f"{prefix}{i}": v for i, v in enumerate(values)}


def _in_list(prefix: str, n: int) -> list[Any]:
    """`n` numbered parameters for an IN list. Statements are cached per list length: an
    "expanding" parameter would be re-rendered into the SQL on every execution."""
    return [bindparam(f"{prefix}{i}") for i in range(n)]


_ADVISORY: dict[int, Select[Any]] = {}


def _advisory_locks(n: int) -> Select[Any]:
    stmt = _ADVISORY.get(n)
    if stmt is None:
        stmt = select(
            *(func.pg_advisory_xact_lock(bindparam(f"k{i}", type_=BigInteger)) for i in range(n))
        )
        _ADVISORY[n] = stmt
    return stmt


# Core statements on the tables, built once: `record` runs them for every report, and building
# and caching an ORM statement costs more CPU than SQLite takes to run it.
_ITEMS = IntakeItem.__table__
_URLS = IntakeUrl.__table__
_CASES = Case.__table__
_DOMAINS = SubjectDomain.__table__

_DOMAIN_OWNERS: dict[int, Select[Any]] = {}


def _domain_owners(n: int) -> Select[Any]:
    stmt = _DOMAIN_OWNERS.get(n)
    if stmt is None:
        stmt = select(_DOMAINS.c.domain, _DOMAINS.c.subject_id).where(
            _DOMAINS.c.domain.in_(_in_list("d", n))
        )
        _DOMAIN_OWNERS[n] = stmt
    return stmt


_INSERT_ITEM = insert(_ITEMS)
_INSERT_URL = insert(_URLS)
_INSERT_ATTACHMENT = insert(IntakeAttachment.__table__)


def _link_subject(session: Session, p: Prepared) -> Subject | None:
    """The ledger subject an item is about: given id, else domain, ICP number, name."""
    own = (lambda s: s.organisation_id == p.operator_org) if p.operator_org is not None else None
    if p.subject_id is not None:
        subject = session.get(Subject, p.subject_id)
        if subject is None:
            raise _field_error(
                "unknown_subject",
                f"no subject {p.subject_id}",
                "未找到该台账主体。",
                "#/subject_id",
            )
        if own is not None and not own(subject):
            raise forbidden(
                "not_own_subject",
                "subject of another organisation",
                "只能就本单位的台账主体提交自查报告。",
            )
        return subject
    candidates: list[list[str]] = [rules.domain_candidates(rules.url_host(u)) for u in p.urls]
    wanted = {d for c in candidates for d in c}
    if wanted:
        domains = sorted(wanted)
        owners = dict(
            session.connection()
            .execute(_domain_owners(len(domains)), _numbered("d", domains))
            .all()
        )
        for cands in candidates:
            for domain in cands:  # longest first
                if domain in owners:
                    subject = session.get(Subject, owners[domain])
                    if subject is not None and (own is None or own(subject)):
                        return subject
    if p.icp is not None:
        rows = list(
            session.execute(
                select(Subject).where(
                    or_(
                        Subject.icp_filing == p.icp.text,
                        Subject.icp_filing == p.icp.main,
                        Subject.icp_filing.like(p.icp.main + "-%"),
                    )
                )
            ).scalars()
        )
        rows = [s for s in rows if own is None or own(s)]
        exact = [s for s in rows if s.icp_filing == p.icp.text]
        pick = exact if len(exact) == 1 else rows
        if len(pick) == 1:
            return pick[0]
    if p.subject_name is not None:
        rows = list(
            session.execute(select(Subject).where(Subject.name == p.subject_name)).scalars()
        )
        rows = [s for s in rows if own is None or own(s)]
        active = [s for s in rows if s.active]
        pick = active if len(active) == 1 else rows
        if len(pick) == 1:
            return pick[0]
    return None


_OPEN = _CASES.c.state.not_in([s.value for s in TERMINAL])


def _lead_by_url(n: int) -> Select[Any]:
    return (
        select(_CASES.c.id, _CASES.c.state, literal("url").label("by"))
        .join(_ITEMS, _ITEMS.c.case_id == _CASES.c.id)
        .join(_URLS, _URLS.c.intake_id == _ITEMS.c.id)
        .where(_URLS.c.url_key.in_(_in_list("u", n)), _OPEN)
        .order_by(_CASES.c.id)
        .limit(1)
    )


_LEAD_BY_CONTENT = (
    select(_CASES.c.id, _CASES.c.state, literal("content_hash").label("by"))
    .join(_ITEMS, _ITEMS.c.case_id == _CASES.c.id)
    .where(_ITEMS.c.content_hash == bindparam("chash"), _OPEN)
    .order_by(_CASES.c.id)
    .limit(1)
)
_OPEN_LEAD: dict[tuple[int, bool], Select[Any] | CompoundSelect[Any]] = {
    (0, True): _LEAD_BY_CONTENT
}


def _open_lead(n: int, chash: bool) -> Select[Any] | CompoundSelect[Any]:
    stmt = _OPEN_LEAD.get((n, chash))
    if stmt is None:
        stmt = _lead_by_url(n)
        if chash:
            # Both candidates in one query (one round trip); each side is a subquery so that
            # its own ORDER BY and LIMIT are allowed on SQLite.
            stmt = union_all(select(stmt.subquery()), select(_LEAD_BY_CONTENT.subquery()))
        _OPEN_LEAD[n, chash] = stmt
    return stmt


def find_open_lead(
    session: Session, url_keys: Sequence[str], chash: str | None
) -> tuple[int, str, str] | None:
    """(case id, case state, "url") of the oldest open case holding an item with one of
    `url_keys`, else (..., "content_hash") of one holding an item with content hash `chash`."""
    if not url_keys and chash is None:
        return None
    params = _numbered("u", url_keys)
    if chash is not None:
        params["chash"] = chash
    stmt = _open_lead(len(url_keys), chash is not None)
    rows = session.connection().execute(stmt, params).all()
    for by in ("url", "content_hash"):  # a URL match wins over a content match
        for case_id, state, found_by in rows:
            if found_by == by:
                return case_id, state, by
    return None


_RECENT_TIPS = (
    select(_ITEMS.c.client_hash, _ITEMS.c.content_hash)
    .where(
        _ITEMS.c.target_key == bindparam("target"),
        _ITEMS.c.received_at > bindparam("since", type_=_ITEMS.c.received_at.type),
        _ITEMS.c.source == rules.PublicTip.name,
    )
    .order_by(_ITEMS.c.received_at.desc())
    .limit(bindparam("sample", type_=Integer))
    .subquery()
)
_TARGET_ACTIVITY = select(
    _RECENT_TIPS.c.client_hash, _RECENT_TIPS.c.content_hash, func.count()
).group_by(_RECENT_TIPS.c.client_hash, _RECENT_TIPS.c.content_hash)


def target_activity(
    session: Session,
    target: str,
    since: datetime,
    client: str | None,
    chash: str | None,
    sample: int,
) -> rules.TargetActivity:
    """The most recent public tips (at most `sample - 1`) against `target` received after
    `since`, plus the one being recorded. Bounded, so a flood does not slow each new tip."""
    rows = (
        session.connection()
        .execute(_TARGET_ACTIVITY, {"target": target, "since": since, "sample": sample - 1})
        .all()
    )
    per_client: Counter[str] = Counter()
    per_content: Counter[str] = Counter()
    count = 1
    for client_hash, content, n in rows:
        count += n
        if client_hash:
            per_client[client_hash] += n
        if content:
            per_content[content] += n
    if client:
        per_client[client] += 1
    if chash:
        per_content[chash] += 1
    return rules.TargetActivity(count, tuple(per_client.values()), tuple(per_content.values()))


def _ensure_blob(session: Session, a: PreparedAttachment, at: datetime) -> None:
    dialect = session.get_bind().dialect.name
    dialect_insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        dialect_insert(Blob)
        .values(digest=a.digest, size=a.size, media_type=a.media_type, created_at=at)
        .on_conflict_do_nothing(index_elements=["digest"])
    )


def _case_title(p: Prepared) -> str:
    if p.title:
        return p.title
    if p.urls:
        what = rules.url_host(p.urls[0])
    elif p.text:
        what = " ".join(p.text.split())[:TITLE_SNIPPET]
    else:
        what = "附件"
    return f"{p.source.name_zh}：{what}"


def record(session: Session, p: Prepared) -> Receipt:
    """Store a prepared arrival in the caller's transaction; see the module docstring."""
    at = p.at
    # The statements below run on the session's connection, past the unit of work: whatever
    # the caller left pending goes in first, as the ORM's autoflush used to ensure.
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        _lock_dedupe_keys(session, p)
    subject = _link_subject(session, p)
    subject_id = subject.id if subject is not None else None
    if p.jurisdiction is not None:
        jurisdiction = p.jurisdiction
    elif subject is not None and not p.regulator:
        try:
            jurisdiction = normalize_division(subject.region)
        except IdentifierError:
            jurisdiction = p.fallback_jurisdiction
    else:
        jurisdiction = p.fallback_jurisdiction
    target = rules.target_key(subject_id, p.urls)
    ticket = new_ticket()
    actor = p.actor or f"public:{ticket}"

    found = find_open_lead(session, p.url_keys, p.content_hash if p.substantive else None)
    flags: list[str] = []
    if found is not None:
        flags.append("duplicate")
    if p.late:
        flags.append("late")
    activity = None
    if p.source is rules.PublicTip and target is not None:
        since = at - p.flood_rule.window
        activity = target_activity(
            session, target, since, p.client_hash, p.content_hash, p.flood_rule.sample
        )
        flags += rules.flood_flags(activity, p.flood_rule)

    # The lead first (a merge target or a new case), so the item is inserted complete.
    if found is not None:
        case_id, case_state, merged_by = found
    else:
        merged_by = None
        case, _ = case_store.create_case(
            session,
            grounds=list(p.grounds) or [p.source.default_ground],
            jurisdiction=jurisdiction,
            at=at,
            created_by=actor,
            title=_case_title(p),
            summary=(p.text or "")[:SUMMARY_CHARS] or None,
            subject_id=subject_id,
            source=p.source.name,
        )
        case_id, case_state = case.id, case.state
    # The item is filed where its lead is: a merged one under the campaign of its case.
    if found is not None:
        filed = session.execute(
            select(Case.campaign_id, Case.campaign_task).where(Case.id == case_id)
        ).one()
    else:
        filed = (case.campaign_id, case.campaign_task)
    status = "merged" if found is not None else "lead"
    connection = session.connection()
    item_id = connection.execute(
        _INSERT_ITEM,
        {
            "ticket": ticket,
            "source": p.source.name,
            "status": status,
            "title": p.title,
            "text": p.text,
            "urls": list(p.urls),
            "content_hash": p.content_hash,
            "target_key": target,
            "subject_id": subject_id,
            "case_id": case_id,
            "jurisdiction": jurisdiction,
            "categories": [dict(c) for c in p.categories],
            "verdict": p.verdict,
            "flags": flags,
            "client_hash": p.client_hash,
            "created_by": actor,
            "organisation_id": p.operator_org,
            "discovered_at": p.discovered_at,
            "deadline_at": p.deadline_at,
            "public_result": None,
            "campaign_id": filed[0],
            "campaign_task": filed[1],
            "received_at": at,
            "updated_at": at,
        },
    ).inserted_primary_key[0]
    if p.url_keys:
        connection.execute(
            _INSERT_URL, [{"intake_id": item_id, "url_key": key} for key in p.url_keys]
        )
    if p.attachments:
        for a in p.attachments:
            _ensure_blob(session, a, at)
        connection.execute(
            _INSERT_ATTACHMENT,
            [
                {
                    "intake_id": item_id,
                    "digest": a.digest,
                    "name": a.name,
                    "media_type": a.media_type,
                    "size": a.size,
                }
                for a in p.attachments
            ],
        )
    subject_ref = f"intake:{item_id}"
    received: dict[str, Any] = {"ticket": ticket, "source": p.source.name}
    if p.urls:
        received["urls"] = list(p.urls)
    codes = [c["code"] for c in p.categories]
    if codes:
        received["categories"] = codes
    if p.attachments:
        received["digests"] = [a.digest for a in p.attachments]
    audit_log.record(
        session, at=at, actor=actor, kind="report.received", subject=subject_ref, payload=received
    )
    for a in p.attachments:
        audit_log.record(
            session,
            at=at,
            actor=actor,
            kind="evidence.added",
            subject=subject_ref,
            payload={
                "digest": a.digest,
                "size": a.size,
                "media_type": a.media_type,
                "name": a.name,
            },
        )
    if merged_by is not None:
        audit_log.record(
            session,
            at=at,
            actor=actor,
            kind="lead.merged",
            subject=subject_ref,
            payload={"into": f"case:{case_id}", "by": merged_by},
        )
    raised = [f for f in flags if f != "duplicate"]
    if raised:
        payload: dict[str, Any] = {"flags": raised, "target": target}
        if activity is not None and "flood" in raised:
            payload["count"] = activity.count
            payload["clients"] = len(activity.per_client)
        audit_log.record(
            session,
            at=at,
            actor="system",
            kind="lead.flagged",
            subject=subject_ref,
            payload=payload,
        )
    return Receipt(
        item_id=item_id,
        ticket=ticket,
        source=p.source.name,
        status=status,
        case_id=case_id,
        case_state=case_state,
        merged_by=merged_by,
        flags=tuple(flags),
        subject_id=subject_id,
        received_at=at,
    )


def receive(
    session: Session,
    blobs: BlobStore,
    detector: Detector,
    settings: Settings,
    *,
    source: str,
    principal_or_none: Principal | None,
    at: datetime,
    **fields: Any,
) -> Receipt:
    """Prepare, store the evidence and record an arrival in the caller's transaction.
    `fields` are `prepare`'s keyword arguments (text, urls, attachments, title ...)."""
    prepared = prepare(
        detector, settings, source=source, principal=principal_or_none, at=at, **fields
    )
    store_attachments(blobs, prepared)
    return record(session, prepared)


def commit(db: Database, blobs: BlobStore, prepared: Prepared) -> Receipt:
    """Store the evidence, then record in one transaction committed before returning."""
    store_attachments(blobs, prepared)
    with db.write() as session:
        return record(session, prepared)


# ---------------------------------------------------------------- reading


def require_viewer(principal: Principal) -> None:
    """Case workers see intake in their jurisdiction; operators their own self-reports."""
    if principal.is_operator:
        return
    if not principal.has(*CASE_ROLES):
        raise forbidden(
            "forbidden_role", "intake is for case workers", "您的角色无权查看受理的线索。"
        )


def jurisdiction_clause(code: str) -> ColumnElement[bool]:
    """SQL for "the item's jurisdiction lies inside `code`" (division_covers)."""
    level = division_level(code)
    if level is DivisionLevel.national:
        return true()
    if level is DivisionLevel.province:
        return IntakeItem.jurisdiction.like(code[:2] + "%")
    if level is DivisionLevel.city:
        return IntakeItem.jurisdiction.like(code[:4] + "%")
    return IntakeItem.jurisdiction == code


def visible_clause(principal: Principal) -> ColumnElement[bool]:
    if principal.is_operator:
        if principal.organisation_id is None:
            return false()
        return and_(
            IntakeItem.source == rules.SelfReport.name,
            IntakeItem.organisation_id == principal.organisation_id,
        )
    return jurisdiction_clause(principal.jurisdiction)


def can_see(principal: Principal, item: IntakeItem) -> bool:
    if principal.is_operator:
        return (
            item.source == rules.SelfReport.name
            and principal.organisation_id is not None
            and item.organisation_id == principal.organisation_id
        )
    return principal.has(*CASE_ROLES) and principal.covers(item.jurisdiction)


@dataclass(frozen=True, slots=True)
class IntakeFilter:
    source: str | None = None
    status: str | None = None
    flag: str | None = None
    category: str | None = None
    case_id: int | None = None
    subject_id: int | None = None
    jurisdiction: str | None = None
    ticket: str | None = None
    received_after: datetime | None = None
    received_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class ItemView:
    item: IntakeItem
    attachments: tuple[IntakeAttachment, ...]
    case_state: str | None


def _json_contains(column: Any, value: str) -> ColumnElement[bool]:
    """A JSON list column holding the string `value` (same text test on both backends)."""
    return cast(column, String).like(f'%"{value}"%')


def _filter_clauses(principal: Principal, f: IntakeFilter) -> list[ColumnElement[bool]]:
    clauses = [visible_clause(principal)]
    if f.source is not None:
        try:
            rules.get_source(f.source)
        except rules.IntakeError as exc:
            raise service_error(exc) from None
        clauses.append(IntakeItem.source == f.source)
    if f.status is not None:
        if f.status not in rules.ITEM_STATUSES:
            raise invalid("unknown_status", "unknown status", "未知的受理状态：可选 lead、merged。")
        clauses.append(IntakeItem.status == f.status)
    if f.flag is not None:
        if f.flag not in rules.FLAGS:
            raise invalid(
                "unknown_flag", "unknown flag", f"未知的标记，可选：{'、'.join(rules.FLAGS)}。"
            )
        clauses.append(_json_contains(IntakeItem.flags, f.flag))
    if f.category is not None:
        tax = get_taxonomy()
        if f.category not in tax.categories and f.category not in tax.violations:
            raise invalid("unknown_category", "unknown category", "未知的问题类别。")
        clauses.append(_json_contains(IntakeItem.categories, f.category))
    if f.case_id is not None:
        clauses.append(IntakeItem.case_id == f.case_id)
    if f.subject_id is not None:
        clauses.append(IntakeItem.subject_id == f.subject_id)
    if f.jurisdiction is not None:
        code = _jurisdiction(f.jurisdiction, principal, "#/jurisdiction")
        if code is not None:
            clauses.append(jurisdiction_clause(code))
    if f.ticket is not None:
        try:
            clauses.append(IntakeItem.ticket == parse_ticket(f.ticket))
        except TicketError as exc:
            raise invalid("malformed_ticket", str(exc), exc.message_zh) from None
    for value, name in (
        (f.received_after, "received_after"),
        (f.received_before, "received_before"),
    ):
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise _field_error(
                "naive_time",
                f"{name} without a time zone",
                "时间须带时区，如 2020-11-30T10:00:00+08:00。",
                f"#/{name}",
            )
    if f.received_after is not None:
        clauses.append(IntakeItem.received_at >= f.received_after)
    if f.received_before is not None:
        clauses.append(IntakeItem.received_at < f.received_before)
    return clauses


def list_items(
    session: Session, principal: Principal, f: IntakeFilter, *, limit: int = 50, offset: int = 0
) -> tuple[list[tuple[IntakeItem, str | None]], int]:
    """(item, state of its case) for the items `principal` may see that match `f`, newest
    first, and their total."""
    require_viewer(principal)
    clauses = _filter_clauses(principal, f)
    total = session.execute(
        select(func.count()).select_from(IntakeItem).where(*clauses)
    ).scalar_one()
    rows = session.execute(
        select(IntakeItem, Case.state)
        .outerjoin(Case, Case.id == IntakeItem.case_id)
        .where(*clauses)
        .order_by(IntakeItem.received_at.desc(), IntakeItem.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [(item, state) for item, state in rows], int(total)


def get_item(session: Session, principal: Principal, item_id: int) -> ItemView:
    require_viewer(principal)
    item = session.get(IntakeItem, item_id)
    if item is None:
        raise not_found("intake_item", "受理记录", item_id)
    if not can_see(principal, item):
        raise forbidden(
            "out_of_scope", "item outside the caller's scope", "该受理记录不在您的查看范围内。"
        )
    attachments = tuple(
        session.execute(
            select(IntakeAttachment)
            .where(IntakeAttachment.intake_id == item.id)
            .order_by(IntakeAttachment.id)
        ).scalars()
    )
    case = session.get(Case, item.case_id) if item.case_id is not None else None
    return ItemView(item, attachments, case.state if case is not None else None)


@dataclass(frozen=True, slots=True)
class Evidence:
    digest: str
    content: bytes = field(repr=False)
    media_type: str
    name: str


def evidence(session: Session, blobs: BlobStore, principal: Principal, digest: str) -> Evidence:
    """The bytes of an attachment, for someone who may see an item holding it (404 else, so
    that nobody learns which files were reported)."""
    require_viewer(principal)
    try:
        check_digest(digest)
    except BlobError as exc:
        raise _field_error("bad_digest", str(exc), exc.message_zh, "#/digest") from None
    row = session.execute(
        select(IntakeAttachment)
        .join(IntakeItem, IntakeItem.id == IntakeAttachment.intake_id)
        .where(IntakeAttachment.digest == digest, visible_clause(principal))
        .order_by(IntakeAttachment.id)
        .limit(1)
    ).scalar_one_or_none()
    if row is None or not blobs.exists(digest):
        raise not_found("evidence", "证据文件", digest)
    content = blobs.get(digest)  # BlobError here means the file on disk is corrupted
    return Evidence(digest, content, row.media_type, row.name)


def find_by_ticket(session: Session, ticket: str) -> tuple[IntakeItem, Case | None] | None:
    row = session.execute(
        select(IntakeItem, Case)
        .outerjoin(Case, Case.id == IntakeItem.case_id)
        .where(IntakeItem.ticket == ticket)
    ).first()
    if row is None:
        return None
    return row[0], row[1]
