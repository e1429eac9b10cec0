"""The governance database: SQLAlchemy 2 tables for SQLite and PostgreSQL.

Rows hold what the pure core (`qinglang.govern`) returns; services in `qinglang.services` move
values between the two. Conventions:

- times are `UTCDateTime` (aware UTC in Python); calendar days (deadlines) are `Date`, read
  as China calendar days;
- money is NUMERIC(14, 2) via dispositions' parameters (JSON strings), never float;
- lists and parameter maps are `JSONDoc` (JSONB on PostgreSQL);
- no raw resident ID number is stored anywhere: intake text is screened and redacted before
  it is kept (see `qinglang.services.intake`).

Schema changes go through Alembic (`src/qinglang/store/migrations`); a test checks that the
migrations and these models agree.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from qinglang.store.types import JSONDoc, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads it as class data)
        datetime: UTCDateTime(),
        dict[str, Any]: JSONDoc,
        list[Any]: JSONDoc,
    }


# ---------------------------------------------------------------- organisations and access


class Organisation(Base):
    """A platform operator (the company behind sites, apps and games in the ledger)."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    region: Mapped[str | None] = mapped_column(String(6))
    created_at: Mapped[datetime]


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    roles: Mapped[list[Any]]
    department: Mapped[str | None] = mapped_column(String(32))
    jurisdiction: Mapped[str] = mapped_column(String(6))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class UserSession(Base):
    """A browser login; `id` is the SHA-256 of the cookie value (the cookie is never stored)."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class ApiToken(Base):
    """A bearer token for machines; only its SHA-256 is stored, `prefix` identifies it."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


# ---------------------------------------------------------------- ledger (台账)


class Subject(Base):
    """A supervised subject: website, app, online game, live/video platform, account, group."""

    __tablename__ = "subjects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    operator_name: Mapped[str | None] = mapped_column(String(200))
    uscc: Mapped[str | None] = mapped_column(String(18), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    icp_filing: Mapped[str | None] = mapped_column(String(64), index=True)
    region: Mapped[str] = mapped_column(String(6), index=True)
    category: Mapped[str | None] = mapped_column(String(32))
    education_app: Mapped[bool] = mapped_column(Boolean, default=False)
    school_cooperation: Mapped[bool] = mapped_column(Boolean, default=False)
    game_approval_no: Mapped[str | None] = mapped_column(String(64))
    youth_mode: Mapped[str] = mapped_column(String(16), default="unknown")
    anti_addiction: Mapped[str] = mapped_column(String(16), default="unknown")
    risk_level: Mapped[str] = mapped_column(String(16), default="unknown")
    platform_url: Mapped[str | None] = mapped_column(String(2048))
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SubjectDomain(Base):
    """One registrable domain of a subject (IDNA A-label, lower case); a domain has one owner."""

    __tablename__ = "subject_domains"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    subject_id: Mapped[int] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), index=True
    )


# ---------------------------------------------------------------- evidence


class Blob(Base):
    """Metadata of a content-addressed piece of evidence; bytes live in the blob store."""

    __tablename__ = "blobs"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


# ---------------------------------------------------------------- intake


class IntakeItem(Base):
    """One arrival: a public tip, a platform self-report, a patrol finding or a hand-off."""

    __tablename__ = "intake_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket: Mapped[str] = mapped_column(String(40), unique=True)
    source: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    title: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str | None] = mapped_column(Text)
    urls: Mapped[list[Any]]
    content_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    target_key: Mapped[str | None] = mapped_column(String(300))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    jurisdiction: Mapped[str] = mapped_column(String(6))
    categories: Mapped[list[Any]]  # suggested by Detector triage, strongest first
    verdict: Mapped[str | None] = mapped_column(String(8))
    flags: Mapped[list[Any]]  # flood, coordinated, duplicate, late ...
    client_hash: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    discovered_at: Mapped[datetime | None]
    deadline_at: Mapped[datetime | None]
    public_result: Mapped[str | None] = mapped_column(Text)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    campaign_task: Mapped[str | None] = mapped_column(String(16))
    received_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_intake_items_target_received", "target_key", "received_at"),)


class IntakeUrl(Base):
    """A normalised URL of an intake item, indexed for deduplication."""

    __tablename__ = "intake_urls"

    intake_id: Mapped[int] = mapped_column(
        ForeignKey("intake_items.id", ondelete="CASCADE"), primary_key=True
    )
    url_key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the URL

    __table_args__ = (Index("ix_intake_urls_url_key", "url_key"),)


class IntakeAttachment(Base):
    __tablename__ = "intake_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    intake_id: Mapped[int] = mapped_column(
        ForeignKey("intake_items.id", ondelete="CASCADE"), index=True
    )
    digest: Mapped[str] = mapped_column(ForeignKey("blobs.digest"))
    name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)


