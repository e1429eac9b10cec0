"""The learned abuse model: features, training reproducibility, the shipped artifact,
calibration bounds, evaluation metrics and hostile input."""

from __future__ import annotations

import io
import pickle
import zipfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qinglang.detect.model import AbuseModel
from qinglang.detect.model.calibration import Calibrator, fit_isotonic, fit_platt
from qinglang.detect.model.evaluate import (
    binary_scores,
    confusion_matrix,
    evaluate,
    plot_reliability,
    reliability,
)
from qinglang.detect.model.features import FeatureConfig, Vectorizer, normalize_all
from qinglang.detect.model.train import Hyper, read_cold, train_on

CORPUS = [
    "你就是个傻逼，滚",
    "今天天气不错，我们去公园",
    "傻逼傻逼傻逼",
    "地域黑不可取，河南人也是人",
    "ＳＢ东西",
    "國家說話算數",
    "",
    "你就是个好人",
]


@pytest.fixture(scope="module")
def shipped() -> AbuseModel:
    return AbuseModel.load_default()


# -- features ------------------------------------------------------------------------------


def test_vectorizer_equals_sklearn_tfidf_on_the_normalised_text():
    from sklearn.feature_extraction.text import TfidfVectorizer

    config = FeatureConfig(min_n=1, max_n=3, min_df=2)
    vec = Vectorizer.fit(CORPUS, config)
    sk = TfidfVectorizer(
        analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2, lowercase=False
    ).fit(normalize_all(CORPUS))
    terms = vec.terms()
    assert sorted(terms) == sorted(sk.vocabulary_)
    columns = [sk.vocabulary_[t] for t in terms]
    ours = vec.transform(CORPUS).toarray()
    theirs = sk.transform(normalize_all(CORPUS)).toarray()[:, columns]
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_no_ngram_spans_two_texts_of_a_batch():
    vec = Vectorizer.fit(["ab", "ab", "ba", "ba"], FeatureConfig(min_n=1, max_n=2, min_df=1))
    rows, cols, _ = vec.counts_from_views(["a", "b"])
    terms = vec.terms()
    assert sorted((int(r), terms[c]) for r, c in zip(rows, cols, strict=True)) == [
        (0, "a"),
        (1, "b"),
    ]


def test_too_many_characters_for_the_key_width_is_refused():
    texts = [chr(0x4E00 + i) * 2 for i in range(5000)] * 2
    with pytest.raises(ValueError, match="64 bits"):
        Vectorizer.fit(texts, FeatureConfig(min_n=1, max_n=5, min_df=1))


# -- the shipped artifact -------------------------------------------------------------------


def test_shipped_artifact_loads_and_separates_the_obvious(shipped):
    p = shipped.predict_proba(["你就是个傻逼，滚", "今天天气不错，我们去公园散步"])
    assert p[0] > 0.5 > p[1]
    assert shipped.metadata["hyper"]["model"] == "nblr"
    assert len(shipped.vectorizer) == shipped.metadata["n_features"]


def test_shipped_artifact_is_plain_arrays_readable_by_numpy():
    from qinglang.detect.model.artifact import DEFAULT_PARTS
    from qinglang.package_data import data_path

    data = data_path("qinglang.detect", *DEFAULT_PARTS).read_bytes()
    assert len(data) < 50 * 2**20
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        assert set(npz.files) >= {"keys", "idf", "coef", "intercept", "alphabet", "metadata"}
    assert all(
        i.date_time == (1980, 1, 1, 0, 0, 0) for i in zipfile.ZipFile(io.BytesIO(data)).infolist()
    )


def test_disguises_do_not_change_the_score(shipped):
    plain, spaced, wide, traditional = shipped.predict_proba(
        ["你是傻逼", "你 是 傻 * 逼", "你是ＳＢ傻逼", "妳是傻逼"]
    )
    assert plain == spaced
    assert wide >= 0.5
    assert plain >= 0.5 and traditional >= 0.5


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\ud800",
        "\udfff孤立代理",
        "a\x00b",
        "😀" * 50,
        "\U000e0041",
        "傻" * 10_000,
        "x" * 10_000,
    ],
)
def test_odd_strings_do_not_raise(shipped, text):
    p = shipped.predict_proba([text])
    assert p.shape == (1,) and 0.0 <= p[0] <= 1.0


def test_batch_equals_one_by_one_and_empty_batch(shipped):
    batch = shipped.predict_proba(CORPUS)
    single = np.array([shipped.predict_proba([t])[0] for t in CORPUS])
    np.testing.assert_allclose(batch, single, rtol=0, atol=1e-12)
    assert shipped.predict_proba([]).shape == (0,)
    with pytest.raises(TypeError):
        shipped.predict_proba("一个字符串")  # type: ignore[arg-type]


def test_pickle_and_threads_give_the_same_answers(shipped):
    texts = CORPUS * 50
    expected = shipped.predict_proba(texts)
    clone = pickle.loads(pickle.dumps(shipped))
    np.testing.assert_array_equal(clone.predict_proba(texts), expected)
    with ThreadPoolExecutor(4) as pool:
        for got in pool.map(lambda _: shipped.predict_proba(texts), range(8)):
            np.testing.assert_array_equal(got, expected)


def test_top_terms_name_the_insult(shipped):
    terms = [t for t, _ in shipped.top_terms("你就是个傻逼", k=3)]
    assert any("傻" in t for t in terms)


@given(texts=st.lists(st.text(max_size=80), max_size=5))
def test_any_text_gets_a_probability(shipped, texts):
    p = shipped.predict_proba(texts)
    assert p.shape == (len(texts),)
    assert np.all((p >= 0.0) & (p <= 1.0))


