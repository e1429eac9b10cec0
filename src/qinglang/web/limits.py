"""Size limits that depend on settings, checked after the body is parsed.

The byte limit on the whole body is enforced earlier, while reading (body_limit.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from qinglang.settings import Settings
from qinglang.web.problems import ProblemError


def check_text(text: str, settings: Settings, index: int | None = None) -> None:
    limit = settings.max_text_chars
    if len(text) > limit:
        where = "" if index is None else f"第 {index + 1} 条"
        raise ProblemError(
            "text-too-long",
            f"{where}文本过长：最多 {limit} 个字符（收到 {len(text)} 个）。",
            log_message=f"text of {len(text)} chars > {limit}"
            + ("" if index is None else f" at item {index}"),
        )


def check_batch(texts: Sequence[str], settings: Settings) -> None:
    if len(texts) > settings.max_items:
        raise ProblemError(
            "too-many-items",
            f"条目过多：每次最多 {settings.max_items} 条（收到 {len(texts)} 条）。",
            log_message=f"{len(texts)} items > {settings.max_items}",
        )
    for index, text in enumerate(texts):
        check_text(text, settings, index)
