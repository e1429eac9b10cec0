"""Context cues: regulatory, news, educational and reporting language.

Naming a harm is not committing it: "严厉打击色情低俗信息" and "我要举报这个群在赌博" mention harms.
Lexicon hits that share a sentence with a cue are discounted — strongly for terms that only name
a topic (flag `topic`), mildly for the rest.
"""

from __future__ import annotations

import tomllib
from functools import cache

from qinglang.package_data import data_path

# Weight multipliers for hits in a sentence that carries a cue.
TOPIC_DISCOUNT = 0.1
TERM_DISCOUNT = 0.25
PATTERN_DISCOUNT = 0.25
# Note on hits so discounted; scenes do not boost such hits (a stricter scene is about harm
# done, not harm named).
MENTION = "context:mention"


@cache
def load_cues() -> dict[str, tuple[str, ...]]:
    """Cue phrases by group (report, regulation, education, news)."""
    path = data_path("qinglang.detect", "context.toml")
    if not path.is_file():
        return {}
    data = tomllib.loads(path.read_text("utf-8"))
    return {group: tuple(p for p in phrases if p) for group, phrases in data["cues"].items()}
