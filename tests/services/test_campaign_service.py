"""Campaigns in the database: who creates and sees them, progress reports and reminders,
and the filing of new cases and intake items under the running campaign and its task."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from qinglang.govern import campaigns as core
from qinglang.govern.actors import Role
from qinglang.services import campaigns, cases, disclosure
from qinglang.services.errors import ServiceError
from qinglang.services.principal import Principal
from qinglang.store.audit_log import records_for, verify_log
from qinglang.store.models import Case, IntakeItem

T0 = datetime(2020, 10, 1, 2, 0, tzinfo=UTC)  # the national and Henan campaigns both run


def P(
    uid: int, *roles: str, department: str | None = None, jurisdiction: str = "410000"
) -> Principal:
    return Principal(uid, f"u{uid}", frozenset(Role(r) for r in roles), department, jurisdiction)


LEADER = P(1, "leader", department="police")
OFFICER = P(2, "officer", department="police")
ANALYST = P(3, "analyst", department="police")
ADMIN = P(4, "admin", jurisdiction="410000")
NATIONAL_LEADER = P(5, "leader", department="cyberspace", jurisdiction="100000")
CITY_OFFICER = P(6, "officer", department="police", jurisdiction="410100")
ELSEWHERE = P(7, "leader", department="police", jurisdiction="310000")
OPERATOR = P(8, "operator", jurisdiction="410000")
CYBER_LEADER = P(9, "leader", department="cyberspace")


def create(database, who=LEADER, code="henan-2020", **changes) -> int:
    plan = replace(core.instantiate(code), **changes)
    with database.write() as s:
        return campaigns.create_campaign(s, who, plan, at=T0).id


def test_create_from_template_and_read_back(database):
    cid = create(database)
    with database.read() as s:
        view = campaigns.get_campaign(s, OFFICER, cid)
        assert view.plan == core.instantiate("henan-2020")
        assert [e.kind for e in records_for(s, f"campaign:{cid}")] == ["campaign.created"]
        assert verify_log(s).ok


@pytest.mark.parametrize("who", [OFFICER, ANALYST, OPERATOR])
def test_only_leaders_and_admins_create(database, who):
    with pytest.raises(ServiceError) as exc, database.write() as s:
        campaigns.create_campaign(s, who, core.instantiate("henan-2020"), at=T0)
    assert exc.value.status == 403


def test_a_campaign_lies_in_the_creators_jurisdiction(database):
    with pytest.raises(ServiceError) as exc, database.write() as s:
        campaigns.create_campaign(s, LEADER, core.instantiate("shanghai-2020"), at=T0)
    assert exc.value.code == "out_of_jurisdiction"


def test_invalid_plans_are_refused_with_a_pointer(database):
    plan = replace(core.instantiate("henan-2020"), name="")
    with pytest.raises(ServiceError) as exc, database.write() as s:
        campaigns.create_campaign(s, LEADER, plan, at=T0)
    assert exc.value.status == 422
    assert exc.value.extra["pointer"] == "/name"


def test_visibility_covers_up_and_down(database):
    henan = create(database)
    national = create(database, NATIONAL_LEADER, "national-2020")
    with database.read() as s:

        def seen(who):
            return {v.id for v in campaigns.list_campaigns(s, who)}

        assert seen(CITY_OFFICER) == {henan, national}
        assert seen(NATIONAL_LEADER) == {henan, national}
        assert seen(ELSEWHERE) == {national}
        with pytest.raises(ServiceError) as exc:
            campaigns.get_campaign(s, ELSEWHERE, henan)
        assert exc.value.status == 404
        with pytest.raises(ServiceError) as exc:
            campaigns.list_campaigns(s, OPERATOR)
        assert exc.value.status == 403


def test_progress_reports_and_reminders(database):
    cid = create(database)
    with database.write() as s:
        campaigns.add_report(
            s,
            OFFICER,
            cid,
            stage=1,
            body="摸排属地重点网站平台120家，建立台账。",
            figures={"items_cleaned": 1200, "sites_interviewed": 3},
            task_code="2",
            at=datetime(2020, 10, 10, 2, tzinfo=UTC),
        )
    with database.read() as s:
        reports = campaigns.reports(s, OFFICER, cid)
        assert [(r.department, r.stage, r.figures["items_cleaned"]) for r in reports] == [
            ("police", 1, 1200)
        ]
        progress = campaigns.progress(s, OFFICER, cid, at=datetime(2020, 11, 25, 2, tzinfo=UTC))
        cells = {(c.department, c.stage): c.status for c in progress.cells}
        assert cells[("police", 1)] == "reported"
        assert cells[("education", 1)] == "overdue"
        assert progress.current_stage.n == 2
        kinds = {(r.kind, r.department) for r in progress.reminders}
        assert ("report_overdue", "education") in kinds
        assert ("report_overdue", "police") not in kinds
        mine = campaigns.reminders_for(s, OFFICER, at=datetime(2020, 11, 25, 2, tzinfo=UTC))
        assert {r.department for _, r in mine} <= {None, "police"}
        assert any(r.kind == "report_due" for _, r in mine)


@pytest.mark.parametrize(
    ("who", "kw", "status", "code"),
    [
        (OPERATOR, {}, 403, "forbidden_role"),
        (P(10, "officer", department="navy_unknown"), {}, 403, "not_participating"),
        (OFFICER, {"stage": 4}, 422, "bad_stage"),
        (OFFICER, {"task_code": "9"}, 422, "unknown_task"),
        (OFFICER, {"body": "  "}, 422, "bad_body"),
        (OFFICER, {"figures": {"nonsense": 1}}, 422, "unknown_counter"),
        (OFFICER, {"figures": {"items_cleaned": -1}}, 422, "bad_figure"),
        (OFFICER, {"figures": {"items_cleaned": True}}, 422, "bad_figure"),
    ],
)
def test_report_refusals(database, who, kw, status, code):
    cid = create(database)
    args = {"stage": 1, "body": "进展", "at": T0} | kw
    with pytest.raises(ServiceError) as exc, database.write() as s:
        campaigns.add_report(s, who, cid, **args)
    assert (exc.value.status, exc.value.code) == (status, code)


def test_new_cases_and_items_are_filed_under_the_most_local_running_campaign(database):
    national = create(database, NATIONAL_LEADER, "national-2020")
    henan = create(database)
    with database.write() as s:
        in_henan = cases.create_case(
            s, OFFICER, grounds=["gambling"], jurisdiction="410100", at=T0
        ).case.id
        in_shanghai = cases.create_case(
            s,
            P(11, "officer", department="police", jurisdiction="310000"),
            grounds=["gambling"],
            jurisdiction="310000",
            at=T0,
        ).case.id
        after = cases.create_case(
            s, OFFICER, grounds=["gambling"], jurisdiction="410100", at=T0 + timedelta(days=200)
        ).case.id
    with database.read() as s:
        filed = dict(
            s.execute(
                select(Case.id, Case.campaign_id).where(Case.id.in_([in_henan, in_shanghai, after]))
            ).all()
        )
        assert filed == {in_henan: henan, in_shanghai: national, after: None}
        assert s.get(Case, in_henan).campaign_task == "2"  # gambling: social behaviour


def test_filing_by_hand_moves_the_items_too(database):
    henan = create(database)
    with database.write() as s:
        case_id = cases.create_case(
            s, OFFICER, grounds=["gambling"], jurisdiction="410100", at=T0 - timedelta(days=60)
        ).case.id
        s.add(
            IntakeItem(
                ticket="QL-TEST-1",
                source="patrol",
                status="lead",
                urls=[],
                jurisdiction="410100",
                categories=[],
                flags=[],
                created_by="user:2",
                case_id=case_id,
                received_at=T0,
                updated_at=T0,
            )
        )
    with database.write() as s:
        campaigns.set_case_campaign(s, OFFICER, case_id, henan, "3", at=T0)
    with database.read() as s:
        row = s.get(Case, case_id)
        assert (row.campaign_id, row.campaign_task) == (henan, "3")
        item = s.scalars(select(IntakeItem).where(IntakeItem.case_id == case_id)).one()
        assert (item.campaign_id, item.campaign_task) == (henan, "3")
        assert records_for(s, f"case:{case_id}")[-1].kind == "case.campaign_set"
    with pytest.raises(ServiceError) as exc, database.write() as s:
        campaigns.set_case_campaign(s, OFFICER, case_id, henan, "99", at=T0)
    assert exc.value.code == "unknown_task"


def test_public_flag_and_archive(database):
    cid = create(database)
    with database.write() as s:
        campaigns.change_campaign(s, LEADER, cid, public=True, at=T0)
    with database.read() as s:
        assert [v.id for v in campaigns.public_campaigns(s)] == [cid]
    with database.write() as s:
        campaigns.change_campaign(s, ADMIN, cid, archived=True, at=T0)
    with database.read() as s:
        assert campaigns.public_campaigns(s) == []
        assert campaigns.list_campaigns(s, OFFICER) == []
        assert [v.id for v in campaigns.list_campaigns(s, OFFICER, include_archived=True)] == [cid]
    with pytest.raises(ServiceError) as exc, database.write() as s:
        campaigns.change_campaign(s, OFFICER, cid, public=False, at=T0)
    assert exc.value.status == 403


# ---------------------------------------------------------------- disclosure


def _walk_to_rectifying(database, case_id: int) -> None:
    steps = [
        (OFFICER, "open", {}),
        (ANALYST, "assess", {}),
    ]
    at = T0
    for who, action, kw in steps:
        at += timedelta(minutes=5)
        with database.write() as s:
            cases.act(s, who, case_id, action, at=at, **kw)
    with database.write() as s:
        cases.propose(s, ANALYST, case_id, "interview", {}, at=at + timedelta(minutes=1))
    with database.write() as s:
        cases.act(s, ANALYST, case_id, "dispose", at=at + timedelta(minutes=2), reason="属实")
    with database.write() as s:
        cases.decide(s, LEADER, case_id, 1, "approve", at=at + timedelta(minutes=3))
    with database.write() as s:
        cases.act(s, OFFICER, case_id, "notify", at=at + timedelta(minutes=4))


def test_publish_shows_only_the_chosen_public_fields(database):
    with database.write() as s:
        case_id = cases.create_case(
            s,
            OFFICER,
            grounds=["gambling"],
            jurisdiction="410100",
            at=T0,
            title="某论坛赌博引流",
            summary="举报人张某提供的线索：内部备注",
        ).case.id
    with pytest.raises(ServiceError) as exc, database.write() as s:
        disclosure.publish(s, LEADER, case_id, title="标题", body="正文", at=T0)
    assert exc.value.code == "not_publishable"
    _walk_to_rectifying(database, case_id)
    later = T0 + timedelta(hours=1)
    with pytest.raises(ServiceError) as exc, database.write() as s:
        disclosure.publish(s, OFFICER, case_id, title="标题", body="正文", at=later)
    assert exc.value.status == 403
    with pytest.raises(ServiceError) as exc, database.write() as s:
        disclosure.publish(
            s, LEADER, case_id, title="标题", body="正文", fields=["summary"], at=later
        )
    assert exc.value.code == "unknown_public_field"
    with database.write() as s:
        pub = disclosure.publish(
            s,
            LEADER,
            case_id,
            title="某论坛为赌博网站引流被约谈",
            body="经查，该论坛存在赌博引流信息，属地网信部门依法约谈。",
            fields=["region", "dispositions"],
            at=later,
        )
        pub_id = pub.id
    with database.read() as s:
        items, total = disclosure.list_public(s)
        assert total == 1
        shown = {f.code: f.value for f in items[0].fields}
        assert shown == {"region": "河南省", "dispositions": "约谈"}
        text = repr(items[0])
        assert "张某" not in text and "内部备注" not in text
        assert disclosure.list_public(s, jurisdiction="310000")[1] == 0
    with pytest.raises(ServiceError) as exc, database.write() as s:
        disclosure.publish(s, LEADER, case_id, title="再发", body="正文", at=later)
    assert exc.value.code == "already_published"
    with database.write() as s:
        disclosure.withdraw(s, LEADER, pub_id, reason="更正", at=later)
    with database.read() as s:
        assert disclosure.list_public(s) == ([], 0)
        assert len(disclosure.publications_of_case(s, case_id)) == 1
        assert verify_log(s).ok


def test_region_names():
    assert disclosure.region_name("100000") == "全国"
    assert disclosure.region_name("310115") == "上海市"


def test_campaign_event_kinds_have_working_examples():
    from qinglang.store.audit_chain import AuditError, event_kind

    for kind in (
        "campaign.created",
        "campaign.changed",
        "campaign.reported",
        "case.campaign_set",
        "case.published",
        "case.publication_withdrawn",
    ):
        cls = event_kind(kind)
        for example in cls.examples:
            if example.valid:
                cls.check(example.payload)
            else:
                with pytest.raises(AuditError):
                    cls.check(example.payload)


def test_stage_dates_are_china_days():
    # 2020-08-31 23:30 in Shanghai is still stage 1 of the national campaign.
    plan = core.instantiate("national-2020")
    at = datetime(2020, 8, 31, 15, 30, tzinfo=UTC)
    from qinglang.govern.clock import shanghai_date

    assert core.stage_on(plan, shanghai_date(at)).n == 1
    assert shanghai_date(at) == date(2020, 8, 31)


def test_case_lists_filter_by_campaign(database):
    henan = create(database)
    with database.write() as s:
        inside = cases.create_case(
            s, OFFICER, grounds=["gambling"], jurisdiction="410100", at=T0
        ).case.id
        cases.create_case(
            s, OFFICER, grounds=["gambling"], jurisdiction="410100", at=T0 - timedelta(days=90)
        )
    with database.read() as s:
        page = cases.list_cases(s, OFFICER, campaign_id=henan, with_total=True)
        assert [c.id for c in page.items] == [inside] and page.total == 1
        with pytest.raises(ServiceError) as exc:
            cases.list_cases(s, OFFICER, campaign_id=0)
        assert exc.value.code == "bad_campaign_id"
