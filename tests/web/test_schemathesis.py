"""Schemathesis: requests generated from the OpenAPI document never get a 500.

Every operation of the API is called with generated path parameters, queries and bodies
(valid and invalid), as a user holding every regulator role, or as a platform for the guard's
platform endpoints (so the requests get past authentication and reach the handlers), on a
SQLite database with a little data in it.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from qinglang.services.guard_platforms import create_platform
from qinglang.services.users import create_organisation, create_token, create_user
from qinglang.settings import Settings
from qinglang.store import migrate
from qinglang.store.db import Database
from qinglang.web.app import create_app

_DIR = Path(tempfile.mkdtemp(prefix="qinglang-schemathesis-"))
_DB = Database(f"sqlite:///{_DIR / 'api.db'}")
migrate.upgrade(_DB)
_AT = datetime(2020, 9, 1, tzinfo=UTC)
with _DB.write() as _session:
    create_organisation(_session, name="示例公司", uscc=None, region="310000", by="system", at=_AT)
    _user = create_user(
        _session,
        username="fuzz",
        password="Fuzzing-pass-123",
        roles=["admin", "officer", "analyst", "leader"],
        jurisdiction="100000",
        department="cyberspace",
        by="system",
        at=_AT,
    )
    _TOKEN = create_token(_session, _user.id, "fuzz", _AT)[0]
    _PLATFORM_KEY = create_platform(_session, "模糊测试平台", "game", _AT)[1]

_SETTINGS = Settings(blob_dir=_DIR / "blobs", rate_limit_per_minute=0, report_rate_limit_per_hour=0)
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(_SETTINGS, _DB))
HEADERS = {"Authorization": f"Bearer {_TOKEN}"}
# The guard's platform endpoints take a platform key; its admin endpoints a user token.
PLATFORM_HEADERS = {"Authorization": f"Bearer {_PLATFORM_KEY}"}
ADMIN_GUARD_PATHS = ("/api/v1/guard/platforms", "/api/v1/guard/calendar")


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_error(case) -> None:
    path = case.operation.path
    platform = path.startswith("/api/v1/guard") and not path.startswith(ADMIN_GUARD_PATHS)
    response = case.call(headers=PLATFORM_HEADERS if platform else HEADERS)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
    )
