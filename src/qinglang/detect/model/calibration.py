"""Raw linear score → calibrated P(offensive): Platt scaling or isotonic regression.

Both are fitted on dev scores (the model never saw dev), and both are non-decreasing in the raw
score, so calibration never reorders messages; it only makes "0.8" mean "about 80 % of such
messages are offensive", which is what per-scene thresholds need.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Calibrator:
    """`kind` "platt": params = (a, b), p = 1 / (1 + exp(-(a·s + b))).
    `kind` "isotonic": params = knots (x ascending, y non-decreasing), linear between knots and
    constant beyond them, as scikit-learn's IsotonicRegression predicts."""

    kind: str
    x: np.ndarray
    y: np.ndarray

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        scores = np.asarray(scores, dtype=np.float64)
        if self.kind == "platt":
            a, b = float(self.x[0]), float(self.x[1])
            z = np.clip(a * scores + b, -500.0, 500.0)  # exp overflow on absurd scores
            return 1.0 / (1.0 + np.exp(-z))
        if self.kind == "isotonic":
            return np.interp(scores, self.x, self.y)
        raise ValueError(f"unknown calibration kind {self.kind!r}")


def fit_platt(scores: np.ndarray, labels: np.ndarray) -> Calibrator:
    """Platt scaling with Platt's smoothed targets (no regularisation: two parameters)."""
    from scipy.optimize import minimize

    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    n_pos = float(y.sum())
    n_neg = float(len(y) - n_pos)
    # Targets pulled away from 0 and 1 (Platt 1999) so a separable dev set cannot blow up a.
    t = np.where(y > 0, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        z = params[0] * s + params[1]
        # log(1 + exp(z)) - t·z, computed stably, and its gradient.
        lse = np.logaddexp(0.0, z)
        p = np.exp(z - lse)
        diff = p - t
        return float(np.sum(lse - t * z)), np.array([np.dot(diff, s), diff.sum()])

    res = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
    return Calibrator("platt", np.asarray(res.x, dtype=np.float64), np.zeros(0))


def fit_isotonic(scores: np.ndarray, labels: np.ndarray) -> Calibrator:
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    iso.fit(np.asarray(scores, dtype=np.float64), np.asarray(labels, dtype=np.float64))
    return Calibrator(
        "isotonic",
        np.asarray(iso.X_thresholds_, dtype=np.float64),
        np.asarray(iso.y_thresholds_, dtype=np.float64),
    )


FITTERS = {"platt": fit_platt, "isotonic": fit_isotonic}


def cross_validated_ece(
    kind: str, scores: np.ndarray, labels: np.ndarray, seed: int, folds: int = 5, bins: int = 10
) -> float:
    """ECE of out-of-fold calibrated probabilities: judging a calibrator on the scores it was
    fitted to would favour isotonic regression, which can memorise them."""
    from qinglang.detect.model.evaluate import reliability

    rng = np.random.default_rng(seed)
    fold_of = rng.permutation(len(scores)) % folds
    out = np.empty(len(scores), dtype=np.float64)
    for f in range(folds):
        held = fold_of == f
        cal = FITTERS[kind](scores[~held], labels[~held])
        out[held] = cal(scores[held])
    return reliability(labels, out, bins=bins).ece
