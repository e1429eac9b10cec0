"""Campaign plans: the seed templates, moving them to another year, validation, stages,
filing by ground, the progress matrix and the reminders."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qinglang.govern import campaigns as c
from qinglang.taxonomy import get_taxonomy

# The stages and deadlines DESIGN.md reads from the seed documents.
SEED_DEADLINES = {
    "national-2020": ["2020-08-31", "2020-11-30", "2020-12-31"],
    "shanghai-2020": ["2020-10-31", "2020-11-30", "2020-12-15"],
    "henan-2020": ["2020-10-20", "2020-11-30", "2020-12-31"],
    "hunan-2018": ["2018-03-10", "2018-03-31", "2018-04-05"],
}
SEED_STAGES = {
    "national-2020": ["部署摸底", "集中整治", "自查总结"],
    "hunan-2018": ["摸排巡查", "研判整治", "总结提升"],
}


@pytest.mark.parametrize("code", sorted(SEED_DEADLINES))
def test_templates_carry_the_seed_deadlines(code):
    plan = c.templates()[code]
    assert [s.deadline.isoformat() for s in plan.stages] == SEED_DEADLINES[code]
    if code in SEED_STAGES:
        assert [s.name for s in plan.stages] == SEED_STAGES[code]
    assert plan.source


def test_national_task_matrix_matches_the_notice():
    plan = c.templates()["national-2020"]
    leads = {t.code: (t.lead, set(t.co)) for t in plan.tasks}
    assert leads["1"][0] == "press"
    assert leads["2"] == ("police", {"cyberspace", "telecom", "market"})
    assert leads["3"] == ("cyberspace", {"telecom", "police", "market"})
    assert leads["4"] == ("cyberspace", {"telecom", "police"})
    assert leads["5"] == ("education", {"press", "cyberspace", "telecom", "police"})


def test_shanghai_moves_game_ads_to_market_and_domains_to_telecom():
    plan = c.templates()["shanghai-2020"]
    assert c.task_for(plan, "game_ad").lead == "market"
    assert c.task_for(plan, "unfiled_site").lead == "telecom"


def test_every_ground_of_the_taxonomy_has_a_national_task():
    plan = c.templates()["national-2020"]
    taxonomy = get_taxonomy()
    for code in [*taxonomy.categories, *taxonomy.violations]:
        assert c.task_for(plan, code) is not None, code


def test_instantiate_moves_dates_to_another_year_and_names_it():
    plan = c.instantiate("national-2020", year=2026)
    assert plan.starts_on == date(2026, 7, 15)
    assert [s.deadline for s in plan.stages] == [
        date(2026, 8, 31),
        date(2026, 11, 30),
        date(2026, 12, 31),
    ]
    assert plan.name.startswith("2026年")
    assert plan.template == "national-2020"
    same = c.instantiate("national-2020")
    assert same.name == c.templates()["national-2020"].name


def test_instantiate_refuses_unknown_templates_in_chinese():
    with pytest.raises(c.CampaignError) as exc:
        c.instantiate("nowhere")
    assert exc.value.code == "unknown_template"
    assert "national-2020" in exc.value.message_zh


def _plan(**changes) -> c.CampaignPlan:
    return replace(c.templates()["national-2020"], **changes)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"name": " "}, "bad_name"),
        ({"jurisdiction": "99"}, "bad_jurisdiction"),
        ({"departments": ("cyberspace", "navy")}, "bad_departments"),
        ({"departments": ()}, "bad_departments"),
        ({"stages": ()}, "bad_stages"),
        (
            {"stages": (c.Stage(1, "一", date(2020, 9, 1)), c.Stage(2, "二", date(2020, 8, 1)))},
            "bad_stage_deadline",
        ),
        ({"stages": (c.Stage(1, "一", date(2020, 7, 1)),)}, "bad_stage_deadline"),
        ({"stages": (c.Stage(1, " ", date(2020, 9, 1)),)}, "bad_stage_name"),
        ({"starts_on": date(1, 1, 1)}, "bad_dates"),
        ({"stages": (c.Stage(1, "一", date(9999, 12, 31)),)}, "bad_dates"),
        ({"tasks": (c.Task("1", "甲", "press"), c.Task("1", "乙", "press"))}, "bad_task_code"),
        ({"tasks": (c.Task("1", "甲", "press", grounds=("nonsense",)),)}, "bad_task_grounds"),
    ],
)
def test_validate_names_the_first_fault(changes, code):
    with pytest.raises(c.CampaignError) as exc:
        c.validate(_plan(**changes))
    assert exc.value.code == code
    assert exc.value.message_zh
    assert exc.value.pointer


def test_a_task_department_must_take_part():
    plan = _plan(departments=("cyberspace", "police"))
    with pytest.raises(c.CampaignError) as exc:
        c.validate(plan)
    assert exc.value.code == "task_department_outside"


def test_stage_on_the_deadline_days():
    plan = c.templates()["national-2020"]
    assert c.stage_on(plan, date(2020, 7, 14)) is None
    assert c.stage_on(plan, date(2020, 7, 15)).n == 1
    assert c.stage_on(plan, date(2020, 8, 31)).n == 1
    assert c.stage_on(plan, date(2020, 9, 1)).n == 2
    assert c.stage_on(plan, date(2020, 12, 31)).n == 3
    assert c.stage_on(plan, date(2021, 1, 1)) is None
    assert c.stage_starts(plan, plan.stages[1]) == date(2020, 9, 1)


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2021, 12, 31)))
def test_stage_on_agrees_with_is_running(day):
    plan = c.templates()["henan-2020"]
    assert (c.stage_on(plan, day) is not None) == c.is_running(plan, day)


def test_progress_matrix_statuses():
    plan = c.templates()["national-2020"]
    reported = {("police", 1): date(2020, 8, 20), ("press", 1): date(2020, 9, 3)}
    cells = {
        (x.department, x.stage): x.status
        for x in c.progress_matrix(plan, reported, date(2020, 11, 25))
    }
    assert cells[("police", 1)] == "reported"
    assert cells[("press", 1)] == "late_reported"
    assert cells[("education", 1)] == "overdue"
    assert cells[("education", 2)] == "due"
    assert cells[("education", 3)] == "upcoming"
    assert len(cells) == len(plan.departments) * len(plan.stages)


def test_reminders_before_deadlines_and_for_overdue_reports():
    plan = c.templates()["national-2020"]
    reported = {(d, 1): date(2020, 8, 1) for d in plan.departments if d != "culture"}
    out = c.reminders(plan, reported, date(2020, 11, 25), days_before=7)
    kinds = [(r.kind, r.department, r.stage) for r in out]
    assert ("stage_ending", None, 2) in kinds
    assert ("report_overdue", "culture", 1) in kinds
    assert ("report_due", "police", 2) in kinds
    overdue = next(r for r in out if r.kind == "report_overdue")
    assert "逾期" in overdue.message_zh and "文化和旅游" in overdue.message_zh
    # Far from the deadline: nothing due yet, the overdue report still reminds.
    early = c.reminders(plan, reported, date(2020, 9, 2), days_before=7)
    assert [r.kind for r in early] == ["report_overdue"]
    # Limited to one department.
    mine = c.reminders(plan, reported, date(2020, 11, 25), departments=["police"])
    assert {r.department for r in mine} <= {None, "police"}


def test_first_reports_keeps_the_earliest_day():
    rows = [("police", 1, date(2020, 8, 3)), ("police", 1, date(2020, 8, 1))]
    assert c.first_reports(rows) == {("police", 1): date(2020, 8, 1)}
