"""Experiments behind the abuse model: every serious attempt, scored on COLD dev.

    python -m benchmarks.model_attempts                 # every attempt not yet recorded
    python -m benchmarks.model_attempts --group nb      # one group (lr, svm, nb, other)
    python -m benchmarks.model_attempts --redo NAME...  # re-run named attempts
    python -m benchmarks.model_attempts --test NAME...  # evaluate named attempts on test
    python -m benchmarks.model_attempts --final         # the shipped artifact: test, runtime

Models are fitted on train.csv and compared on dev.csv macro-F1 at the model's own decision
threshold (score 0, or the predicted class), before any calibration. test.csv is read only
with --test, for the chosen model and the few best by dev. Results accumulate in
benchmarks/model_attempts.json (one process per group keeps each run a few minutes on a
shared machine) and docs/model_attempts.md is rewritten from it after every run.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from qinglang.detect.model.evaluate import binary_scores
from qinglang.detect.model.features import FeatureConfig, Vectorizer, normalize_all
from qinglang.detect.model.train import ColdSplit, Hyper, fit_linear, read_cold

REPO = Path(__file__).resolve().parents[1]
COLD = REPO.parent / "shared" / "data" / "cold"
RESULTS = REPO / "benchmarks" / "model_attempts.json"
DOC = REPO / "docs" / "model_attempts.md"
SEED = 2020


@dataclass(frozen=True)
class Attempt:
    name: str
    group: str
    note: str
    hyper: Hyper = field(default_factory=Hyper)
    # Attempts the library does not ship (NB classifiers, pinyin, hashing) run their own code.
    custom: str | None = None


def _h(**kw: Any) -> Hyper:
    return replace(Hyper(calibration="platt"), **kw)


ATTEMPTS: list[Attempt] = [
    # -- logistic regression on char TF-IDF: n-gram range, pruning, C --------------------------
    *[
        Attempt(f"lr-c13-df2-C{c:g}", "lr", "LR, char 1-3, min_df 2", _h(model="lr", max_n=3, C=c))
        for c in (3, 10, 30)
    ],
    *[
        Attempt(f"lr-c14-df2-C{c:g}", "lr", "LR, char 1-4, min_df 2", _h(model="lr", C=c))
        for c in (3, 10, 30)
    ],
    Attempt("lr-c15-df2-C10", "lr", "LR, char 1-5, min_df 2", _h(model="lr", max_n=5, C=10)),
    Attempt("lr-c13-df1-C10", "lr", "LR, char 1-3, no pruning", _h(model="lr", max_n=3, min_df=1)),
    Attempt("lr-c14-df1-C10", "lr", "LR, char 1-4, no pruning", _h(model="lr", min_df=1)),
    Attempt("lr-c14-df3-C10", "lr", "LR, char 1-4, min_df 3", _h(model="lr", min_df=3)),
    Attempt("lr-c14-df5-C10", "lr", "LR, char 1-4, min_df 5", _h(model="lr", min_df=5)),
    Attempt(
        "lr-c14-df2-C10-rawtf", "lr", "LR, char 1-4, raw tf", _h(model="lr", sublinear_tf=False)
    ),
    Attempt(
        "lr-c14-df2-C10-bal",
        "lr",
        "LR, char 1-4, balanced class weights",
        _h(model="lr", class_weight="balanced"),
    ),
    # -- linear SVM ------------------------------------------------------------------------
    *[
        Attempt(f"svm-c14-df2-C{c:g}", "svm", "linear SVM, char 1-4", _h(model="svm", C=c))
        for c in (0.3, 1, 3)
    ],
    Attempt("svm-c13-df2-C1", "svm", "linear SVM, char 1-3", _h(model="svm", max_n=3, C=1)),
    Attempt("svm-c15-df2-C1", "svm", "linear SVM, char 1-5", _h(model="svm", max_n=5, C=1)),
    # -- naive-Bayes log-count ratio features (NB-LR / NB-SVM) --------------------------------
    *[
        Attempt(f"nblr-c14-df2-C{c:g}", "nb", "NB-LR, char 1-4", _h(model="nblr", C=c))
        for c in (3, 10, 30)
    ],
    *[
        Attempt(f"nblr-c13-df2-C{c:g}", "nb", "NB-LR, char 1-3", _h(model="nblr", max_n=3, C=c))
        for c in (10, 30)
    ],
    *[
        Attempt(f"nblr-c15-df2-C{c:g}", "nb", "NB-LR, char 1-5", _h(model="nblr", max_n=5, C=c))
        for c in (10, 30)
    ],
    Attempt("nblr-c14-df3-C10", "nb", "NB-LR, char 1-4, min_df 3", _h(model="nblr", min_df=3)),
    Attempt(
        "nblr-c14-df2-C10-a0.5",
        "nb",
        "NB-LR, char 1-4, NB smoothing 0.5",
        _h(model="nblr", nb_alpha=0.5),
    ),
    Attempt(
        "nblr-c14-df2-C10-bal",
        "nb",
        "NB-LR, char 1-4, balanced class weights",
        _h(model="nblr", class_weight="balanced"),
    ),
    *[
        Attempt(
            f"nblr-c14-top{k // 1000}k-C10",
            "nb",
            f"NB-LR, char 1-4, vocabulary cut to {k // 1000}k",
            _h(model="nblr", max_features=k),
        )
        for k in (50_000, 100_000, 200_000)
    ],
    *[
        Attempt(f"nbsvm-c14-df2-C{c:g}", "nb", "NB-SVM, char 1-4", _h(model="nbsvm", C=c))
        for c in (0.3, 1, 3)
    ],
    # -- other families --------------------------------------------------------------------
    Attempt("mnb-c14-df2", "other", "multinomial NB, binary char 1-4", custom="mnb"),
    Attempt("cnb-c14-df2", "other", "complement NB, binary char 1-4", custom="cnb"),
    Attempt(
        "lr-c14+pinyin13-C10",
        "other",
        "LR, char 1-4 + pinyin-syllable 1-3 (weight 0.5)",
        _h(model="lr"),
        custom="pinyin",
    ),
    Attempt(
        "nblr-c14+pinyin13-C10",
        "other",
        "NB-LR, char 1-4 + pinyin-syllable 1-3 (weight 0.5)",
        _h(model="nblr"),
        custom="pinyin",
    ),
    Attempt(
        "lr-hash20-c14-C10",
        "other",
        "LR, char 1-4 hashed to 2^20 (sklearn HashingVectorizer)",
        _h(model="lr"),
        custom="hash",
    ),
    Attempt(
        "ens-lr+nblr-c14",
        "other",
        "mean of standardised LR and NB-LR scores (one linear model)",
        _h(model="nblr"),
        custom="ensemble",
    ),
]


class Data:
    """COLD splits and the feature matrices of each feature configuration, built once."""

    def __init__(self, cold: Path) -> None:
        self.train = read_cold(cold / "train.csv")
        self.dev = read_cold(cold / "dev.csv")
        self.cold = cold
        self._test: ColdSplit | None = None
        self._features: dict[FeatureConfig, tuple[Vectorizer, Any, Any, float]] = {}

    @property
    def test(self) -> ColdSplit:
        if self._test is None:
            self._test = read_cold(self.cold / "test.csv")
        return self._test

    def features(self, config: FeatureConfig) -> tuple[Vectorizer, Any, Any, float]:
        if config not in self._features:
            self._features.clear()  # one configuration in memory at a time
            t0 = time.perf_counter()
            vec = Vectorizer.fit(self.train.texts, config)
            xtr = vec.transform(self.train.texts)
            seconds = time.perf_counter() - t0
            self._features[config] = (vec, xtr, vec.transform(self.dev.texts), seconds)
        return self._features[config]


# A fitted attempt: scores for any list of texts (higher = more offensive, 0 = threshold).
Scorer = Callable[[list[str]], np.ndarray]


def _linear_scorer(vec: Vectorizer, coef: np.ndarray, intercept: float) -> Scorer:
    return lambda texts: vec.transform(texts) @ coef + intercept


def fit_attempt(a: Attempt, data: Data) -> tuple[Scorer, float, int]:
    """(scorer, training seconds, number of features)."""
    h = a.hyper
    vec, xtr, _, feat_s = data.features(h.features())
    y = data.train.labels
    t0 = time.perf_counter()
    if a.custom is None:
        coef, b = fit_linear(xtr, y, h, SEED)
        scorer = _linear_scorer(vec, coef, b)
        n = len(vec)
    elif a.custom in ("mnb", "cnb"):
        from sklearn.naive_bayes import ComplementNB, MultinomialNB

        clf = (MultinomialNB if a.custom == "mnb" else ComplementNB)(alpha=0.3)
        binary = (xtr > 0).astype(np.float64)
        clf.fit(binary, y)

        def scorer(texts: list[str]) -> np.ndarray:
            b = (vec.transform(texts) > 0).astype(np.float64)
            jll = clf.predict_joint_log_proba(b)
            return jll[:, 1] - jll[:, 0]

        n = len(vec)
    elif a.custom == "pinyin":
        from sklearn.feature_extraction.text import TfidfVectorizer

        from qinglang.detect.normalize import pinyin_view

        pv = TfidfVectorizer(
            analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2, lowercase=False
        )
        ptr = pv.fit_transform([pinyin_view(v) for v in normalize_all(data.train.texts)])
        both = sparse.hstack([xtr, 0.5 * ptr]).tocsr()
        coef, b = fit_linear(both, y, h, SEED)

        def scorer(texts: list[str]) -> np.ndarray:
            p = pv.transform([pinyin_view(v) for v in normalize_all(texts)])
            return sparse.hstack([vec.transform(texts), 0.5 * p]).tocsr() @ coef + b

        n = both.shape[1]
    elif a.custom == "hash":
        from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

        hv = HashingVectorizer(
            analyzer="char", ngram_range=(1, 4), n_features=2**20, alternate_sign=False,
            lowercase=False, norm=None,
        )  # fmt: skip
        tt = TfidfTransformer(sublinear_tf=True)
        xh = tt.fit_transform(hv.transform(normalize_all(data.train.texts)))
        coef, b = fit_linear(xh, y, h, SEED)

        def scorer(texts: list[str]) -> np.ndarray:
            return tt.transform(hv.transform(normalize_all(texts))) @ coef + b

        n = 2**20
    elif a.custom == "ensemble":
        c1, b1 = fit_linear(xtr, y, replace(h, model="lr"), SEED)
        c2, b2 = fit_linear(xtr, y, replace(h, model="nblr"), SEED)
        s1 = xtr @ c1 + b1
        s2 = xtr @ c2 + b2
        # Each model's scores divided by their spread on train, then averaged: still w·x + b.
        coef = (c1 / s1.std() + c2 / s2.std()) / 2
        b = (b1 / s1.std() + b2 / s2.std()) / 2
        scorer = _linear_scorer(vec, coef, b)
        n = len(vec)
    else:
        raise ValueError(a.custom)
    return scorer, feat_s + time.perf_counter() - t0, n


def run(attempts: list[Attempt], data: Data, store: dict[str, Any], test: bool) -> None:
    results = store["attempts"]
    # Group attempts sharing a feature configuration so each is built once.
    for a in sorted(attempts, key=lambda a: repr(a.hyper.features())):
        scorer, seconds, n = fit_attempt(a, data)
        rec = results.get(a.name, {})
        if not test:
            dev = binary_scores(data.dev.labels, scorer(data.dev.texts) >= 0)
            rec = {
                "group": a.group,
                "note": a.note,
                "C": None if a.custom in ("mnb", "cnb") else a.hyper.C,
                "features": n,
                "dev_macro_f1": round(dev["macro_f1"], 4),
                "dev_accuracy": round(dev["accuracy"], 4),
                "train_s": round(seconds, 1),
            }
        else:
            te = binary_scores(data.test.labels, scorer(data.test.texts) >= 0)
            rec["test_macro_f1"] = round(te["macro_f1"], 4)
            rec["test_accuracy"] = round(te["accuracy"], 4)
        results[a.name] = rec
        print(a.name, json.dumps(rec, ensure_ascii=False), flush=True)
        save(store)


def save(store: dict[str, Any]) -> None:
    RESULTS.write_text(json.dumps(store, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    write_doc(store)


CHOICE = [
    "",
    "## Choice",
    "",
    "NB-LR over character 1–4-grams (min_df 2, C 10) ships: it ties for the best dev",
    "macro-F1 with NB-SVM (0.9135 against 0.9139, a difference of three texts in 6,431) while",
    "being far less sensitive to C (0.912–0.914 for C 3–30, where NB-SVM falls to 0.909 at",
    "C 3), and logistic scores calibrate well. Naive-Bayes scaling is the one change that",
    "helped consistently (+0.5–0.7 points over LR or SVM on the same features); pinyin",
    "n-grams, longer n-grams, class weights and vocabulary pruning beyond min_df 2 did not.",
    "The choice was made on dev before any test figure of this table was computed (an early",
    "exploratory sweep of plain LR and SVM over n-gram range, min_df and C, before this",
    "driver existed, did print test scores; nothing chosen here departs from what dev alone",
    "shows). Dev is",
    "drawn from the same pool as train; test was collected and annotated separately and is",
    "about eleven points harder for every model here, so dev differences under ~0.005 say",
    "little about test.",
]


def write_doc(store: dict[str, Any]) -> None:
    results = store["attempts"]
    order = {a.name: i for i, a in enumerate(ATTEMPTS)}
    rows = sorted(results.items(), key=lambda kv: order.get(kv[0], len(order)))
    best = max((r["dev_macro_f1"] for _, r in rows), default=0.0)
    lines = [
        "# Abuse model: attempts",
        "",
        "Every serious attempt at the COLD `abuse` model, written by",
        "`python -m benchmarks.model_attempts` (source: `benchmarks/model_attempts.json`).",
        "Fitted on COLD train.csv (25,726 rows); compared on dev.csv (6,431 rows) macro-F1 at",
        "the model's own decision threshold, before calibration. Test (5,323 rows) was scored",
        "only for the chosen model and the few best by dev, after the choice. Text is",
        "normalised with `normalize_text` first; features are TF-IDF over character n-grams",
        "(sublinear tf, L2 rows) unless the note says otherwise. Training time is wall-clock",
        f"on a shared 2-core machine ({platform.machine()}), feature extraction included.",
        "",
        "| attempt | what | C | features | dev macro-F1 | dev acc. | test macro-F1 "
        "| test acc. | train s |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in rows:
        star = " **best dev**" if r["dev_macro_f1"] == best else ""
        lines.append(
            f"| `{name}` | {r['note']}{star} | {_fmt(r['C'], 'g')} | {r['features']:,} "
            f"| {r['dev_macro_f1']:.4f} | {r['dev_accuracy']:.4f} "
            f"| {_fmt(r.get('test_macro_f1'))} | {_fmt(r.get('test_accuracy'))} "
            f"| {r['train_s']:.1f} |"
        )
    lines += CHOICE
    if "final" in store:
        lines += final_lines(store["final"])
    DOC.write_text("\n".join(lines) + "\n", encoding="utf-8")


# A fresh interpreter measures what a service pays to start: import, load, first call (which
# builds the normalisation tables the rule path shares), and the resident memory after it.
_LOAD_PROBE = """
import json, time
t0 = time.perf_counter()
from qinglang.detect.model import AbuseModel
t1 = time.perf_counter()
model = AbuseModel.load_default()
t2 = time.perf_counter()
model.predict_proba(["热身"])
t3 = time.perf_counter()
import psutil
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "first_call_s": t3 - t2,
                  "rss_mb": psutil.Process().memory_info().rss / 2**20}))
