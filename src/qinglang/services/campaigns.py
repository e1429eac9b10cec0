"""Campaigns in the database: create from a template or from scratch, progress reports,
reminders, and which campaign and task a new case or intake item belongs to.

Who may do what (docs/campaigns.md):

- regulators see the campaigns whose jurisdiction covers theirs (a national campaign reaches
  every province) and those inside their own (a province sees its cities' campaigns);
- a leader or an admin creates a campaign in their own jurisdiction or inside it, and changes
  whether its progress is public and whether it is archived;
- an officer, analyst or leader of a participating department reports that department's
  progress for a stage;
- operators and the public see no campaign here (published progress: `public_campaigns`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.orm import Session

from qinglang.govern import campaigns as core
from qinglang.govern.actors import Role
from qinglang.govern.clock import shanghai_date
from qinglang.govern.dispositions import counters
from qinglang.govern.identifiers import (
    DivisionLevel,
    division_covers,
    division_level,
    division_parent,
)
from qinglang.services import tallies
from qinglang.services.errors import ServiceError, forbidden, invalid, not_found
from qinglang.services.principal import Principal
from qinglang.store import audit_log
from qinglang.store.audit_chain import (
    BOOL,
    NAT,
    OBJ,
    OPT_STR,
    STR,
    EventKind,
    PayloadExample,
    register_kind,
)
from qinglang.store.models import Campaign, CampaignReport, Case, IntakeItem

BODY_MAX = 20_000
LEVELS = list(DivisionLevel)  # national first: a later level is more local
FIGURE_MAX = 10**12


@register_kind
class CampaignCreated(EventKind):
    kind = "campaign.created"
    description = "A campaign was created, from a template or from scratch."
    required = MappingProxyType({"name": STR, "jurisdiction": STR, "template": OPT_STR})
    examples = (
        PayloadExample({"name": "专项行动", "jurisdiction": "310000", "template": None}, True),
        PayloadExample({"name": "", "jurisdiction": "310000", "template": None}, False),
    )


@register_kind
class CampaignChanged(EventKind):
    kind = "campaign.changed"
    description = "Whether a campaign's progress is public, or whether it is archived, changed."
    required = MappingProxyType({"public": BOOL, "archived": BOOL})
    examples = (
        PayloadExample({"public": True, "archived": False}, True),
        PayloadExample({"public": "yes", "archived": False}, False),
    )


@register_kind
class CampaignReported(EventKind):
    kind = "campaign.reported"
    description = "A department reported its progress for a stage of a campaign."
    required = MappingProxyType({"stage": NAT, "department": STR, "figures": OBJ})
    optional = MappingProxyType({"task": OPT_STR})
    examples = (
        PayloadExample({"stage": 1, "department": "police", "figures": {}}, True),
        PayloadExample({"stage": 1, "department": "police"}, False),
    )


@register_kind
class CaseCampaignSet(EventKind):
    kind = "case.campaign_set"
    description = "A case was filed under a campaign and task by hand (or taken out of one)."
    required = MappingProxyType({"campaign": OPT_STR, "task": OPT_STR})
    examples = (
        PayloadExample({"campaign": "campaign:1", "task": "3"}, True),
        PayloadExample({"campaign": None, "task": None}, True),
        PayloadExample({"task": "3"}, False),
    )


# ---------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class CampaignView:
    id: int
    plan: core.CampaignPlan
    public: bool
    archived: bool
    created_by: str
    created_at: datetime
    updated_at: datetime

    @property
    def name(self) -> str:
        return self.plan.name


@dataclass(frozen=True, slots=True)
class ReportView:
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


@dataclass(frozen=True, slots=True)
class Progress:
    today: date
    current_stage: core.Stage | None
    cells: list[core.ProgressCell]
    reminders: list[core.Reminder]


def plan_of(row: Campaign) -> core.CampaignPlan:
    return core.CampaignPlan(
        name=row.name,
        jurisdiction=row.jurisdiction,
        departments=tuple(row.departments),
        starts_on=row.starts_on,
        stages=tuple(
            core.Stage(int(s["n"]), s["name"], date.fromisoformat(s["deadline"]))
            for s in row.stages
        ),
        tasks=tuple(
            core.Task(t["code"], t["name"], t["lead"], tuple(t["co"]), tuple(t["grounds"]))
            for t in row.tasks
        ),
        template=row.template,
        source=row.source,
    )


def view_of(row: Campaign) -> CampaignView:
    return CampaignView(
        row.id,
        plan_of(row),
        row.public,
        row.archived,
        row.created_by,
        row.created_at,
        row.updated_at,
    )


def core_error(exc: core.CampaignError) -> ServiceError:
    return invalid(exc.code, str(exc), exc.message_zh, pointer=exc.pointer)


# ---------------------------------------------------------------- scope


def _require_regulator(principal: Principal) -> None:
    if not principal.is_regulator:
        raise forbidden(
            "forbidden_role", "campaigns are for regulators", "您的角色无权查看专项行动。"
        )


def can_see(principal: Principal, row: Campaign) -> bool:
    if not principal.is_regulator:
        return False
    return division_covers(row.jurisdiction, principal.jurisdiction) or principal.covers(
        row.jurisdiction
    )


def _visible_clause(principal: Principal) -> Any:
    """SQL for `can_see`: campaigns covering the caller's jurisdiction, or inside it."""
    from qinglang.services.cases import within  # cases imports this module

    covering = [principal.jurisdiction]
    while (parent := division_parent(covering[-1])) is not None:
        covering.append(parent)
    inside = within(Campaign.jurisdiction, principal.jurisdiction)
    return true() if inside is None else or_(Campaign.jurisdiction.in_(covering), inside)


