"""The other commands: version, taxonomy, lexicon check, serve."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qinglang import __version__
from qinglang.cli import app
from qinglang.settings import get_settings
from qinglang.taxonomy import get_taxonomy

runner = CliRunner()


def test_help_lists_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "scan", "taxonomy", "lexicon", "version"):
        assert command in result.stdout


def test_version() -> None:
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"qinglang {__version__}"


def test_taxonomy_table() -> None:
    result = runner.invoke(app, ["taxonomy"])
    assert result.exit_code == 0
    for code in ("abuse", "gambling", "grooming"):
        assert code in result.stdout
    assert "侮辱谩骂" in result.stdout
    assert "公安" in result.stdout


def test_taxonomy_json() -> None:
    result = runner.invoke(app, ["taxonomy", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == get_taxonomy().to_dict()


def test_lexicon_check_ok(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text(
        'category = "abuse"\n[[term]]\ntext = "测试脏话"\nweight = 0.9\n', encoding="utf-8"
    )
    tsv = tmp_path / "good.tsv"
    tsv.write_text("测试赌词\tgambling\t0.8\n", encoding="utf-8")
    result = runner.invoke(app, ["lexicon", "check", str(good), str(tsv)])
    assert result.exit_code == 0, result.output
    assert f"OK {good}: 1 terms (abuse 1)" in result.stdout
    assert f"OK {tsv}: 1 terms (gambling 1)" in result.stdout


def test_lexicon_check_error_names_file(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('category = "abuse"\n[[term]]\ntext = "测试"\nweight = 0.9\n', "utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text('category = "not_a_category"\n[[term]]\ntext = "x"\n', encoding="utf-8")
    result = runner.invoke(app, ["lexicon", "check", str(good), str(bad)])
    assert result.exit_code == 1
    assert f"OK {good}" in result.stdout
    assert str(bad) in result.stderr
    assert "not_a_category" in result.stderr


def test_lexicon_check_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["lexicon", "check", str(tmp_path / "none.toml")])
    assert result.exit_code == 1
    assert "none.toml" in result.stderr


@pytest.fixture
def fresh_settings(monkeypatch: pytest.MonkeyPatch):
    for name in ("QINGLANG_ENV", "QINGLANG_ADMIN_TOKEN", "QINGLANG_HOST", "QINGLANG_PORT"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_serve_runs_uvicorn_with_the_app_factory(fresh_settings) -> None:
    import uvicorn

    calls: list[tuple[tuple, dict]] = []
    fresh_settings.setattr(uvicorn, "run", lambda *a, **kw: calls.append((a, kw)))
    fresh_settings.setenv("QINGLANG_PORT", "9123")
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 0, result.output
    ((args, kwargs),) = calls
    assert args == ("qinglang.web.app:create_served_app",)
    assert kwargs["factory"] is True
    assert kwargs["host"] == "0.0.0.0"
    assert kwargs["port"] == 9123
    assert kwargs["reload"] is False


def test_serve_refuses_a_default_token_in_prod(fresh_settings) -> None:
    import uvicorn

    fresh_settings.setattr(uvicorn, "run", lambda *a, **kw: pytest.fail("server started"))
    fresh_settings.setenv("QINGLANG_ENV", "prod")
    fresh_settings.setenv("QINGLANG_ADMIN_TOKEN", "changeme")
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "QINGLANG_ADMIN_TOKEN" in result.stderr


def test_served_app_factory_builds_the_app(fresh_settings) -> None:
    from fastapi.testclient import TestClient

    from qinglang.web.app import create_served_app

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        client = TestClient(create_served_app())
        assert client.get("/healthz").json()["status"] == "ok"
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
