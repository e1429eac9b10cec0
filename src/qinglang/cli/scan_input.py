"""Streaming readers for `qinglang scan`: plain text (one item a line) and JSON Lines.

Input is read as bytes and decoded line by line, so one line of bad UTF-8 or bad JSON costs
that line only. Memory is bounded by the longest line allowed (`max_line_bytes`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO

STDIN_NAME = "<stdin>"
_BOM = b"\xef\xbb\xbf"
# readline() granularity while skipping the rest of an over-long line.
_DRAIN_BYTES = 1 << 20


class InputFormat(StrEnum):
    PLAIN = "plain"
    JSONL = "jsonl"


@dataclass(frozen=True, slots=True)
class Item:
    file: str
    line: int
    id: Any
    text: str


@dataclass(frozen=True, slots=True)
class InputError:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class ReadOptions:
    fmt: InputFormat = InputFormat.PLAIN
    text_field: str = "text"
    id_field: str = "id"
    max_line_bytes: int = 64 * 1024 * 1024


def iter_raw_lines(
    stream: BinaryIO, max_line_bytes: int
) -> Iterator[tuple[int, bytes | None, int]]:
    """(line number, line bytes without the newline or None when too long, bytes consumed)."""
    lineno = 0
    while True:
        raw = stream.readline(max_line_bytes + 1)
        if not raw:
            return
        lineno += 1
        consumed = len(raw)
        if len(raw) > max_line_bytes and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = stream.readline(_DRAIN_BYTES)
                consumed += len(raw)
            yield lineno, None, consumed
            continue
        if raw.endswith(b"\n"):
            raw = raw[:-1]
            if raw.endswith(b"\r"):
                raw = raw[:-1]
        if lineno == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM) :]
        yield lineno, raw, consumed


def parse_line(
    name: str, lineno: int, raw: bytes, options: ReadOptions
) -> Item | InputError | None:
    """One item from one line; None for a blank line (skipped, not an error)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return InputError(name, lineno, f"invalid UTF-8 at byte {exc.start + 1}")
    if options.fmt is InputFormat.PLAIN:
        if not text.strip():
            return None
        return Item(name, lineno, lineno, text)
    if not text.strip():
        return None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        return InputError(name, lineno, f"invalid JSON: {exc.msg} (column {exc.colno})")
    except (ValueError, RecursionError) as exc:
        return InputError(name, lineno, f"invalid JSON: {type(exc).__name__}")
    if not isinstance(record, dict):
        return InputError(name, lineno, "expected a JSON object")
    if options.text_field not in record:
        return InputError(name, lineno, f"missing text field {options.text_field!r}")
    value = record[options.text_field]
    if not isinstance(value, str):
        return InputError(name, lineno, f"field {options.text_field!r} is not a string")
    item_id = record.get(options.id_field, lineno)
    return Item(name, lineno, item_id, value)


def open_input(path: str) -> tuple[str, BinaryIO, bool]:
    """(display name, binary stream, whether we must close it)."""
    if path == "-":
        return STDIN_NAME, sys.stdin.buffer, False
    return path, Path(path).open("rb"), True


def check_inputs(paths: list[str]) -> str | None:
    """An error message when a named input cannot be read, before any work starts."""
    for path in paths:
        if path == "-":
            continue
        p = Path(path)
        if not p.exists():
            return f"{path}: no such file"
        if p.is_dir():
            return f"{path}: is a directory"
    return None


def input_size(paths: list[str]) -> int | None:
    """Total bytes of the inputs, or None when one is stdin or not a regular file."""
    total = 0
    for path in paths:
        if path == "-":
            return None
        p = Path(path)
        if not p.is_file():
            return None
        total += p.stat().st_size
    return total


def read_items(
    paths: list[str],
    options: ReadOptions,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[Item | InputError]:
    """Items and per-line errors of all inputs, in order."""
    for path in paths:
        name, stream, owned = open_input(path)
        try:
            for lineno, raw, consumed in iter_raw_lines(stream, options.max_line_bytes):
                if on_bytes is not None:
                    on_bytes(consumed)
                if raw is None:
                    yield InputError(
                        name, lineno, f"line longer than {options.max_line_bytes} bytes"
                    )
                    continue
                parsed = parse_line(name, lineno, raw, options)
                if parsed is not None:
                    yield parsed
        finally:
            if owned:
                stream.close()
