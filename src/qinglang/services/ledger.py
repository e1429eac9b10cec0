"""Ledger (台账) commands and queries: create, read, update, (de)activate, list, look up.

Validation is the pure core's (`qinglang.govern.ledger.validate_subject`); this module adds
what needs the database and the caller:

- scope: regulators (admin, officer, analyst, leader) see subjects whose region lies in their
  jurisdiction; platform operators see only subjects linked to their organisation and change
  nothing; creating and editing needs admin, officer or analyst (leaders approve, they do not
  keep the ledger), and both the old and the new region must lie in the editor's jurisdiction;
- links: `organisation_id` must exist; a subject with a USCC and no organisation is linked to
  the organisation registered under that USCC (so the operator sees it), and a USCC that
  contradicts the linked organisation's is refused;
- one owner per domain (`subject_domains` primary key), checked before writing and again by
  the database when two commands race;
- optimistic locking: an update names the `version` the client saw, a newer one answers 409;
- history: every create, update and (de)activation is an audit event on "subject:<id>", with
  the old and new value of each changed field, in the same transaction as the change.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, insert, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from qinglang.govern import ledger as core
from qinglang.govern.actors import Role
from qinglang.govern.identifiers import (
    DivisionLevel,
    IdentifierError,
    division_covers,
    division_level,
    domain_of_url,
    domain_to_unicode,
    normalize_division,
    normalize_domain,
    parse_icp_filing,
)
from qinglang.services import cursors
from qinglang.services.errors import ServiceError, conflict, forbidden, invalid, not_found
from qinglang.services.principal import Principal
from qinglang.store import audit_log
from qinglang.store.audit_chain import (
    OPT_STR,
    EventKind,
    PayloadExample,
    register_kind,
)
from qinglang.store.models import Organisation, Subject, SubjectDomain

EDIT_ROLES = (Role.admin, Role.officer, Role.analyst)
MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_OFFSET = 1_000_000
MAX_QUERY = 100
MAX_REASON = 500

# Columns of `subjects` that hold a field of the core's record (all of FIELDS but domains).
_COLUMNS = tuple(f for f in core.FIELDS if f != "domains")


# ---------------------------------------------------------------- audit event kinds


def _status_examples() -> tuple[PayloadExample, ...]:
    return (
        PayloadExample({"reason": "网站已关停"}, True),
        PayloadExample({"reason": None}, True),
        PayloadExample({"reason": 1}, False),
        PayloadExample({}, False),
    )


@register_kind
class LedgerSubjectDeactivated(EventKind):
    kind = "ledger.subject_deactivated"
    description = "A subject was marked inactive (closed, delisted, merged); it stays on record."
    required = MappingProxyType({"reason": OPT_STR})
    examples = _status_examples()


@register_kind
class LedgerSubjectReactivated(EventKind):
    kind = "ledger.subject_reactivated"
    description = "An inactive subject was marked active again."
    required = MappingProxyType({"reason": OPT_STR})
    examples = _status_examples()


# ---------------------------------------------------------------- values returned


@dataclass(frozen=True, slots=True)
class SubjectView:
    """A subject as the API shows it: the core's record plus identity and bookkeeping."""

    id: int
    kind: str
    kind_name: str
    name: str
    operator_name: str | None
    uscc: str | None
    organisation_id: int | None
    icp_filing: str | None
    domains: list[str]
    domains_unicode: list[str]
    region: str
    category: str | None
    education_app: bool
    school_cooperation: bool
    game_approval_no: str | None
    youth_mode: str
    anti_addiction: str
    risk_level: str
    platform_url: str | None
    notes: str | None
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime

    def record(self) -> dict[str, Any]:
        """The core's canonical record (FIELDS) of this subject."""
        return {name: getattr(self, name) for name in core.FIELDS}