def load(session: Session, principal: Principal, campaign_id: int) -> Campaign:
    _require_regulator(principal)
    row = session.get(Campaign, campaign_id)
    if row is None or not can_see(principal, row):
        raise not_found("campaign", "专项行动", campaign_id)
    return row


def list_campaigns(
    session: Session, principal: Principal, *, include_archived: bool = False
) -> list[CampaignView]:
    _require_regulator(principal)
    stmt = select(Campaign).where(_visible_clause(principal))
    if not include_archived:
        stmt = stmt.where(Campaign.archived.is_(False))
    rows = session.scalars(stmt.order_by(Campaign.starts_on.desc(), Campaign.id.desc())).all()
    return [view_of(r) for r in rows]


def get_campaign(session: Session, principal: Principal, campaign_id: int) -> CampaignView:
    return view_of(load(session, principal, campaign_id))


# ---------------------------------------------------------------- commands


def _plan_json(plan: core.CampaignPlan) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    stages = [{"n": s.n, "name": s.name, "deadline": s.deadline.isoformat()} for s in plan.stages]
    tasks = [
        {
            "code": t.code,
            "name": t.name,
            "lead": t.lead,
            "co": list(t.co),
            "grounds": list(t.grounds),
        }
        for t in plan.tasks
    ]
    return stages, tasks


def create_campaign(
    session: Session,
    principal: Principal,
    plan: core.CampaignPlan,
    *,
    at: datetime,
    public: bool = False,
) -> CampaignView:
    """Store a validated plan; the caller must be a leader or admin covering its jurisdiction."""
    principal.require(Role.leader, Role.admin)
    try:
        plan = core.validate(plan)
    except core.CampaignError as exc:
        raise core_error(exc) from None
    principal.require_covers(plan.jurisdiction)
    stages, tasks = _plan_json(plan)
    row = Campaign(
        name=plan.name,
        template=plan.template,
        source=plan.source,
        jurisdiction=plan.jurisdiction,
        departments=list(plan.departments),
        starts_on=plan.starts_on,
        ends_on=plan.ends_on,
        stages=stages,
        tasks=tasks,
        public=public,
        archived=False,
        created_by=principal.actor_id,
        created_at=at,
        updated_at=at,
    )
    session.add(row)
    session.flush()
    audit_log.record(
        session,
        at=at,
        actor=principal.actor_id,
        kind=CampaignCreated.kind,
        subject=f"campaign:{row.id}",
        payload={"name": plan.name, "jurisdiction": plan.jurisdiction, "template": plan.template},
    )
    return view_of(row)


def change_campaign(
    session: Session,
    principal: Principal,
    campaign_id: int,
    *,
    at: datetime,
    public: bool | None = None,
    archived: bool | None = None,
) -> CampaignView:
    principal.require(Role.leader, Role.admin)
    row = load(session, principal, campaign_id)
    principal.require_covers(row.jurisdiction)
    if public is not None:
        row.public = public
    if archived is not None:
        row.archived = archived
    row.updated_at = at
    audit_log.record(
        session,
        at=at,
        actor=principal.actor_id,
        kind=CampaignChanged.kind,
        subject=f"campaign:{row.id}",
        payload={"public": row.public, "archived": row.archived},
    )
    return view_of(row)


