"""Shared test configuration."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

pytest_plugins = ("dbfixtures", "guardfixtures", "uifixtures", "browserfixtures")

settings.register_profile(
    "qinglang", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=150
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "qinglang"))

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
COLD = SHARED / "data" / "cold"


@pytest.fixture(scope="session")
def detector():
    from qinglang.detect import Detector

    return Detector.default()


@pytest.fixture(scope="session")
def cold_dir() -> Path:
    if not (COLD / "test.csv").is_file():
        pytest.skip(f"COLD dataset not found at {COLD} (../shared is absent on this machine)")
    return COLD
