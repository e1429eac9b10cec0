"""Pattern detectors: shared example-driven tests, registry checks, check-character round trips
and robustness on arbitrary and hostile input."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qinglang.detect.normalize import pattern_view
from qinglang.detect.patterns import (
    MAX_MATCHES,
    Example,
    PatternDetector,
    all_detectors,
    registered,
)
from qinglang.detect.patterns.checksums import (
    GB11643_CHECK_CHARS,
    gb11643_check_char,
    gb11643_valid,
    luhn_check_digit,
    luhn_valid,
)
from qinglang.detect.patterns.resident_id import resident_id_birth_date
from qinglang.taxonomy import get_taxonomy

DETECTORS = all_detectors()
CASES = [
    pytest.param(det, ex, id=f"{det.name}-{i}")
    for det in DETECTORS
    for i, ex in enumerate(det.examples)
]
_NON_DIGIT = re.compile(r"[^0-9]")


def _digits(s: str) -> str:
    return _NON_DIGIT.sub("", s)


def _check_spans(det: PatternDetector, view: str) -> list:
    matches = list(det.find(view))
    if matches and det.gate is not None:  # the gate is a necessary condition of a match
        assert det.gate.search(view), (det.name, view)
    if det.needs_ascii_alnum:  # so is an ASCII letter or digit, for most detectors
        for m in matches:
            assert re.search(r"[a-z0-9]", view[m.start : m.end]), (det.name, view)
    assert len(matches) <= MAX_MATCHES
    for m in matches:
        assert 0 <= m.start < m.end <= len(view)
        assert m.detector == det.name
        assert (m.category in det.categories) or (m.category == "" and not det.categories)
        assert 0.0 <= m.weight <= 1.0
    return matches


# ---------------------------------------------------------------- examples


@pytest.mark.parametrize(("det", "example"), CASES)
def test_example(det: PatternDetector, example: Example) -> None:
    view = pattern_view(example.text)
    assert len(view) == len(example.text)
    matches = _check_spans(det, view)
    assert [m.value for m in matches] == list(example.values)
    for m in matches:
        # The span covers the value: every digit of the value, in order, is in the span.
        assert _digits(m.value) in _digits(view[m.start : m.end])


def test_every_detector_has_enough_examples() -> None:
    for det in DETECTORS:
        positives = [ex for ex in det.examples if ex.values]
        negatives = [ex for ex in det.examples if not ex.values]
        assert len(positives) >= 4, det.name
        assert len(negatives) >= 4, det.name


# ---------------------------------------------------------------- registry


def test_registry() -> None:
    classes = registered()
    assert set(classes) == {
        "resident_id",
        "mobile_phone",
        "qq_id",
        "wechat_id",
        "contact_solicitation",
        "bank_card",
        "url",
    }
    names = [det.name for det in DETECTORS]
    assert names == sorted(names)
    assert len(set(names)) == len(names)
    known = set(get_taxonomy().categories)
    for name, cls in classes.items():
        assert cls.name == name
        assert cls.description
        if name == "url":
            assert cls.categories == ()
        else:
            assert cls.categories and set(cls.categories) <= known, name


def test_url_feeds_no_category() -> None:
    det = registered()["url"]()
    matches = list(det.find("见www.abc123.com"))
    assert matches and all(m.category == "" and m.weight == 0.0 for m in matches)


def test_bank_card_never_reports_resident_id_or_phone() -> None:
    det = registered()["bank_card"]()
    for text in ("620102199001010257", "13812345678", "110101199003074514"):
        assert list(det.find(text)) == []


# ---------------------------------------------------------------- check characters


def test_gb11643_known_values() -> None:
    assert gb11643_valid("110101199003074514")
    assert gb11643_valid("33010620120318207x")
    assert not gb11643_valid("110101199003074515")
    assert not gb11643_valid("11010119900307451")
    with pytest.raises(ValueError):
        gb11643_check_char("1234")


def test_luhn_known_values() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
    assert not luhn_valid("7")
    with pytest.raises(ValueError):
        luhn_check_digit("")


@settings(deadline=None)
@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_gb11643_round_trip(body: str) -> None:
    check = gb11643_check_char(body)
    assert check in GB11643_CHECK_CHARS
    assert gb11643_valid(body + check)
    # Any other check character is rejected.
    for other in GB11643_CHECK_CHARS.replace(check, ""):
        assert not gb11643_valid(body + other)
    # ISO 7064 MOD 11-2: the weighted sum over all 18 positions is 1 mod 11.
    value = 10 if check == "X" else int(check)
    total = sum(int(c) * pow(2, 17 - i, 11) for i, c in enumerate(body)) + value
    assert total % 11 == 1


@settings(deadline=None)
@given(st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_luhn_round_trip(payload: str) -> None:
    number = payload + luhn_check_digit(payload)
    assert luhn_valid(number)
    # Every single-digit error is caught.
    i = len(payload) // 2
    wrong = str((int(number[i]) + 1) % 10)
    assert not luhn_valid(number[:i] + wrong + number[i + 1 :])


@settings(deadline=None)
@given(
    st.dates(min_value=date(1800, 1, 1), max_value=date(2200, 12, 31)),
    st.sampled_from(["110101", "440305", "620102", "820000", "990101", "001234"]),
    st.integers(0, 999),
)
def test_resident_id_round_trip(born: date, region: str, seq: int) -> None:
    body = f"{region}{born:%Y%m%d}{seq:03d}"
    number = body + gb11643_check_char(body)
    det = registered()["resident_id"]()
    got = [m.value for m in det.find(f"身份证{number.lower()}。")]
    expected = resident_id_birth_date(number) == born
    assert got == ([number] if expected else [])
    if region[:2] in {"99", "00"}:
        assert not got


# ---------------------------------------------------------------- robustness


@settings(deadline=None)
@given(st.text())
def test_detectors_never_raise_on_arbitrary_text(text: str) -> None:
    view = pattern_view(text)
    for det in DETECTORS:
        _check_spans(det, view)


_PIECES = st.sampled_from(
    [
        "qq",
        "q号",
        "扣扣",
        "微信",
        "vx",
        "v",
        "wx",
        ":",
        "：",
        " ",
        "-",
        "+86",
        "1",
        "8",
        "0",
        "x",
        "6222",
        "13812345678",
        "110101199003074514",
        ".",
        "点",
        "。",
        "com",
        "www",
        "http://",
        "加我",
        "私聊",
        "a",
        "@",
        "(.)",
        " dot ",
        "元",
    ]
)


@settings(deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_detectors_never_raise_on_cue_soup(text: str) -> None:
    view = pattern_view(text)
    for det in DETECTORS:
        _check_spans(det, view)


HOSTILE = {
    "digits_1mb": "0123456789" * 100_000,
    "ones": "1" * 10**6,
    "qq": "qq" * 10**5,
    "phones": "13812345678 " * 20_000,
    "wechat": "微信:abc1234 " * 20_000,
    "dotted": "a." * 500_000,
    "disguised_dots": "a点" * 300_000,
    "letters": "a" * 10**6,
    "link": "http://" + "a" * 10**6,
    "separators": "1 " * 500_000,
    "hyphens": "1-" * 500_000,
    "cues": "加我私聊" * 100_000,
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_detectors_finish_on_hostile_input(kind: str) -> None:
    view = pattern_view(HOSTILE[kind])
    for det in DETECTORS:
        matches = _check_spans(det, view)
        assert len(matches) <= MAX_MATCHES
