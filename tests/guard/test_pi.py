"""The NPPA pi: the base-26 birth-date prefix and Qinglang's own deterministic pi."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qinglang.guard.identity import check_char, parse_id_number
from qinglang.guard.pi import InvalidPi, birth_of_pi, encode_birth, is_pi, make_pi

TODAY = date(2025, 6, 1)
KEY = b"test-key-not-a-secret"
OPAQUE = "0" * 32


def _base26(value: int) -> str:
    digits = "0123456789abcdefghijklmnop"
    out = ""
    while value:
        value, rem = divmod(value, 26)
        out = digits[rem] + out
    return out.rjust(6, "0")


def test_known_prefix() -> None:
    # "1fffbj" (the prefix of NPPA's sample pi) by hand:
    # 1*26^5 + 15*26^4 + 15*26^3 + 15*26^2 + 11*26 + 19 = 19010101 -> 1901-01-01.
    assert 1 * 26**5 + 15 * 26**4 + 15 * 26**3 + 15 * 26**2 + 11 * 26 + 19 == 19010101
    assert birth_of_pi("1fffbj" + OPAQUE) == date(1901, 1, 1)
    assert encode_birth(date(1901, 1, 1)) == "1fffbj"


def test_every_date_1900_to_2100_round_trips() -> None:
    day, end = date(1900, 1, 1), date(2100, 12, 31)
    seen: set[str] = set()
    while day <= end:
        prefix = encode_birth(day)
        assert len(prefix) == 6
        assert prefix == _base26(int(f"{day:%Y%m%d}"))
        assert birth_of_pi(prefix + OPAQUE) == day
        seen.add(prefix)
        day += timedelta(days=1)
    assert len(seen) == (end - date(1900, 1, 1)).days + 1


@pytest.mark.parametrize(
    "value",
    [
        "",
        "1fffbj" + "0" * 31,  # 37 characters
        "1fffbj" + "0" * 33,  # 39 characters
        "1FFFBJ" + OPAQUE,  # upper case
        "1fffbj" + "-" * 32,
        "1fffbj" + "０" * 32,
        "1fffqj" + OPAQUE,  # q is not a base-26 digit
        "000000" + OPAQUE,  # 0: no date
        _base26(9991231) + OPAQUE,  # 7 digits
        _base26(19900230) + OPAQUE,  # 30 February
        _base26(19901301) + OPAQUE,  # month 13
        "pppppp" + OPAQUE,  # 9 digits
    ],
)
def test_invalid_pi(value: str) -> None:
    with pytest.raises(InvalidPi) as info:
        birth_of_pi(value)
    assert info.value.message_zh
    assert isinstance(info.value, ValueError)
    assert not is_pi(value)


def test_encode_birth_needs_four_digit_year() -> None:
    with pytest.raises(ValueError):
        encode_birth(date(999, 12, 31))


@given(st.dates(min_value=date(1000, 1, 1)))
def test_encode_decode_property(d: date) -> None:
    assert birth_of_pi(encode_birth(d) + "z" * 32) == d


ids = st.builds(
    lambda region, birth, seq: parse_id_number(
        f"{region}{birth:%Y%m%d}{seq:03d}" + check_char(f"{region}{birth:%Y%m%d}{seq:03d}"),
        today=TODAY,
    ),
    st.sampled_from(["110105", "360426", "371321", "310115", "440305"]),
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.integers(0, 999),
)


@given(ids)
def test_make_pi(x) -> None:
    pi = make_pi(x, KEY)
    assert len(pi) == 38
    assert set(pi) <= set("0123456789abcdefghijklmnopqrstuvwxyz")
    assert is_pi(pi)
    assert birth_of_pi(pi) == x.birth_date
    assert make_pi(x, KEY) == pi
    assert make_pi(parse_id_number(x.number.lower(), today=TODAY), KEY) == pi
    assert make_pi(x, KEY + b"2") != pi
    assert x.number not in pi


def test_make_pi_differs_between_people() -> None:
    a = parse_id_number("360426199101010071", today=TODAY)
    b = parse_id_number("36042619910101009" + check_char("36042619910101009"), today=TODAY)
    assert make_pi(a, KEY)[:6] == make_pi(b, KEY)[:6]
    assert make_pi(a, KEY) != make_pi(b, KEY)
    with pytest.raises(ValueError):
        make_pi(a, b"")
