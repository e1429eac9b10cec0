"""Schemas of intake (tips, self-reports, patrol findings, hand-offs) and of evidence."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from qinglang.govern import intake as rules
from qinglang.web.schemas.reports import AttachmentCreate

IntakeSourceName = StrEnum(  # type: ignore[misc]
    "IntakeSourceName", {name: name for name in rules.registered_sources()}
)
IntakeSourceName.__doc__ = "; ".join(
    f"{name}: {src.name_zh}" for name, src in rules.registered_sources().items()
)


class IntakeCreate(BaseModel):
    """An arrival filed by a logged-in user. Who may file which source, and what each needs:
    public_tip (officers entering a hotline tip: text or URL), self_report (platform operators:
    title, text, discovered_at), patrol (officer, analyst, leader: a URL or an attachment),
    handoff (officer, analyst, leader: title, text, category)."""

    model_config = ConfigDict(extra="forbid")
    source: IntakeSourceName
    title: str | None = Field(default=None, max_length=1000, examples=["发现涉未成年人不良信息"])
    text: str | None = Field(default=None, description="Description (情况说明).")
    urls: list[str] = Field(default_factory=list)
    attachments: list[AttachmentCreate] = Field(default_factory=list)
    category: str | None = Field(
        default=None, max_length=64, description="Category or violation code (GET /taxonomy)."
    )
    jurisdiction: str | None = Field(
        default=None,
        max_length=12,
        description="Division code; default: the filer's (regulators must cover it).",
    )
    discovered_at: datetime | None = Field(
        default=None,
        description="When the problem was discovered, with a time zone (self-reports: required; "
        "the reporting deadline runs from it).",
        examples=["2020-11-30T10:00:00+08:00"],
    )
    subject_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="Ledger subject.")
    platform: str | None = Field(
        default=None, max_length=1000, description="Subject name, to link the ledger by name."
    )
    icp: str | None = Field(default=None, max_length=200, description="ICP filing number.")


class IntakeReceiptPublic(BaseModel):
    id: int
    ticket: str
    source: str
    status: str = Field(description="lead (a new lead) or merged (joined an open lead)")
    case_id: int
    case_state: str
    merged_by: str | None = Field(description="url or content_hash when merged")
    flags: list[str]
    subject_id: int | None
    received_at: datetime


class CategoryPublic(BaseModel):
    code: str
    score: float | None = Field(description="Triage score 0-1; null for a declared category")
    by: str = Field(description="triage (the detection engine) or filer (declared)")


class AttachmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    digest: str = Field(description="SHA-256 of the bytes; GET /api/v1/evidence/{digest}")
    name: str
    media_type: str
    size: int


class IntakeSummary(BaseModel):
    id: int
    ticket: str
    source: str
    source_zh: str
    status: str
    title: str | None
    snippet: str | None = Field(description="The start of the (redacted) text")
    urls: list[str]
    categories: list[CategoryPublic]
    verdict: str | None
    flags: list[str]
    subject_id: int | None
    case_id: int | None
    case_state: str | None
    jurisdiction: str
    organisation_id: int | None
    discovered_at: datetime | None
    deadline_at: datetime | None
    received_at: datetime


class IntakePublic(IntakeSummary):
    text: str | None = Field(description="Resident ID and mobile numbers are redacted")
    created_by: str
    attachments: list[AttachmentPublic]


class IntakePage(BaseModel):
    items: list[IntakeSummary]
    total: int
    limit: int
    offset: int


SNIPPET_CHARS = 120


def _categories(stored: Any) -> list[dict[str, Any]]:
    """Stored categories as CategoryPublic fields; a bare code (rows written by other tools)
    reads as a triage suggestion without a score."""
    out = []
    for entry in stored or []:
        if isinstance(entry, str):
            out.append({"code": entry, "score": None, "by": "triage"})
        elif isinstance(entry, dict) and isinstance(entry.get("code"), str):
            score = entry.get("score")
            out.append(
                {
                    "code": entry["code"],
                    "score": score if isinstance(score, int | float) else None,
                    "by": entry.get("by") if entry.get("by") in ("triage", "filer") else "triage",
                }
            )
    return out


def summary_fields(item: Any, case_state: str | None) -> dict[str, Any]:
    sources = rules.registered_sources()
    text = item.text or None
    return {
        "id": item.id,
        "ticket": item.ticket,
        "source": item.source,
        "source_zh": sources[item.source].name_zh if item.source in sources else item.source,
        "status": item.status,
        "title": item.title,
        "snippet": text[:SNIPPET_CHARS] if text else None,
        "urls": list(item.urls or []),
        "categories": _categories(item.categories),
        "verdict": item.verdict,
        "flags": list(item.flags or []),
        "subject_id": item.subject_id,
        "case_id": item.case_id,
        "case_state": case_state,
        "jurisdiction": item.jurisdiction,
        "organisation_id": item.organisation_id,
        "discovered_at": item.discovered_at,
        "deadline_at": item.deadline_at,
        "received_at": item.received_at,
    }
