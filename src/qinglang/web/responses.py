"""JSON responses that never fail to encode.

Texts may legally carry lone surrogates ("\\ud800" in the request JSON); they come back in
`match` fields, and UTF-8 cannot encode them. Such a body falls back to ASCII-escaped JSON,
which is still valid JSON and round-trips the same string.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi.responses import JSONResponse


def dumps_json(content: Any) -> bytes:
    """Compact UTF-8 JSON; `\\uXXXX` escapes only when the text holds a lone surrogate."""
    text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(
            content, ensure_ascii=True, allow_nan=False, separators=(",", ":")
        ).encode("ascii")


class SafeJSONResponse(JSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps_json(content)


class ProblemJSONResponse(SafeJSONResponse):
    """RFC 9457 problem details."""

    media_type = "application/problem+json"


def content_disposition(name: str, fallback: str | None = None, default: str = "download") -> str:
    """`attachment` with an ASCII fallback name and the UTF-8 name (RFC 6266 / RFC 5987).

    The fallback is `fallback`, or `name` with every non-ASCII, unprintable, quote or
    backslash character replaced by "_" (`default` when nothing is left)."""
    if fallback is None:
        fallback = "".join(ch if ch.isascii() and ch.isprintable() else "_" for ch in name)
        fallback = fallback.replace('"', "_").replace("\\", "_") or default
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