# ---------------------------------------------------------------- cases


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(Text)
    grounds: Mapped[list[Any]]
    primary_ground: Mapped[str] = mapped_column(String(32))
    lead_department: Mapped[str] = mapped_column(String(32))
    co_departments: Mapped[list[Any]]
    jurisdiction: Mapped[str] = mapped_column(String(6))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"), index=True)
    source: Mapped[str | None] = mapped_column(String(16))  # intake source of its first item
    deadline: Mapped[date | None] = mapped_column(Date)  # rectification deadline, when set
    public_result: Mapped[str | None] = mapped_column(Text)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    campaign_task: Mapped[str | None] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_cases_state_updated", "state", "updated_at"),
        Index("ix_cases_updated", "updated_at"),
        Index("ix_cases_jurisdiction_updated", "jurisdiction", "updated_at"),
        Index("ix_cases_ground_updated", "primary_ground", "updated_at"),
        Index("ix_cases_state_deadline", "state", "deadline"),
        Index("ix_cases_campaign_created", "campaign_id", "created_at"),
    )


class CaseDepartment(Base):
    """Who may see a case: its lead department and each cooperating one."""

    __tablename__ = "case_departments"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    department: Mapped[str] = mapped_column(String(32), primary_key=True)
    is_lead: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime]  # copy of the case's, so scoped lists sort on one index

    __table_args__ = (Index("ix_case_departments_dept_updated", "department", "updated_at"),)


class CaseDispositionRow(Base):
    __tablename__ = "case_dispositions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # "<case id>/D<n>"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    n: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(32), index=True)
    params: Mapped[dict[str, Any]]  # JSON-native dump (DispositionSpec.dump)
    status: Mapped[str] = mapped_column(String(16))
    proposed_by: Mapped[str] = mapped_column(String(200))
    proposed_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("case_id", "n"),)


class CaseTask(Base):
    """Work a cooperating department does on a case (协办任务)."""

    __tablename__ = "case_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    department: Mapped[str] = mapped_column(String(32), index=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="open")
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(200))


class Notice(Base):
    """A rectification notice (整改通知) with approved dispositions, sent to an operator."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    disposition_ids: Mapped[list[Any]]
    deadline: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # sent | answered
    sent_by: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]


class Rectification(Base):
    """An operator's report back on a notice: what was done, with evidence digests."""

    __tablename__ = "rectifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    summary: Mapped[str] = mapped_column(Text)
    digests: Mapped[list[Any]]
    reported_by: Mapped[str] = mapped_column(String(200))
    reported_at: Mapped[datetime]


# ---------------------------------------------------------------- campaigns and disclosure


class Campaign(Base):
    """A campaign (专项行动): its plan (`qinglang.govern.campaigns.CampaignPlan`) as columns.

    `stages` is [{"n", "name", "deadline"}], `tasks` is [{"code", "name", "lead", "co",
    "grounds"}]; cases and intake items point at a campaign and one task code.
    """

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    template: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str | None] = mapped_column(String(200))
    jurisdiction: Mapped[str] = mapped_column(String(6), index=True)
    departments: Mapped[list[Any]]
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    stages: Mapped[list[Any]]
    tasks: Mapped[list[Any]]
    public: Mapped[bool] = mapped_column(Boolean, default=False)  # progress on the public page
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CampaignReport(Base):
    """A department's progress report (工作进展) for one stage, with figures by counter code."""

    __tablename__ = "campaign_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[int] = mapped_column(Integer)
    department: Mapped[str] = mapped_column(String(32))
    jurisdiction: Mapped[str] = mapped_column(String(6))
    task_code: Mapped[str | None] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    figures: Mapped[dict[str, Any]]
    reported_by: Mapped[str] = mapped_column(String(200))
    reported_at: Mapped[datetime]


class Publication(Base):
    """A typical case published on the disclosure page (曝光台): only the public fields.

    `body` is the text written for the public; `fields` names which of the case's fields are
    shown (subject, grounds, dispositions, region, result). Withdrawn ones stay for the record.
    """

    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    jurisdiction: Mapped[str] = mapped_column(String(6))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    fields: Mapped[list[Any]]
    published_by: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by: Mapped[str | None] = mapped_column(String(200))


# ---------------------------------------------------------------- statistics tallies


class CaseTally(Base):
    """How many cases of a campaign (0: none) in a region have a value of one dimension.

    Kept up to date as cases are written (`qinglang.services.tallies`), so the dashboard reads
    a few hundred rows instead of every case. `region` is the case's city (`XXXX00`; a
    province's or the nation's own code stays as it is); `dimension` is one of
    `qinglang.govern.tallies.DIMENSIONS`; `value` is '' for a null. Rows at 0 may remain.
    """

    __tablename__ = "case_tallies"

    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    region: Mapped[str] = mapped_column(String(6), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class DispositionTally(Base):
    """Approved dispositions of one kind on the cases of a campaign in a region: how many, and
    the sums of the parameters the counters add up (a count, an amount in fen)."""

    __tablename__ = "disposition_tallies"

    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    region: Mapped[str] = mapped_column(String(6), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)
    count_sum: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)


