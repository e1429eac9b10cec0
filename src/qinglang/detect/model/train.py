"""Training the abuse model on COLD: fit on train.csv, calibrate on dev.csv.

    python -m qinglang.detect.model.train [--cold ../shared/data/cold] [--out PATH] [--seed 2020]

Deterministic: the vocabulary is sorted, liblinear gets a fixed seed, calibration folds come
from a seeded generator and the artifact is written without timestamps, so the same data and
seed give a byte-identical artifact (tests/detect/test_model.py checks this on a sample).

The default hyper-parameters are the ones chosen in benchmarks/model_attempts.py on dev
macro-F1 (docs/model_attempts.md): NB-LR — logistic regression over character 1–4-gram TF-IDF
scaled by naive-Bayes log-count ratios (Wang & Manning 2012).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from qinglang.detect.model.artifact import DEFAULT_PARTS, AbuseModel
from qinglang.detect.model.calibration import FITTERS, Calibrator, cross_validated_ece
from qinglang.detect.model.evaluate import evaluate
from qinglang.detect.model.features import FeatureConfig, Vectorizer

REPO = Path(__file__).resolve().parents[4]
DEFAULT_COLD = REPO.parent / "shared" / "data" / "cold"
DEFAULT_OUT = REPO / "src" / "qinglang" / "detect" / "data" / Path(*DEFAULT_PARTS)


@dataclass(frozen=True)
class ColdSplit:
    texts: list[str]
    labels: np.ndarray
    topics: list[str]
    fine: np.ndarray | None  # fine-grained labels (test split only)

    def head(self, n: int) -> ColdSplit:
        return ColdSplit(
            self.texts[:n],
            self.labels[:n],
            self.topics[:n],
            None if self.fine is None else self.fine[:n],
        )

    def __len__(self) -> int:
        return len(self.texts)


def read_cold(path: str | Path) -> ColdSplit:
    """One COLD csv (UTF-8 with BOM)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    fine = None
    if rows and "fine-grained-label" in rows[0]:
        fine = np.array([int(r["fine-grained-label"]) for r in rows], dtype=np.int64)
    return ColdSplit(
        [r["TEXT"] for r in rows],
        np.array([int(r["label"]) for r in rows], dtype=np.int64),
        [r["topic"] for r in rows],
        fine,
    )


def sha1_of(path: str | Path) -> str:
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()


@dataclass(frozen=True)
class Hyper:
    """Everything that shapes the model besides the data and the seed."""

    min_n: int = 1
    max_n: int = 4
    min_df: int = 2
    max_features: int | None = None
    sublinear_tf: bool = True
    # "lr" (logistic regression), "svm" (linear SVM), "nblr" / "nbsvm" (the same over
    # features scaled by naive-Bayes log-count ratios).
    model: str = "nblr"
    C: float = 10.0
    class_weight: str | None = None
    nb_alpha: float = 1.0  # smoothing of the naive-Bayes counts
    # "platt", "isotonic", or "auto": the one with the lower cross-validated ECE on dev.
    calibration: str = "auto"

    def features(self) -> FeatureConfig:
        return FeatureConfig(
            min_n=self.min_n,
            max_n=self.max_n,
            min_df=self.min_df,
            max_features=self.max_features,
            sublinear_tf=self.sublinear_tf,
        )


def nb_ratio(x: sparse.csr_matrix, y: np.ndarray, alpha: float) -> np.ndarray:
    """Log-count ratio r = log((p/|p|)/(q/|q|)) over binarised features (Wang & Manning)."""
    binary = (x > 0).astype(np.float64)
    p = np.asarray(binary[y == 1].sum(axis=0)).ravel() + alpha
    q = np.asarray(binary[y == 0].sum(axis=0)).ravel() + alpha
    return np.log((p / p.sum()) / (q / q.sum()))


