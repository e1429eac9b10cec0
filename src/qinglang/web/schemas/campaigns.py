"""Schemas of campaigns (专项行动), their progress reports, and the disclosure page."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from qinglang.govern import campaigns as core
from qinglang.services import campaigns as service
from qinglang.services import disclosure


class StageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=core.NAME_MAX, examples=["部署摸底"])
    deadline: date = Field(examples=["2026-08-31"])


class TaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=16, examples=["3"])
    name: str = Field(min_length=1, max_length=core.NAME_MAX, examples=["整治有害信息"])
    lead: str = Field(min_length=1, max_length=32, examples=["cyberspace"])
    co: list[str] = Field(default_factory=list, max_length=7)
    grounds: list[str] = Field(
        default_factory=list, max_length=64, description="Case grounds filed under this task."
    )


class CampaignCreate(BaseModel):
    """Either `template` (with `year`, `jurisdiction`, `name` optional) or a whole plan."""

    model_config = ConfigDict(extra="forbid")
    template: str | None = Field(default=None, max_length=32, examples=["national-2020"])
    year: int | None = Field(default=None, ge=1990, le=2100)
    name: str | None = Field(default=None, max_length=core.NAME_MAX)
    jurisdiction: str | None = Field(default=None, max_length=12, examples=["310000"])
    departments: list[str] | None = Field(default=None, max_length=7)
    starts_on: date | None = None
    stages: list[StageIn] | None = Field(default=None, max_length=core.MAX_STAGES)
    tasks: list[TaskIn] | None = Field(default=None, max_length=core.MAX_TASKS)
    public: bool = Field(default=False, description="Publish the progress on the public page.")


class CampaignChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    public: bool | None = None
    archived: bool | None = None


class StagePublic(BaseModel):
    n: int
    name: str
    deadline: date


class TaskPublic(BaseModel):
    code: str
    name: str
    lead: str
    co: list[str]
    grounds: list[str]


class PlanPublic(BaseModel):
    name: str
    template: str | None
    source: str | None
    jurisdiction: str
    departments: list[str]
    starts_on: date
    ends_on: date
    stages: list[StagePublic]
    tasks: list[TaskPublic]


class CampaignPublic(PlanPublic):
    id: int
    public: bool
    archived: bool
    created_at: datetime
    updated_at: datetime


def plan_public(plan: core.CampaignPlan) -> dict[str, Any]:
    return {
        "name": plan.name,
        "template": plan.template,
        "source": plan.source,
        "jurisdiction": plan.jurisdiction,
        "departments": list(plan.departments),
        "starts_on": plan.starts_on,
        "ends_on": plan.ends_on,
        "stages": [{"n": s.n, "name": s.name, "deadline": s.deadline} for s in plan.stages],
        "tasks": [
            {
                "code": t.code,
                "name": t.name,
                "lead": t.lead,
                "co": list(t.co),
                "grounds": list(t.grounds),
            }
            for t in plan.tasks
        ],
    }


def campaign_public(view: service.CampaignView) -> dict[str, Any]:
    return plan_public(view.plan) | {
        "id": view.id,
        "public": view.public,
        "archived": view.archived,
        "created_at": view.created_at,
        "updated_at": view.updated_at,
    }


class ReportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stage: int = Field(ge=1, le=core.MAX_STAGES)
    body: str = Field(min_length=1, max_length=service.BODY_MAX, examples=["摸排属地网站平台120家"])
    task: str | None = Field(default=None, max_length=16)
    figures: dict[str, int] = Field(
        default_factory=dict,
        max_length=64,
        description="Counter code (GET /api/v1/taxonomy counters) → number.",
        examples=[{"items_cleaned": 1200}],
    )


class ReportPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    stage: int
    stage_name: str
    department: str
    jurisdiction: str
    task_code: str | None
    body: str
    figures: dict[str, int]
    reported_by: str
    reported_at: datetime


class CellPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    department: str
    stage: int
    status: str
    deadline: date
    days_left: int


class ReminderPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    kind: str
    department: str | None
    stage: int
    stage_name: str
    deadline: date
    days_left: int
    message_zh: str


class ProgressPublic(BaseModel):
    today: date
    current_stage: int | None
    cells: list[CellPublic]
    reminders: list[ReminderPublic]


class CaseCampaignSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    campaign_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    task: str | None = Field(default=None, max_length=16)


class PublicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=disclosure.TITLE_MAX)
    body: str = Field(min_length=1, max_length=disclosure.BODY_MAX)
    fields: list[str] | None = Field(
        default=None,
        max_length=len(disclosure.PUBLIC_FIELDS),
        description=f"Public fields shown: {', '.join(disclosure.PUBLIC_FIELDS)}.",
    )


class PublicationWithdraw(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


class PublicFieldPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: str
    label: str
    value: str


class PublicCasePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str
    body: str
    published_at: datetime
    fields: list[PublicFieldPublic]


class DisclosurePagePublic(BaseModel):
    items: list[PublicCasePublic]
    total: int
    limit: int
    offset: int