class DispositionMember(Base):
    """A subject (`s<id>`) or case (`c<id>`) a `distinct_*` counter counts once, and how many
    approved dispositions put it there (it counts while `n` > 0)."""

    __tablename__ = "disposition_distinct"

    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    region: Mapped[str] = mapped_column(String(6), primary_key=True)
    counter: Mapped[str] = mapped_column(String(32), primary_key=True)
    member: Mapped[str] = mapped_column(String(24), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


# ---------------------------------------------------------------- audit log


class AuditRow(Base):
    """One record of the hash-chained audit log (`qinglang.store.audit_chain`); append-only."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(320), index=True)
    payload: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The newest (seq, hash) of the log, one row: writers lock it to append in order."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


# ---------------------------------------------------------------- guard (minor protection)
#
# No raw resident ID number is stored: a natural person is known by a `person_key`, the NPPA
# `pi` (38 characters: birth date in base 26 + 32 characters), either issued by the national
# system or derived by Qinglang from a keyed hash of the ID number (`qinglang.guard.pi`).


class GuardPlatform(Base):
    """A platform calling /api/v1/guard with an API key (only the key's SHA-256 is stored)."""

    __tablename__ = "guard_platforms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # game | video | live
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class GuardProfile(Base):
    """A platform account of a person: which natural person, born when (no ID number kept)."""

    __tablename__ = "guard_profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("guard_platforms.id", ondelete="CASCADE"))
    account: Mapped[str] = mapped_column(String(64))
    person_key: Mapped[str] = mapped_column(String(38), index=True)
    birth_date: Mapped[date]
    sex: Mapped[str | None] = mapped_column(String(8))
    verified_via: Mapped[str] = mapped_column(String(16))  # id_number | pi
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("platform_id", "account"),)


class GuardianLink(Base):
    """A guardian bound to a child (by pi); `limits` can only make the rules stricter."""

    __tablename__ = "guardian_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("guard_platforms.id", ondelete="CASCADE"))
    guardian: Mapped[str] = mapped_column(String(64))  # the guardian's account on the platform
    person_key: Mapped[str] = mapped_column(String(38), index=True)
    limits: Mapped[dict[str, Any]]
    password_hash: Mapped[str | None] = mapped_column(String(200))
    unlock_until: Mapped[datetime | None]
    unlock_seconds: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("platform_id", "guardian", "person_key"),)


class GuardPayment(Base):
    """The payment ledger: payments, tips and refunds in fen; `order_ref` makes retries safe."""

    __tablename__ = "guard_payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("guard_platforms.id", ondelete="CASCADE"))
    order_ref: Mapped[str] = mapped_column(String(64))
    person_key: Mapped[str] = mapped_column(String(38))
    kind: Mapped[str] = mapped_column(String(16))  # payment | tip | refund
    amount_fen: Mapped[int] = mapped_column(Integer)  # refunds are negative
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM, Asia/Shanghai
    refund_of: Mapped[int | None] = mapped_column(ForeignKey("guard_payments.id"))
    rule_set: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("platform_id", "order_ref"),
        Index("ix_guard_payments_person_month", "person_key", "month"),
    )


class GuardUsage(Base):
    """Seconds used per person, day (Asia/Shanghai) and platform kind, for reports."""

    __tablename__ = "guard_usage"

    person_key: Mapped[str] = mapped_column(String(38), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    platform_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    seconds: Mapped[int] = mapped_column(Integer, default=0)
    sessions: Mapped[int] = mapped_column(Integer, default=0)


class GuardAlert(Base):
    """An alert for guardians: curfew attempts, blocked payments, limits reached."""

    __tablename__ = "guard_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_key: Mapped[str] = mapped_column(String(38), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]]
    at: Mapped[datetime]


class CalendarOverride(Base):
    """A day whose status the operator sets by hand (a new State Council schedule, a fix)."""

    __tablename__ = "guard_calendar_overrides"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # holiday | workday | rest_day
    note: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class NppaPartner(Base):
    """A game company registered with the NPPA-compatible endpoint (appId, bizId, secretKey)."""

    __tablename__ = "nppa_partners"

    app_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    biz_id: Mapped[str] = mapped_column(String(32))
    secret_key: Mapped[str] = mapped_column(String(32))  # hex AES-128 key, shared like NPPA's
    name: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class NppaAuthRecord(Base):
    """A real-name check submitted under an `ai`; the ID number is kept only as a keyed hash."""

    __tablename__ = "nppa_auth_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app_id: Mapped[str] = mapped_column(String(32))
    ai: Mapped[str] = mapped_column(String(32))
    id_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)  # 0 success, 1 in progress, 2 failed
    pi: Mapped[str | None] = mapped_column(String(38))
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("app_id", "ai"),)


class NppaBehaviour(Base):
    """A login/logout event received on the NPPA-compatible endpoint (duplicates ignored)."""

    __tablename__ = "nppa_behaviours"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app_id: Mapped[str] = mapped_column(String(32))
    si: Mapped[str] = mapped_column(String(32))
    bt: Mapped[int] = mapped_column(Integer)
    ot: Mapped[int] = mapped_column(Integer)
    ct: Mapped[int] = mapped_column(Integer)
    di: Mapped[str | None] = mapped_column(String(32))
    pi: Mapped[str | None] = mapped_column(String(38))
    received_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("app_id", "si", "bt", "ot"),)
