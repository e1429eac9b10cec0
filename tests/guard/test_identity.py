"""Resident ID numbers: format, check character, dates, regions, redaction and hashing."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from importlib.resources import files

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qinglang.guard.identity import (
    IdError,
    IdNumber,
    InvalidIdNumber,
    check_char,
    check_id_number,
    id_hash,
    parse_id_number,
)

TODAY = date(2025, 6, 1)
CHARS = "0123456789X"


def _known_regions() -> list[str]:
    """Division codes read straight from python-stdnum's loc.dat (province + county lines)."""
    codes: list[str] = []
    province = ""
    text = files("stdnum.cn").joinpath("loc.dat").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if not line.startswith(" "):
            province = line.split()[0]
        elif "county=" in line:
            codes.append(province + line.split()[0])
    return codes


REGIONS = _known_regions()


def _number(region: str, birth: date, seq: int) -> str:
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + check_char(first17)


def _code(text: str, today: date = TODAY) -> IdError:
    with pytest.raises(InvalidIdNumber) as info:
        parse_id_number(text, today=today)
    return info.value.code


valid_numbers = st.builds(
    _number,
    st.sampled_from(REGIONS),
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.integers(0, 999),
)


# Examples from GB 11643-1999 itself (Annex) and python-stdnum's doctest.
def test_standard_examples() -> None:
    x = parse_id_number("11010519491231002X", today=TODAY)
    assert (x.birth_date, x.sex, x.region_code) == (date(1949, 12, 31), "female", "110105")
    y = parse_id_number("360426199101010071", today=TODAY)
    assert (y.birth_date, y.sex, y.region_code) == (date(1991, 1, 1), "male", "360426")
    # The standard's other example is born in 1880: a valid checksum, but before 1900.
    assert _code("440524188001010014") is IdError.BAD_DATE


def test_nppa_test_number_has_a_wrong_check_char() -> None:
    # Widely copied from NPPA's documentation; its check character should be 6, not 2.
    assert check_char("37132119901231091") == "6"
    assert _code("371321199012310912") is IdError.BAD_CHECK_CHAR
    assert parse_id_number("371321199012310916", today=TODAY).sex == "male"


def test_check_char_by_hand() -> None:
    # 360426199101010 07: weighted sum 231, 231 mod 11 = 0 -> "1".
    assert check_char("36042619910101007") == "1"
    # 110105194912310 02: weighted sum 167, 167 mod 11 = 2 -> "X".
    assert check_char("11010519491231002") == "X"


def test_fifteen_digits_are_upgraded() -> None:
    x = parse_id_number("360426910101007", today=TODAY)
    assert x.number == "360426199101010071"
    assert (x.birth_date, x.sex) == (date(1991, 1, 1), "male")
    assert _code("360426910230007") is IdError.BAD_DATE
    assert _code("990000910101007") is IdError.UNKNOWN_REGION


@pytest.mark.parametrize(
    "text",
    [
        "11010519491231002x",
        " 11010519491231002X\n",
        "１１０１０５１９４９１２３１００２Ｘ",
        "\u3000１１０１０５１９４９１２３１００２ｘ\t",
    ],
)
def test_normalisation(text: str) -> None:
    assert parse_id_number(text, today=TODAY).number == "11010519491231002X"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", IdError.EMPTY),
        ("  \t", IdError.EMPTY),
        ("12345", IdError.BAD_FORMAT),
        ("36042619910101007", IdError.BAD_FORMAT),  # 17 digits
        ("3604261991010100711", IdError.BAD_FORMAT),  # 19 digits
        ("3604261991010100", IdError.BAD_FORMAT),  # 16 digits
        ("36042619910101X071", IdError.BAD_FORMAT),
        ("360426 199101010071", IdError.BAD_FORMAT),
        ("36042619910101007Y", IdError.BAD_FORMAT),
        ("36042691010100X", IdError.BAD_FORMAT),
        ("360426199101010072", IdError.BAD_CHECK_CHAR),
    ],
)
def test_errors(text: str, code: IdError) -> None:
    assert _code(text) is code


def test_dates() -> None:
    bad = "11010519900230001"
    assert _code(bad + check_char(bad)) is IdError.BAD_DATE
    bad = "11010518991231001"
    assert _code(bad + check_char(bad)) is IdError.BAD_DATE
    assert parse_id_number(_number("110105", date(1900, 1, 1), 1), today=TODAY)
    born = date(2025, 6, 1)
    assert parse_id_number(_number("110105", born, 1), today=born).birth_date == born
    assert _code(_number("110105", born, 1), today=date(2025, 5, 31)) is IdError.FUTURE_DATE
    # Without `today`, the current Shanghai date is used: a 1990 birth is never in the future.
    assert parse_id_number(_number("110105", date(1990, 1, 1), 1)).birth_date.year == 1990
    assert _code(_number("110105", date(9999, 1, 1), 1), today=None) is IdError.FUTURE_DATE


