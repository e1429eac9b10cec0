"""Normalisation: each disguise of the issue, the offset map, and hostile input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qinglang.detect.normalize import Normalized, normalize_text, pattern_view, pinyin_view


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("傻*逼", "傻逼"),
        ("傻 逼", "傻逼"),
        ("傻.逼", "傻逼"),
        ("傻\u200b逼", "傻逼"),  # zero-width space
        ("傻\u200d\ufe0f逼", "傻逼"),  # joiner and variation selector
        ("傻★逼", "傻逼"),  # decoration
        ("傻😂逼", "傻逼"),  # emoji that stands for nothing is noise
        ("傻傻傻逼逼", "傻逼"),  # repeats
        ("ＳＢ", "sb"),  # full-width letters, case
        ("①⒈𝟏Ａ", "111a"),  # circled, full stop, mathematical and full-width forms
        ("𝐬𝐛", "sb"),
        ("國家說話", "国家说话"),  # traditional → simplified
        ("你🐴死了", "你马死了"),  # emoji stand-in
        ("ѕb", "sb"),  # Cyrillic look-alike
        ("sha bi", "shabi"),
        ("他很傻。逼着他", "他很傻。逼着他"),  # sentence punctuation is kept
        ("妈妈说", "妈妈说"),  # ordinary reduplication is kept
        ("mmp", "mmp"),  # so is a pair of letters
        ("sssb", "sb"),
        ("13800001111", "13800001111"),  # digits never collapse
        ("", ""),
    ],
)
def test_normalize_examples(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected
    assert Normalized(raw).text == expected


def test_offsets_point_into_original() -> None:
    text = "你是 傻*逼 吗"
    n = Normalized(text)
    i = n.text.index("傻逼")
    start, end = n.span(i, i + 2)
    assert text[start:end] == "傻*逼"


def test_offsets_of_collapsed_run_cover_the_run() -> None:
    text = "x傻傻傻逼y"
    n = Normalized(text)
    start, end = n.span(1, 3)
    assert text[start:end] == "傻傻傻逼"


def test_gap_before_marks_removed_noise() -> None:
    n = Normalized("s b")
    assert n.text == "sb"
    assert n.gap_before(1)
    assert not Normalized("sb").gap_before(1)


@given(st.text(max_size=200))
def test_offset_map_is_monotonic_and_in_bounds(text: str) -> None:
    n = Normalized(text)
    last = 0
    for i, ch in enumerate(n.text):
        start, end = n.span(i, i + 1)
        assert 0 <= start < end <= len(text)
        assert start >= last
        last = start
        assert ch in normalize_text(text[start:end]) or ch in text[start:end].lower()


@given(st.text(max_size=200))
def test_views_keep_lengths(text: str) -> None:
    assert len(pattern_view(text)) == len(text)
    view = normalize_text(text)
    assert len(pinyin_view(view)) == len(view)


@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=30))
def test_normalisation_is_idempotent_on_chinese(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


def test_hostile_inputs_return() -> None:
    # Pathological repetition, lone surrogates and control characters: no crash.
    for text in ("啊" * 200_000, "\ud800" * 1000, "\x00\x01\x02" * 1000, "a\u0301" * 50_000):
        n = Normalized(text)
        if n.text:
            n.span(0, len(n.text))


@given(st.text(max_size=100))
def test_pattern_view_is_identity_without_ascii_alnum_in_main_view(text: str) -> None:
    # The engine relies on this to skip the pattern view for most Chinese text.
    if not any(c.isascii() and c.isalnum() for c in normalize_text(text)):
        assert pattern_view(text) == text


class _AlwaysCounted(Normalized):
    __slots__ = ()
    MAX_COUNTED_LOOKUPS = 10**9


class _AlwaysBuilt(Normalized):
    __slots__ = ()
    MAX_COUNTED_LOOKUPS = 0


@given(st.text(alphabet=st.sampled_from("傻逼妈哈aS1 *.\u200b🐴①。\n國\U000e0041"), max_size=60))
def test_counted_lookups_equal_the_built_map(text: str) -> None:
    counted, built = _AlwaysCounted(text), _AlwaysBuilt(text)
    assert counted.text == built.text
    n = len(counted.text)
    for i in range(n):
        assert counted.span(i, i + 1) == built.span(i, i + 1)
        assert counted.gap_before(i) == built.gap_before(i)
        for j in range(i + 1, min(n, i + 4) + 1):
            assert counted.span(i, j) == built.span(i, j)


def test_traditional_chains_end_in_one_step() -> None:
    # OpenCC maps 薴 to 苧, itself traditional for 苎; found by the property test above.
    assert normalize_text("薴") == normalize_text(normalize_text("薴")) == "苎"
