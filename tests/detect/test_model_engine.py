"""The abuse model inside the Detector: scope, review versus block, context, explanations."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qinglang.cli import app
from qinglang.detect import Detector
from qinglang.detect.model.harness import DataError, load_jsonl, run
from qinglang.detect.scoring import combine_model, model_weight


@pytest.fixture(scope="module")
def engine() -> Detector:
    d = Detector.default()
    if d.model is None:
        pytest.skip("the model artifact is not installed")
    return d


def test_default_engine_carries_the_model(engine: Detector) -> None:
    assert engine.stats()["model"] != "none"
    assert Detector(model=None).model is None
    clone = pickle.loads(pickle.dumps(engine))
    assert clone.model is not None


def test_model_weight_maps_even_chance_to_review() -> None:
    assert model_weight(0.5, 0.4, 0.75) == pytest.approx(0.4)
    assert model_weight(0.95, 0.4, 0.75) == pytest.approx(0.75)
    assert model_weight(0.0, 0.4, 0.75) == 0.0
    assert model_weight(1.0, 0.4, 0.75) == pytest.approx(1.0)
    weights = [model_weight(p / 100, 0.24, 0.45) for p in range(101)]
    assert weights == sorted(weights)


def test_low_probability_lowers_rule_evidence() -> None:
    assert combine_model(0.8, 0.0, 0.4, 0.75) < 0.8
    assert combine_model(0.8, 0.6, 0.4, 0.75) > 0.8


# Discriminatory comment without any lexicon term: only the model can see it.
GROUP_INSULT = "河南人都是小偷骗子，离他们远点"


def test_model_alone_asks_for_review_not_block(engine: Detector) -> None:
    rules_only = Detector(model=None).check(GROUP_INSULT)
    v = engine.check(GROUP_INSULT)
    assert rules_only.verdict == "pass"
    assert v.verdict == "review"
    model_hits = [h for h in v.hits if h.source == "model"]
    assert model_hits, "the model explains itself with n-gram hits"
    for h in model_hits:
        assert h.category == "abuse"
        assert GROUP_INSULT[h.start : h.end] == h.match


def test_model_and_rules_together_can_block(engine: Detector) -> None:
    assert engine.check("河南人都是傻逼，全是小偷骗子").verdict == "block"


@pytest.mark.parametrize(
    "text",
    [
        "不要歧视河南人，地域黑是不对的",  # anti-bias
        "女性和男性一样优秀，性别歧视要不得",
        "我要举报这个评论，他在骂河南人是小偷",  # a report
        "警方通报：一男子在网上辱骂女性被行政拘留",  # news
    ],
)
def test_arguing_against_or_reporting_is_never_blocked(engine: Detector, text: str) -> None:
    for scene in engine.scenes:
        assert engine.check(text, scene).verdict != "block"


@pytest.mark.parametrize("text", ["今天热死了，空调坏了", "社区组织了垃圾分类宣传"])
def test_model_stays_out_of_text_about_no_group(engine: Detector, text: str) -> None:
    assert engine.check(text).verdict == "pass"
    assert not [h for h in engine.check(text).hits if h.source == "model"]


def test_check_many_equals_check_with_the_model(engine: Detector) -> None:
    texts = [GROUP_INSULT, "今天天气很好", "河南人都是傻逼", "", "不要歧视河南人"]
    assert [v.to_dict(True) for v in engine.check_many(texts)] == [
        engine.check(t).to_dict(True) for t in texts
    ]


def _write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return path


def test_harness_on_user_jsonl(tmp_path: Path, engine: Detector) -> None:
    path = _write_jsonl(
        tmp_path / "mine.jsonl",
        [
            {"content": GROUP_INSULT, "y": 1, "t": "region"},
            {"content": "今天天气很好", "y": 0, "t": "region"},
            {"content": "你就是个傻逼", "y": "1", "t": "other"},
            {"content": "谢谢老师", "y": False, "t": "other"},
        ],
    )
    data = load_jsonl(path, label_field="y", text_field="content", topic_field="t")
    ev = run(data, engine.model)
    names = [r.name for r in ev.results]
    assert names == ["rule path", "model alone", "rules + model"]
    combined = ev.results[2].report
    assert combined.accuracy == 1.0
    assert set(combined.per_topic) == {"region", "other"}


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('{"text": "x"}', "field 'label' missing"),
        ('{"text": 1, "label": 1}', "field 'text'"),
        ('{"text": "x", "label": 2}', "label must be 0 or 1"),
        ("not json", "not JSON"),
        ("", "no labelled rows"),
    ],
)
def test_harness_rejects_bad_files(tmp_path: Path, content: str, needle: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=needle):
        load_jsonl(path)


def test_eval_command(tmp_path: Path, engine: Detector) -> None:
    path = _write_jsonl(
        tmp_path / "eval.jsonl",
        [{"text": GROUP_INSULT, "label": 1}, {"text": "今天天气很好", "label": 0}],
    )
    card = tmp_path / "card.md"
    card.write_text("# Card\n\nhand-written text stays\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["eval", "--file", str(path), "--card", str(card), "--png", str(tmp_path / "r.png")]
    )
    assert result.exit_code == 0, result.output
    assert "rules + model" in result.output
    text = card.read_text(encoding="utf-8")
    assert "hand-written text stays" in text and "macro-F1" in text
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"text": "x", "label": 1}\n\xff\xfe\n')
    result = CliRunner().invoke(app, ["eval", "--file", str(bad)])
    assert result.exit_code == 2
    assert "line 2" in result.output
