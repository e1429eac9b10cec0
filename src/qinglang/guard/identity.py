"""Resident ID numbers (公民身份号码) per GB 11643-1999: parse, check, and hash them.

An 18-character number is a 6-digit region code, the birth date YYYYMMDD, a 3-digit sequence
(odd for men, even for women) and a check character by ISO 7064 MOD 11-2 ("X" for 10).
15-digit numbers from before 1999 (YYMMDD, always 19YY) are upgraded to 18 characters.

Raw numbers are personal information: `IdNumber`'s repr hides the number, errors never quote
it, and what is stored is `id_hash` (a keyed HMAC), never the number itself.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import cache
from typing import Literal

from qinglang.guard.ages import local_day

MIN_BIRTH_DATE = date(1900, 1, 1)

_WEIGHTS = tuple(2 ** (17 - i) % 11 for i in range(17))
_CHECK_CHARS = "10X98765432"  # index: weighted sum mod 11
_RE_18 = re.compile(r"[0-9]{17}[0-9X]")
_RE_15 = re.compile(r"[0-9]{15}")


class IdError(StrEnum):
    EMPTY = "empty"
    BAD_FORMAT = "bad_format"
    BAD_CHECK_CHAR = "bad_check_char"
    BAD_DATE = "bad_date"
    FUTURE_DATE = "future_date"
    UNKNOWN_REGION = "unknown_region"

    @property
    def message(self) -> str:
        return _MESSAGES[self][0]

    @property
    def message_zh(self) -> str:
        return _MESSAGES[self][1]


_MESSAGES: dict[IdError, tuple[str, str]] = {
    IdError.EMPTY: ("no ID number given", "请输入身份证号码。"),
    IdError.BAD_FORMAT: (
        "an ID number has 18 characters (17 digits and a digit or X) or 15 digits",
        "身份证号码格式不正确：应为 18 位（最后一位可以是 X）或 15 位数字。",
    ),
    IdError.BAD_CHECK_CHAR: (
        "the check character does not match (a mistyped digit?)",
        "身份证号码校验位不正确，请检查是否输错。",
    ),
    IdError.BAD_DATE: (
        "the birth date in the number is not a real date on or after 1900-01-01",
        "身份证号码中的出生日期无效。",
    ),
    IdError.FUTURE_DATE: (
        "the birth date in the number is in the future",
        "身份证号码中的出生日期晚于今天。",
    ),
    IdError.UNKNOWN_REGION: (
        "the region code is not a known administrative division",
        "身份证号码中的地区代码不存在。",
    ),
}


class InvalidIdNumber(ValueError):
    """A number that is not a valid resident ID number. The message never quotes the number."""

    def __init__(self, code: IdError) -> None:
        super().__init__(code.message)
        self.code = code
        self.message_zh = code.message_zh


@dataclass(frozen=True, slots=True, repr=False)
class IdNumber:
    number: str  # normalised: 18 characters, upper-case X
    birth_date: date
    sex: Literal["male", "female"]
    region_code: str

    def __repr__(self) -> str:
        # Region and birth year only: enough to tell numbers apart in a debugger, not to
        # reconstruct one.
        return f"IdNumber(region={self.region_code}, born={self.birth_date.year})"

    __str__ = __repr__


def check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def _normalise(text: str) -> str:
    # NFKC folds full-width digits and Ｘ to ASCII.
    return unicodedata.normalize("NFKC", text).strip().upper()


@cache
def _region_known(code: str) -> bool:
    from stdnum import numdb

    info = {k: v for _, props in numdb.get("cn/loc").info(code) for k, v in props.items()}
    # Any county entry counts, whatever years python-stdnum gives it: the code is assigned
    # where a person is registered, which can be years after birth (stdnum's get_birth_place
    # would reject such numbers).
    return "county" in info


def _today() -> date:
    return local_day(datetime.now(UTC))


def parse_id_number(text: str, *, today: date | None = None) -> IdNumber:
    """Parse and validate a resident ID number; raises `InvalidIdNumber`.

    `today` (for the future-date check) defaults to the current date in Asia/Shanghai.
    """
    value = _normalise(text)
    if not value:
        raise InvalidIdNumber(IdError.EMPTY)
    if _RE_15.fullmatch(value):
        first17 = value[:6] + "19" + value[6:]
        value = first17 + check_char(first17)
    elif not _RE_18.fullmatch(value):
        raise InvalidIdNumber(IdError.BAD_FORMAT)
    elif value[17] != check_char(value[:17]):
        raise InvalidIdNumber(IdError.BAD_CHECK_CHAR)
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidIdNumber(IdError.BAD_DATE) from None
    if birth < MIN_BIRTH_DATE:
        raise InvalidIdNumber(IdError.BAD_DATE)
    if birth > (today if today is not None else _today()):
        raise InvalidIdNumber(IdError.FUTURE_DATE)
    region = value[:6]
    if not _region_known(region):
        raise InvalidIdNumber(IdError.UNKNOWN_REGION)
    sex: Literal["male", "female"] = "male" if int(value[16]) % 2 else "female"
    return IdNumber(number=value, birth_date=birth, sex=sex, region_code=region)


def check_id_number(text: str, *, today: date | None = None) -> dict[str, object]:
    """The result of `parse_id_number` as a JSON-ready dict (never containing the number)."""
    try:
        parsed = parse_id_number(text, today=today)
    except InvalidIdNumber as exc:
        return {
            "valid": False,
            "birth_date": None,
            "sex": None,
            "region_code": None,
            "error": {
                "code": exc.code.value,
                "message": exc.code.message,
                "message_zh": exc.message_zh,
            },
        }
    return {
        "valid": True,
        "birth_date": parsed.birth_date.isoformat(),
        "sex": parsed.sex,
        "region_code": parsed.region_code,
        "error": None,
    }


def id_hash(id_number: IdNumber, key: bytes) -> str:
    """HMAC-SHA256 (hex) of the normalised number: what is stored instead of the number."""
    if not key:
        # Without a secret key the 10^10-ish space of plausible numbers is easy to enumerate.
        raise ValueError("id_hash needs a non-empty key")
    return hmac.new(key, id_number.number.encode("ascii"), hashlib.sha256).hexdigest()
