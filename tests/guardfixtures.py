"""Guard test fixtures shared by the API, fast-path and SDK tests (imported by conftest.py):
valid ID numbers for each age group and a `clock` the guard API reads instead of the server's."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from qinglang.guard.ages import SHANGHAI
from qinglang.guard.identity import check_char


def valid_id(region_birth_seq: str) -> str:
    """The 17 leading characters completed with their check character."""
    return region_birth_seq + check_char(region_birth_seq)


MINOR_ID = valid_id("11010520120301123")  # born 2012-03-01, male
TEEN_ID = valid_id("11010520100101124")  # 16 on 2026-12-04: ¥100 a payment, ¥400 a month
ADULT_ID = valid_id("11010519800101125")


class Clock:
    """A settable server clock: `clock.advance(minutes=5)`."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **kw: float) -> None:
        self.at += timedelta(**kw)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The guard API's clock, starting on a Friday at 20:00 (Asia/Shanghai)."""
    c = Clock(datetime(2026, 12, 4, 20, 0, tzinfo=SHANGHAI))
    monkeypatch.setattr("qinglang.web.api.guard.now", c)
    return c