@pytest.mark.parametrize("region", ["990000", "119900", "000000", "110199"])
def test_unknown_region(region: str) -> None:
    assert _code(_number(region, date(1990, 1, 1), 1)) is IdError.UNKNOWN_REGION


def test_region_valid_whatever_the_county_years() -> None:
    # 110103 (崇文区) was abolished in 2010, 371321 is listed from 1994: the code is where a
    # person is registered, which need not match the birth year, so both are accepted.
    assert parse_id_number(_number("110103", date(2015, 1, 1), 2), today=TODAY)
    assert parse_id_number(_number("371321", date(1980, 1, 1), 2), today=TODAY)


def test_every_error_has_messages() -> None:
    for code in IdError:
        assert code.message and code.message_zh
        exc = InvalidIdNumber(code)
        assert str(exc) == code.message
        assert exc.message_zh == code.message_zh
        assert isinstance(exc, ValueError)


@given(valid_numbers)
def test_valid_numbers_round_trip(number: str) -> None:
    x = parse_id_number(number, today=TODAY)
    assert x.number == number
    assert x.region_code == number[:6]
    assert x.birth_date == date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    assert x.sex == ("male" if int(number[16]) % 2 else "female")
    assert parse_id_number(number.lower(), today=TODAY) == x
    result = check_id_number(number, today=TODAY)
    assert result == {
        "valid": True,
        "birth_date": x.birth_date.isoformat(),
        "sex": x.sex,
        "region_code": x.region_code,
        "error": None,
    }


@given(valid_numbers, st.integers(0, 17), st.sampled_from(CHARS))
def test_one_character_change_is_rejected(number: str, pos: int, char: str) -> None:
    changed = number[:pos] + char + number[pos + 1 :]
    if changed == number:
        return
    with pytest.raises(InvalidIdNumber):
        parse_id_number(changed, today=TODAY)
    assert check_id_number(changed, today=TODAY)["valid"] is False


@given(
    st.sampled_from(REGIONS),
    st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)),
    st.integers(0, 999),
)
def test_fifteen_agrees_with_eighteen(region: str, birth: date, seq: int) -> None:
    fifteen = f"{region}{birth:%y%m%d}{seq:03d}"
    assert parse_id_number(fifteen, today=TODAY) == parse_id_number(
        _number(region, birth, seq), today=TODAY
    )


@given(valid_numbers)
def test_the_number_never_leaks(number: str) -> None:
    x = parse_id_number(number, today=TODAY)
    for text in (repr(x), str(x), f"{x}", repr([x])):
        assert number not in text
        assert number[6:14] not in text  # not even the full birth date
    assert repr(x) == f"IdNumber(region={x.region_code}, born={x.birth_date.year})"
    bad = number[:17] + ("0" if number[17] != "0" else "1")
    result = check_id_number(bad, today=TODAY)
    assert bad not in repr(result)
    with pytest.raises(InvalidIdNumber) as info:
        parse_id_number(bad, today=TODAY)
    assert bad not in str(info.value) and bad not in repr(info.value)


def test_check_id_number_error_shape() -> None:
    assert check_id_number("371321199012310912", today=TODAY) == {
        "valid": False,
        "birth_date": None,
        "sex": None,
        "region_code": None,
        "error": {
            "code": "bad_check_char",
            "message": IdError.BAD_CHECK_CHAR.message,
            "message_zh": "身份证号码校验位不正确，请检查是否输错。",
        },
    }


def test_id_hash() -> None:
    x = parse_id_number("11010519491231002x", today=TODAY)
    key = b"k" * 32
    digest = id_hash(x, key)
    assert digest == hmac.new(key, b"11010519491231002X", hashlib.sha256).hexdigest()
    assert len(digest) == 64 and "11010519491231002X" not in digest
    assert (
        id_hash(parse_id_number("１１０１０５１９４９１２３１００２Ｘ", today=TODAY), key) == digest
    )
    assert id_hash(x, b"other") != digest
    with pytest.raises(ValueError):
        id_hash(x, b"")


def test_id_number_is_frozen() -> None:
    x = parse_id_number("360426199101010071", today=TODAY)
    assert isinstance(x, IdNumber)
    with pytest.raises(AttributeError):
        x.sex = "female"  # type: ignore[misc]
