"""Where the abuse model may speak: text that names a social group (data/model_scope.toml)."""

from __future__ import annotations

import re
import tomllib
from functools import cache

from qinglang.detect.normalize import normalize_text
from qinglang.package_data import read_data


@cache
def scope_pattern() -> re.Pattern[str]:
    data = tomllib.loads(read_data("qinglang.detect", "model_scope.toml"))
    words = sorted({normalize_text(w) for group in data["scope"].values() for w in group}, key=len)
    return re.compile("|".join(re.escape(w) for w in reversed(words) if w))


def in_scope(view: str) -> bool:
    """True when the main view `view` names a social group (the model's domain)."""
    return scope_pattern().search(view) is not None
