"""The evaluation harness behind `qinglang eval`: rule path, model and both, on labelled data.

Labelled data is COLD's test split by default, or any JSONL file with a text and a 0/1 label
per line. Every system is scored with the same metrics (model/evaluate.py); a text counts as
flagged by a Detector when its verdict is not `pass`.
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qinglang.detect.engine import Detector
from qinglang.detect.model.artifact import AbuseModel
from qinglang.detect.model.evaluate import Report, evaluate, plot_reliability

FINE_NAMES = {
    0: "safe, other",
    1: "offensive, attacks an individual",
    2: "offensive, attacks a group",
    3: "safe, anti-bias",
}
BEGIN = "<!-- eval:begin (written by `qinglang eval`; edit outside these markers) -->"
END = "<!-- eval:end -->"


class DataError(ValueError):
    """A labelled file cannot be read; the message names the file and the line."""


@dataclass
class LabelledSet:
    name: str
    texts: list[str]
    labels: list[int]
    fine: list[int] | None = None
    topics: list[str] | None = None


def load_cold(path: str | Path) -> LabelledSet:
    """One COLD split (CSV, UTF-8 with BOM); fine-grained labels where the split has them."""
    p = Path(path)
    with open(p, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    fine = (
        [int(r["fine-grained-label"]) for r in rows]
        if rows and "fine-grained-label" in rows[0]
        else None
    )
    return LabelledSet(
        name=f"COLD {p.stem}",
        texts=[r["TEXT"] for r in rows],
        labels=[int(r["label"]) for r in rows],
        fine=fine,
        topics=[r["topic"] for r in rows],
    )


def _label(value: object, where: str) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float) and value in (0, 1):
        return int(value)
    if isinstance(value, str) and value.strip().lower() in {"0", "1", "true", "false"}:
        return 1 if value.strip().lower() in {"1", "true"} else 0
    raise DataError(f"{where}: label must be 0 or 1, not {value!r}")


def load_jsonl(
    path: str | Path,
    label_field: str = "label",
    text_field: str = "text",
    fine_field: str | None = None,
    topic_field: str | None = None,
) -> LabelledSet:
    """A labelled JSONL file: one object per line with a text and a 0/1 label."""
    p = Path(path)
    out = LabelledSet(
        name=p.name,
        texts=[],
        labels=[],
        fine=[] if fine_field else None,
        topics=[] if topic_field else None,
    )
    try:
        lines = p.read_bytes().splitlines()
    except OSError as exc:
        raise DataError(f"{p}: cannot read: {exc.strerror}") from None
    for lineno, raw in enumerate(lines, 1):
        where = f"{p}: line {lineno}"
        if not raw.strip():
            continue
        try:
            row = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise DataError(f"{where}: not UTF-8") from None
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise DataError(f"{where}: expected a JSON object")
        text = row.get(text_field)
        if not isinstance(text, str):
            raise DataError(f"{where}: field {text_field!r} missing or not a string")
        if label_field not in row:
            raise DataError(f"{where}: field {label_field!r} missing")
        out.texts.append(text)
        out.labels.append(_label(row[label_field], where))
        if fine_field and out.fine is not None:
            out.fine.append(int(row.get(fine_field, -1)))
        if topic_field and out.topics is not None:
            out.topics.append(str(row.get(topic_field, "")))
    if not out.texts:
        raise DataError(f"{p}: no labelled rows")
    return out


@dataclass
class SystemResult:
    name: str
    report: Report
    messages_per_s: float


@dataclass
class Evaluation:
    data: LabelledSet
    scene: str
    results: list[SystemResult] = field(default_factory=list)


def _timed(fn, texts: Sequence[str]):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn(texts)
    return out, len(texts) / max(time.perf_counter() - start, 1e-9)


def run(
    data: LabelledSet, model: AbuseModel | None, scene: str = "general", lexicon_paths=()
) -> Evaluation:
    """Score the rule path, the model alone and the combined engine on `data`."""
    ev = Evaluation(data=data, scene=scene)
    common = {"fine_labels": data.fine, "topics": data.topics}

    def detector_result(name: str, detector: Detector) -> SystemResult:
        verdicts, rate = _timed(lambda t: detector.check_many(t, scene), data.texts)
        flagged = [0.0 if v.verdict == "pass" else 1.0 for v in verdicts]
        report = evaluate(data.labels, flagged, probabilities=False, **common)
        return SystemResult(name, report, rate)

    ev.results.append(detector_result("rule path", Detector(lexicon_paths, model=None)))
    if model is None:
        return ev
    probs, rate = _timed(model.predict_proba, data.texts)
    ev.results.append(SystemResult("model alone", evaluate(data.labels, probs, **common), rate))
    ev.results.append(detector_result("rules + model", Detector(lexicon_paths, model=model)))
    return ev


def _pct(x: float) -> str:
    return f"{x * 100:.1f}"


def tables(ev: Evaluation) -> str:
    """The results as Markdown tables."""
    d = ev.data
    lines = [
        f"Data: {d.name}, {len(d.texts):,} texts ({sum(d.labels):,} offensive). Scene: "
        f"`{ev.scene}`. A Detector flags a text when its verdict is not `pass`; the model "
        "alone flags P(offensive) ≥ 0.5. Throughput: one process, whole set in one call.",
        "",
        "| system | accuracy | macro-F1 | F1 offensive | precision | recall | messages/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in ev.results:
        m = r.report
        lines.append(
            f"| {r.name} | {_pct(m.accuracy)} | **{m.macro_f1:.3f}** | {m.f1_offensive:.3f} | "
            f"{_pct(m.precision_offensive)} | {_pct(m.recall_offensive)} | "
            f"{r.messages_per_s:,.0f} |"
        )
    lines += [
        "",
        "Confusion matrices ([[safe passed, safe flagged], [offensive passed, "
        "offensive flagged]]):",
        "",
    ]
    lines += [f"- {r.name}: `{r.report.confusion}`" for r in ev.results]
    if d.fine is not None and ev.results[0].report.per_fine:
        lines += [
            "",
            "Per fine-grained label: share handled correctly (offensive flagged, safe passed) "
            "and macro-F1 of that label's texts against every text of the other class:",
            "",
            "| fine-grained label | texts | "
            + " | ".join(f"{r.name}: correct / F1" for r in ev.results)
            + " |",
            "| --- | ---: | " + " | ".join("---:" for _ in ev.results) + " |",
        ]
        for label in sorted(ev.results[0].report.per_fine):
            n = int(ev.results[0].report.per_fine[label]["n"])
            cells = []
            for r in ev.results:
                row = r.report.per_fine[label]
                cells.append(
                    f"{_pct(row['share_correct'])} % / {row['macro_f1_vs_other_class']:.3f}"
                )
            name = FINE_NAMES.get(label, str(label))
            lines.append(f"| {label} ({name}) | {n} | " + " | ".join(cells) + " |")
    if d.topics is not None and ev.results[0].report.per_topic:
        lines += [
            "",
            "Macro-F1 per topic:",
            "",
            "| topic | texts | " + " | ".join(r.name for r in ev.results) + " |",
            "| --- | ---: | " + " | ".join("---:" for _ in ev.results) + " |",
        ]
        for topic in sorted(ev.results[0].report.per_topic):
            first = ev.results[0].report.per_topic[topic]
            cells = [f"{r.report.per_topic[topic].get('macro_f1', 0.0):.3f}" for r in ev.results]
            lines.append(f"| {topic} | {int(first.get('n', 0))} | " + " | ".join(cells) + " |")
    model = next((r for r in ev.results if r.name == "model alone"), None)
    if model is not None and model.report.reliability is not None:
        lines += [
            "",
            f"Calibration of the model's P(offensive): expected calibration error "
            f"{model.report.reliability.ece:.3f} over {len(model.report.reliability.bins)} bins.",
        ]
    return "\n".join(lines)


def write_card(ev: Evaluation, card: Path, png: Path | None) -> None:
    """Replace the generated block of the model card (between the markers) with `ev`."""
    block = tables(ev)
    model = next((r for r in ev.results if r.name == "model alone"), None)
    if png is not None and model is not None and model.report.reliability is not None:
        plot_reliability(model.report.reliability, png, "Reliability of P(offensive), COLD test")
        block += f"\n\n![Reliability curve]({os.path.relpath(png, card.parent)})"
    text = (
        card.read_text(encoding="utf-8") if card.exists() else f"# Model card\n\n{BEGIN}\n{END}\n"
    )
    if BEGIN not in text or END not in text:
        text = text.rstrip() + f"\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    card.write_text(f"{head}{BEGIN}\n{block}\n{END}{tail}", encoding="utf-8")


def labels_array(data: LabelledSet) -> np.ndarray:
    return np.asarray(data.labels, dtype=np.int64)
