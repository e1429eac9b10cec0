"""Check-character algorithms for structured numbers (pure functions, no I/O).

Pattern detectors use them to tell a real resident ID or bank card number from an arbitrary
digit run (order numbers, timestamps, prices): a random run passes GB 11643 one time in 11 and
Luhn one time in 10, which together with the structural checks keeps false positives rare. The
guard package reuses them to validate identity documents at real-name registration.
"""

from __future__ import annotations

# GB 11643-1999 weights: W_i = 2^(17 - i) mod 11 for the 17 body positions (i = 0 is leftmost).
GB11643_WEIGHTS: tuple[int, ...] = tuple(pow(2, 17 - i, 11) for i in range(17))
# Check character indexed by (weighted sum mod 11); ISO 7064 MOD 11-2 writes the value 10 as X.
GB11643_CHECK_CHARS = "10X98765432"


def gb11643_check_char(body: str) -> str:
    """The check character ('0'-'9' or 'X') of an 18-character resident ID from its 17 digits.

    GB 11643-1999 uses ISO 7064 MOD 11-2: the 17 digits are weighted by 2^(17-i) mod 11 and the
    check character makes the weighted sum of all 18 positions ≡ 1 (mod 11).
    """
    if len(body) != 17 or not body.isascii() or not body.isdigit():
        raise ValueError("a resident ID body is exactly 17 ASCII digits")
    total = sum(int(ch) * w for ch, w in zip(body, GB11643_WEIGHTS, strict=True))
    return GB11643_CHECK_CHARS[total % 11]


def gb11643_valid(number: str) -> bool:
    """True when an 18-character resident ID's last character is its GB 11643 check character.

    Only the check character is verified here; region and birth date are the caller's business
    (see `qinglang.detect.patterns.resident_id.resident_id_birth_date`). A lower-case 'x' is
    accepted because people type it that way.
    """
    if len(number) != 18:
        return False
    body = number[:17]
    if not body.isascii() or not body.isdigit():
        return False
    return gb11643_check_char(body) == number[17].upper()


def luhn_check_digit(payload: str) -> str:
    """The Luhn (ISO/IEC 7812-1 mod 10) check digit to append to `payload` (ASCII digits).

    Payment card numbers end with this digit; it catches every single-digit error and most
    adjacent transpositions, which is why a random digit run passes only one time in ten.
    """
    if not payload or not payload.isascii() or not payload.isdigit():
        raise ValueError("a Luhn payload is one or more ASCII digits")
    # Positions are counted from the right of the final number, whose rightmost digit is the
    # check digit: so the payload's rightmost digit is doubled.
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    """True when `number` (ASCII digits, at least two) ends with its Luhn check digit."""
    if len(number) < 2 or not number.isascii() or not number.isdigit():
        return False
    return luhn_check_digit(number[:-1]) == number[-1]