"""


def measure_runtime(texts: list[str], repeats: int = 5) -> dict[str, float]:
    import os
    import statistics
    import subprocess
    import sys

    from qinglang.detect.model import AbuseModel

    probes = [
        json.loads(subprocess.run([sys.executable, "-c", _LOAD_PROBE], check=True,
                                  capture_output=True, text=True).stdout)
        for _ in range(3)
    ]  # fmt: skip
    load = {k: statistics.median(p[k] for p in probes) for k in probes[0]}
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})  # one core, as the target is stated
    model = AbuseModel.load_default()
    model.predict_proba(texts[:1000])  # warm-up
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for i in range(0, len(texts), 1000):
            model.predict_proba(texts[i : i + 1000])
        rates.append(len(texts) / (time.perf_counter() - t0))
    lat = []
    for t in texts[:2000]:
        t0 = time.perf_counter()
        model.predict_proba([t])
        lat.append(time.perf_counter() - t0)
    long_text = "".join(texts)[:10_000]
    t0 = time.perf_counter()
    model.predict_proba([long_text])
    long_ms = (time.perf_counter() - t0) * 1e3
    return {
        **{k: round(v, 3) for k, v in load.items()},
        "batch_msgs_per_s": round(statistics.median(rates)),
        "mean_chars": round(sum(map(len, texts)) / len(texts), 1),
        "latency_p50_ms": round(float(np.percentile(lat, 50)) * 1e3, 3),
        "latency_p99_ms": round(float(np.percentile(lat, 99)) * 1e3, 3),
        "latency_10k_chars_ms": round(long_ms, 2),
    }


def final_report(data: Data) -> dict[str, Any]:
    """The shipped artifact on dev and test (test read here, once the choice is made)."""
    from qinglang.detect.model import AbuseModel
    from qinglang.detect.model.artifact import DEFAULT_PARTS
    from qinglang.detect.model.evaluate import evaluate
    from qinglang.package_data import data_path

    model = AbuseModel.load_default()
    size = len(data_path("qinglang.detect", *DEFAULT_PARTS).read_bytes())
    dev = evaluate(data.dev.labels, model.predict_proba(data.dev.texts), topics=data.dev.topics)
    test = evaluate(
        data.test.labels,
        model.predict_proba(data.test.texts),
        fine_labels=data.test.fine,
        topics=data.test.topics,
    )
    return {
        "metadata": model.metadata,
        "calibration": model.calibrator.kind,
        "artifact_bytes": size,
        "dev": {"macro_f1": round(dev.macro_f1, 4), "accuracy": round(dev.accuracy, 4)},
        "test": _rounded(test.to_dict()),
        "runtime": measure_runtime(data.test.texts),
        "machine": f"{platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}",
    }


def _rounded(obj: Any) -> Any:
    if isinstance(obj, float):
        return round(obj, 4)
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rounded(v) for v in obj]
    return obj


def final_lines(f: dict[str, Any]) -> list[str]:
    from qinglang.detect.model.evaluate import FINE_LABELS

    meta = f["metadata"]
    t = f["test"]
    r = f["runtime"]
    cm = t["confusion"]
    cv = meta["dev"]["ece_cross_validated"]
    lines = [
        "",
        "## Shipped model",
        "",
        f"`src/qinglang/detect/data/model/abuse.npz` ({f['artifact_bytes'] / 1e6:.1f} MB, "
        f"{meta['n_features']:,} character n-grams), trained by "
        "`python -m qinglang.detect.model.train` (seed "
        f"{meta['seed']}, hyper-parameters `{json.dumps(meta['hyper'], sort_keys=True)}`).",
        f"Calibration: {f['calibration']} on dev, chosen by 5-fold cross-validated ECE "
        f"(isotonic {cv['isotonic']:.4f}, Platt {cv['platt']:.4f}).",
        "Figures below use calibrated P(offensive) ≥ 0.5.",
        "",
        "| split | macro-F1 | accuracy |",
        "| --- | ---: | ---: |",
        f"| dev | {f['dev']['macro_f1']:.4f} | {f['dev']['accuracy']:.4f} |",
        f"| test | {t['macro_f1']:.4f} | {t['accuracy']:.4f} |",
        "",
        f"Test confusion (rows true safe / offensive, columns predicted): {cm[0]} / {cm[1]}; "
        f"offensive precision {t['precision_offensive']:.4f}, recall "
        f"{t['recall_offensive']:.4f}; ECE on test {t['reliability']['ece']:.4f} "
        "(reliability curve: `make eval`).",
        "",
        "| test fine-grained label | texts | handled correctly | macro-F1 vs other class |",
        "| --- | ---: | ---: | ---: |",
    ]
    for k, v in sorted(t["per_fine"].items(), key=lambda kv: int(kv[0])):
        lines.append(
            f"| {k}: {FINE_LABELS[int(k)]} | {v['n']:,} | {v['share_correct']:.4f} "
            f"| {v['macro_f1_vs_other_class']:.4f} |"
        )
    lines += ["", "| test topic | texts | macro-F1 | accuracy |", "| --- | ---: | ---: | ---: |"]
    for k, v in sorted(t["per_topic"].items()):
        lines.append(f"| {k} | {v['n']:,} | {v['macro_f1']:.4f} | {v['accuracy']:.4f} |")
    lines += [
        "",
        f"Runtime ({f['machine']}, one core, COLD test texts, mean {r['mean_chars']} chars):",
        f"{r['batch_msgs_per_s']:,} messages/s in batches of 1,000; single message p50 "
        f"{r['latency_p50_ms']:.3f} ms, p99 {r['latency_p99_ms']:.3f} ms; one 10,000-character "
        f"text {r['latency_10k_chars_ms']:.2f} ms. Fresh process: import {r['import_s']:.3f} s, "
        f"artifact load {r['load_s']:.3f} s, first call {r['first_call_s']:.3f} s (builds the "
        f"normalisation tables shared with the rule path), RSS {r['rss_mb']:.0f} MB.",
    ]
    return lines


def _fmt(v: float | None, spec: str = ".4f") -> str:
    return "–" if v is None else format(v, spec)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--group", choices=sorted({a.group for a in ATTEMPTS}))
    ap.add_argument("--redo", nargs="*", default=None, help="re-run these attempts")
    ap.add_argument("--test", nargs="*", default=None, help="score these attempts on test")
    ap.add_argument("--final", action="store_true", help="report on the shipped artifact")
    ap.add_argument("--cold", type=Path, default=COLD)
    args = ap.parse_args(argv)
    if not (args.cold / "train.csv").is_file():
        raise SystemExit(f"COLD not found at {args.cold}")
    store = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {"attempts": {}}
    results = store["attempts"]
    by_name = {a.name: a for a in ATTEMPTS}
    data = Data(args.cold)
    if args.final:
        store["final"] = final_report(data)
        save(store)
        return
    if args.test is not None:
        missing = [n for n in args.test if n not in results]
        if missing:
            raise SystemExit(f"run on dev first: {missing}")
        run([by_name[n] for n in args.test], data, store, test=True)
        return
    if args.redo is not None:
        todo = [by_name[n] for n in args.redo]
    else:
        todo = [a for a in ATTEMPTS if a.name not in results]
        if args.group:
            todo = [a for a in todo if a.group == args.group]
    run(todo, data, store, test=False)


if __name__ == "__main__":
    main()
