"""The seed documents: regulatory text passes, the casino spam injected into 002 is blocked."""

from __future__ import annotations

from pathlib import Path

import pytest

from qinglang.detect import Detector

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"


def _lines(name: str) -> list[str]:
    matches = sorted(SEEDS.glob(f"{name}_*.txt"))
    if not matches:
        pytest.skip(f"seed documents not found in {SEEDS} (../shared is absent)")
    text = matches[0].read_text(encoding="utf-8", errors="replace")
    return [line for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("name", ["000", "001", "004"])
def test_regulatory_documents_pass(detector: Detector, name: str) -> None:
    flagged = [line for line in _lines(name) if detector.check(line).verdict != "pass"]
    assert flagged == []


def test_injected_gambling_spam_is_blocked(detector: Detector) -> None:
    spam = [line for line in _lines("002") if "金博宝" in line or "金宝搏" in line]
    assert len(spam) >= 2
    for line in spam:
        verdict = detector.check(line)
        assert verdict.verdict == "block", line[:40]
        assert verdict.categories[0].code == "gambling"
    clean = [line for line in _lines("002") if line not in spam]
    assert [line for line in clean if detector.check(line).verdict != "pass"] == []
