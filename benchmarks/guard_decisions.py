"""Guard rule decisions per second, in-process on one core.

`decisions_per_second()` times `qinglang.guard.rulesets.evaluate` (play time) and
`evaluate_payment` over a fixed, seeded mix of inputs: game, video and live platforms, minors
of every age band, adults and a few unverified guests, instants spread over 2021–2026
(Asia/Shanghai) and varied usage. The rule sets for each input are resolved beforehand, so
only the decision itself is timed. Each figure is the median of 5 runs.

    python -m benchmarks.guard_decisions [SECONDS]

prints one JSON object. Importing this module runs nothing.
"""

from __future__ import annotations

import json
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

RUNS = 5
INPUTS = 2_000
SEED = 20_261_204
_FIRST = datetime(2021, 1, 1)
_SPAN_S = int((datetime(2027, 1, 1) - _FIRST).total_seconds())


def _births(rng: random.Random, day: date) -> date | None:
    """Mostly minors (every band), some adults, a few guests."""
    roll = rng.random()
    if roll < 0.05:
        return None
    if roll < 0.30:
        return day - timedelta(days=rng.randint(18 * 366, 60 * 365))
    return day - timedelta(days=rng.randint(0, 18 * 365 - 1))


def _inputs(seed: int = SEED, count: int = INPUTS) -> tuple[list[Any], list[Any]]:
    """(play, payment) lists of (rule sets, request), the same for every call."""
    from qinglang.guard.ages import SHANGHAI, local_day
    from qinglang.guard.decision import PlatformKind
    from qinglang.guard.rulesets import PayKind, PayRequest, PlayRequest, resolve

    rng = random.Random(seed)
    kinds = list(PlatformKind)
    play, pay = [], []
    for _ in range(count):
        at = (_FIRST + timedelta(seconds=rng.randrange(_SPAN_S))).replace(tzinfo=SHANGHAI)
        kind = rng.choice(kinds)
        birth = _births(rng, local_day(at))
        sets = resolve(kind, at)
        used = rng.choice([0, 0, rng.randrange(0, 3 * 3600), rng.randrange(0, 600) * 60])
        play.append((sets, PlayRequest(at, birth, used_today_s=used)))
        amount = rng.choice([100, 600, 3000, 4999, 5000, 5001, rng.randint(1, 20_000)])
        spent = rng.choice([0, 0, rng.randint(0, 40_000)])
        pay_kind = PayKind.tip if kind is PlatformKind.live and rng.random() < 0.5 else None
        pay.append((sets, PayRequest(at, birth, amount, spent, pay_kind or PayKind.payment)))
    return play, pay


def _rate(call: Callable[[Any, Any], Any], cases: list[Any], seconds: float) -> float:
    """Decisions per second over `seconds`, cycling through `cases` in chunks of 100."""
    chunks = [cases[i : i + 100] for i in range(0, len(cases), 100)]
    done = turn = 0
    start = time.perf_counter()
    deadline = start + seconds
    now = start
    while now < deadline:
        chunk = chunks[turn % len(chunks)]
        turn += 1
        for sets, req in chunk:
            call(sets, req)
        done += len(chunk)
        now = time.perf_counter()
    return done / (now - start)


def _measure(call: Callable[[Any, Any], Any], cases: list[Any], seconds: float) -> dict[str, Any]:
    for sets, req in cases:  # warm-up: caches, imports, the holiday tables
        call(sets, req)
    rates = [_rate(call, cases, seconds / RUNS) for _ in range(RUNS)]
    return {
        "decisions_per_second": round(statistics.median(rates)),
        "runs": [round(r) for r in rates],
        "inputs": len(cases),
    }


def decisions_per_second(seconds: float = 2.0) -> dict[str, Any]:
    """Median decisions/s of 5 runs (each `seconds / 5` long) for play and for payments."""
    from qinglang.guard.calendar import DEFAULT_CALENDAR
    from qinglang.guard.rulesets import evaluate, evaluate_payment

    play, pay = _inputs()
    return {
        "play": _measure(lambda s, r: evaluate(s, r, DEFAULT_CALENDAR), play, seconds),
        "payment": _measure(evaluate_payment, pay, seconds),
        "seconds_per_kind": seconds,
        "runs": RUNS,
        "seed": SEED,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


if __name__ == "__main__":
    budget = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    print(json.dumps(decisions_per_second(budget), ensure_ascii=False))
