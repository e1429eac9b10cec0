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
