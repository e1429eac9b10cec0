"""The demo data (`qinglang demo`): loaded through the services into an empty database, it shows
every case state, every disposition kind, a publication, an overdue rectification, logins for
every role and an intact audit log; the command refuses to mix it into real data."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

from qinglang.cli.demo import demo as demo_command
from qinglang.govern import campaigns as plans
from qinglang.govern.actors import Role
from qinglang.govern.cases import State
from qinglang.govern.clock import SHANGHAI
from qinglang.govern.dispositions import registered
from qinglang.govern.identifiers import normalize_uscc
from qinglang.services import campaigns, cases, demo, disclosure, reports, users
from qinglang.services.errors import ServiceError
from qinglang.settings import Settings, get_settings
from qinglang.store.audit_log import iter_records, verify_log
from qinglang.store.blobs import BlobStore
from qinglang.store.models import Case, CaseDispositionRow, IntakeItem, Notice, Organisation

PASSWORD = "Demo-password-9"
AT = datetime(2026, 10, 15, 10, 30, tzinfo=SHANGHAI)  # stage 2 of the national template's dates


# ---------------------------------------------------------------- the campaign's dates


@given(st.dates(min_value=date(2001, 1, 1), max_value=date(2098, 12, 31)))
def test_today_falls_in_stage_two_whatever_the_date(today: date) -> None:
    plan = demo.demo_plan(today)
    template = plans.templates()[demo.TEMPLATE]
    assert [s.name for s in plan.stages] == [s.name for s in template.stages]
    stage = plans.stage_on(plan, today)
    assert stage is not None and stage.n == 2
    assert (today - plan.stages[0].deadline).days >= demo.MIN_DAYS_INTO_STAGE_2
    assert (today - plan.starts_on).days >= 30  # room for the stories' weeks
    assert plan.jurisdiction == demo.PROVINCE and plan.name.startswith("【演示】")


def test_the_templates_own_dates_are_kept_when_they_fit() -> None:
    plan = demo.demo_plan(date(2026, 10, 15))
    assert plan.starts_on == date(2026, 7, 15)
    assert [s.deadline for s in plan.stages] == [
        date(2026, 8, 31),
        date(2026, 11, 30),
        date(2026, 12, 31),
    ]


def test_fictional_organisations_have_valid_credit_codes() -> None:
    for org in demo.ORGANISATIONS:
        code = demo.demo_uscc(org.region, org.serial)
        assert normalize_uscc(code) == code
        assert org.name.endswith(demo.DEMO_MARK)


def test_every_registered_disposition_kind_is_approved_in_some_story() -> None:
    assert demo._unapproved_kinds(demo.stories()) == []


# ---------------------------------------------------------------- loading


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(blob_dir=tmp_path / "blobs")


def test_a_weak_password_is_refused_before_anything_is_written(
    database, settings, detector
) -> None:
    with pytest.raises(ServiceError) as exc:
        demo.load(database, BlobStore(settings.blob_dir), settings, at=AT, password="short")
    assert exc.value.code == "weak_password"
    assert demo.is_empty(database)


def test_demo_load_shows_a_living_campaign(database, settings, detector) -> None:
    blobs = BlobStore(settings.blob_dir)
    assert demo.is_empty(database)
    result = demo.load(database, blobs, settings, at=AT, password=PASSWORD, detector=detector)
    assert not demo.is_empty(database)

    # Logins for every role, each printed with the password it can log in with.
    assert {r for login in result.logins for r in login.roles} == {r.value for r in Role}
    assert all(login.password == PASSWORD for login in result.logins)
    assert len({login.username for login in result.logins}) == len(result.logins)
    assert {"admin", "wx_officer", "wx_analyst", "wx_leader", "pd_officer"} <= {
        login.username for login in result.logins
    }

    with database.write() as session:
        token, user = users.login(session, "ga_leader", PASSWORD, AT, 1)
        assert token and user.department == "police"
        leader = users.principal_of(user)

    with database.read() as session:
        assert verify_log(session).ok

        # Every state, every disposition kind (each approved at least once), all in the campaign.
        states = set(session.execute(select(Case.state)).scalars())
        assert states == {s.value for s in State}
        assert set(session.execute(select(Case.campaign_id)).scalars()) == {result.campaign_id}
        rows = session.execute(select(CaseDispositionRow.code, CaseDispositionRow.status)).all()
        assert {code for code, _ in rows} == set(registered())
        assert {code for code, status in rows if status == "approved"} == set(registered())
        assert {"proposed", "rejected"} <= {status for _, status in rows}

        # Duplicate tips merged into one lead (by URL and by content).
        merged = session.execute(
            select(IntakeItem.case_id, func.count()).group_by(IntakeItem.case_id)
        ).all()
        assert max(n for _, n in merged) >= 4
        sources = set(session.execute(select(IntakeItem.source)).scalars())
        assert sources == {"public_tip", "patrol", "handoff", "self_report"}

        # Notices: answered, overdue, and one for the operator of each organisation.
        statuses = set(session.execute(select(Notice.status)).scalars())
        assert {"sent", "answered", "superseded", "closed"} <= statuses
        orgs = set(session.execute(select(Organisation.id)).scalars())
        assert orgs <= set(session.execute(select(Notice.organisation_id)).scalars())
        wx = next(p for p in _principals(session) if p.username == "wx_leader")
        overdue = cases.overdue_cases(session, wx, AT)
        assert overdue.cases and overdue.notices
        assert not cases.overdue_cases(session, leader, AT).cases  # police has none

        # Published typical cases, readable without login.
        public, total = disclosure.list_public(session, campaign_id=result.campaign_id)
        assert total >= 1 and all(p.fields for p in public)

        # Progress: in stage 2; departments reported on time, late, or not at all.
        progress = campaigns.progress(session, wx, result.campaign_id, at=AT)
        assert progress.current_stage is not None and progress.current_stage.n == 2
        stage_one = {c.department: c.status for c in progress.cells if c.stage == 1}
        assert stage_one["cyberspace"] == "reported"
        assert "late_reported" in stage_one.values() and "overdue" in stage_one.values()
        assert any(r.kind == "report_overdue" for r in progress.reminders)

        # Every event lies before `at`, in time order, spread over the campaign's weeks.
        times = [r.at for r in iter_records(session)]
        assert times == sorted(times) and times[-1] < AT
        created = sorted(session.execute(select(Case.created_at)).scalars())
        assert created[-1] - created[0] > timedelta(days=21)

    # The reporter of a closed case sees its result by ticket.
    closed = next(t for t in result.tickets if t.case_state == "closed")
    status = reports.status(database, closed.ticket)
    assert status.result
    assert result.counts["audit_events"] == len(times)
    assert result.counts["cases"] >= 20 and result.counts["publications"] >= 1

    # Never twice, never into real data.
    with pytest.raises(ServiceError) as exc:
        demo.load(database, blobs, settings, at=AT, password=PASSWORD, detector=detector)
    assert exc.value.code == "database_not_empty"


def _principals(session):
    from qinglang.store.models import User

    return [users.principal_of(u) for u in session.execute(select(User)).scalars()]


# ---------------------------------------------------------------- the command


@pytest.fixture
def cli_env(sqlite_database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("QINGLANG_DATABASE_URL", str(sqlite_database.url))
    monkeypatch.setenv("QINGLANG_BLOB_DIR", str(tmp_path / "blobs"))
    for name in ("QINGLANG_ENV", "QINGLANG_ADMIN_TOKEN", "QINGLANG_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield sqlite_database
    get_settings.cache_clear()


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command()(demo_command)
    return app


def test_command_loads_once_and_refuses_real_data(cli_env, detector) -> None:
    runner = CliRunner()
    first = runner.invoke(_cli(), ["--password", PASSWORD])
    assert first.exit_code == 0, first.output
    for username in ("admin", "wx_leader", "operator_game", "pd_officer"):
        assert username in first.stdout
    assert PASSWORD in first.stdout and "shown only this once" in first.stdout
    assert not demo.is_empty(cli_env)

    again = runner.invoke(_cli(), ["--if-empty"])
    assert again.exit_code == 0
    assert "nothing loaded" in again.stdout and PASSWORD not in again.stdout

    refused = runner.invoke(_cli(), [])
    assert refused.exit_code == 1
    assert "empty database" in refused.stderr


def test_command_refuses_a_weak_password(cli_env) -> None:
    result = CliRunner().invoke(_cli(), ["--password", "short"])
    assert result.exit_code == 2
    assert demo.is_empty(cli_env)
