"""`make bench`: measure the detection engine and rewrite docs/benchmarks.md.

Throughput is measured on one core (the process pins itself to CPU 0 where it can) over
~50-character messages: COLD's test and dev texts when ../shared is present, otherwise the
project's own corpus in tests/data repeated. Every figure is the median of several runs.

    python -m benchmarks.run [--out docs/benchmarks.md] [--repeats 9] [--limit N]
                             [--only all|detect|governance|guard|dashboard] [--quick]

The governance section (benchmarks/governance.py: public reports over HTTP on SQLite and
PostgreSQL, case lists over 10^6 cases) runs first, on both cores; `--only governance`
rewrites just that section of the file.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COLD = REPO.parent / "shared" / "data" / "cold"
TESTS_DATA = REPO / "tests" / "data"
GOVERNANCE_HEADING = "## Governance core"
GUARD_HEADING = "## Guard (minor protection)"
DASHBOARD_HEADING = "## Dashboard statistics and documents"
# Sections measured by their own runs: a run that does not measure one keeps it as it was.
KEPT_HEADINGS = (GUARD_HEADING, DASHBOARD_HEADING)


def section_text(text: str, heading: str) -> str | None:
    """The section of `text` under `heading`, up to the next `## ` heading (None if absent)."""
    start = text.find(heading)
    if start < 0:
        return None
    end = text.find("\n## ", start + len(heading))
    return text[start:] if end < 0 else text[start : end + 1]


def replace_section(text: str, heading: str, lines: Sequence[str]) -> str:
    """`text` with its section under `heading` replaced by `lines` (appended when absent)."""
    new = "\n".join(lines).rstrip("\n") + "\n"
    old = section_text(text, heading)
    if old is None:
        return text.rstrip("\n") + "\n\n" + new
    start = text.find(heading)
    rest = text[start + len(old) :]
    return text[:start] + new + ("\n" + rest if rest else "")


def load_corpus(limit: int) -> tuple[list[str], str]:
    texts: list[str] = []
    if (COLD / "test.csv").is_file():
        for name in ("test.csv", "dev.csv"):
            with open(COLD / name, encoding="utf-8-sig", newline="") as fh:
                texts += [row["TEXT"] for row in csv.DictReader(fh)]
        source = "COLD test + dev texts (../shared/data/cold)"
    else:
        from qinglang.detect.redteam import read_jsonl

        for name in ("benign.jsonl", "harmful.jsonl"):
            texts += [row["text"] for row in read_jsonl(TESTS_DATA / name)]
        source = "tests/data benign + harmful corpus (../shared absent)"
        texts = (texts * (limit // max(1, len(texts)) + 1))[:limit]
    return texts[:limit], source


def timed(fn: Callable[[str], object], texts: Sequence[str], repeats: int) -> float:
    """Median seconds for one pass of `fn` over all texts."""
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for t in texts:
            fn(t)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def memory_probe(model: bool) -> dict[str, float]:
    """RSS and load time of a fresh process that loads an engine and checks once."""
    spec = '"default"' if model else "None"
    code = (
        "import time, resource, json\n"
        "t = time.perf_counter()\n"
        "from qinglang.detect import Detector\n"
        f"d = Detector(model={spec}); d.check('你好')\n"
        "load = time.perf_counter() - t\n"
        "import psutil\n"
        "rss = psutil.Process().memory_info().rss\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024\n"
        "print(json.dumps({'load_s': load, 'rss_mb': rss / 2**20, 'peak_mb': peak / 2**20}))\n"
    )
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        ).stdout
        runs.append(json.loads(out))
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--repeats", type=int, default=9, help="runs per figure (median)")
    parser.add_argument("--limit", type=int, default=10_000, help="messages per run")
    parser.add_argument(
        "--only",
        choices=("all", "detect", "governance", "guard", "dashboard"),
        default="all",
        help="run one part (the other part of the file is kept as it is)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small governance runs (a smoke test of the harness)"
    )
    args = parser.parse_args(argv)

    governance: list[str] = []
    if args.only in ("all", "governance"):
        from benchmarks.governance import section

        texts, _ = load_corpus(args.limit)
        governance = section(texts, repeats=3, quick=args.quick)
    guard: list[str] = []
    if args.only in ("all", "guard"):
        # Before the pinning below: the server and its load generator use every core.
        from benchmarks.guard import section as guard_section

        guard = guard_section(quick=args.quick)
    dashboard: list[str] = []
    if args.only in ("all", "dashboard"):
        from benchmarks.dashboard import section as dashboard_section

        dashboard = dashboard_section(quick=args.quick)
    measured = {GUARD_HEADING: guard, DASHBOARD_HEADING: dashboard}
    if args.only in ("guard", "dashboard"):
        heading = GUARD_HEADING if args.only == "guard" else DASHBOARD_HEADING
        old = args.out.read_text(encoding="utf-8") if args.out.is_file() else "# Benchmarks\n"
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(replace_section(old, heading, measured[heading]), encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
        return 0
    if args.only == "governance":
        old = args.out.read_text(encoding="utf-8") if args.out.is_file() else "# Benchmarks\n"
        head = old.split(GOVERNANCE_HEADING)[0].rstrip("\n")
        new = head + "\n\n" + "\n".join(governance)
        for heading in KEPT_HEADINGS:  # measured before; kept as they are
            kept = section_text(old, heading)
            if kept is not None and heading not in new:
                new = new.rstrip("\n") + "\n\n" + kept
        args.out.write_text(new, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
        return 0

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    import ahocorasick

    from qinglang.detect import Detector
    from qinglang.detect.normalize import Normalized, pattern_view, pinyin_view
    from qinglang.detect.redteam import (
        disguise_recall,
        false_positives,
        load_harmful,
        read_jsonl,
    )
    from qinglang.detect.rules import run_detectors
    from qinglang.package_data import data_path

    texts, source = load_corpus(args.limit)
    chars = sum(map(len, texts))
    det = Detector(model=None)  # the rule path alone; the model has its own section
    rules = det._rules  # the benchmark looks inside on purpose, to time each stage

    def automaton(keys: set[str]) -> ahocorasick.Automaton:
        auto = ahocorasick.Automaton()
        for key in keys:
            auto.add_word(key, key)
        auto.make_automaton()
        return auto

    bare = automaton({term for _, term in det.lexicon.terms})
    bare_all = automaton(
        set(rules.main.keys) | set(rules.homophones.keys if rules.homophones else ())
    )

    def bare_match(t: str) -> object:
        for _ in bare.iter(t):
            pass
        return None

    def bare_all_match(t: str) -> object:
        for _ in bare_all.iter(t):
            pass
        return None

    views = [Normalized(t).text for t in texts]
    pinyin_views = [pinyin_view(v) for v in views]
    pairs = list(zip(texts, views, strict=True))
    main_auto, homo_auto = rules.main, rules.homophones

    def main_match(v: str) -> None:
        main_auto.matches(v)

    def homo_match(v: str) -> None:
        if homo_auto is not None:
            homo_auto.matches(v)

    portable = Detector(matcher="ahocorasick", model=None)

    def patterns(pair: tuple[str, str]) -> None:
        run_detectors(rules, *pair)

    stages: list[tuple[str, Callable[[str], object], Sequence[str]]] = [
        ("bare pyahocorasick over the lexicon terms (floor)", bare_match, texts),
        ("bare pyahocorasick over every key the engine matches", bare_all_match, texts),
        ("full rule path: `Detector.check`", det.check, texts),
        ("full rule path, pyahocorasick backend", portable.check, texts),
        ("stage: normalise (main view)", lambda t: Normalized(t).text, texts),
        (f"stage: main matcher ({main_auto.backend}) over the view", main_match, views),
        ("stage: pinyin view", pinyin_view, views),
        ("stage: homophone matcher over the pinyin view", homo_match, pinyin_views),
        ("stage: pattern view (when the text has ASCII letters or digits)", pattern_view, texts),
        ("stage: pattern detectors, gated as in the engine", patterns, pairs),
    ]
    rows = []
    results: dict[str, float] = {}
    for name, fn, data in stages:
        seconds = timed(fn, data, args.repeats)
        results[name] = seconds
        rows.append((name, len(data) / seconds, chars / seconds))
        print(f"{name}: {len(data) / seconds:,.0f} msg/s", file=sys.stderr)
    full = results["full rule path: `Detector.check`"]
    # The ratio to the floor: each repeat times the floor and the full path back to back, so
    # that a slow spell of a shared machine hits both; the median of those ratios is reported.
    ratios = []
    for _ in range(args.repeats):
        f = timed(bare_match, texts, 1)
        ratios.append(f / timed(det.check, texts, 1))
    ratio = statistics.median(ratios)

    mem = memory_probe(model=False)
    mem_model = memory_probe(model=True)

    # With the learned model (the default engine): batches through check_many, and the
    # latency of single checks.
    full_engine = Detector.default()
    batches = [texts[i : i + 1000] for i in range(0, len(texts), 1000)]
    batch_runs = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        for batch in batches:
            full_engine.check_many(batch)
        batch_runs.append(len(texts) / (time.perf_counter() - start))
    latencies = []
    for t in texts[:3000]:
        start = time.perf_counter()
        full_engine.check(t)
        latencies.append(time.perf_counter() - start)
    latencies.sort()
    model = full_engine.model
    model_runs = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        for batch in batches:
            model.predict_proba(batch)
        model_runs.append(len(texts) / (time.perf_counter() - start))
    det = full_engine  # recall and false positives: the engine as shipped

    harmful = load_harmful(TESTS_DATA / "harmful.jsonl")
    benign = [r["text"] for r in read_jsonl(TESTS_DATA / "benign.jsonl")]
    recall = disguise_recall(det, harmful)
    per_category = disguise_recall(det, harmful, by="category")
    fps = false_positives(det, benign)

    out = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Machine: {machine()}.",
        f"One core (the benchmark pins itself to one CPU). Corpus: {source}, {len(texts):,} "
        f"messages, {chars / len(texts):.1f} characters on average. Each figure is the median "
        f"of {args.repeats} runs.",
        "",
        "## Rule-path throughput",
        "",
        "| what | messages/s | characters/s |",
        "| --- | ---: | ---: |",
    ]
    out += [f"| {name} | {mps:,.0f} | {cps:,.0f} |" for name, mps, cps in rows]
    stats = det.stats()
    out += [
        "",
        f"Full rule path: **{len(texts) / full:,.0f} messages/s** (target ≥ 30,000), "
        f"**{ratio * 100:.1f} %** of the bare matcher's rate (median of {args.repeats} "
        "back-to-back pairs) "
        "(target ≥ 25 %); "
        f"{results['bare pyahocorasick over every key the engine matches'] / full * 100:.1f} % "
        "of a bare matcher over every key the engine matches (terms, variants, pinyin and "
        "homophone forms, allow-list, cues). The bare matchers only look for literal keys in "
        "the raw text; "
        f"the rule path (literal matcher: {stats['matcher']}) also normalises, matches "
        f"{stats['forms']:,} surface forms of {stats['terms']:,} terms, runs "
        f"{stats['pattern_detectors']} pattern detectors and scores.",
        "",
        "## Memory and start-up",
        "",
        "| what | value |",
        "| --- | ---: |",
        f"| RSS of a process with the rule engine loaded | {mem['rss_mb']:.0f} MB |",
        f"| peak RSS while loading | {mem['peak_mb']:.0f} MB |",
        f"| import + load + first check | {mem['load_s']:.2f} s |",
        "",
        "Target: engine loaded < 300 MB RSS.",
        "",
        "## With the learned abuse model",
        "",
        "The default engine (`Detector.default()`) adds the abuse model of "
        "[model.md](model.md) to the rule path.",
        "",
        "| what | value |",
        "| --- | ---: |",
        f"| `check_many`, batches of 1,000, rules + model | "
        f"{statistics.median(batch_runs):,.0f} messages/s |",
        f"| model alone (`predict_proba`), batches of 1,000 | "
        f"{statistics.median(model_runs):,.0f} messages/s |",
        f"| single `check`, rules + model: p50 / p99 latency | "
        f"{latencies[len(latencies) // 2] * 1e3:.2f} / "
        f"{latencies[int(len(latencies) * 0.99)] * 1e3:.2f} ms |",
        f"| RSS of a process with the engine and model loaded | {mem_model['rss_mb']:.0f} MB |",
        f"| import + load (model included) + first check | {mem_model['load_s']:.2f} s |",
        f"| model artifact `src/qinglang/detect/data/model/abuse.npz` | "
        f"{len(data_path('qinglang.detect', 'model', 'abuse.npz').read_bytes()) / 2**20:.1f} MB |",
        "",
        "Targets: ≥ 5,000 messages/s in batches, p99 ≤ 5 ms, < 500 MB RSS, load < 2 s.",
        "",
        "## Disguise recall",
        "",
        "Measured with the default engine (rules + model). "
        "Harmful messages of tests/data/harmful.jsonl with their term disguised "
        "(`qinglang.detect.disguise`); a message counts as caught when its verdict is not "
        "`pass` and a hit of its category overlaps the disguised term. Pinyin, initials and "
        "homophone disguises apply only to terms that opt in to them.",
        "",
        "| disguise | messages | caught | recall |",
        "| --- | ---: | ---: | ---: |",
    ]
    out += [f"| {k} | {t.total} | {t.hits} | {t.rate * 100:.1f} % |" for k, t in recall.items()]
    out += [
        "",
        "Per category, every disguise that applies (plain included):",
        "",
        "| category | messages | caught | recall |",
        "| --- | ---: | ---: | ---: |",
    ]
    out += [
        f"| {k} | {t.total} | {t.hits} | {t.rate * 100:.1f} % |"
        for k, t in sorted(per_category.items())
    ]
    out += [
        "",
        "Target ≥ 95 % for every disguise.",
        "",
        "## False positives on benign text of the same style",
        "",
        "Benign messages of tests/data/benign.jsonl (everyday chat, regulatory, news, "
        "education and reporting text, sentences of the seed documents), plain and with a run "
        "of their characters disguised the same way; a false positive is any verdict other "
        "than `pass`.",
        "",
        "| style | messages | flagged | false-positive rate |",
        "| --- | ---: | ---: | ---: |",
    ]
    out += [f"| {k} | {t.total} | {t.hits} | {t.rate * 100:.2f} % |" for k, t in fps.items()]
    out += ["", "Target < 1 %.", ""]
    if governance:
        out += governance
    elif args.out.is_file() and GOVERNANCE_HEADING in args.out.read_text(encoding="utf-8"):
        # --only detect keeps the governance section measured before.
        out += [
            GOVERNANCE_HEADING + args.out.read_text(encoding="utf-8").split(GOVERNANCE_HEADING)[1]
        ]
    text = "\n".join(out)
    old = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
    for heading in KEPT_HEADINGS:
        if measured[heading]:
            text = replace_section(text, heading, measured[heading])
        elif heading not in text and (kept := section_text(old, heading)) is not None:
            text = text.rstrip("\n") + "\n\n" + kept  # --only detect keeps it
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
