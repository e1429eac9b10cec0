"""The disclosure page (曝光台): typical cases published by a leader, public fields only.

A publication shows its own title and text, written for the public, and only the fields of the
case the leader ticked (`PUBLIC_FIELDS`). What is never shown, whatever is ticked: who reported
it, the case summary, the evidence, the officers, the audit trail, internal notes. Only ended
cases (closed or transferred) or cases whose dispositions a leader approved may be published;
a withdrawn publication disappears from the page but stays on record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qinglang.govern.actors import Role
from qinglang.govern.identifiers import IdentifierError, normalize_division, provinces
from qinglang.services.errors import conflict, forbidden, invalid, not_found
from qinglang.services.principal import Principal
from qinglang.store import audit_log
from qinglang.store.audit_chain import STR, STR_LIST, EventKind, PayloadExample, register_kind
from qinglang.store.models import Case, CaseDispositionRow, Publication, Subject
from qinglang.taxonomy import get_taxonomy

# What a leader may choose to show, in display order, with the label of the public page.
PUBLIC_FIELDS: dict[str, str] = {
    "subject": "涉事平台",
    "region": "属地",
    "grounds": "问题类型",
    "dispositions": "处置措施",
    "result": "处理结果",
    "closed_at": "办结日期",
}
DEFAULT_FIELDS = ("subject", "region", "grounds", "dispositions", "result")
TITLE_MAX = 200
BODY_MAX = 5000
PAGE_MAX = 100
PUBLISHABLE_STATES = frozenset({"closed", "transferred", "rectifying", "rechecking"})


@register_kind
class CasePublished(EventKind):
    kind = "case.published"
    description = "A case was published as a typical case on the disclosure page."
    required = MappingProxyType({"title": STR, "fields": STR_LIST})
    examples = (
        PayloadExample({"title": "某平台未落实防沉迷", "fields": ["subject"]}, True),
        PayloadExample({"title": "", "fields": []}, False),
    )


@register_kind
class CasePublicationWithdrawn(EventKind):
    kind = "case.publication_withdrawn"
    description = "A typical case was taken off the disclosure page (it stays on record)."
    required = MappingProxyType({"reason": STR})
    examples = (
        PayloadExample({"reason": "信息有误，更正后重新发布"}, True),
        PayloadExample({}, False),
    )


@dataclass(frozen=True, slots=True)
class PublicField:
    code: str
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class PublicCase:
    """What the disclosure page shows of one typical case: nothing else leaves the database."""

    id: int
    title: str
    body: str
    published_at: datetime
    fields: list[PublicField]


def region_name(division: str) -> str:
    """The province's name for a division code ("310115" → "上海市"); national → "全国"."""
    if division == "100000":
        return "全国"
    province = provinces().get(division[:2])
    return province.name if province else division


def _ground_names(codes: Sequence[str]) -> str:
    return "、".join(map(get_taxonomy().ground_name, codes))


def _check_fields(fields: Sequence[str] | None) -> list[str]:
    chosen = list(DEFAULT_FIELDS if fields is None else dict.fromkeys(fields))
    unknown = [f for f in chosen if f not in PUBLIC_FIELDS]
    if unknown:
        raise invalid(
            "unknown_public_field",
            f"unknown public fields {unknown[:5]}",
            f"不能公开的字段：{'、'.join(str(u)[:20] for u in unknown[:5])}。",
            allowed=list(PUBLIC_FIELDS),
        )
    return [f for f in PUBLIC_FIELDS if f in chosen]