@dataclass(frozen=True, slots=True)
class SubjectPage:
    items: list[SubjectView]
    total: int
    limit: int
    offset: int
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    seq: int
    at: datetime
    actor: str
    kind: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SubjectFilter:
    """List and export filters; values as they arrive from a query string."""

    kind: str | None = None
    region: str | None = None
    risk_level: str | None = None
    youth_mode: str | None = None
    anti_addiction: str | None = None
    category: str | None = None
    education_app: bool | None = None
    school_cooperation: bool | None = None
    organisation_id: int | None = None
    q: str | None = None
    status: str = "active"  # active | inactive | all


def _unicode(domain: str) -> str:
    try:
        return domain_to_unicode(domain)
    except (IdentifierError, UnicodeError):
        return domain


def _view(subject: Subject, domains: Sequence[str]) -> SubjectView:
    kind = core.registered().get(subject.kind)
    ordered = sorted(domains)
    return SubjectView(
        id=subject.id,
        kind=subject.kind,
        kind_name=kind.name if kind else subject.kind,
        name=subject.name,
        operator_name=subject.operator_name,
        uscc=subject.uscc,
        organisation_id=subject.organisation_id,
        icp_filing=subject.icp_filing,
        domains=ordered,
        domains_unicode=[_unicode(d) for d in ordered],
        region=subject.region,
        category=subject.category,
        education_app=bool(subject.education_app),
        school_cooperation=bool(subject.school_cooperation),
        game_approval_no=subject.game_approval_no,
        youth_mode=subject.youth_mode,
        anti_addiction=subject.anti_addiction,
        risk_level=subject.risk_level,
        platform_url=subject.platform_url,
        notes=subject.notes,
        active=bool(subject.active),
        version=subject.version,
        created_at=subject.created_at,
        updated_at=subject.updated_at,
    )


def domains_of(session: Session, subject_ids: Sequence[int]) -> dict[int, list[str]]:
    """The domains of each subject, in one query."""
    out: dict[int, list[str]] = {sid: [] for sid in subject_ids}
    if not subject_ids:
        return out
    rows = session.execute(
        select(SubjectDomain.subject_id, SubjectDomain.domain).where(
            SubjectDomain.subject_id.in_(list(subject_ids))
        )
    )
    for sid, domain in rows:
        out[sid].append(domain)
    return out


def views(session: Session, subjects: Sequence[Subject]) -> list[SubjectView]:
    domains = domains_of(session, [s.id for s in subjects])
    return [_view(s, domains[s.id]) for s in subjects]


def view(session: Session, subject: Subject) -> SubjectView:
    return views(session, [subject])[0]


# ---------------------------------------------------------------- scope


def can_read(principal: Principal, subject: Subject) -> bool:
    if principal.is_regulator:
        return principal.covers(subject.region)
    if principal.is_operator:
        return (
            principal.organisation_id is not None
            and subject.organisation_id == principal.organisation_id
        )
    return False


def require_editor(principal: Principal) -> None:
    if principal.is_operator:
        raise forbidden(
            "operator_read_only",
            "platform operators cannot change the ledger",
            "平台运营者只能查看本单位的台账主体，不能修改台账。",
        )
    if not principal.has(*EDIT_ROLES):
        raise forbidden(
            "forbidden_role",
            "keeping the ledger needs the role admin, officer or analyst",
            "维护台账需要系统管理员、办案人员或研判人员角色。",
        )


def _require_reader(principal: Principal) -> None:
    if not (principal.is_regulator or principal.is_operator):
        raise forbidden("forbidden_role", "no role that reads the ledger", "您的角色无权查看台账。")


def _out_of_scope(principal: Principal) -> ServiceError:
    if principal.is_operator:
        return forbidden(
            "not_own_subject",
            "the subject is not linked to the operator's organisation",
            "该台账主体不属于您所在的运营主体。",
        )
    return forbidden(
        "out_of_jurisdiction",
        f"the subject lies outside {principal.jurisdiction}",
        "该台账主体不在您的管辖范围内。",
    )


def load_subject(
    session: Session, principal: Principal, subject_id: int, *, lock: bool = False
) -> Subject:
    """The subject if it exists (404) and the principal may see it (403)."""
    _require_reader(principal)
    subject = session.get(Subject, subject_id, with_for_update=lock)
    if subject is None:
        raise not_found("subject", "台账主体", subject_id)
    if not can_read(principal, subject):
        raise _out_of_scope(principal)
    return subject


