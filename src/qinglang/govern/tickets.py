"""Public ticket numbers (受理编号) of intake items: unguessable, typable, self-checking.

A ticket is the only thing a reporter holds to follow a report, and the only key of the public
status page, so it must be impossible to guess and easy to read out over the phone:

    QL-7Q2M-H9XR-4KTE-B3WN-YC6P-8DJQ
    ^^ prefix, then 6 groups of 4 characters: 23 random characters and 1 check character

- Alphabet: the 31 characters `23456789ABCDEFGHJKMNPQRSTUVWXYZ` (digits and capitals without
  0, 1, I, L and O, which people confuse). 23 random characters from `secrets` carry
  23 x log2(31) = 113.9 bits, so guessing one live ticket among a billion takes about 2**84
  tries.
- Check character: the 24 characters read as numbers v1..v24 (their index in the alphabet)
  satisfy sum(i * vi) = 0 (mod 31). 31 is prime and the weights 1..24 are distinct and
  non-zero modulo 31, so every single mistyped character and every swap of two different
  characters (adjacent or not) is detected; a random string passes with probability 1/31.
  A mistyped or forged ticket is therefore refused as malformed before any lookup.
- Parsing is forgiving about form and strict about content: lower case, spaces, hyphens and
  dashes of any kind, full-width characters (NFKC) and a missing `QL` prefix are accepted;
  any other character is not (there is no silent O→0 repair: 0 and O are both invalid).

Pure: no I/O; randomness comes from `secrets` unless a caller passes its own source (tests).
"""

from __future__ import annotations

import math
import re
import secrets
import unicodedata
from collections.abc import Callable

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
BASE = len(ALPHABET)  # 31, a prime
PREFIX = "QL"
RANDOM_CHARS = 23
LENGTH = RANDOM_CHARS + 1  # with the check character
GROUP = 4
BITS = RANDOM_CHARS * math.log2(BASE)
MAX_INPUT = 120  # longer input is refused without looking at it

_INDEX = {ch: i for i, ch in enumerate(ALPHABET)}
# Separators people type or paste between groups; removed before checking.
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−﹣－_·.]+")
FORMAT_EXAMPLE = "QL-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX"
_CANONICAL = re.compile(rf"{PREFIX}(?:-[{ALPHABET}]{{{GROUP}}}){{{LENGTH // GROUP}}}")

assert BASE == 31 and LENGTH < BASE, "the check needs a prime base larger than the length"
assert not set("01ILO") & set(ALPHABET)
assert "L" not in ALPHABET, "the prefix QL must not be readable as ticket characters"


class TicketError(ValueError):
    """Not a well-formed ticket; `reason` is stable, `message_zh` is for the reporter."""

    def __init__(self, reason: str, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message_zh = message_zh


def _weighted_sum(values: list[int]) -> int:
    return sum((i + 1) * v for i, v in enumerate(values)) % BASE


def check_character(body: str) -> str:
    """The check character completing the 23 characters of `body`."""
    if len(body) != RANDOM_CHARS or any(ch not in _INDEX for ch in body):
        raise ValueError(f"body must be {RANDOM_CHARS} characters of the ticket alphabet")
    partial = _weighted_sum([_INDEX[ch] for ch in body])
    # Solve partial + LENGTH * c = 0 (mod BASE) for c.
    check = (-partial * pow(LENGTH, -1, BASE)) % BASE
    return ALPHABET[check]


def is_consistent(chars: str) -> bool:
    """True when 24 alphabet characters satisfy the check equation."""
    if len(chars) != LENGTH or any(ch not in _INDEX for ch in chars):
        return False
    return _weighted_sum([_INDEX[ch] for ch in chars]) == 0


def format_ticket(chars: str) -> str:
    """The canonical spelling of 24 ticket characters: prefix and groups of four."""
    groups = [chars[i : i + GROUP] for i in range(0, len(chars), GROUP)]
    return "-".join([PREFIX, *groups])


_SPACE = BASE**RANDOM_CHARS  # every possible body, as one number


def new_ticket(choice: Callable[[str], str] | None = None) -> str:
    """A fresh ticket; `choice` picks one character of a string (default: from `secrets`).

    By default one uniform number below 31**23 from `secrets.randbelow`, written in base 31:
    its digits are 23 independent uniform characters, the same distribution as 23 calls of
    `secrets.choice`, for one read of the system's randomness instead of 23.
    """
    if choice is None:
        n = secrets.randbelow(_SPACE)
        digits = []
        for _ in range(RANDOM_CHARS):
            n, d = divmod(n, BASE)
            digits.append(ALPHABET[d])
        body = "".join(digits)
    else:
        body = "".join(choice(ALPHABET) for _ in range(RANDOM_CHARS))
    return format_ticket(body + check_character(body))


def parse_ticket(text: object) -> str:
    """The canonical form of a typed ticket, or `TicketError` (never a partial answer)."""
    if not isinstance(text, str):
        raise TicketError("type", "ticket must be a string", "受理编号格式不正确。")
    if len(text) > MAX_INPUT:
        raise TicketError(
            "length", "ticket too long", f"受理编号格式不正确，应形如 {FORMAT_EXAMPLE}。"
        )
    compact = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()
    if compact.startswith(PREFIX) and len(compact) == len(PREFIX) + LENGTH:
        compact = compact[len(PREFIX) :]
    if not compact:
        raise TicketError("empty", "empty ticket", "请填写受理编号。")
    if len(compact) != LENGTH:
        raise TicketError(
            "length",
            f"ticket must have {LENGTH} characters after the prefix, got {len(compact)}",
            f"受理编号应为 {LENGTH} 位字符（不含开头的 {PREFIX}），形如 {FORMAT_EXAMPLE}，"
            f"请核对是否有遗漏或多余。",
        )
    bad = sorted({ch for ch in compact if ch not in _INDEX})
    if bad:
        raise TicketError(
            "charset",
            "ticket contains characters outside its alphabet",
            "受理编号只包含数字 2-9 和除 I、L、O 以外的大写字母，不含数字 0 和 1，请核对。",
        )
    if not is_consistent(compact):
        raise TicketError(
            "check",
            "ticket check character does not match",
            "受理编号校验不通过，可能有字符抄录错误，请核对后重试。",
        )
    return format_ticket(compact)


def is_canonical(ticket: str) -> bool:
    """True for a ticket in canonical spelling whose check character is right."""
    return bool(_CANONICAL.fullmatch(ticket)) and is_consistent(
        ticket[len(PREFIX) :].replace("-", "")
    )
