"""Runtime settings, read from `QINGLANG_*` environment variables (see docs/settings.md).

Every field carries a `description`; tests/test_docs.py fails when a field's environment
variable is missing from docs/settings.md.
"""

from __future__ import annotations

import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "QINGLANG_"

# Tokens that ship in examples, tutorials and templates; a production deployment using one of
# them is as good as unauthenticated. Compared case-insensitively.
KNOWN_DEFAULT_TOKENS = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "changethis",
        "change-this",
        "admin",
        "administrator",
        "password",
        "passw0rd",
        "secret",
        "token",
        "default",
        "test",
        "qinglang",
        "123456",
        "12345678",
        "xxx",
    }
)
MIN_PROD_TOKEN_CHARS = 16
DEV_SECRET_KEY = "dev-only-insecure-secret-key"


class Env(StrEnum):
    DEV = "dev"
    TEST = "test"
    PROD = "prod"


class InsecureSettingsError(ValueError):
    """The settings would run the service with a default or missing secret."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        case_sensitive=False,
        extra="ignore",
        validate_default=True,
    )

    env: Env = Field(
        default=Env.DEV,
        description=(
            "Deployment environment: dev, test or prod. Outside dev a known default admin "
            "token is refused; in prod an admin token must be set."
        ),
    )
    host: str = Field(
        default="127.0.0.1",
        description="Address `qinglang serve` binds to.",
    )
    port: int = Field(
        default=8000,
        ge=1,
        le=65535,
        description="TCP port `qinglang serve` listens on.",
    )
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description=(
            "Worker processes of `qinglang serve` (uvicorn). Each holds its own detector; on "
            "SQLite the processes take turns as the one writer."
        ),
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO",
        description="Lowest level of log records written (case-insensitive).",
    )
    lexicon_paths: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description=(
            "User lexicon files (TOML or TSV) merged over the built-in lexicons, in order. "
            "The environment variable separates paths with os.pathsep (':' on Linux/macOS, "
            "';' on Windows)."
        ),
    )
    matcher: Literal["auto", "hyperscan", "ahocorasick"] = Field(
        default="auto",
        description=(
            "Literal-matching backend of the detection engine: 'hyperscan' (x86-64 Linux, "
            "fastest on large lexicons), 'ahocorasick' (portable) or 'auto' (hyperscan where "
            "it is installed and the key set is large). The engine reads the environment "
            "variable directly, so the CLI and the API agree."
        ),
    )
    model_path: str = Field(
        default="",
        description=(
            "The learned abuse model the detection engine loads: empty for the artifact shipped "
            "in the package, a path to another artifact (`qinglang model train --out`), or "
            "'none' for the rule path alone. The engine reads the environment variable "
            "directly, so the CLI and the API agree."
        ),
    )
    max_text_chars: int = Field(
        default=100_000,
        ge=1,
        description="Longest text accepted per item over HTTP, in Unicode code points.",
    )
    max_items: int = Field(
        default=1000,
        ge=1,
        description="Most items accepted in one batch request to POST /api/v1/detect.",
    )
    max_body_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        description=(
            "Largest HTTP request body accepted, in bytes; enforced while the body is read, "
            "with or without a Content-Length header."
        ),
    )
    admin_token: SecretStr | None = Field(
        default=None,
        description=(
            "Bearer token for admin endpoints (POST /api/v1/detect/reload). Unset disables "
            "them (404). Required in prod, where it must not be a known default and must be "
            f"at least {MIN_PROD_TOKEN_CHARS} characters."
        ),
    )
    rate_limit_per_minute: int = Field(
        default=600,
        ge=0,
        description=(
            "Requests per minute allowed per client IP address to /api/v1/detect endpoints "
            "(in-process token bucket, bursts up to the same number); 0 disables the limit."
        ),
    )
    database_url: str = Field(
        default="sqlite:///var/qinglang.db",
        description=(
            "SQLAlchemy URL of the governance database: a SQLite file (embedded default, WAL, "
            "one writer) or PostgreSQL through psycopg 3 "
            "(postgresql+psycopg://user@host/db). `qinglang db upgrade` migrates it."
        ),
    )
    blob_dir: Path = Field(
        default=Path("var/blobs"),
        description=(
            "Directory of the content-addressed evidence store: attachments are kept under "
            "their SHA-256 and never overwritten."
        ),
    )
    secret_key: SecretStr = Field(
        default=SecretStr(DEV_SECRET_KEY),
        description=(
            "Key for keyed hashes (client addresses of public reports, reporter contacts) and "
            f"signed values. In prod it must be set to at least {MIN_PROD_TOKEN_CHARS} "
            "random characters."
        ),
    )
    session_hours: int = Field(
        default=12,
        ge=1,
        le=24 * 30,
        description="Lifetime of a login session (cookie `qinglang_session`), in hours.",
    )
    report_rate_limit_per_hour: int = Field(
        default=30,
        ge=0,
        description=(
            "Public reports (POST /api/v1/reports) accepted per client address per hour "
            "(token bucket, bursts up to the same number; IPv6 counted per /64); status "
            "look-ups by ticket are allowed ten times as many. 0 disables both limits."
        ),
    )
    max_attachment_bytes: int = Field(
        default=2 * 1024 * 1024,
        ge=1024,
        description="Largest single attachment of an intake item or report, in bytes (decoded).",
    )
    flood_threshold: int = Field(
        default=20,
        ge=2,
        description=(
            "Public tips against one target (ledger subject or registrable domain) within "
            "QINGLANG_FLOOD_WINDOW_MINUTES above which new tips are flagged as flooding; "
            "when most of them come from few clients or one text template they are flagged "
            "as coordinated malicious reporting (恶意举报). The check reads at most the latest "
            "5 x threshold tips, so it stays cheap during a flood."
        ),
    )
    flood_window_minutes: int = Field(
        default=60,
        ge=1,
        description="The sliding window of QINGLANG_FLOOD_THRESHOLD, in minutes.",
    )
    self_report_hours: int = Field(
        default=24,
        ge=1,
        description=(
            "Hours a platform has, from the time it discovered a major violation, to file its "
            "self-report (重大违法违规信息报告); later reports are flagged late."
        ),
    )

    redis_url: str | None = Field(
        default=None,
        description=(
            "Redis URL (redis://host:6379/0) for the guard's live counters (play sessions, "
            "usage seconds) shared by all API replicas and workers; unset keeps them in the "
            "process (embedded default, one worker)."
        ),
    )
    guard_play_days: Literal["schedule", "literal"] = Field(
        default="schedule",
        description=(
            "Reading of nppa-2021's play days: `schedule` (Fridays plus the rest days of the "
            "State Council schedule; a make-up workday weekend is not playable) or `literal` "
            "(every Friday, Saturday and Sunday plus holiday-break days)."
        ),
    )
    guard_window_years: int = Field(
        default=1,
        ge=0,
        le=5,
        description=(
            "Years after the current one the holiday calendar must cover for the guard health "
            "check to pass (`GET /api/v1/guard/health`)."
        ),
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("lexicon_paths", mode="before")
    @classmethod
    def _split_paths(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [p.strip() for p in value.split(os.pathsep) if p.strip()]
        return value

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        token = self.admin_token.get_secret_value() if self.admin_token is not None else None
        if self.env is Env.DEV:
            return self
        if token is not None and token.strip().lower() in KNOWN_DEFAULT_TOKENS:
            raise InsecureSettingsError(
                f"{ENV_PREFIX}ADMIN_TOKEN is a known default value; "
                f"set a random secret when {ENV_PREFIX}ENV={self.env.value}"
            )
        if self.env is Env.PROD:
            if token is None or not token.strip():
                raise InsecureSettingsError(
                    f"{ENV_PREFIX}ADMIN_TOKEN must be set when {ENV_PREFIX}ENV=prod"
                )
            if len(token) < MIN_PROD_TOKEN_CHARS:
                raise InsecureSettingsError(
                    f"{ENV_PREFIX}ADMIN_TOKEN must be at least {MIN_PROD_TOKEN_CHARS} "
                    f"characters when {ENV_PREFIX}ENV=prod"
                )
        return self

    @model_validator(mode="after")
    def _refuse_default_secret_key(self) -> Settings:
        if self.env is not Env.PROD:
            return self
        key = self.secret_key.get_secret_value()
        if key == DEV_SECRET_KEY or len(key) < MIN_PROD_TOKEN_CHARS:
            raise InsecureSettingsError(
                f"{ENV_PREFIX}SECRET_KEY must be set to at least {MIN_PROD_TOKEN_CHARS} random "
                f"characters when {ENV_PREFIX}ENV={self.env.value}"
            )
        return self

    @property
    def default_token_in_use(self) -> bool:
        """True when a known default admin token is configured (tolerated only in dev)."""
        if self.admin_token is None:
            return False
        return self.admin_token.get_secret_value().strip().lower() in KNOWN_DEFAULT_TOKENS


def env_var(field_name: str) -> str:
    """The environment variable that sets a Settings field."""
    return f"{ENV_PREFIX}{field_name.upper()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings()
