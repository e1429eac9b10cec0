"""Campaigns (专项行动): templates, plans, stages, tasks, progress and reminders — pure values.

A campaign runs in one jurisdiction for a period cut into stages (阶段) with deadlines; its
tasks (任务) each have a lead department and cooperating ones; every participating department
reports its progress (工作进展) once per stage, before the stage's deadline. Cases, intake items
and patrol findings belong to a campaign and one of its tasks (`task_for`).

The templates (data/campaign_templates.toml) encode the seed documents: the national notice of
2020, Shanghai's and Henan's plans of 2020 and Hunan's 2018 education-app campaign. Storage
lives in `qinglang.services.campaigns`; nothing here reads a clock or a database.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cache
from typing import Any

from qinglang.govern.identifiers import IdentifierError, normalize_division
from qinglang.package_data import read_data
from qinglang.taxonomy.model import get_taxonomy

MAX_STAGES = 12
MAX_TASKS = 30
NAME_MAX = 200
DEFAULT_REMIND_DAYS = 7
MIN_YEAR, MAX_YEAR = 1990, 2100


class CampaignError(ValueError):
    """A plan that cannot be kept: `code` for machines, `message_zh` for the user."""

    def __init__(self, code: str, message: str, message_zh: str, pointer: str | None = None):
        super().__init__(message)
        self.code = code
        self.message_zh = message_zh
        self.pointer = pointer


@dataclass(frozen=True, slots=True)
class Stage:
    n: int  # 1-based
    name: str
    deadline: date


@dataclass(frozen=True, slots=True)
class Task:
    code: str
    name: str
    lead: str
    co: tuple[str, ...] = ()
    grounds: tuple[str, ...] = ()

    @property
    def departments(self) -> tuple[str, ...]:
        return (self.lead, *self.co)


@dataclass(frozen=True, slots=True)
class CampaignPlan:
    """What a campaign is: made from a template or from scratch, checked by `validate`."""

    name: str
    jurisdiction: str
    departments: tuple[str, ...]
    starts_on: date
    stages: tuple[Stage, ...]
    tasks: tuple[Task, ...]
    template: str | None = None
    source: str | None = None

    @property
    def ends_on(self) -> date:
        return self.stages[-1].deadline

    def task(self, code: str) -> Task | None:
        return next((t for t in self.tasks if t.code == code), None)

    def stage(self, n: int) -> Stage | None:
        return self.stages[n - 1] if 1 <= n <= len(self.stages) else None


def _departments() -> set[str]:
    return set(get_taxonomy().departments)


def _grounds() -> set[str]:
    taxonomy = get_taxonomy()
    return set(taxonomy.categories) | set(taxonomy.violations)


def validate(plan: CampaignPlan) -> CampaignPlan:
    """The plan with its jurisdiction normalised, or CampaignError naming the first fault."""
    name = plan.name.strip() if isinstance(plan.name, str) else ""
    if not name or len(name) > NAME_MAX:
        raise CampaignError(
            "bad_name",
            f"name must be 1..{NAME_MAX} characters",
            f"专项行动名称应为1至{NAME_MAX}个字符。",
            "/name",
        )
    try:
        jurisdiction = normalize_division(plan.jurisdiction)
    except IdentifierError:
        raise CampaignError(
            "bad_jurisdiction",
            f"unknown division {plan.jurisdiction!r}",
            "管辖区域代码无效，应为6位行政区划代码。",
            "/jurisdiction",
        ) from None
    known = _departments()
    departments = tuple(dict.fromkeys(plan.departments))
    unknown = [d for d in departments if d not in known]
    if not departments or unknown:
        raise CampaignError(
            "bad_departments",
            f"unknown or no departments: {unknown}",
            f"参与部门无效：{'、'.join(unknown) or '未选择任何部门'}。",
            "/departments",
        )
    if not plan.stages or len(plan.stages) > MAX_STAGES:
        raise CampaignError(
            "bad_stages",
            f"a campaign has 1..{MAX_STAGES} stages",
            f"专项行动应有1至{MAX_STAGES}个阶段。",
            "/stages",
        )
    if not MIN_YEAR <= plan.starts_on.year <= MAX_YEAR or any(
        not MIN_YEAR <= s.deadline.year <= MAX_YEAR for s in plan.stages
    ):
        raise CampaignError(
            "bad_dates",
            f"dates must lie in {MIN_YEAR}..{MAX_YEAR}",
            f"日期应在{MIN_YEAR}年至{MAX_YEAR}年之间。",
            "/starts_on",
        )
    previous = plan.starts_on - timedelta(days=1)
    stages: list[Stage] = []
    for i, stage in enumerate(plan.stages, start=1):
        stage_name = stage.name.strip() if isinstance(stage.name, str) else ""
        if not stage_name or len(stage_name) > NAME_MAX:
            raise CampaignError(
                "bad_stage_name",
                f"stage {i} needs a name",
                f"第{i}阶段缺少名称。",
                f"/stages/{i - 1}/name",
            )
        if stage.deadline <= previous:
            raise CampaignError(
                "bad_stage_deadline",
                f"stage {i} deadline {stage.deadline} is not after {previous}",
                f"第{i}阶段的截止日期（{stage.deadline}）应晚于开始日期和上一阶段的截止日期。",
                f"/stages/{i - 1}/deadline",
            )
        previous = stage.deadline
        stages.append(Stage(i, stage_name, stage.deadline))
    if len(plan.tasks) > MAX_TASKS:
        raise CampaignError(
            "bad_tasks", f"at most {MAX_TASKS} tasks", f"任务最多{MAX_TASKS}项。", "/tasks"
        )
    codes: set[str] = set()
    grounds = _grounds()
    for i, task in enumerate(plan.tasks):
        where = f"/tasks/{i}"
        if not task.code or task.code in codes or len(task.code) > 16:
            raise CampaignError(
                "bad_task_code",
                f"task code {task.code!r} is empty, too long or repeated",
                f"任务编号“{task.code}”为空、过长或重复。",
                f"{where}/code",
            )
        codes.add(task.code)
        if not task.name.strip() or len(task.name) > NAME_MAX:
            raise CampaignError(
                "bad_task_name", f"task {task.code} needs a name", "任务缺少名称。", f"{where}/name"
            )
        outside = [d for d in task.departments if d not in departments]
        if outside:
            raise CampaignError(
                "task_department_outside",
                f"task {task.code}: departments {outside} do not take part",
                f"任务{task.code}的牵头或配合部门不在参与部门之内：{'、'.join(outside)}。",
                f"{where}/lead",
            )
        stray = [g for g in task.grounds if g not in grounds]
        if stray:
            raise CampaignError(
                "bad_task_grounds",
                f"task {task.code}: unknown grounds {stray}",
                f"任务{task.code}含未知的问题类别：{'、'.join(stray)}。",
                f"{where}/grounds",
            )
    return replace(
        plan,
        name=name,
        jurisdiction=jurisdiction,
        departments=departments,
        stages=tuple(stages),
    )


# ---------------------------------------------------------------- templates


def _task(row: Mapping[str, Any]) -> Task:
    return Task(
        code=str(row["code"]),
        name=row["name"],
        lead=row["lead"],
        co=tuple(row.get("co", ())),
        grounds=tuple(row.get("grounds", ())),
    )


@cache
def templates() -> dict[str, CampaignPlan]:
    """The campaign templates by code, each a valid plan with its original dates."""
    data = tomllib.loads(read_data("qinglang.govern", "campaign_templates.toml"))
    out: dict[str, CampaignPlan] = {}
    for row in data["template"]:
        plan = CampaignPlan(
            name=row["name"],
            jurisdiction=row["jurisdiction"],
            departments=tuple(row["departments"]),
            starts_on=date.fromisoformat(row["starts_on"]),
            stages=tuple(
                Stage(i, s["name"], date.fromisoformat(s["deadline"]))
                for i, s in enumerate(row["stage"], start=1)
            ),
            tasks=tuple(_task(t) for t in row.get("task", ())),
            template=row["code"],
            source=row.get("source"),
        )
        if plan.template in out:
            raise ValueError(f"duplicate campaign template {plan.template!r}")
        out[row["code"]] = validate(plan)
    return out


def _shift(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


def instantiate(
    code: str,
    *,
    year: int | None = None,
    jurisdiction: str | None = None,
    name: str | None = None,
) -> CampaignPlan:
    """A plan from template `code`, its dates moved to `year` (same month-days).

    A province's template used by a city keeps its stages; the name may be changed.
    """
    template = templates().get(code)
    if template is None:
        raise CampaignError(
            "unknown_template",
            f"unknown campaign template {code!r}",
            f"未知的专项行动模板：{code}。可选：{'、'.join(templates())}",
            "/template",
        )
    years = 0 if year is None else year - template.starts_on.year
    if not -100 <= years <= 100:
        raise CampaignError("bad_year", f"year {year} out of range", "年份超出范围。", "/year")
    plan = replace(
        template,
        starts_on=_shift(template.starts_on, years),
        stages=tuple(replace(s, deadline=_shift(s.deadline, years)) for s in template.stages),
        jurisdiction=jurisdiction or template.jurisdiction,
        name=name
        or (template.name if years == 0 else f"{template.starts_on.year + years}年{template.name}"),
    )
    return validate(plan)


# ---------------------------------------------------------------- reading a plan


def stage_on(plan: CampaignPlan, day: date) -> Stage | None:
    """The stage `day` falls in; None before the start or after the last deadline."""
    if day < plan.starts_on:
        return None
    return next((s for s in plan.stages if day <= s.deadline), None)


def stage_starts(plan: CampaignPlan, stage: Stage) -> date:
    return plan.starts_on if stage.n == 1 else plan.stages[stage.n - 2].deadline + timedelta(1)


def task_for(plan: CampaignPlan, ground: str | None) -> Task | None:
    """The first task whose grounds hold `ground` (the case's primary ground)."""
    if ground is None:
        return None
    return next((t for t in plan.tasks if ground in t.grounds), None)


def is_running(plan: CampaignPlan, day: date) -> bool:
    return plan.starts_on <= day <= plan.ends_on


# ---------------------------------------------------------------- progress and reminders


@dataclass(frozen=True, slots=True)
class ProgressCell:
    """Where one department stands with its report for one stage."""

    department: str
    stage: int
    status: str  # reported | late_reported | due | overdue | upcoming
    deadline: date
    days_left: int  # negative when overdue


STATUS_NAMES_ZH = {
    "reported": "已报送",
    "late_reported": "逾期报送",
    "due": "待报送",
    "overdue": "逾期未报",
    "upcoming": "未开始",
}


def progress_matrix(
    plan: CampaignPlan, reported: Mapping[tuple[str, int], date], today: date
) -> list[ProgressCell]:
    """Each department × stage: reported (by the deadline or late), due, overdue or upcoming.

    `reported` maps (department, stage n) to the day of its first report.
    """
    cells: list[ProgressCell] = []
    for department in plan.departments:
        for stage in plan.stages:
            first = reported.get((department, stage.n))
            days_left = (stage.deadline - today).days
            if first is not None:
                status = "reported" if first <= stage.deadline else "late_reported"
            elif today > stage.deadline:
                status = "overdue"
            elif today >= stage_starts(plan, stage):
                status = "due"
            else:
                status = "upcoming"
            cells.append(ProgressCell(department, stage.n, status, stage.deadline, days_left))
    return cells


@dataclass(frozen=True, slots=True)
class Reminder:
    kind: str  # report_due | report_overdue | stage_ending
    department: str | None
    stage: int
    stage_name: str
    deadline: date
    days_left: int
    message_zh: str = field(default="")


def reminders(
    plan: CampaignPlan,
    reported: Mapping[tuple[str, int], date],
    today: date,
    days_before: int = DEFAULT_REMIND_DAYS,
    departments: Iterable[str] | None = None,
) -> list[Reminder]:
    """What to remind whom of today: reports due within `days_before` days, reports overdue,
    and the current stage ending. `departments` limits the list to those departments."""
    wanted = set(plan.departments if departments is None else departments)
    out: list[Reminder] = []
    current = stage_on(plan, today)
    if current is not None and (current.deadline - today).days <= days_before:
        left = (current.deadline - today).days
        out.append(
            Reminder(
                "stage_ending",
                None,
                current.n,
                current.name,
                current.deadline,
                left,
                f"“{current.name}”阶段将于{current.deadline.isoformat()}截止（还有{left}天）。",
            )
        )
    names = {d.code: d.name for d in get_taxonomy().departments.values()}
    for cell in progress_matrix(plan, reported, today):
        if cell.department not in wanted:
            continue
        stage = plan.stages[cell.stage - 1]
        who = names.get(cell.department, cell.department)
        if cell.status == "overdue":
            out.append(
                Reminder(
                    "report_overdue",
                    cell.department,
                    cell.stage,
                    stage.name,
                    cell.deadline,
                    cell.days_left,
                    f"{who}部门“{stage.name}”阶段进展逾期未报（截止{cell.deadline.isoformat()}，"
                    f"已逾期{-cell.days_left}天）。",
                )
            )
        elif cell.status == "due" and cell.days_left <= days_before:
            out.append(
                Reminder(
                    "report_due",
                    cell.department,
                    cell.stage,
                    stage.name,
                    cell.deadline,
                    cell.days_left,
                    f"{who}部门请于{cell.deadline.isoformat()}前报送“{stage.name}”阶段进展"
                    f"（还有{cell.days_left}天）。",
                )
            )
    return out


def first_reports(rows: Sequence[tuple[str, int, date]]) -> dict[tuple[str, int], date]:
    """(department, stage, day) rows → the first report day of each (department, stage)."""
    out: dict[tuple[str, int], date] = {}
    for department, stage, day in rows:
        key = (department, stage)
        if key not in out or day < out[key]:
            out[key] = day
    return out
