"""Metrics for a binary offensive/safe classifier, as pure functions of arrays.

Used for the model alone, the rule path alone and their combination, on COLD or on any
labelled file, so every figure in docs/model.md is computed the same way.

COLD's fine-grained labels (test split): 0 safe (other), 1 offensive (attacks an individual),
2 offensive (attacks a group), 3 safe (anti-bias: argues against a bias and so is full of group
words). Each fine-grained subset holds one binary class only, so precision inside it is
degenerate; what is reported per fine-grained label is the share handled correctly — flagged
for 1 and 2 (recall), not flagged for 0 and 3 — next to the F1 of the binary task restricted to
that subset plus all texts of the other binary class (which is a real F1: both classes present).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

FINE_LABELS = {
    0: "safe, other",
    1: "offensive, attacks an individual",
    2: "offensive, attacks a group",
    3: "safe, anti-bias",
}
SAFE_FINE = (0, 3)


@dataclass(frozen=True)
class ReliabilityBin:
    lower: float
    upper: float
    count: int
    mean_predicted: float  # mean P(offensive) of the bin's texts (nan when empty)
    observed: float  # share of the bin's texts labelled offensive (nan when empty)


@dataclass(frozen=True)
class Reliability:
    bins: list[ReliabilityBin]
    ece: float  # expected calibration error: Σ count/N · |observed - mean_predicted|


@dataclass
class Report:
    n: int
    threshold: float
    accuracy: float
    macro_f1: float
    f1_offensive: float
    precision_offensive: float
    recall_offensive: float
    # [[true safe, false alarms], [missed offensive, caught offensive]]
    confusion: list[list[int]]
    per_fine: dict[int, dict[str, float]] = field(default_factory=dict)
    per_topic: dict[str, dict[str, float]] = field(default_factory=dict)
    reliability: Reliability | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """2×2 counts, rows = true label (0, 1), columns = predicted label (0, 1)."""
    y = np.asarray(labels, dtype=np.int64)
    p = np.asarray(predicted, dtype=np.int64)
    return np.bincount(y * 2 + p, minlength=4).reshape(2, 2)


def _f1(tp: float, fp: float, fn: float) -> float:
    denom = 2 * tp + fp + fn
    return 2 * tp / denom if denom else 0.0


def binary_scores(labels: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Accuracy, macro-F1 (mean of the F1 of each class) and the offensive class's P/R/F1."""
    cm = confusion_matrix(labels, predicted)
    tn, fp, fn, tp = (float(v) for v in cm.ravel())
    n = tn + fp + fn + tp
    f1_pos = _f1(tp, fp, fn)
    f1_neg = _f1(tn, fn, fp)
    return {
        "accuracy": (tp + tn) / n if n else 0.0,
        "macro_f1": (f1_pos + f1_neg) / 2,
        "f1_offensive": f1_pos,
        "precision_offensive": tp / (tp + fp) if tp + fp else 0.0,
        "recall_offensive": tp / (tp + fn) if tp + fn else 0.0,
    }


def macro_f1(labels: np.ndarray, predicted: np.ndarray) -> float:
    return binary_scores(labels, predicted)["macro_f1"]


def reliability(labels: np.ndarray, probs: np.ndarray, bins: int = 10) -> Reliability:
    """Equal-width bins over [0, 1] of P(offensive) against the observed offensive share."""
    y = np.asarray(labels, dtype=np.float64)
    p = np.clip(np.asarray(probs, dtype=np.float64), 0.0, 1.0)
    which = np.minimum((p * bins).astype(np.int64), bins - 1)
    counts = np.bincount(which, minlength=bins)
    sum_p = np.bincount(which, weights=p, minlength=bins)
    sum_y = np.bincount(which, weights=y, minlength=bins)
    out = []
    ece = 0.0
    for b in range(bins):
        c = int(counts[b])
        mean_p = sum_p[b] / c if c else float("nan")
        obs = sum_y[b] / c if c else float("nan")
        if c:
            ece += c / len(p) * abs(obs - mean_p)
        out.append(ReliabilityBin(b / bins, (b + 1) / bins, c, float(mean_p), float(obs)))
    return Reliability(out, float(ece))


def evaluate(
    labels: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    *,
    threshold: float = 0.5,
    fine_labels: Sequence[int] | np.ndarray | None = None,
    topics: Sequence[str] | None = None,
    probabilities: bool = True,
    bins: int = 10,
) -> Report:
    """Everything docs/model.md reports for one system on one labelled set.

    `scores` ≥ `threshold` counts as flagged. When `probabilities` is true the scores are
    read as P(offensive) and the reliability bins and ECE are added.
    """
    y = np.asarray(labels, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    if y.shape != s.shape:
        raise ValueError(f"{len(y)} labels but {len(s)} scores")
    pred = (s >= threshold).astype(np.int64)
    main = binary_scores(y, pred)
    report = Report(
        n=len(y),
        threshold=threshold,
        confusion=confusion_matrix(y, pred).tolist(),
        **main,
    )
    if fine_labels is not None:
        fine = np.asarray(fine_labels, dtype=np.int64)
        for k in sorted(set(fine.tolist())):
            inside = fine == k
            safe = k in SAFE_FINE
            correct = pred[inside] == (0 if safe else 1)
            # The subset against every text of the other binary class: a two-class F1.
            other = (y == (1 if safe else 0)) & ~inside
            both = inside | other
            report.per_fine[k] = {
                "n": int(inside.sum()),
                "share_correct": float(correct.mean()) if inside.any() else 0.0,
                "macro_f1_vs_other_class": macro_f1(y[both], pred[both]),
            }
    if topics is not None:
        t = np.asarray(list(topics))
        for topic in sorted(set(t.tolist())):
            inside = t == topic
            sc = binary_scores(y[inside], pred[inside])
            report.per_topic[topic] = {
                "n": int(inside.sum()),
                "accuracy": sc["accuracy"],
                "macro_f1": sc["macro_f1"],
            }
    if probabilities:
        report.reliability = reliability(y, s, bins=bins)
    return report


def plot_reliability(
    rel: Reliability, path: str | Path, title: str = "Reliability of P(offensive)"
) -> Path:
    """Draw the reliability curve (and the bin counts) to a PNG; returns the path."""
    import matplotlib

    matplotlib.use("Agg")  # no display, no network: safe in CI and on servers
    import matplotlib.pyplot as plt

    path = Path(path)
    centers = [(b.lower + b.upper) / 2 for b in rel.bins if b.count]
    observed = [b.observed for b in rel.bins if b.count]
    predicted = [b.mean_predicted for b in rel.bins if b.count]
    fig, (ax, hx) = plt.subplots(
        2, 1, figsize=(5, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    ax.plot(predicted, observed, marker="o", label=f"model (ECE {rel.ece:.3f})")
    ax.set_ylabel("observed share offensive")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(loc="upper left")
    width = rel.bins[0].upper - rel.bins[0].lower if rel.bins else 0.1
    hx.bar(centers, [b.count for b in rel.bins if b.count], width=width * 0.9, color="tab:blue")
    hx.set_xlabel("predicted P(offensive)")
    hx.set_ylabel("texts")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Fixed metadata: the PNG bytes do not depend on the date or the matplotlib build string.
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
    return path
