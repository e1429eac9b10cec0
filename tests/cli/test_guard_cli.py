"""`qinglang guard decide | pay | rules | calendar`: one JSON line; exit 0 / 1 / 2."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from qinglang.cli import app

runner = CliRunner()

FRIDAY_EVENING = "2026-12-04T20:30:00+08:00"


def _ok(args: list[str], exit_code: int = 0) -> dict:
    result = runner.invoke(app, ["guard", *args])
    assert result.exit_code == exit_code, (result.stdout, result.stderr)
    assert result.stdout.count("\n") == 1
    return json.loads(result.stdout)


def _bad(args: list[str]) -> str:
    result = runner.invoke(app, ["guard", *args])
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.stderr


# ---------------------------------------------------------------- decide


def test_decide_friday_evening() -> None:
    out = _ok(["decide", "--birth", "2012-03-01", "--at", FRIDAY_EVENING, "--platform", "game"])
    assert {k: out[k] for k in ("allowed", "remaining_seconds", "reason", "rule_set")} == {
        "allowed": True,
        "remaining_seconds": 1800,
        "reason": "within_limits",
        "rule_set": "nppa-2021",
    }
    assert out["next_allowed_at"] == "2026-12-05T20:00:00+08:00"
    assert out["message"] == "在限制范围内，可以继续。"
    assert "rest_reminder_seconds" in out


def test_decide_output_is_not_ascii_escaped() -> None:
    result = runner.invoke(
        app,
        ["guard", "decide", "--birth", "2012-03-01", "--at", FRIDAY_EVENING, "--platform", "game"],
    )
    assert "可以继续" in result.stdout


def test_decide_naive_at_is_shanghai_time() -> None:
    naive = _ok(
        ["decide", "--birth", "2012-03-01", "--at", "2026-12-04T20:30", "--platform", "game"]
    )
    utc = _ok(
        ["decide", "--birth", "2012-03-01", "--at", "2026-12-04T12:30:00Z", "--platform", "game"]
    )
    assert naive == utc
    assert naive["remaining_seconds"] == 1800


def test_decide_offset_is_honoured() -> None:
    # 20:30 in UTC is 04:30 the next morning in Shanghai: outside the play window.
    out = _ok(
        [
            "decide",
            "--birth",
            "2012-03-01",
            "--at",
            "2026-12-04T20:30:00+00:00",
            "--platform",
            "game",
        ]
    )
    assert (out["allowed"], out["reason"]) == (False, "outside_play_window")
    assert out["remaining_seconds"] == 0
    assert out["next_allowed_at"] == "2026-12-05T20:00:00+08:00"


def test_decide_refusal_is_exit_0() -> None:
    out = _ok(
        [
            "decide",
            "--birth",
            "2012-03-01",
            "--at",
            FRIDAY_EVENING,
            "--platform",
            "game",
            "--used-today-min",
            "60",
        ]
    )
    assert (out["allowed"], out["reason"]) == (False, "daily_limit_reached")
    assert out["message"] == "今日可用时长已用完，请明天再来。"


def test_decide_used_today_minutes() -> None:
    out = _ok(
        [
            "decide",
            "--birth",
            "2012-03-01",
            "--at",
            "2026-12-04T20:00:00+08:00",
            "--platform",
            "game",
            "--used-today-min",
            "45",
        ]
    )
    assert out["remaining_seconds"] == 900


def test_decide_adult() -> None:
    out = _ok(["decide", "--birth", "1990-01-01", "--at", FRIDAY_EVENING, "--platform", "live"])
    assert (out["allowed"], out["reason"], out["remaining_seconds"]) == (True, "adult", None)


def test_decide_guest() -> None:
    out = _ok(["decide", "--guest", "--at", FRIDAY_EVENING, "--platform", "game"])
    assert (out["allowed"], out["reason"]) == (False, "guest_not_allowed")
    out = _ok(["decide", "--guest", "--at", "2026-12-03T12:00:00+08:00", "--platform", "video"])
    assert (out["allowed"], out["rule_set"], out["remaining_seconds"]) == (
        True,
        "cac-minor-mode-2024",
        2400,
    )
    assert out["rest_reminder_seconds"] == 1800


def test_decide_named_rule_set() -> None:
    out = _ok(
        [
            "decide",
            "--birth",
            "2012-03-01",
            "--at",
            FRIDAY_EVENING,
            "--platform",
            "game",
            "--rules",
            "nppa-2019",
        ]
    )
    # Under the 2019 rules 20:30 is inside 08:00–22:00: 1.5 h to the curfew, 1.5 h a day.
    assert (out["allowed"], out["rule_set"], out["remaining_seconds"]) == (
        True,
        "nppa-2019",
        5400,
    )


def test_decide_play_day_readings() -> None:
    # 2026-02-28 is a make-up workday Saturday.
    base = ["decide", "--birth", "2012-03-01", "--at", "2026-02-28T20:30:00+08:00"]
    out = _ok([*base, "--platform", "game"])
    assert (out["allowed"], out["reason"]) == (False, "not_a_play_day")
    out = _ok([*base, "--platform", "game", "--play-days", "literal"])
    assert out["allowed"] is True
    out = _ok([*base, "--platform", "game", "--play-days", "schedule"])
    assert out["allowed"] is False


def test_decide_no_rules_in_force() -> None:
    out = _ok(["decide", "--birth", "2012-03-01", "--at", "2019-01-01T12:00", "--platform", "game"])
    assert (out["allowed"], out["rule_set"]) == (True, "none")


def test_decide_calendar_gap_is_an_answer() -> None:
    # A Saturday in 2027: the package has no schedule yet, the rules refuse loudly.
    out = _ok(
        [
            "decide",
            "--birth",
            "2012-03-01",
            "--at",
            "2027-01-09T20:30:00+08:00",
            "--platform",
            "game",
        ]
    )
    assert (out["allowed"], out["reason"]) == (False, "calendar_unavailable")


DECIDE = ["decide", "--at", FRIDAY_EVENING, "--platform", "game"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            ["decide", "--birth", "2012-13-01", "--at", FRIDAY_EVENING, "--platform", "game"],
            "--birth",
        ),
        (
            ["decide", "--birth", "20120301", "--at", FRIDAY_EVENING, "--platform", "game"],
            "--birth",
        ),
        (["decide", "--birth", "2012-03-01", "--at", "garbage", "--platform", "game"], "--at"),
        (["decide", "--birth", "2012-03-01", "--at", "2026-12-04", "--platform", "game"], "--at"),
        (
            ["decide", "--birth", "2012-03-01", "--at", "2026-12-04T25:00", "--platform", "game"],
            "--at",
        ),
        (
            ["decide", "--birth", "2012-03-01", "--at", "9999-12-31T23:00", "--platform", "game"],
            "--at",
        ),
        (["decide", "--birth", "2012-03-01", "--at", FRIDAY_EVENING, "--platform", "tv"], "tv"),
        ([*DECIDE, "--birth", "2012-03-01", "--rules", "nppa-2099"], "nppa-2099"),
        ([*DECIDE, "--birth", "2027-01-01"], "出生日期晚于当前时间"),
        ([*DECIDE], "--birth"),
        ([*DECIDE, "--birth", "2012-03-01", "--guest"], "--guest"),
        ([*DECIDE, "--birth", "2012-03-01", "--used-today-min", "-1"], "--used-today-min"),
        ([*DECIDE, "--birth", "2012-03-01", "--used-today-min", "999999999"], "已用时长无效"),
        ([*DECIDE, "--birth", "2012-03-01", "--play-days", "weekends"], "--play-days"),
    ],
)
def test_decide_bad_input(args: list[str], needle: str) -> None:
    err = _bad(args)
    assert err.startswith("error: ")
    assert needle in err
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err)  # message_zh is there too


# ---------------------------------------------------------------- pay

PAY_AT = "2026-12-03T12:00:00+08:00"


def test_pay_within_caps() -> None:
    # Born 2012-03-01: 14 on 2026-12-03, so ¥50 a payment and ¥200 a month.
    out = _ok(
        [
            "pay",
            "--birth",
            "2012-03-01",
            "--at",
            PAY_AT,
            "--amount-yuan",
            "30",
            "--spent-month-yuan",
            "150",
        ]
    )
    assert out == {
        "allowed": True,
        "reason": "within_limits",
        "message": out["message"],
        "rule_set": "nppa-2021",
        "single_cap_yuan": 50,
        "monthly_remaining_yuan": 20,
    }


def test_pay_sixteen_year_old_has_higher_caps() -> None:
    # Born 2010-01-01: 16 on 2026-12-03, so ¥100 a payment and ¥400 a month.
    out = _ok(
        [
            "pay",
            "--birth",
            "2010-01-01",
            "--at",
            PAY_AT,
            "--amount-yuan",
            "30",
            "--spent-month-yuan",
            "150",
        ]
    )
    assert (out["allowed"], out["single_cap_yuan"], out["monthly_remaining_yuan"]) == (
        True,
        100,
        220,
    )


def test_pay_fen_are_exact() -> None:
    out = _ok(
        [
            "pay",
            "--birth",
            "2012-03-01",
            "--at",
            PAY_AT,
            "--amount-yuan",
            "0.1",
            "--spent-month-yuan",
            "199.80",
        ]
    )
    # 0.1 + 199.8 = 199.9 exactly (a float sum would not be); 0.10 yuan remain.
    assert (out["allowed"], out["monthly_remaining_yuan"]) == (True, 0.1)
    out = _ok(
        [
            "pay",
            "--birth",
            "2012-03-01",
            "--at",
            PAY_AT,
            "--amount-yuan",
            "0.21",
            "--spent-month-yuan",
            "199.80",
        ]
    )
    assert (out["allowed"], out["reason"]) == (False, "monthly_cap_exceeded")


def test_pay_refusals_are_exit_0() -> None:
    out = _ok(["pay", "--birth", "2012-03-01", "--at", PAY_AT, "--amount-yuan", "50.01"])
    assert (out["allowed"], out["reason"], out["single_cap_yuan"]) == (
        False,
        "single_cap_exceeded",
        50,
    )
    out = _ok(["pay", "--birth", "2020-01-01", "--at", PAY_AT, "--amount-yuan", "1"])
    assert (out["allowed"], out["reason"]) == (False, "too_young_to_pay")
    out = _ok(["pay", "--guest", "--at", PAY_AT, "--amount-yuan", "1"])
    assert (out["allowed"], out["reason"]) == (False, "guest_no_payment")


def test_pay_tips_on_live() -> None:
    base = ["pay", "--at", PAY_AT, "--amount-yuan", "1", "--platform", "live", "--tip"]
    out = _ok([*base, "--birth", "2010-01-01"])
    assert (out["allowed"], out["reason"]) == (False, "tipping_not_allowed")
    assert out["message"] == "未成年人不能打赏。"
    out = _ok([*base, "--birth", "1990-01-01"])
    assert (out["allowed"], out["reason"]) == (True, "adult")


def test_pay_named_rule_set() -> None:
    out = _ok(
        [
            "pay",
            "--birth",
            "2010-01-01",
            "--at",
            PAY_AT,
            "--amount-yuan",
            "1",
            "--rules",
            "cac-minor-mode-2024",
        ]
    )
    assert (out["allowed"], out["reason"], out["rule_set"]) == (
        False,
        "payment_not_allowed",
        "cac-minor-mode-2024",
    )


PAY = ["pay", "--birth", "2012-03-01", "--at", PAY_AT]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ([*PAY, "--amount-yuan", "30.123"], "two decimal"),
        ([*PAY, "--amount-yuan", "0.001"], "two decimal"),
        ([*PAY, "--amount-yuan", "-5"], "金额必须大于0"),
        ([*PAY, "--amount-yuan", "0"], "金额必须大于0"),
        ([*PAY, "--amount-yuan", "1000000.01"], "金额必须大于0"),
        ([*PAY, "--amount-yuan", "1" + "0" * 40], "out of range"),
        ([*PAY, "--amount-yuan", "1e3"], "--amount-yuan"),
        ([*PAY, "--amount-yuan", "NaN"], "--amount-yuan"),
        ([*PAY, "--amount-yuan", "Infinity"], "--amount-yuan"),
        ([*PAY, "--amount-yuan", "abc"], "--amount-yuan"),
        ([*PAY, "--amount-yuan", "1", "--spent-month-yuan", "-1"], "本月已消费金额无效"),
        ([*PAY, "--amount-yuan", "1", "--spent-month-yuan", "1.5.0"], "--spent-month-yuan"),
        ([*PAY, "--amount-yuan", "1", "--platform", "radio"], "radio"),
        ([*PAY, "--amount-yuan", "1", "--rules", "nope"], "nope"),
        (["pay", "--birth", "2030-01-01", "--at", PAY_AT, "--amount-yuan", "1"], "出生日期"),
        (["pay", "--birth", "2012-02-30", "--at", PAY_AT, "--amount-yuan", "1"], "--birth"),
        (["pay", "--birth", "2012-03-01", "--at", "noon", "--amount-yuan", "1"], "--at"),
        (["pay", "--at", PAY_AT, "--amount-yuan", "1"], "--birth"),
    ],
)
def test_pay_bad_input(args: list[str], needle: str) -> None:
    err = _bad(args)
    assert needle in err
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err)


def test_pay_never_uses_float(monkeypatch: pytest.MonkeyPatch) -> None:
    """The amount reaching the rules is an exact int of fen."""
    from qinglang.guard import rulesets

    seen = []
    real = rulesets.evaluate_payment

    def spy(sets, req):
        seen.append(req)
        return real(sets, req)

    monkeypatch.setattr(rulesets, "evaluate_payment", spy)
    _ok([*PAY, "--amount-yuan", "19.99", "--spent-month-yuan", "0.07"])
    assert type(seen[0].amount_fen) is int and seen[0].amount_fen == 1999
    assert type(seen[0].spent_month_fen) is int and seen[0].spent_month_fen == 7


# ---------------------------------------------------------------- rules and calendar


def test_rules_lists_every_registered_set() -> None:
    from qinglang.guard.rulesets import REGISTRY

    out = _ok(["rules"])
    names = [rs["name"] for rs in out["rule_sets"]]
    assert names == list(REGISTRY)
    first = out["rule_sets"][0]
    assert set(first) == {
        "name",
        "title_zh",
        "source",
        "effective_from",
        "effective_to",
        "platforms",
    }


def test_calendar_covered_year() -> None:
    out = _ok(["calendar", "--today", "2025-06-01"])
    assert out["ok"] is True and out["missing_years"] == []


def test_calendar_missing_years_exit_1() -> None:
    out = _ok(["calendar", "--today", "2026-06-01"], exit_code=1)
    assert out["ok"] is False and out["missing_years"] == [2027]


def test_calendar_without_today_answers() -> None:
    result = runner.invoke(app, ["guard", "calendar"])
    assert result.exit_code in (0, 1)
    assert "ok" in json.loads(result.stdout)


def test_calendar_bad_today() -> None:
    assert "--today" in _bad(["calendar", "--today", "2026-6-1"])
