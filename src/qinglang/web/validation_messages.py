"""Pydantic validation errors turned into the `errors` list of a 422 problem.

Each entry: {"pointer": "#/items/0/text", "type": "missing", "detail": "缺少必填字段"}.
The pointer is a JSON Pointer into the request body (RFC 6901, as in RFC 9457's example);
the input value is never echoed, since it may be personal data or megabytes long.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

# Union tags (see schemas/detect.py) that appear in pydantic's `loc` but not in the body.
UNION_TAGS = frozenset({"plain", "object", "string", "integer"})

_MESSAGES: dict[str, str] = {
    "missing": "缺少必填字段",
    "string_type": "应为字符串",
    "bool_type": "应为布尔值（true 或 false）",
    "int_type": "应为整数",
    "list_type": "应为数组",
    "model_type": "应为 JSON 对象",
    "model_attributes_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
    "extra_forbidden": "不支持的字段",
    "too_short": "不能为空",
    "string_too_long": "过长",
    "string_too_short": "不能为空",
    "item_type": "应为字符串或包含 text 的对象",
    "id_type": "应为字符串或整数",
    "text_or_items": "须提供 text 或 items 之一",
    "text_and_items": "text 与 items 只能提供其一",
    "json_invalid": "不是合法的 JSON",
}


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def pointer(loc: Sequence[Any]) -> str:
    """JSON Pointer for a pydantic `loc`, without the leading "body" and union tags."""
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]
    kept = [str(p) for p in parts if not (isinstance(p, str) and p in UNION_TAGS)]
    return "#" + "".join("/" + _escape(p) for p in kept)


def message(error_type: str, ctx: dict[str, Any] | None = None) -> str:
    if error_type == "too_long" and ctx and "max_length" in ctx:
        return f"最多 {ctx['max_length']} 项"
    if error_type == "string_too_long" and ctx and "max_length" in ctx:
        return f"过长：最多 {ctx['max_length']} 个字符"
    return _MESSAGES.get(error_type, "取值无效")


def problem_errors(errors: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for err in errors:
        entry = {
            "pointer": pointer(err.get("loc", ())),
            "type": str(err.get("type", "value_error")),
            "detail": message(str(err.get("type", "")), err.get("ctx")),
        }
        key = (entry["pointer"], entry["type"])
        if key not in seen:
            seen.add(key)
            out.append(entry)
    return out