def _text(value: str | None, limit: int, code: str, what_zh: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > limit:
        raise invalid(code, f"{code} must be 1..{limit} characters", f"{what_zh}应为1至{limit}字。")
    return text


def publish(
    session: Session,
    principal: Principal,
    case_id: int,
    *,
    title: str,
    body: str,
    at: datetime,
    fields: Sequence[str] | None = None,
) -> Publication:
    """A leader of the case's lead department publishes it as a typical case."""
    from qinglang.services.cases import load_visible  # cases imports the store modules

    principal.require(Role.leader)
    row, _ = load_visible(session, principal, case_id)
    if principal.department != row.lead_department:
        raise forbidden(
            "not_lead_department",
            "only the lead department publishes a case",
            "只有牵头部门可以发布典型案例。",
        )
    if row.state not in PUBLISHABLE_STATES:
        raise conflict(
            "not_publishable",
            f"a case in state {row.state} cannot be published",
            "只有已下发整改通知或已办结、已移交的案件可以作为典型案例公开。",
        )
    chosen = _check_fields(fields)
    title = _text(title, TITLE_MAX, "bad_title", "标题")
    body = _text(body, BODY_MAX, "bad_body", "公开内容")
    live = session.scalar(
        select(func.count()).where(
            Publication.case_id == case_id, Publication.withdrawn_at.is_(None)
        )
    )
    if live:
        raise conflict("already_published", "the case is already published", "该案件已公开发布。")
    pub = Publication(
        case_id=case_id,
        campaign_id=row.campaign_id,
        jurisdiction=row.jurisdiction,
        title=title,
        body=body,
        fields=chosen,
        published_by=principal.actor_id,
        published_at=at,
        withdrawn_at=None,
        withdrawn_by=None,
    )
    session.add(pub)
    session.flush()
    audit_log.record(
        session,
        at=at,
        actor=principal.actor_id,
        kind=CasePublished.kind,
        subject=f"case:{case_id}",
        payload={"title": title, "fields": chosen},
    )
    return pub


def withdraw(
    session: Session, principal: Principal, publication_id: int, *, reason: str, at: datetime
) -> None:
    principal.require(Role.leader)
    pub = session.get(Publication, publication_id)
    if pub is None or pub.withdrawn_at is not None or not principal.covers(pub.jurisdiction):
        raise not_found("publication", "典型案例", publication_id)
    reason = _text(reason, 500, "bad_reason", "撤回理由")
    pub.withdrawn_at = at
    pub.withdrawn_by = principal.actor_id
    audit_log.record(
        session,
        at=at,
        actor=principal.actor_id,
        kind=CasePublicationWithdrawn.kind,
        subject=f"case:{pub.case_id}",
        payload={"reason": reason},
    )


def _public_view(session: Session, pub: Publication) -> PublicCase:
    case = session.get(Case, pub.case_id)
    assert case is not None  # the foreign key keeps it
    out: list[PublicField] = []
    for code in pub.fields:
        value: str | None = None
        if code == "subject" and case.subject_id is not None:
            subject = session.get(Subject, case.subject_id)
            value = subject.name if subject else None
        elif code == "region":
            value = region_name(case.jurisdiction)
        elif code == "grounds":
            value = _ground_names(case.grounds)
        elif code == "dispositions":
            from qinglang.services.cases import disposition_text

            rows = session.scalars(
                select(CaseDispositionRow)
                .where(
                    CaseDispositionRow.case_id == case.id, CaseDispositionRow.status == "approved"
                )
                .order_by(CaseDispositionRow.n)
            ).all()
            value = "；".join(disposition_text(r.code, r.params) for r in rows) or None
        elif code == "result":
            value = case.public_result
        elif code == "closed_at" and case.closed_at is not None:
            value = case.closed_at.date().isoformat()
        if value:
            out.append(PublicField(code, PUBLIC_FIELDS[code], value))
    return PublicCase(pub.id, pub.title, pub.body, pub.published_at, out)


def list_public(
    session: Session,
    *,
    jurisdiction: str | None = None,
    campaign_id: int | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[PublicCase], int]:
    """The published typical cases, newest first, and how many there are (no login needed)."""
    from qinglang.services.cases import within

    if not 1 <= limit <= PAGE_MAX or offset < 0:
        raise invalid("bad_page", "bad limit or offset", "分页参数无效。")
    stmt = select(Publication).where(Publication.withdrawn_at.is_(None))
    if campaign_id is not None:
        stmt = stmt.where(Publication.campaign_id == campaign_id)
    if jurisdiction is not None:
        try:
            jurisdiction = normalize_division(jurisdiction)
        except IdentifierError:
            raise invalid(
                "bad_jurisdiction", "unknown division", "地区代码无效，应为6位行政区划代码。"
            ) from None
        clause = within(Publication.jurisdiction, jurisdiction)
        if clause is not None:
            stmt = stmt.where(clause)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Publication.published_at.desc(), Publication.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [_public_view(session, r) for r in rows], total


def publications_of_case(session: Session, case_id: int) -> list[Publication]:
    return list(
        session.scalars(
            select(Publication).where(Publication.case_id == case_id).order_by(Publication.id)
        ).all()
    )
