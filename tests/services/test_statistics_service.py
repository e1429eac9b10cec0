"""Statistics on a small database built through the real services: exact counts, the scope of
each principal, the rates, the counters and the trend (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from dbfixtures import People, _sqlite_db, _truncate
from qinglang.govern import campaigns as core
from qinglang.govern.actors import Role
from qinglang.services import cases, disclosure, intake, ledger
from qinglang.services.campaigns import add_report, create_campaign
from qinglang.services.errors import ServiceError
from qinglang.services.principal import Principal
from qinglang.services.statistics import (
    Statistics,
    campaign_statistics,
    jurisdiction_statistics,
)
from qinglang.settings import Settings
from qinglang.store.blobs import BlobStore
from qinglang.store.db import Database

AS_OF = datetime(2020, 10, 10, 4, 0, tzinfo=UTC)  # 2020-10-10 12:00 in China


def P(uid: int, role: str, department: str | None, jurisdiction: str = "100000") -> Principal:
    """A principal of a user the test does not store (principals are plain values)."""
    return Principal(uid, f"u{uid}", frozenset({Role(role)}), department, jurisdiction)


def day(month: int, d: int, minute: int = 0) -> datetime:
    return datetime(2020, month, d, 2, 0, tzinfo=UTC) + timedelta(minutes=minute)


@dataclass
class World:
    """The campaign and the people of the small database, and which case is which."""

    campaign_id: int
    national: Principal
    province: Principal  # Shanghai analyst, 310000
    city: Principal  # Shanghai analyst, 310100
    henan: Principal  # Henan analyst, 410000
    operator: Principal
    police_sh: Principal
    case_a: int  # patrol, gambling, 310100: rectifying past its deadline (2020-09-30)
    case_b: int  # patrol, porn_vulgar, 310100: closed, published as a typical case
    case_c: int  # public tip, gambling, 410100: lead
    case_d: int  # self-report, porn_vulgar, 310100: opened
    case_e: int  # hand-off, gambling, 410100: dismissed
    case_f: int  # patrol, 310100, before the campaign: in no campaign
    notice_a: int


def build_world(database, people, detector, tmp_path: Path) -> World:
    settings = Settings(blob_dir=tmp_path / "blobs", self_report_hours=72)
    blobs = BlobStore(settings.blob_dir)
    org = people.organisation("某网络科技有限公司", "310100")
    leader_cac = P(1, "leader", "cyberspace")
    editor = P(2, "officer", "cyberspace")
    police_sh = P(3, "officer", "police", "310000")
    police_sh_an = P(4, "analyst", "police", "310000")
    police_sh_lead = P(5, "leader", "police", "310000")
    cac_sh = P(6, "officer", "cyberspace", "310000")
    cac_sh_lead = P(7, "leader", "cyberspace", "310000")
    police_ha = P(8, "officer", "police", "410000")
    operator = Principal(9, "u9", frozenset({Role.operator}), None, "100000", org)
    readers = [
        P(10 + i, "analyst", "cyberspace", j)
        for i, j in enumerate(("100000", "310000", "310100", "410000"))
    ]

    def write(fn, at):
        with database.write() as s:
            return fn(s, at)

    s1 = write(
        lambda s, at: ledger.create_subject(
            s,
            editor,
            {"kind": "website", "name": "示例学习网", "region": "310100",
             "domains": ["example.cn"], "organisation_id": org},
            at=at,
        ).id,
        day(6, 20),
    )  # fmt: skip
    write(
        lambda s, at: ledger.create_subject(
            s,
            editor,
            {
                "kind": "website",
                "name": "示例资讯网",
                "region": "410100",
                "domains": ["henan-news.cn"],
            },
            at=at,
        ),
        day(6, 21),
    )
    plan = core.instantiate("national-2020")
    campaign_id = write(lambda s, at: create_campaign(s, leader_cac, plan, at=at).id, day(6, 30))

    def new_case(who, ground, jurisdiction, at, subject=None, source="patrol"):
        return write(
            lambda s, at: cases.create_case(
                s, who, grounds=[ground], jurisdiction=jurisdiction, at=at,
                subject_id=subject, source=source,
            ).case.id,
            at,
        )  # fmt: skip

    case_f = new_case(police_sh, "gambling", "310100", day(7, 1), s1)

    # A: gambling on S1, opened on 20 August, rectifying with a deadline of 30 September.
    case_a = new_case(police_sh, "gambling", "310100", day(8, 20), s1)
    steps = [
        lambda s, at: cases.act(s, police_sh, case_a, "open", at=at),
        lambda s, at: cases.act(s, police_sh_an, case_a, "assess", at=at),
        lambda s, at: cases.propose(s, police_sh_an, case_a, "close_accounts", {"count": 100},
                                    at=at),
        lambda s, at: cases.propose(s, police_sh_an, case_a, "rectify",
                                    {"deadline": "2020-09-30"}, at=at),
        lambda s, at: cases.propose(s, police_sh_an, case_a, "interview", {}, at=at),
        lambda s, at: cases.propose(s, police_sh_an, case_a, "warning", {}, at=at),
        lambda s, at: cases.act(s, police_sh_an, case_a, "dispose", at=at, reason="属实"),
        lambda s, at: cases.decide(s, police_sh_lead, case_a, 1, "approve", at=at),
        lambda s, at: cases.decide(s, police_sh_lead, case_a, 2, "approve", at=at),
        lambda s, at: cases.decide(s, police_sh_lead, case_a, 3, "approve", at=at),
        lambda s, at: cases.decide(s, police_sh_lead, case_a, 4, "reject", at=at, reason="不必"),
        lambda s, at: cases.act(s, police_sh, case_a, "notify", at=at),
    ]  # fmt: skip
    for i, step in enumerate(steps):
        write(step, day(8, 20, 10 + i))
    with database.read() as s:
        notice_a = cases.get_case(s, police_sh, case_a).notices[0].id

    # B: porn_vulgar on S1, from 5 September to closed, then published.
    case_b = new_case(cac_sh, "porn_vulgar", "310100", day(9, 5), s1)
    steps = [
        lambda s, at: cases.act(s, cac_sh, case_b, "open", at=at),
        lambda s, at: cases.act(s, cac_sh, case_b, "assess", at=at),
        lambda s, at: cases.propose(s, cac_sh, case_b, "interview", {}, at=at),
        lambda s, at: cases.propose(s, cac_sh, case_b, "penalty", {"amount": "5000.50"}, at=at),
        lambda s, at: cases.act(s, cac_sh, case_b, "dispose", at=at, reason="属实"),
        lambda s, at: cases.decide(s, cac_sh_lead, case_b, 1, "approve", at=at),
        lambda s, at: cases.decide(s, cac_sh_lead, case_b, 2, "approve", at=at),
        lambda s, at: cases.act(s, cac_sh, case_b, "notify", at=at),
        lambda s, at: cases.act(s, cac_sh, case_b, "recheck", at=at),
        lambda s, at: cases.act(s, cac_sh, case_b, "close", at=at),
        lambda s, at: disclosure.publish(
            s, cac_sh_lead, case_b, title="某学习网站传播低俗信息被处罚",
            body="经查，该网站传播低俗信息，已依法约谈并处罚款。", at=at,
        ),
    ]  # fmt: skip
    for i, step in enumerate(steps):
        write(step, day(9, 5, 10 + i))

    # C: a public tip in Henan, still a lead.
    def file(source, principal, at, **fields):
        prepared = intake.prepare(
            detector, settings, source=source, principal=principal, at=at, **fields
        )
        return intake.commit(database, blobs, prepared).case_id

    case_c = file(
        "public_tip", None, day(9, 10), text="有网站推广网络赌博，首充送彩金",
        urls=["https://bet.example.cn/a"], category="gambling", jurisdiction="410100",
    )  # fmt: skip
    # E: a hand-off in Henan, dismissed.
    case_e = new_case(police_ha, "gambling", "410100", day(9, 15), source="handoff")
    write(
        lambda s, at: cases.act(s, police_ha, case_e, "dismiss", at=at, reason="重复线索"),
        day(9, 15, 5),
    )
    # D: the operator's self-report on S1, opened by an officer.
    case_d = file(
        "self_report", operator, day(10, 1), title="发现低俗信息",
        text="自查发现低俗图文若干，已删除并保存日志。", category="porn_vulgar",
        discovered_at=day(9, 30), subject_id=s1,
    )  # fmt: skip
    write(lambda s, at: cases.act(s, cac_sh, case_d, "open", at=at), day(10, 1, 5))
    write(
        lambda s, at: add_report(
            s, cac_sh, campaign_id, stage=2, body="集中整治阶段：巡查学习类网站，约谈并处罚一批。",
            at=at,
        ),
        day(10, 2),
    )  # fmt: skip
    national, province, city, henan = readers
    return World(
        campaign_id, national, province, city, henan, operator, police_sh,
        case_a, case_b, case_c, case_d, case_e, case_f, notice_a,
    )  # fmt: skip


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def built(request, detector, tmp_path_factory) -> Iterator[tuple[Database, World]]:
    """The small database, built once per module and backend (the tests only read it)."""
    tmp = tmp_path_factory.mktemp("stats")
    if request.param == "sqlite":
        db = _sqlite_db(request.getfixturevalue("_sqlite_template"), tmp)
    else:
        db = Database(request.getfixturevalue("_pg_url"))
        _truncate(db)
    try:
        yield db, build_world(db, People(db), detector, tmp)
    finally:
        db.dispose()


@pytest.fixture
def database(built) -> Database:
    return built[0]


@pytest.fixture
def world(built) -> World:
    return built[1]


def stats_for(database, principal: Principal, campaign_id: int, at=AS_OF) -> Statistics:
    with database.read() as s:
        return campaign_statistics(s, principal, campaign_id, at=at)


def counts(items) -> dict[str, int]:
    return {c.code: c.n for c in items if c.n}


def test_national_campaign_figures(database, world: World) -> None:
    st = stats_for(database, world.national, world.campaign_id)
    assert st.campaign_id == world.campaign_id and st.jurisdiction == "100000"
    assert st.total_cases == 5  # case F predates the campaign
    assert counts(st.by_state) == {
        "lead": 1, "opened": 1, "rectifying": 1, "closed": 1, "dismissed": 1
    }  # fmt: skip
    assert [c.code for c in st.by_state][:3] == ["lead", "opened", "assessing"]
    assert counts(st.by_category) == {"gambling": 3, "porn_vulgar": 2}
    assert st.by_category[0].name == "赌博、博彩引流"
    assert counts(st.by_department) == {"police": 3, "cyberspace": 2}
    assert counts(st.by_source) == {
        "patrol": 2, "public_tip": 1, "self_report": 1, "handoff": 1
    }  # fmt: skip
    assert counts(st.by_region) == {"310000": 3, "410000": 2}
    assert {c.code: c.name for c in st.by_region} == {"310000": "上海市", "410000": "河南省"}
    assert [(c.code, c.name, c.n) for c in st.by_stage] == [
        ("1", "部署摸底", 1), ("2", "集中整治", 4), ("3", "自查总结", 0)
    ]  # fmt: skip
    assert counts(st.by_task) == {"2": 3, "3": 2}
    # Rates: 3 of 5 found by patrol or self-report; 2 of 3 accepted cases disposed.
    assert st.discovery_rate_basis == (3, 5) and st.discovery_rate == pytest.approx(0.6)
    assert st.handling_rate_basis == (2, 3) and st.handling_rate == pytest.approx(2 / 3)
    # Approved dispositions only: the rejected warning does not count.
    assert counts(st.by_disposition) == {
        "close_accounts": 1, "rectify": 1, "interview": 2, "penalty": 1
    }  # fmt: skip
    assert st.dispositions_total == 5
    figures = {f.code: f.value for f in st.figures}
    assert len(st.figures) == 16  # every counter, zero when none
    assert figures["accounts_handled"] == 100
    assert figures["sites_interviewed"] == 1  # two interviews of the same site
    assert figures["rectifications_ordered"] == 1
    assert figures["penalties_imposed"] == 1
    assert figures["fines_yuan"] == Decimal("5000.50")
    assert isinstance(figures["fines_yuan"], Decimal)
    assert figures["sites_warned"] == 0 and figures["items_cleaned"] == 0
    assert st.figure("fines_yuan").unit == "元"
    # Overdue: A's deadline 2020-09-30 passed ten days before 2020-10-10.
    assert st.overdue_total == 1
    (late,) = st.overdue
    assert (late.id, late.deadline, late.days_overdue) == (world.case_a, date(2020, 9, 30), 10)
    assert late.lead_department_name == "公安"
    assert counts(st.subjects) == {"website": 2}
    assert st.typical_cases == 1


def test_trend_is_weekly_over_the_campaign_up_to_today(database, world: World) -> None:
    st = stats_for(database, world.national, world.campaign_id)
    assert st.trend_unit == "week"  # 15 July .. 10 October is longer than 62 days
    assert st.trend[0].start == date(2020, 7, 13)  # the Monday of the campaign's first week
    assert st.trend[-1].start == date(2020, 10, 5)
    assert all(p.start.weekday() == 0 for p in st.trend)
    assert sum(p.opened for p in st.trend) == 5
    assert sum(p.ended for p in st.trend) == 2  # B closed, E dismissed
    by_week = {p.start: p.opened for p in st.trend}
    assert by_week[date(2020, 8, 17)] == 1 and by_week[date(2020, 9, 28)] == 1


def test_scope_follows_the_callers_jurisdiction(database, world: World) -> None:
    city = stats_for(database, world.city, world.campaign_id)
    assert city.total_cases == 3 and city.jurisdiction == "310100"
    assert city.title.endswith("（上海市 310100）")
    assert counts(city.by_region) == {"310100": 3}
    assert counts(city.by_source) == {"patrol": 2, "self_report": 1}
    assert city.discovery_rate_basis == (3, 3) and city.handling_rate_basis == (2, 3)
    assert counts(city.subjects) == {"website": 1}
    province = stats_for(database, world.province, world.campaign_id)
    assert counts(province.by_region) == {"310100": 3}
    assert {c.name for c in province.by_region} == {"上海市 310100"}
    henan = stats_for(database, world.henan, world.campaign_id)
    assert henan.total_cases == 2 and henan.overdue_total == 0
    assert henan.handling_rate is None and henan.handling_rate_basis == (0, 0)
    assert all(f.value == 0 for f in henan.figures) and henan.typical_cases == 0


def test_refusals(database, world: World) -> None:
    with database.read() as s:
        with pytest.raises(ServiceError) as err:
            campaign_statistics(s, world.operator, world.campaign_id, at=AS_OF)
        assert err.value.status == 403
        with pytest.raises(ServiceError) as err:
            campaign_statistics(s, world.national, world.campaign_id + 99, at=AS_OF)
        assert err.value.status == 404
        with pytest.raises(ServiceError) as err:
            jurisdiction_statistics(
                s, world.city, at=AS_OF, start=date(2020, 9, 2), end=date(2020, 9, 1)
            )
        assert err.value.code == "bad_period"
        with pytest.raises(ValueError):
            campaign_statistics(s, world.national, world.campaign_id, at=datetime(2020, 10, 10))


def test_jurisdiction_statistics_by_period(database, world: World) -> None:
    with database.read() as s:
        everything = jurisdiction_statistics(
            s, world.city, at=AS_OF, start=date(2020, 7, 1), end=date(2020, 12, 31)
        )
        later = jurisdiction_statistics(s, world.city, at=AS_OF, start=date(2020, 8, 1))
        one_day = jurisdiction_statistics(
            s, world.city, at=AS_OF, start=date(2020, 9, 5), end=date(2020, 9, 5)
        )
    assert everything.total_cases == 4  # F counts here: it is in the city, in the period
    assert everything.campaign_id is None and everything.by_stage == []
    assert everything.trend_unit == "week"
    assert later.total_cases == 3
    assert one_day.total_cases == 1 and one_day.trend_unit == "day"
    assert [(p.start, p.opened) for p in one_day.trend] == [(date(2020, 9, 5), 1)]
    assert one_day.title == "上海市 310100案件统计（2020-09-05至2020-09-05）"


def test_tallies_and_scan_give_the_same_figures(database, world: World) -> None:
    """National and provincial scopes read the tallies; the scan of the cases agrees."""
    from qinglang.services import tallies

    with database.read() as s:
        assert tallies.verify(s) == []
        for reader in (world.national, world.province, world.henan):
            kept = campaign_statistics(s, reader, world.campaign_id, at=AS_OF, method="tallies")
            scan = campaign_statistics(s, reader, world.campaign_id, at=AS_OF, method="scan")
            assert kept == scan
            kept = jurisdiction_statistics(s, reader, at=AS_OF, method="tallies")
            assert kept == jurisdiction_statistics(s, reader, at=AS_OF, method="scan")
        national = campaign_statistics(s, world.national, world.campaign_id, at=AS_OF)
    assert national.figure("fines_yuan").value == Decimal("5000.50")
    assert national.figure("sites_interviewed").value == 1