# -- calibration ----------------------------------------------------------------------------


def _synthetic_scores(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 2000)
    s = rng.normal(loc=np.where(y == 1, 1.5, -1.5), scale=1.5)
    return s, y


@pytest.mark.parametrize("fit", [fit_platt, fit_isotonic])
def test_calibration_is_bounded_and_monotone(fit):
    s, y = _synthetic_scores()
    cal = fit(s, y)
    grid = np.linspace(-1e3, 1e3, 20001)
    p = cal(grid)
    assert np.all((p >= 0.0) & (p <= 1.0))
    assert np.all(np.diff(p) >= 0.0)


def test_shipped_calibration_is_bounded_and_monotone(shipped):
    grid = np.linspace(-200, 200, 40001)
    p = shipped.calibrator(grid)
    assert np.all((p >= 0.0) & (p <= 1.0))
    assert np.all(np.diff(p) >= 0.0)
    raw = shipped.decision_function(CORPUS)
    order = np.argsort(raw)
    assert np.all(np.diff(shipped.predict_proba(CORPUS)[order]) >= 0.0)


def test_platt_recovers_a_known_sigmoid():
    rng = np.random.default_rng(1)
    s = rng.normal(size=20000) * 3
    y = (rng.random(20000) < 1 / (1 + np.exp(-(2.0 * s - 1.0)))).astype(int)
    cal = fit_platt(s, y)
    assert cal.kind == "platt"
    assert cal.x[0] == pytest.approx(2.0, rel=0.1)
    assert cal.x[1] == pytest.approx(-1.0, abs=0.15)


def test_unknown_calibration_kind_raises():
    with pytest.raises(ValueError):
        Calibrator("magic", np.zeros(2), np.zeros(0))(np.zeros(1))


# -- evaluation metrics on hand-made arrays -------------------------------------------------


def test_confusion_and_binary_scores_known_values():
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    p = np.array([1, 1, 1, 0, 1, 0, 0, 0, 0, 0])
    assert confusion_matrix(y, p).tolist() == [[5, 1], [1, 3]]
    s = binary_scores(y, p)
    assert s["accuracy"] == pytest.approx(0.8)
    assert s["f1_offensive"] == pytest.approx(0.75)  # P = R = 3/4
    assert s["macro_f1"] == pytest.approx((0.75 + 5 / 6) / 2)  # safe: P = R = 5/6


def test_evaluate_per_fine_label_and_topic():
    y = [1, 1, 0, 0, 0, 1]
    scores = [0.9, 0.2, 0.7, 0.1, 0.3, 0.8]
    fine = [2, 1, 3, 0, 3, 2]
    topics = ["race", "race", "gender", "gender", "region", "region"]
    r = evaluate(y, scores, fine_labels=fine, topics=topics)
    assert r.confusion == [[2, 1], [1, 2]]
    assert r.per_fine[0]["share_correct"] == 1.0  # the one "other" safe text passed
    assert r.per_fine[3]["share_correct"] == 0.5  # one of two anti-bias texts flagged
    assert r.per_fine[1]["share_correct"] == 0.0  # the individual attack was missed
    assert r.per_fine[2]["share_correct"] == 1.0
    assert r.per_fine[2]["n"] == 2
    assert r.per_topic["region"] == {"n": 2, "accuracy": 1.0, "macro_f1": 1.0}
    assert r.per_topic["race"]["accuracy"] == 0.5
    assert r.per_topic["gender"]["macro_f1"] == pytest.approx(1 / 3)  # safe F1 2/3, offensive 0


def test_reliability_bins_and_ece_known_values():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.05, 0.05, 0.95, 0.75])
    rel = reliability(y, p, bins=10)
    assert [b.count for b in rel.bins] == [2, 0, 0, 0, 0, 0, 0, 1, 0, 1]
    # Bin 0: predicted 0.05, observed 0 → 0.05; bin 7: 0.75 vs 1 → 0.25; bin 9: 0.95 vs 1.
    assert rel.ece == pytest.approx((2 * 0.05 + 0.25 + 0.05) / 4)
    assert reliability(np.array([1]), np.array([1.0])).bins[-1].count == 1  # 1.0 is in the top bin


def test_evaluate_rejects_mismatched_lengths():
    with pytest.raises(ValueError):
        evaluate([0, 1], [0.5])


def test_reliability_png_is_written(tmp_path):
    s, y = _synthetic_scores()
    rel = reliability(y, fit_platt(s, y)(s))
    out = plot_reliability(rel, tmp_path / "sub" / "rel.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- training (needs COLD) ------------------------------------------------------------------


def test_training_on_a_sample_is_reproducible(cold_dir):
    train = read_cold(cold_dir / "train.csv").head(600)
    dev = read_cold(cold_dir / "dev.csv").head(300)
    hyper = Hyper(min_df=2)
    first = train_on(train, dev, seed=7, hyper=hyper)
    second = train_on(train, dev, seed=7, hyper=hyper)
    assert first.to_bytes() == second.to_bytes()
    np.testing.assert_array_equal(first.predict_proba(dev.texts), second.predict_proba(dev.texts))
    loaded = AbuseModel.from_bytes(first.to_bytes())
    np.testing.assert_array_equal(loaded.predict_proba(dev.texts), first.predict_proba(dev.texts))
    assert loaded.metadata["rows"] == {"train": 600, "dev": 300}
    assert loaded.calibrator.kind in ("platt", "isotonic")
