"""Schemas of cases: requests (Create, Transition, Disposition, Decision, TaskDone) and the
public views of a case, its dispositions, tasks, notices and events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from qinglang.govern.cases import MAX_REASON, MAX_TARGET
from qinglang.services.cases import MAX_NOTE, MAX_PUBLIC_RESULT, MAX_SUMMARY, MAX_TITLE

INT_MAX = 2**31 - 1
Version = Field(
    default=None,
    ge=0,
    le=INT_MAX,
    description="The case version you saw (optimistic locking): 409 stale_case if it changed.",
)


# ---------------------------------------------------------------- requests


class CaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grounds: list[str] = Field(
        min_length=1,
        max_length=10,
        description="Category or violation codes (GET /api/v1/taxonomy), primary first.",
        examples=[["gambling"]],
    )
    jurisdiction: str = Field(min_length=2, max_length=12, examples=["410100"])
    title: str | None = Field(default=None, max_length=MAX_TITLE)
    summary: str | None = Field(default=None, max_length=MAX_SUMMARY)
    subject_id: int | None = Field(default=None, ge=1, le=INT_MAX, description="Ledger subject")
    lead: str | None = Field(
        default=None,
        max_length=32,
        description="Lead department overriding the task matrix (local plans differ).",
    )
    source: str = Field(default="patrol", max_length=16, description="patrol or handoff")
    reason: str | None = Field(default=None, max_length=MAX_REASON)


class TransitionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: str = Field(
        min_length=1,
        max_length=32,
        description=(
            "open, assess, dispose, notify, recheck, close, fail_recheck, dismiss, transfer"
        ),
        examples=["open"],
    )
    reason: str | None = Field(default=None, max_length=MAX_REASON)
    target: str | None = Field(
        default=None, max_length=MAX_TARGET, description="Who receives a transfer."
    )
    version: int | None = Version
    public_result: str | None = Field(
        default=None,
        max_length=MAX_PUBLIC_RESULT,
        description=(
            "What reporters see when the case ends (close, dismiss, transfer); required to "
            "close a case with public tips."
        ),
    )


class DispositionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=32, examples=["rectify"])
    params: dict[str, Any] = Field(
        default_factory=dict,
        max_length=10,
        description=(
            "Typed parameters of the kind: dates as YYYY-MM-DD, counts as integers, amounts "
            "in yuan as decimal strings (never floats)."
        ),
        examples=[{"deadline": "2020-11-30"}],
    )
    reason: str | None = Field(default=None, max_length=MAX_REASON)
    version: int | None = Version


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=MAX_REASON)
    version: int | None = Version


class TaskDone(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=MAX_NOTE)


# ---------------------------------------------------------------- views


class _View(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CaseSummaryPublic(_View):
    id: int
    state: str
    state_name: str
    title: str
    grounds: list[str]
    primary_ground: str
    lead_department: str
    co_departments: list[str]
    jurisdiction: str
    subject_id: int | None
    source: str | None
    deadline: date | None = Field(description="Rectification deadline (China calendar day).")
    overdue: bool | None
    version: int
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class CasePagePublic(_View):
    items: list[CaseSummaryPublic]
    has_more: bool
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
    total: int | None = Field(default=None, description="Only with total=true; capped.")
    total_exact: bool | None = Field(
        default=None, description="false: there are more than `total` cases."
    )


class ActionPublic(_View):
    action: str
    name: str
    to: str
    needs_reason: bool
    needs_target: bool


class DispositionPublic(_View):
    id: str
    n: int
    code: str
    name: str
    text: str
    params: dict[str, Any]
    status: str
    proposed_by: str
    proposed_by_name: str | None
    proposed_at: datetime
    decided_by: str | None
    decided_by_name: str | None
    decided_at: datetime | None
    decision_reason: str | None
    actions: list[str] = Field(description="approve / reject / withdraw the caller may take.")


class MeasurePublic(_View):
    """A disposition as a notice states it."""

    id: str
    n: int
    code: str
    name: str
    text: str
    params: dict[str, Any]


class TaskPublic(_View):
    id: int
    department: str
    department_name: str
    title: str
    status: str
    note: str | None
    created_at: datetime
    done_at: datetime | None
    done_by: str | None
    done_by_name: str | None
    can_complete: bool


class AttachmentPublic(_View):
    digest: str = Field(description="SHA-256 of the bytes (content address).")
    size: int | None
    media_type: str | None
    name: str | None


class RectificationPublic(_View):
    id: int
    summary: str
    attachments: list[AttachmentPublic]
    reported_by: str
    reported_by_name: str | None
    reported_at: datetime
    late: bool = Field(description="Reported after the notice's deadline.")


class NoticePublic(_View):
    id: int
    case_id: int
    status: str = Field(description="sent, answered, superseded or closed")
    status_name: str
    organisation_id: int | None = Field(description="Recipient; null: no operator on record.")
    organisation_name: str | None
    subject_id: int | None
    subject_name: str | None
    issuer_department: str
    issuer_department_name: str
    issuer_jurisdiction: str
    grounds: list[str]
    ground_names: list[str]
    dispositions: list[MeasurePublic]
    deadline: date | None
    overdue: bool | None
    sent_by: str | None
    sent_at: datetime
    answered_at: datetime | None
    rectifications: list[RectificationPublic]
    warnings: list[str]


class EventPublic(_View):
    seq: int
    at: datetime
    actor: str
    actor_name: str | None
    kind: str
    payload: dict[str, Any]
    hash: str


class EventPagePublic(_View):
    items: list[EventPublic]
    next_after_seq: int | None


class SubjectRefPublic(_View):
    id: int
    kind: str
    name: str
    organisation_id: int | None
    organisation_name: str | None


class CaseDetailPublic(_View):
    case: CaseSummaryPublic
    summary: str | None
    public_result: str | None
    subject: SubjectRefPublic | None
    dispositions: list[DispositionPublic]
    tasks: list[TaskPublic]
    notices: list[NoticePublic]
    allowed_actions: list[ActionPublic] = Field(description="Transitions the caller may take.")
    can_propose: bool
    intake_items: int
    public_tips: int
    events: list[EventPublic]
    events_truncated: bool
    warnings: list[str]


class OverduePublic(_View):
    today: date = Field(description="The China calendar day the report was computed for.")
    cases: list[CaseSummaryPublic]
    cases_more: bool
    notices: list[NoticePublic]
    notices_more: bool
