"""Reading HTML forms: bounded parsing, typed fields, and errors a person can act on.

`read_form` refuses oversized forms (too many fields or files) and checks the CSRF token of
state-changing forms. Field readers raise `FormError` naming the field, with a Chinese
message the page shows next to it; nothing a user typed is lost — pages re-render the form
with the submitted values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from urllib.parse import urlencode

from fastapi import Request
from starlette.datastructures import FormData, UploadFile

from qinglang.services.errors import ServiceError, not_found
from qinglang.web.ui.session import check_csrf

MAX_FIELDS = 300
MAX_FILES = 10
MAX_PART_BYTES = 1024 * 1024
FORM_ERROR = "form"  # the key of an error that belongs to no single field
ID_MAX = 2**31 - 1  # the largest row id (INTEGER columns)


class FormError(Exception):
    """A field of a submitted form is missing or wrong: `field` and a Chinese message."""

    def __init__(self, field: str, message_zh: str) -> None:
        super().__init__(f"{field}: {message_zh}")
        self.field = field
        self.message_zh = message_zh


async def read_form(request: Request, *, csrf: bool = True) -> FormData:
    """The submitted form; CsrfFailed when `csrf` and the token is not the session's."""
    form = await request.form(
        max_files=MAX_FILES, max_fields=MAX_FIELDS, max_part_size=MAX_PART_BYTES
    )
    if csrf:
        token = form.get("csrf")
        check_csrf(request, token if isinstance(token, str) else None)
    return form


def text(
    form: FormData, name: str, label: str, *, max_len: int = 200, required: bool = False
) -> str | None:
    """A trimmed text field; None when empty and not required."""
    raw = form.get(name)
    value = raw.strip() if isinstance(raw, str) else ""
    if not value:
        if required:
            raise FormError(name, f"请填写{label}。")
        return None
    if len(value) > max_len:
        raise FormError(name, f"{label}不能超过{max_len}个字符（现有{len(value)}个）。")
    return value


def integer(
    form: FormData,
    name: str,
    label: str,
    *,
    lo: int = 0,
    hi: int = ID_MAX,
    required: bool = False,
) -> int | None:
    raw = text(form, name, label, max_len=20, required=required)
    if raw is None:
        return None
    try:
        value = int(raw.replace(",", "").replace("，", ""))
    except ValueError:
        raise FormError(name, f"{label}应为整数。") from None
    if not lo <= value <= hi:
        raise FormError(name, f"{label}应在{lo}至{hi}之间。")
    return value


def day(form: FormData, name: str, label: str, *, required: bool = False) -> date | None:
    raw = text(form, name, label, max_len=10, required=required)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FormError(name, f"{label}应为日期，格式如 2026-12-31。") from None


def choices(
    form: FormData, name: str, allowed: dict[str, str] | list[str], label: str
) -> list[str]:
    """The ticked values of a multi-choice field, each one of `allowed`."""
    values = [v for v in form.getlist(name) if isinstance(v, str) and v]
    stray = [v for v in values if v not in allowed]
    if stray:
        raise FormError(name, f"{label}中有无效的选项：{'、'.join(s[:20] for s in stray[:3])}。")
    return list(dict.fromkeys(values))


def choice(
    form: FormData,
    name: str,
    allowed: dict[str, str] | list[str],
    label: str,
    *,
    required: bool = False,
) -> str | None:
    value = text(form, name, label, max_len=64, required=required)
    if value is not None and value not in allowed:
        raise FormError(name, f"请从列表中选择{label}。")
    return value


def files(form: FormData, name: str) -> list[UploadFile]:
    return [f for f in form.getlist(name) if isinstance(f, UploadFile) and f.filename]


def values(form: FormData) -> dict[str, str]:
    """The submitted text values (first of each name), to refill a form after an error."""
    out: dict[str, str] = {}
    for key, value in form.multi_items():
        if isinstance(value, str) and key not in out and key != "csrf":
            out[key] = value
    return out


def field_errors(exc: ServiceError, codes: Mapping[str, str] | None = None) -> dict[str, str]:
    """{field: Chinese message} from a refusal: its per-field `errors` (JSON pointers), else
    the field `codes` names for its code, else one error for the whole form."""
    out: dict[str, str] = {}
    for entry in exc.extra.get("errors") or []:
        pointer = str(entry.get("pointer") or "")
        name = pointer[2:].split("/", 1)[0] if pointer.startswith("#/") else ""
        if name:
            out.setdefault(name, str(entry.get("detail") or exc.message_zh))
    if not out:
        out[(codes or {}).get(exc.code, FORM_ERROR)] = exc.message_zh
    return out


def query_string(params: Mapping[str, str | None]) -> str:
    """A URL query of the non-empty parameters (filters carried to the next page)."""
    return urlencode({k: v for k, v in params.items() if v})


def known_id(value: int, what: str, what_zh: str) -> int:
    """`value` when it can be a row id; otherwise 404, as for a record that does not exist."""
    if not 1 <= value <= ID_MAX:
        raise not_found(what, what_zh, value)
    return value
