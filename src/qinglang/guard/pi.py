"""The NPPA `pi` (用户唯一标识): 38 characters of [0-9a-z] that name a real-name-verified person.

The first 6 characters are the birth date YYYYMMDD, read as a decimal integer and written in
base 26 with the digits "0123456789abcdefghijklmnop" (zero-padded); the other 32 are opaque.
So a platform learns the birth date (and hence the age) from a pi without the ID number:
"1fffbj..." is 19010101 → 1901-01-01.

`make_pi` builds Qinglang's own pi the same way, with the opaque part derived from a keyed
HMAC of the ID number, so the same person always gets the same pi under one key.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

from qinglang.guard.identity import IdNumber

PI_LENGTH = 38
BIRTH_LENGTH = 6
BIRTH_DIGITS = "0123456789abcdefghijklmnop"  # base 26
OPAQUE_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"  # base 36
_OPAQUE_LENGTH = PI_LENGTH - BIRTH_LENGTH


class InvalidPi(ValueError):
    """Not a well-formed pi. The message never quotes the value."""

    def __init__(self, message: str, message_zh: str = "用户唯一标识（pi）无效。") -> None:
        super().__init__(message)
        self.message_zh = message_zh


def _to_base(value: int, digits: str, width: int) -> str:
    base = len(digits)
    out: list[str] = []
    for _ in range(width):
        value, rem = divmod(value, base)
        out.append(digits[rem])
    if value:
        raise ValueError("value does not fit")
    return "".join(reversed(out))


def encode_birth(d: date) -> str:
    """The 6-character base-26 prefix of a pi for birth date `d`."""
    if d.year < 1000:  # YYYYMMDD must have 8 digits to decode unambiguously
        raise ValueError("birth year must have four digits")
    return _to_base(int(d.strftime("%Y%m%d")), BIRTH_DIGITS, BIRTH_LENGTH)


def birth_of_pi(pi: str) -> date:
    """The birth date a pi carries; raises `InvalidPi`."""
    if len(pi) != PI_LENGTH:
        raise InvalidPi(f"a pi has {PI_LENGTH} characters, not {len(pi)}")
    if any(c not in OPAQUE_DIGITS for c in pi):
        raise InvalidPi("a pi has only the characters 0-9 and a-z")
    prefix = pi[:BIRTH_LENGTH]
    if any(c not in BIRTH_DIGITS for c in prefix):
        raise InvalidPi("the first 6 characters of a pi are base-26 digits 0-9 and a-p")
    value = 0
    for c in prefix:
        value = value * 26 + BIRTH_DIGITS.index(c)
    text = str(value)
    if len(text) != 8:
        raise InvalidPi("the birth date in the pi is not an 8-digit YYYYMMDD")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise InvalidPi("the birth date in the pi is not a real date") from None


def is_pi(value: str) -> bool:
    """Whether `value` is a well-formed pi (length, alphabet and a real birth date)."""
    try:
        birth_of_pi(value)
    except InvalidPi:
        return False
    return True


def make_pi(id_number: IdNumber, key: bytes) -> str:
    """Qinglang's pi for a person: deterministic under `key`, and carrying the birth date."""
    if not key:
        raise ValueError("make_pi needs a non-empty key")
    digest = hmac.new(key, b"pi:" + id_number.number.encode("ascii"), hashlib.sha256).digest()
    # 256 bits reduced mod 36^32 (about 2^165): the bias is negligible.
    opaque = _to_base(int.from_bytes(digest, "big") % 36**_OPAQUE_LENGTH, OPAQUE_DIGITS, 32)
    return encode_birth(id_number.birth_date) + opaque