def _within(code: str) -> ColumnElement[bool]:
    """Subjects whose region lies in division `code` (the rule of `division_covers`)."""
    level = division_level(code)
    if level is DivisionLevel.national:
        return true()
    if level is DivisionLevel.province:
        return Subject.region.startswith(code[:2], autoescape=True)
    if level is DivisionLevel.city:
        return Subject.region.startswith(code[:4], autoescape=True)
    return Subject.region == code


def scope_clause(principal: Principal) -> ColumnElement[bool]:
    """What the principal may see, as a WHERE clause."""
    if principal.is_regulator:
        return _within(principal.jurisdiction)
    if principal.is_operator and principal.organisation_id is not None:
        return Subject.organisation_id == principal.organisation_id
    _require_reader(principal)
    return false()


# ---------------------------------------------------------------- validation and links


def ledger_error(exc: core.LedgerError) -> ServiceError:
    """The core's refusal as a 422 with one `errors` entry per field (pointer/type/detail)."""
    return invalid(
        "invalid_subject",
        str(exc),
        exc.message_zh,
        errors=[
            {"pointer": f"#/{e.field}", "type": e.code, "detail": e.message_zh} for e in exc.errors
        ],
    )


def validate(fields: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return core.validate_subject(fields)
    except core.LedgerError as exc:
        raise ledger_error(exc) from None


def _field_refusal(field_name: str, code: str, message: str, message_zh: str) -> ServiceError:
    return invalid(
        code,
        message,
        message_zh,
        errors=[{"pointer": f"#/{field_name}", "type": code, "detail": message_zh}],
    )


def resolve_links(
    session: Session, record: dict[str, Any], org_ids: dict[str, int | None] | None = None
) -> dict[str, Any]:
    """Check `organisation_id`, link by USCC, default the operator's name (see module doc).

    `org_ids` caches USCC → organisation id for a batch (an import) that creates none.
    """
    org: Organisation | None = None
    if record["organisation_id"] is not None:
        org = session.get(Organisation, record["organisation_id"])
        if org is None:
            raise _field_refusal(
                "organisation_id",
                "unknown_organisation",
                f"no organisation {record['organisation_id']}",
                "机构编号不存在，请先登记该运营主体。",
            )
    elif record["uscc"]:
        cache = org_ids if org_ids is not None else {}
        if record["uscc"] not in cache:
            cache[record["uscc"]] = session.execute(
                select(Organisation.id).where(Organisation.uscc == record["uscc"])
            ).scalar_one_or_none()
        org_id = cache[record["uscc"]]
        if org_id is not None:
            org = session.get(Organisation, org_id)
            record["organisation_id"] = org_id
    if org is not None:
        if org.uscc and record["uscc"] and org.uscc != record["uscc"]:
            raise _field_refusal(
                "uscc",
                "uscc_mismatch",
                f"USCC differs from organisation {org.id}'s",
                f"统一社会信用代码与所关联机构（{org.name}）登记的不一致。",
            )
        if record["operator_name"] is None:
            record["operator_name"] = org.name
    return record


def _domains_taken(session: Session, domains: Sequence[str], subject_id: int | None) -> None:
    if not domains:
        return
    owners = session.execute(
        select(SubjectDomain.domain, SubjectDomain.subject_id)
        .where(SubjectDomain.domain.in_(list(domains)))
        .order_by(SubjectDomain.domain)
    ).all()
    for domain, owner in owners:
        if owner != subject_id:
            raise domain_taken(domain, owner)


def domain_taken(domain: str, owner: int | None) -> ServiceError:
    where = f"（编号 {owner}）" if owner is not None else ""
    message_zh = (
        f"域名 {_unicode(domain)} 已登记在其他台账主体{where}名下，一个域名只能属于一个主体。"
    )
    return ServiceError(
        "conflict",
        "domain_taken",
        f"domain {domain} belongs to subject {owner}",
        message_zh,
        errors=[{"pointer": "#/domains", "type": "domain_taken", "detail": message_zh}],
        **({"subject_id": owner} if owner is not None else {}),
    )


def _write_domains(
    session: Session, subject_id: int, old: Sequence[str], new: Sequence[str]
) -> None:
    removed = sorted(set(old) - set(new))
    added = sorted(set(new) - set(old))
    if removed:
        session.execute(
            SubjectDomain.__table__.delete().where(
                and_(SubjectDomain.subject_id == subject_id, SubjectDomain.domain.in_(removed))
            )
        )
    if not added:
        return
    try:
        session.execute(
            insert(SubjectDomain), [{"domain": d, "subject_id": subject_id} for d in added]
        )
    except IntegrityError:
        # Another writer claimed it since `_domains_taken` looked; the caller's transaction
        # (or an import row's savepoint) is rolled back with this refusal.
        raise domain_taken(added[0], None) from None


def _record_of(subject: Subject, domains: Sequence[str]) -> dict[str, Any]:
    record = {name: getattr(subject, name) for name in _COLUMNS}
    record["education_app"] = bool(record["education_app"])
    record["school_cooperation"] = bool(record["school_cooperation"])
    record["domains"] = sorted(domains)
    return {name: record[name] for name in core.FIELDS}


def _stale(subject: Subject, version: int) -> ServiceError:
    return ServiceError(
        "conflict",
        "stale_version",
        f"subject {subject.id} is at version {subject.version}, not {version}",
        f"该台账主体已被他人修改（当前版本 {subject.version}，您提交的是版本 {version}），"
        "请刷新后重试。",
        current_version=subject.version,
    )


# ---------------------------------------------------------------- commands


def create_subject(
    session: Session,
    principal: Principal,
    fields: Mapping[str, Any],
    *,
    at: datetime,
    org_ids: dict[str, int | None] | None = None,
) -> SubjectView:
    """A new subject (version 1) with its `ledger.subject_created` event."""
    require_editor(principal)
    record = resolve_links(session, validate(fields), org_ids)
    principal.require_covers(record["region"])
    _domains_taken(session, record["domains"], None)
    subject = Subject(
        **{name: record[name] for name in _COLUMNS},
        active=True,
        version=1,
        created_at=at,
        updated_at=at,
    )
    session.add(subject)
    session.flush()
    _write_domains(session, subject.id, [], record["domains"])
    audit_log.record(
        session,
        at=at,
        actor=principal.actor_id,
        kind="ledger.subject_created",
        subject=f"subject:{subject.id}",
        payload={
            "subject_type": record["kind"],
            "fields": {k: v for k, v in record.items() if k != "kind"},
        },
    )
    return _view(subject, record["domains"])


def update_subject(
    session: Session,
    principal: Principal,
    subject_id: int,
    changes: Mapping[str, Any],
    *,
    version: int,
    at: datetime,
    org_ids: dict[str, int | None] | None = None,
) -> tuple[SubjectView, dict[str, dict[str, Any]]]:
    """Apply `changes` (fields to replace; None clears) if `version` is still current.

    Returns the subject and the changes made ({} when the values were already so: then
    neither the version nor the log moves).
    """
    require_editor(principal)
    subject = load_subject(session, principal, subject_id, lock=True)
    if subject.version != version:
        raise _stale(subject, version)
    old_domains = domains_of(session, [subject.id])[subject.id]
    old = _record_of(subject, old_domains)
    new = resolve_links(session, validate({**old, **changes}), org_ids)
    principal.require_covers(new["region"])
    diff = core.changes_between(old, new)
    if not diff:
        return _view(subject, old_domains), {}
    _domains_taken(session, sorted(set(new["domains"]) - set(old_domains)), subject.id)
    for name in _COLUMNS:
        setattr(subject, name, new[name])
    subject.version += 1
    subject.updated_at = at
    session.flush()
    _write_domains(session, subject.id, old_domains, new["domains"])
    audit_log.record(
        session,
        at=at,
        actor=principal.actor_id,
        kind="ledger.subject_updated",
        subject=f"subject:{subject.id}",
        payload={"changes": diff},
    )
    return _view(subject, new["domains"]), diff


def set_active(
    session: Session,
    principal: Principal,
    subject_id: int,
    *,
    active: bool,
    version: int,
    reason: str | None,
    at: datetime,
) -> SubjectView:
    """Deactivate (closed, delisted, merged) or reactivate a subject; it is never deleted."""
    require_editor(principal)
    try:
        reason = core.parse_field("notes", reason)
    except core.LedgerError as exc:
        raise invalid("bad_reason", str(exc), exc.errors[0].message_zh) from None
    if reason is not None and len(reason) > MAX_REASON:
        raise invalid("bad_reason", "reason too long", f"原因过长：最多{MAX_REASON}个字符。")
    subject = load_subject(session, principal, subject_id, lock=True)
    if subject.version != version:
        raise _stale(subject, version)
    if bool(subject.active) == active:
        state = "在用" if active else "停用"
        raise conflict(
            "already_active" if active else "already_inactive",
            f"subject {subject.id} is already {'active' if active else 'inactive'}",
            f"该台账主体已是“{state}”状态。",
        )
    subject.active = active
    subject.version += 1
    subject.updated_at = at
    session.flush()
    audit_log.record(
        session,
        at=at,
        actor=principal.actor_id,
        kind="ledger.subject_reactivated" if active else "ledger.subject_deactivated",
        subject=f"subject:{subject.id}",
        payload={"reason": reason},
    )
    return view(session, subject)


# ---------------------------------------------------------------- queries


def get_subject(session: Session, principal: Principal, subject_id: int) -> SubjectView:
    return view(session, load_subject(session, principal, subject_id))


def history(session: Session, principal: Principal, subject_id: int) -> list[HistoryEntry]:
    """The subject's audit events, oldest first: creation with every field, then each change."""
    load_subject(session, principal, subject_id)
    return [
        HistoryEntry(r.seq, r.at, r.actor, r.kind, dict(r.payload))
        for r in audit_log.records_for(session, f"subject:{subject_id}")
    ]


def _choice_filter(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return core.parse_field(name, value)
    except core.LedgerError as exc:
        raise _field_refusal(name, f"bad_{name}", str(exc), exc.errors[0].message_zh) from None


def _query_text(q: str | None) -> str | None:
    if q is None:
        return None
    if any(not ch.isprintable() for ch in q):
        raise invalid("bad_query", "query has control characters", "搜索词含有无效字符。")
    text = " ".join(q.split())
    if len(text) > MAX_QUERY:
        raise invalid("bad_query", "query too long", f"搜索词过长：最多{MAX_QUERY}个字符。")
    return text or None


def filter_clauses(principal: Principal, filters: SubjectFilter) -> list[ColumnElement[bool]]:
    """WHERE clauses for `filters` inside the principal's scope (422 on bad values)."""
    clauses = [scope_clause(principal)]
    if filters.region is not None:
        try:
            region = normalize_division(filters.region)
        except IdentifierError as exc:
            raise _field_refusal("region", "bad_region", str(exc), exc.message_zh) from None
        if principal.is_regulator and not principal.covers(region):
            if not division_covers(region, principal.jurisdiction):
                raise forbidden(
                    "out_of_jurisdiction",
                    f"{region} is outside {principal.jurisdiction}",
                    "所选地区不在您的管辖范围内。",
                )
            # A wider region than the jurisdiction: the scope clause already narrows it.
        else:
            clauses.append(_within(region))
    kind = _choice_filter("kind", filters.kind)
    if kind is not None:
        clauses.append(Subject.kind == kind)
    for name, column in (
        ("risk_level", Subject.risk_level),
        ("youth_mode", Subject.youth_mode),
        ("anti_addiction", Subject.anti_addiction),
        ("category", Subject.category),
    ):
        value = _choice_filter(name, getattr(filters, name))
        if value is not None:
            clauses.append(column == value)
    if filters.education_app is not None:
        clauses.append(Subject.education_app.is_(filters.education_app))
    if filters.school_cooperation is not None:
        clauses.append(Subject.school_cooperation.is_(filters.school_cooperation))
    if filters.organisation_id is not None:
        clauses.append(Subject.organisation_id == filters.organisation_id)
    if filters.status == "active":
        clauses.append(Subject.active.is_(True))
    elif filters.status == "inactive":
        clauses.append(Subject.active.is_(False))
    elif filters.status != "all":
        raise invalid(
            "bad_status", "status: active, inactive or all", "状态应为 active、inactive 或 all。"
        )
    q = _query_text(filters.q)
    if q is not None:
        clauses.append(_search(q))
    return clauses


def _domain_query(q: str) -> str:
    """`q` as it would appear in a stored (A-label) domain: whole Unicode labels encoded."""
    with contextlib.suppress(IdentifierError, TypeError):
        return normalize_domain(q)
    parts = []
    for label in q.lower().replace("。", ".").split("."):
        if not label.isascii():
            with contextlib.suppress(UnicodeError):
                label = label.encode("idna").decode("ascii")
        parts.append(label)
    return ".".join(parts)


def _search(q: str) -> ColumnElement[bool]:
    """Substring of the name, operator, ICP number or a domain (Unicode or A-label); USCC."""
    domain_q = _domain_query(q)
    in_domains = exists(
        select(SubjectDomain.subject_id).where(
            SubjectDomain.subject_id == Subject.id,
            SubjectDomain.domain.contains(domain_q, autoescape=True),
        )
    )
    return or_(
        Subject.name.icontains(q, autoescape=True),
        Subject.operator_name.icontains(q, autoescape=True),
        Subject.icp_filing.icontains(q, autoescape=True),
        Subject.uscc == q.upper(),
        in_domains,
    )


_CURSOR = re.compile(r"s1:([0-9]{1,10})")


def encode_cursor(last_id: int) -> str:
    return cursors.encode(f"s1:{last_id}")


def decode_cursor(cursor: str) -> int:
    bad = invalid(
        "bad_cursor", "malformed cursor", "分页游标无效，请使用上一页返回的 next_cursor。"
    )
    m = cursors.decode(cursor, _CURSOR, bad, 64)
    if int(m[1]) > core.MAX_ID:
        raise bad
    return int(m[1])


def list_subjects(
    session: Session,
    principal: Principal,
    filters: SubjectFilter,
    *,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    cursor: str | None = None,
) -> SubjectPage:
    """One page of the visible subjects matching `filters`, by id; `total` counts them all.

    Page with `offset`, or (faster on large ledgers) with the `next_cursor` of the previous
    page; not both.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid("bad_limit", "limit out of range", f"每页条数应在1至{MAX_LIMIT}之间。")
    if not 0 <= offset <= MAX_OFFSET:
        raise invalid("bad_offset", "offset out of range", f"偏移量应在0至{MAX_OFFSET}之间。")
    if cursor is not None and offset:
        raise invalid(
            "cursor_and_offset", "use cursor or offset, not both", "cursor 与 offset 只能使用其一。"
        )
    clauses = filter_clauses(principal, filters)
    total = session.execute(select(func.count()).select_from(Subject).where(*clauses)).scalar_one()
    query = select(Subject).where(*clauses)
    if cursor is not None:
        query = query.where(Subject.id > decode_cursor(cursor))
    rows = list(
        session.execute(query.order_by(Subject.id).offset(offset).limit(limit + 1)).scalars()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return SubjectPage(
        items=views(session, rows),
        total=total,
        limit=limit,
        offset=offset,
        next_cursor=encode_cursor(rows[-1].id) if more and rows else None,
    )


def iter_subjects(
    session: Session, principal: Principal, filters: SubjectFilter, *, batch: int = 500
) -> Iterator[SubjectView]:
    """Every visible subject matching `filters`, by id, read in batches (for exports)."""
    clauses = filter_clauses(principal, filters)
    last = 0
    while True:
        rows = list(
            session.execute(
                select(Subject).where(*clauses, Subject.id > last).order_by(Subject.id).limit(batch)
            ).scalars()
        )
        if not rows:
            return
        yield from views(session, rows)
        last = rows[-1].id
        session.expunge_all()


def count_subjects(session: Session, principal: Principal, filters: SubjectFilter) -> int:
    clauses = filter_clauses(principal, filters)
    return session.execute(select(func.count()).select_from(Subject).where(*clauses)).scalar_one()


# ---------------------------------------------------------------- lookup (for intake)


def _host_candidates(value: str) -> list[str]:
    """The host of `value` (a domain or a URL) and its parents down to two labels."""
    try:
        host = domain_of_url(value) if ("/" in value or ":" in value) else normalize_domain(value)
    except (IdentifierError, TypeError):
        return []
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def _by_domain(session: Session, value: str) -> Subject | None:
    candidates = _host_candidates(value)
    if not candidates:
        return None
    owners = dict(
        session.execute(
            select(SubjectDomain.domain, SubjectDomain.subject_id).where(
                SubjectDomain.domain.in_(candidates)
            )
        ).all()
    )
    for host in candidates:  # most specific first: m.example.cn before example.cn
        if host in owners:
            return session.get(Subject, owners[host])
    return None


def _prefer_one(subjects: Sequence[Subject]) -> Subject | None:
    """The one subject meant, if there is exactly one (active ones preferred)."""
    active = [s for s in subjects if s.active]
    pool = active or list(subjects)
    return pool[0] if len(pool) == 1 else None


def _by_icp(session: Session, value: str) -> Subject | None:
    try:
        icp = core.normalize_subject_icp(value)
        main = parse_icp_filing(icp.rstrip(core.APP_FILING_SUFFIXES)).main
    except (IdentifierError, TypeError):
        return None
    exact = list(session.execute(select(Subject).where(Subject.icp_filing == icp)).scalars())
    if exact:
        return _prefer_one(exact)
    # "京ICP备12345678号-3" seen on a page: the ledger may hold the filer's main number, or
    # one site of it; all sites of one filer share the main number.
    related = list(
        session.execute(
            select(Subject).where(
                or_(
                    Subject.icp_filing == main,
                    Subject.icp_filing.startswith(main + "-", autoescape=True),
                )
            )
        ).scalars()
    )
    return _prefer_one(related)


def _by_name(session: Session, value: str) -> Subject | None:
    try:
        name = core.parse_field("name", value)
    except core.LedgerError:
        return None
    if name is None:
        return None
    return _prefer_one(list(session.execute(select(Subject).where(Subject.name == name)).scalars()))


def find_subject(
    session: Session,
    *,
    domain: str | None = None,
    icp: str | None = None,
    name: str | None = None,
) -> Subject | None:
    """The ledger subject a report is about, or None; no scope (intake links system-wide).

    Tried in order, first hit wins: the domain (a bare domain or a URL; its most specific
    registered parent: "m.example.cn" finds the owner of "example.cn"), the ICP filing number
    (exact, else the one subject filed under the same main number), the exact name (only
    when one subject has it). Malformed inputs find nothing; they never raise. Inactive
    subjects are found too (a closed site that reappears is news).
    """
    if domain:
        found = _by_domain(session, domain)
        if found is not None:
            return found
    if icp:
        found = _by_icp(session, icp)
        if found is not None:
            return found
    if name:
        return _by_name(session, name)
    return None


def lookup_subject(
    session: Session,
    principal: Principal,
    *,
    domain: str | None = None,
    icp: str | None = None,
    name: str | None = None,
) -> SubjectView:
    """`find_subject` within the principal's scope (404 when nothing visible matches)."""
    _require_reader(principal)
    if not (domain or icp or name):
        raise invalid(
            "lookup_needs_key", "give domain, icp or name", "请提供域名、ICP备案号或名称之一。"
        )
    found = find_subject(session, domain=domain, icp=icp, name=name)
    if found is None or not can_read(principal, found):
        raise not_found("subject", "台账主体", domain or icp or name)
    return view(session, found)