def fit_linear(
    x: sparse.csr_matrix, y: np.ndarray, hyper: Hyper, seed: int
) -> tuple[np.ndarray, float]:
    """(weights over x's columns, intercept). NB scaling is folded into the weights, so the
    run time scores w·x + b whatever the model kind."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    kind = hyper.model
    scale = None
    if kind in ("nblr", "nbsvm"):
        scale = nb_ratio(x, y, hyper.nb_alpha)
        x = (x @ sparse.diags(scale)).tocsr()
    if kind in ("lr", "nblr"):
        clf: Any = LogisticRegression(
            C=hyper.C, solver="liblinear", class_weight=hyper.class_weight, random_state=seed
        )
    elif kind in ("svm", "nbsvm"):
        clf = LinearSVC(C=hyper.C, class_weight=hyper.class_weight, random_state=seed)
    else:
        raise ValueError(f"unknown model kind {kind!r}")
    clf.fit(x, y)
    coef = np.asarray(clf.coef_, dtype=np.float64).ravel()
    if scale is not None:
        coef = coef * scale
    return coef, float(clf.intercept_[0])


def train_on(
    train_split: ColdSplit,
    dev_split: ColdSplit,
    seed: int = 2020,
    hyper: Hyper | None = None,
    data: dict[str, str] | None = None,
) -> AbuseModel:
    """Fit on `train_split`, choose and fit the calibration on `dev_split`."""
    hyper = hyper or Hyper()
    vec = Vectorizer.fit(train_split.texts, hyper.features())
    x = vec.transform(train_split.texts)
    coef, intercept = fit_linear(x, train_split.labels, hyper, seed)
    # Score dev through the run-time path (float32 weights), as the shipped model will.
    raw = AbuseModel(vec, coef, intercept, Calibrator("platt", np.array([1.0, 0.0]), np.zeros(0)))
    raw = AbuseModel.from_bytes(raw.to_bytes())
    dev_scores = raw.decision_function(dev_split.texts)
    dev_y = dev_split.labels
    cv_ece = {k: cross_validated_ece(k, dev_scores, dev_y, seed) for k in sorted(FITTERS)}
    kind = hyper.calibration
    if kind == "auto":
        kind = min(sorted(cv_ece), key=lambda k: (cv_ece[k], k))
    calibrator = FITTERS[kind](dev_scores, dev_y)
    dev_report = evaluate(dev_y, calibrator(dev_scores), topics=dev_split.topics)
    raw_report = evaluate(dev_y, dev_scores, threshold=0.0, probabilities=False)
    assert dev_report.reliability is not None
    metadata = {
        "name": f"abuse-{hyper.model}-char{hyper.min_n}{hyper.max_n}",
        "seed": seed,
        "hyper": asdict(hyper),
        "data": data or {},
        "rows": {"train": len(train_split), "dev": len(dev_split)},
        "n_features": len(vec),
        "dev": {
            "macro_f1": round(dev_report.macro_f1, 6),
            "accuracy": round(dev_report.accuracy, 6),
            "macro_f1_raw_threshold_0": round(raw_report.macro_f1, 6),
            # In-sample ECE is ~0 for isotonic by construction; the 5-fold figure is the honest
            # one and the one the calibration kind was chosen by.
            "ece_in_sample": round(dev_report.reliability.ece, 6),
            "ece_cross_validated": {k: round(v, 6) for k, v in cv_ece.items()},
        },
    }
    return AbuseModel(raw.vectorizer, raw.coef, intercept, calibrator, metadata)


def train(cold_dir: str | Path, seed: int = 2020, **hyper: Any) -> AbuseModel:
    """Train on COLD's train.csv, calibrate on dev.csv (test.csv is never read)."""
    cold_dir = Path(cold_dir)
    h = replace(Hyper(), **hyper)
    data = {name: sha1_of(cold_dir / name) for name in ("train.csv", "dev.csv")}
    return train_on(
        read_cold(cold_dir / "train.csv"), read_cold(cold_dir / "dev.csv"), seed, h, data
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cold", type=Path, default=DEFAULT_COLD, help="folder with COLD csvs")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="artifact path (.npz)")
    ap.add_argument("--seed", type=int, default=2020)
    args = ap.parse_args(argv)
    model = train(args.cold, seed=args.seed)
    model.save(args.out)
    dev = model.metadata["dev"]
    print(
        f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB, {len(model.vectorizer)} "
        f"n-grams, calibration {model.calibrator.kind}); dev macro-F1 {dev['macro_f1']:.4f}, "
        f"accuracy {dev['accuracy']:.4f}, cross-validated ECE "
        f"{dev['ece_cross_validated'][model.calibrator.kind]:.4f}"
    )


if __name__ == "__main__":
    main()