def _figures(figures: Mapping[str, Any] | None) -> dict[str, int]:
    known = counters()
    out: dict[str, int] = {}
    for code, value in (figures or {}).items():
        if code not in known:
            raise invalid(
                "unknown_counter",
                f"unknown counter {str(code)[:40]!r}",
                f"未知的统计项：{str(code)[:40]}。",
                allowed=sorted(known),
            )
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= FIGURE_MAX:
            raise invalid(
                "bad_figure",
                f"{code} must be an integer 0..{FIGURE_MAX}",
                f"“{known[code].name}”应为0至{FIGURE_MAX}之间的整数。",
            )
        out[code] = value
    return out


def add_report(
    session: Session,
    principal: Principal,
    campaign_id: int,
    *,
    stage: int,
    body: str,
    at: datetime,
    figures: Mapping[str, Any] | None = None,
    task_code: str | None = None,
) -> ReportView:
    """A department's progress report for a stage (several per stage are kept, newest last)."""
    principal.require(Role.officer, Role.analyst, Role.leader)
    row = load(session, principal, campaign_id)
    plan = plan_of(row)
    department = principal.department
    if department is None or department not in plan.departments:
        raise forbidden(
            "not_participating",
            f"department {department} does not take part in campaign {campaign_id}",
            "您所在部门未参与该专项行动，不能报送进展。",
        )
    the_stage = (
        plan.stage(stage) if isinstance(stage, int) and not isinstance(stage, bool) else None
    )
    if the_stage is None:
        raise invalid(
            "bad_stage",
            f"stage must be 1..{len(plan.stages)}",
            f"阶段应为1至{len(plan.stages)}。",
            allowed=list(range(1, len(plan.stages) + 1)),
        )
    if task_code is not None and plan.task(task_code) is None:
        raise invalid(
            "unknown_task",
            f"unknown task {task_code[:16]!r}",
            "该专项行动没有这项任务。",
            allowed=[t.code for t in plan.tasks],
        )
    text = body.strip() if isinstance(body, str) else ""
    if not text or len(text) > BODY_MAX:
        raise invalid(
            "bad_body", f"body must be 1..{BODY_MAX} characters", f"进展内容应为1至{BODY_MAX}字。"
        )
    numbers = _figures(figures)
    report = CampaignReport(
        campaign_id=row.id,
        stage=the_stage.n,
        department=department,
        jurisdiction=principal.jurisdiction,
        task_code=task_code,
        body=text,
        figures=numbers,
        reported_by=principal.actor_id,
        reported_at=at,
    )
    session.add(report)
    session.flush()
    audit_log.record(
        session,
        at=at,
        actor=principal.actor_id,
        kind=CampaignReported.kind,
        subject=f"campaign:{row.id}",
        payload={
            "stage": the_stage.n,
            "department": department,
            "figures": numbers,
            "task": task_code,
        },
    )
    return _report_view(report, plan)


def _report_view(r: CampaignReport, plan: core.CampaignPlan) -> ReportView:
    stage = plan.stage(r.stage)
    return ReportView(
        r.id,
        r.stage,
        stage.name if stage else str(r.stage),
        r.department,
        r.jurisdiction,
        r.task_code,
        r.body,
        dict(r.figures),
        r.reported_by,
        r.reported_at,
    )


def reports(session: Session, principal: Principal, campaign_id: int) -> list[ReportView]:
    row = load(session, principal, campaign_id)
    plan = plan_of(row)
    rows = session.scalars(
        select(CampaignReport)
        .where(CampaignReport.campaign_id == row.id)
        .order_by(CampaignReport.reported_at, CampaignReport.id)
    ).all()
    return [_report_view(r, plan) for r in rows]


def _first_reports(session: Session, campaign_id: int) -> dict[tuple[str, int], date]:
    rows = session.execute(
        select(
            CampaignReport.department, CampaignReport.stage, func.min(CampaignReport.reported_at)
        )
        .where(CampaignReport.campaign_id == campaign_id)
        .group_by(CampaignReport.department, CampaignReport.stage)
    ).all()
    return core.first_reports([(d, s, shanghai_date(at)) for d, s, at in rows])


