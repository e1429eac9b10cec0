"""Settings: environment parsing, defaults, and refusing default secrets outside dev."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from qinglang.settings import KNOWN_DEFAULT_TOKENS, Env, Settings, env_var, get_settings

GOOD_TOKEN = "k3J9-qv8ZtR2-wP5mXc7"
GOOD_KEY = "Zq8v-3mRt7-Lp2xW9-kY4c"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("QINGLANG_"):
            monkeypatch.delenv(name)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_defaults() -> None:
    s = Settings()
    assert s.env is Env.DEV
    assert (s.host, s.port) == ("127.0.0.1", 8000)
    assert s.log_level == "INFO"
    assert s.lexicon_paths == []
    assert s.max_text_chars == 100_000
    assert s.max_items == 1000
    assert s.max_body_bytes == 4 * 1024 * 1024
    assert s.admin_token is None
    assert s.rate_limit_per_minute > 0
    assert s.database_url == "sqlite:///var/qinglang.db"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QINGLANG_PORT", "9000")
    monkeypatch.setenv("QINGLANG_LOG_LEVEL", "debug")
    monkeypatch.setenv("QINGLANG_MAX_ITEMS", "5")
    monkeypatch.setenv("QINGLANG_RATE_LIMIT_PER_MINUTE", "0")
    s = Settings()
    assert (s.port, s.log_level, s.max_items, s.rate_limit_per_minute) == (9000, "DEBUG", 5, 0)


def test_lexicon_paths_are_pathsep_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QINGLANG_LEXICON_PATHS", os.pathsep.join(["/a/one.toml", "", " b.tsv "]))
    assert Settings().lexicon_paths == [Path("/a/one.toml"), Path("b.tsv")]
    monkeypatch.setenv("QINGLANG_LEXICON_PATHS", "")
    assert Settings().lexicon_paths == []


def test_lexicon_paths_from_code() -> None:
    assert Settings(lexicon_paths=["x.toml"]).lexicon_paths == [Path("x.toml")]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("QINGLANG_PORT", "0"),
        ("QINGLANG_PORT", "http"),
        ("QINGLANG_ENV", "staging"),
        ("QINGLANG_LOG_LEVEL", "chatty"),
        ("QINGLANG_MAX_BODY_BYTES", "10"),
        ("QINGLANG_RATE_LIMIT_PER_MINUTE", "-1"),
    ],
)
def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_prod_requires_an_admin_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QINGLANG_ENV", "prod")
    with pytest.raises(ValidationError, match="QINGLANG_ADMIN_TOKEN must be set"):
        Settings()
    with pytest.raises(ValidationError):
        get_settings()


@pytest.mark.parametrize("token", ["changeme", "CHANGEME", "changethis", "admin", " secret "])
def test_prod_refuses_default_tokens(monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    monkeypatch.setenv("QINGLANG_ENV", "prod")
    monkeypatch.setenv("QINGLANG_ADMIN_TOKEN", token)
    with pytest.raises(ValidationError, match="known default"):
        Settings()


def test_prod_refuses_short_tokens() -> None:
    with pytest.raises(ValidationError, match="at least 16"):
        Settings(env="prod", admin_token="r4nd0m-but-shrt", secret_key=GOOD_KEY)  # 15 characters
    ok = Settings(env="prod", admin_token="r4nd0m-but-short", secret_key=GOOD_KEY)
    assert ok.admin_token is not None


def test_prod_accepts_a_real_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QINGLANG_ENV", "prod")
    monkeypatch.setenv("QINGLANG_ADMIN_TOKEN", GOOD_TOKEN)
    monkeypatch.setenv("QINGLANG_SECRET_KEY", GOOD_KEY)
    s = get_settings()
    assert s.env is Env.PROD
    assert s.admin_token.get_secret_value() == GOOD_TOKEN
    assert GOOD_TOKEN not in repr(s)  # secrets stay out of reprs and logs


def test_prod_refuses_the_dev_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QINGLANG_ENV", "prod")
    monkeypatch.setenv("QINGLANG_ADMIN_TOKEN", GOOD_TOKEN)
    with pytest.raises(ValidationError, match="QINGLANG_SECRET_KEY"):
        Settings()
    monkeypatch.setenv("QINGLANG_SECRET_KEY", "short")
    with pytest.raises(ValidationError, match="QINGLANG_SECRET_KEY"):
        Settings()
    monkeypatch.setenv("QINGLANG_SECRET_KEY", GOOD_KEY)
    assert GOOD_KEY not in repr(Settings())


def test_test_env_refuses_default_token_but_needs_none() -> None:
    assert Settings(env="test").admin_token is None
    with pytest.raises(ValidationError, match="known default"):
        Settings(env="test", admin_token="changeme")


def test_dev_tolerates_default_token_but_flags_it() -> None:
    s = Settings(env="dev", admin_token="changeme")
    assert s.default_token_in_use
    assert not Settings(env="dev", admin_token=GOOD_TOKEN).default_token_in_use


def test_get_settings_is_cached() -> None:
    assert get_settings() is get_settings()


def test_every_field_has_a_description() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"Settings.{name} has no description"


def test_known_defaults_are_lowercase() -> None:
    assert all(t == t.lower() for t in KNOWN_DEFAULT_TOKENS)
    assert env_var("admin_token") == "QINGLANG_ADMIN_TOKEN"
