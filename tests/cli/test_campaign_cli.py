"""`qinglang campaign templates | list | remind` over a real SQLite database."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from typer.testing import CliRunner

from qinglang.cli.campaign import campaign_app
from qinglang.govern.actors import Role
from qinglang.govern.campaigns import instantiate
from qinglang.services import campaigns
from qinglang.services.principal import Principal

runner = CliRunner()
LEADER = Principal(1, "leader", frozenset({Role.leader}), "police", "410000")
OFFICER = Principal(2, "officer", frozenset({Role.officer}), "police", "410000")


@pytest.fixture
def db_url(sqlite_database) -> str:
    with sqlite_database.write() as s:
        cid = campaigns.create_campaign(
            s, LEADER, instantiate("henan-2020"), at=datetime(2020, 9, 23, 2, tzinfo=UTC)
        ).id
        campaigns.add_report(
            s, OFFICER, cid, stage=1, body="摸排完成", at=datetime(2020, 10, 10, 2, tzinfo=UTC)
        )
    return str(sqlite_database.engine.url)


def test_templates_lists_the_seed_stages():
    result = runner.invoke(campaign_app, ["templates"])
    assert result.exit_code == 0
    assert "hunan-2018" in result.output and "by 2018-04-05" in result.output


def test_list_shows_the_campaign(db_url):
    result = runner.invoke(campaign_app, ["list", "--url", db_url])
    assert result.exit_code == 0, result.output
    assert "河南省未成年人网络环境专项治理行动" in result.output
    assert "2020-09-23..2020-12-31" in result.output


def test_remind_as_json_lines(db_url):
    result = runner.invoke(
        campaign_app, ["remind", "--url", db_url, "--at", "2020-11-25", "--json"]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    kinds = {(r["kind"], r["department"]) for r in lines}
    assert ("report_overdue", "education") in kinds  # stage 1 ended 2020-10-20 unreported
    assert ("report_overdue", "police") not in kinds  # police reported on 10-10
    assert ("stage_ending", None) in kinds  # stage 2 ends 2020-11-30
    assert all(r["campaign"] for r in lines)
    assert date.fromisoformat(lines[0]["deadline"])


def test_remind_outside_any_campaign_prints_nothing(db_url):
    result = runner.invoke(campaign_app, ["remind", "--url", db_url, "--at", "2021-06-01"])
    assert result.exit_code == 0 and result.output == ""


def test_remind_refuses_a_bad_day(db_url):
    result = runner.invoke(campaign_app, ["remind", "--url", db_url, "--at", "2020-13-01"])
    assert result.exit_code == 2
