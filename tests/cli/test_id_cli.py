"""`qinglang id check`: one JSON line, exit 0 / 1 / 2."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from qinglang.cli import app

runner = CliRunner()


def test_valid() -> None:
    result = runner.invoke(app, ["id", "check", "11010519491231002x", "--today", "2025-06-01"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 1
    assert json.loads(result.stdout) == {
        "valid": True,
        "birth_date": "1949-12-31",
        "sex": "female",
        "region_code": "110105",
        "error": None,
    }
    assert "11010519491231002" not in result.stdout


def test_valid_without_today() -> None:
    result = runner.invoke(app, ["id", "check", "360426199101010071"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sex"] == "male"


def test_invalid() -> None:
    result = runner.invoke(app, ["id", "check", "371321199012310912"])
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert out["valid"] is False
    assert out["error"]["code"] == "bad_check_char"
    assert "身份证号码校验位不正确" in result.stdout  # ensure_ascii=False
    assert "371321199012310912" not in result.stdout


def test_future_date_with_today() -> None:
    result = runner.invoke(app, ["id", "check", "360426199101010071", "--today", "1990-12-31"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "future_date"


def test_bad_today() -> None:
    for bad in ("2025-02-30", "20250101", "tomorrow", ""):
        result = runner.invoke(app, ["id", "check", "360426199101010071", "--today", bad])
        assert result.exit_code == 2, bad
        assert "--today" in result.stderr
        assert result.stdout == ""


def test_help_lists_id() -> None:
    result = runner.invoke(app, ["id", "--help"])
    assert result.exit_code == 0
    assert "check" in result.stdout
