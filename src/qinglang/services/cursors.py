"""Opaque pagination cursors: a short text of the caller's making, base64url without padding.

Each list keeps its own text format (a regex with a prefix, so one list's cursor is refused by
another) and its own error; this module only packs and unpacks, refusing anything too long,
not ASCII, not base64 or not of the expected shape.
"""

from __future__ import annotations

import base64
import binascii
import re

from qinglang.services.errors import ServiceError


def encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii").rstrip("=")


def decode(
    cursor: object, pattern: re.Pattern[str], bad: ServiceError, max_len: int
) -> re.Match[str]:
    """The match of `pattern` on the cursor's text; `bad` is raised for anything else."""
    if not isinstance(cursor, str) or not cursor.isascii() or len(cursor) > max_len:
        raise bad
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise bad from None
    match = pattern.fullmatch(text)
    if match is None:
        raise bad
    return match
