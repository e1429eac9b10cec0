"""Both literal-matching backends find exactly the occurrences a naive search finds."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qinglang.detect import Detector
from qinglang.detect.matcher import (
    AhoCorasickMatcher,
    HyperscanMatcher,
    hyperscan_available,
    make_matcher,
)

needs_hyperscan = pytest.mark.skipif(
    not hyperscan_available(), reason="hyperscan is not installed (not x86-64 Linux)"
)
ALPHABET = "傻逼你妈ab吗\u00e9\U0001f434\ue001"


def naive(keys: list[str], text: str) -> set[tuple[int, int, str]]:
    out = set()
    for key in keys:
        for i in range(len(text) - len(key) + 1):
            if text.startswith(key, i):
                out.add((i, i + len(key), key))
    return out


def found(matcher, text: str) -> set[tuple[int, int, str]]:
    return {(a, b, items[0]) for a, b, items in matcher.matches(text)}


@given(
    st.lists(st.text(ALPHABET, min_size=1, max_size=4), min_size=1, max_size=8, unique=True),
    st.text(ALPHABET, max_size=40),
)
def test_ahocorasick_equals_naive(keys: list[str], text: str) -> None:
    assert found(AhoCorasickMatcher({k: (k,) for k in keys}), text) == naive(keys, text)


@needs_hyperscan
@given(
    st.lists(st.text(ALPHABET, min_size=1, max_size=4), min_size=1, max_size=8, unique=True),
    st.text(ALPHABET, max_size=40),
)
def test_hyperscan_equals_naive(keys: list[str], text: str) -> None:
    assert found(HyperscanMatcher({k: (k,) for k in keys}), text) == naive(keys, text)


@needs_hyperscan
def test_hyperscan_matcher_pickles() -> None:
    m = HyperscanMatcher({"傻逼": ("x",)})
    clone = pickle.loads(pickle.dumps(m))
    assert found(clone, "你傻逼") == {(1, 3, "x")}


def test_no_keys_no_matcher() -> None:
    assert make_matcher({}) is None


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="QINGLANG_MATCHER"):
        make_matcher({"a": ("a",)}, "regex")


@needs_hyperscan
def test_backends_give_the_same_verdicts() -> None:
    texts = ["你就是个傻*逼", "加我vx领皮肤", "今天天气很好", "sha bi", "你🐴死了", "煞笔", "國家"]
    hs = Detector(matcher="hyperscan")
    ac = Detector(matcher="ahocorasick")
    assert hs.stats()["matcher"] == "hyperscan"
    assert ac.stats()["matcher"] == "ahocorasick"
    for text in texts:
        for scene in hs.scenes:
            assert hs.check(text, scene).to_dict(True) == ac.check(text, scene).to_dict(True)
