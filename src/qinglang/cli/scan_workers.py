"""Checking chunks of texts, in this process or in a process pool, keeping input order.

Workers are spawned, not forked: the parent may be running threads (the progress bar), and a
fork would copy their locks. They receive the Detector once (it pickles as its configuration
and recompiles there), then only lists of texts; at most `2 × workers` chunks are in flight,
so memory stays bounded however long the input is.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

from qinglang.detect import Detector

T = TypeVar("T")

_worker_detector: Detector | None = None


def _init_worker(detector: Detector) -> None:
    global _worker_detector
    _worker_detector = detector


def check_texts(
    detector: Detector, texts: list[str], scene: str, explain: bool
) -> list[dict[str, Any]]:
    return [detector.check(text, scene).to_dict(explain=explain) for text in texts]


def _check_in_worker(texts: list[str], scene: str, explain: bool) -> list[dict[str, Any]]:
    assert _worker_detector is not None, "worker not initialised"
    return check_texts(_worker_detector, texts, scene, explain)


def check_chunks(
    detector: Detector,
    chunks: Iterable[tuple[T, list[str]]],
    *,
    scene: str,
    explain: bool,
    workers: int = 1,
) -> Iterator[tuple[T, list[dict[str, Any]]]]:
    """(tag, verdict dicts) for each (tag, texts) chunk, in the order the chunks came."""
    if workers <= 1:
        for tag, texts in chunks:
            yield tag, check_texts(detector, texts, scene, explain)
        return
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(detector,),
    ) as pool:
        pending: deque[tuple[T, Future[list[dict[str, Any]]]]] = deque()
        try:
            for tag, texts in chunks:
                pending.append((tag, pool.submit(_check_in_worker, texts, scene, explain)))
                if len(pending) >= 2 * workers:
                    head_tag, future = pending.popleft()
                    yield head_tag, future.result()
            while pending:
                head_tag, future = pending.popleft()
                yield head_tag, future.result()
        finally:
            for _, future in pending:
                future.cancel()