def progress(
    session: Session,
    principal: Principal,
    campaign_id: int,
    *,
    at: datetime,
    days_before: int = core.DEFAULT_REMIND_DAYS,
) -> Progress:
    row = load(session, principal, campaign_id)
    plan = plan_of(row)
    today = shanghai_date(at)
    first = _first_reports(session, row.id)
    return Progress(
        today,
        core.stage_on(plan, today),
        core.progress_matrix(plan, first, today),
        core.reminders(plan, first, today, days_before),
    )


def reminders_for(
    session: Session, principal: Principal, *, at: datetime
) -> list[tuple[CampaignView, core.Reminder]]:
    """The reminders of every running campaign the caller sees, for their department."""
    today = shanghai_date(at)
    out: list[tuple[CampaignView, core.Reminder]] = []
    for view in list_campaigns(session, principal):
        if not core.is_running(view.plan, today):
            continue
        wanted = None if principal.department is None else [principal.department]
        for reminder in core.reminders(
            view.plan, _first_reports(session, view.id), today, departments=wanted
        ):
            out.append((view, reminder))
    return out


# ---------------------------------------------------------------- filing cases under campaigns


_RUNNING = select(Campaign.id, Campaign.jurisdiction, Campaign.tasks).where(
    Campaign.archived.is_(False)
)


def match(
    session: Session, jurisdiction: str, ground: str | None, at: datetime
) -> tuple[int, str | None] | None:
    """The running campaign a new case or item in `jurisdiction` belongs to, and its task.

    The most local campaign covering the jurisdiction wins (a city's over its province's over
    the national one), then the most recently started.
    """
    day = shanghai_date(at)
    rows = session.execute(
        _RUNNING.where(and_(Campaign.starts_on <= day, Campaign.ends_on >= day)).order_by(
            Campaign.starts_on.desc(), Campaign.id.desc()
        )
    ).all()
    best: tuple[int, int, str | None] | None = None
    for campaign_id, division, tasks in rows:
        if not division_covers(division, jurisdiction):
            continue
        depth = LEVELS.index(division_level(division))
        task = next((t["code"] for t in tasks if ground in t["grounds"]), None)
        if best is None or depth > best[0]:
            best = (depth, campaign_id, task)
    return None if best is None else (best[1], best[2])


def set_case_campaign(
    session: Session,
    principal: Principal,
    case_id: int,
    campaign_id: int | None,
    task_code: str | None,
    *,
    at: datetime,
) -> None:
    """File a case (and its intake items) under a campaign and task by hand, or take it out."""
    from qinglang.services.cases import load_visible  # cases imports this module

    principal.require(Role.officer, Role.leader)
    row, _ = load_visible(session, principal, case_id, for_update=True)
    if campaign_id is not None:
        campaign = load(session, principal, campaign_id)
        plan = plan_of(campaign)
        if not division_covers(campaign.jurisdiction, row.jurisdiction):
            raise invalid(
                "case_outside_campaign",
                f"case {case_id} lies outside campaign {campaign_id}",
                "该案件不在此专项行动的地域范围内。",
            )
        if task_code is not None and plan.task(task_code) is None:
            raise invalid(
                "unknown_task",
                f"unknown task {str(task_code)[:16]!r}",
                "该专项行动没有这项任务。",
                allowed=[t.code for t in plan.tasks],
            )
    else:
        task_code = None
    tallies.case_moved(session, tallies.facts_of(row), campaign_id, task_code)
    row.campaign_id = campaign_id
    row.campaign_task = task_code
    session.execute(
        IntakeItem.__table__.update()
        .where(IntakeItem.case_id == case_id)
        .values(campaign_id=campaign_id, campaign_task=task_code)
    )
    audit_log.record(
        session,
        at=at,
        actor=principal.actor_id,
        kind=CaseCampaignSet.kind,
        subject=f"case:{case_id}",
        payload={
            "campaign": None if campaign_id is None else f"campaign:{campaign_id}",
            "task": task_code,
        },
    )


def campaign_case_count(session: Session, campaign_id: int) -> int:
    return session.scalar(select(func.count()).where(Case.campaign_id == campaign_id)) or 0


def public_campaigns(session: Session) -> list[CampaignView]:
    """Campaigns whose progress is published (no login): newest first."""
    rows = session.scalars(
        select(Campaign)
        .where(Campaign.public.is_(True), Campaign.archived.is_(False))
        .order_by(Campaign.starts_on.desc(), Campaign.id.desc())
    ).all()
    return [view_of(r) for r in rows]


def templates_list() -> Sequence[core.CampaignPlan]:
    return list(core.templates().values())
