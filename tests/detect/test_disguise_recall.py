"""Disguise recall ≥ 95 % per disguise and < 1 % false positives on benign text of each style.

The corpora are the project's own (tests/data); `make bench` prints the same tables into
docs/benchmarks.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qinglang.detect import Detector
from qinglang.detect.disguise import disguises
from qinglang.detect.redteam import disguise_recall, false_positives, load_harmful, read_jsonl

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def recall(detector: Detector):
    return disguise_recall(detector, load_harmful(DATA / "harmful.jsonl"))


@pytest.fixture(scope="module")
def fps(detector: Detector):
    return false_positives(detector, [r["text"] for r in read_jsonl(DATA / "benign.jsonl")])


def test_every_disguise_is_measured(recall) -> None:
    for name in disguises():
        assert recall[name].total >= 30, f"too few rows for disguise {name}"


@pytest.mark.parametrize("name", ["plain", *disguises()])
def test_recall_per_disguise(recall, name: str) -> None:
    tally = recall[name]
    assert tally.rate >= 0.95, f"{name}: {tally.rate:.3f}; missed e.g. {tally.misses[:5]}"


@pytest.mark.parametrize("name", ["plain", *disguises()])
def test_false_positives_per_style(fps, name: str) -> None:
    tally = fps[name]
    assert tally.total >= 100
    assert tally.rate < 0.01, f"{name}: {tally.rate:.4f}; e.g. {tally.misses[:5]}"


@pytest.mark.parametrize("scene", ["children", "learning", "live_chat"])
def test_other_scenes_plain_text(detector: Detector, scene: str) -> None:
    # Stricter scenes still catch every harmful row and pass benign text, regulatory, news,
    # educational and reporting mentions included.
    recall = disguise_recall(detector, load_harmful(DATA / "harmful.jsonl"), scene=scene)
    assert recall["plain"].rate == 1.0, recall["plain"].misses[:5]
    benign = [r["text"] for r in read_jsonl(DATA / "benign.jsonl")]
    flagged = [t for t in benign if detector.check(t, scene).verdict != "pass"]
    assert len(flagged) / len(benign) < 0.01, flagged[:5]


@pytest.mark.parametrize(
    "text",
    ["严厉打击色情低俗信息", "老师提醒同学们不要沉迷网络游戏", "我要举报这个群在赌博"],
)
def test_issue_examples_of_context_are_not_blocked(detector: Detector, text: str) -> None:
    assert detector.check(text).verdict == "pass"
    for scene in detector.scenes:
        assert detector.check(text, scene).verdict != "block"


def test_recall_per_category(detector: Detector) -> None:
    tallies = disguise_recall(detector, load_harmful(DATA / "harmful.jsonl"), by="category")
    assert len(tallies) == 23  # every text-detectable category
    for code, tally in tallies.items():
        assert tally.rate >= 0.95, f"{code}: {tally.rate:.3f}; e.g. {tally.misses[:5]}"
