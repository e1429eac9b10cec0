"""`qinglang scan`: check texts from files or stdin, one JSON verdict per item on stdout."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from qinglang.cli.scan_input import (
    InputError,
    InputFormat,
    ReadOptions,
    check_inputs,
    input_size,
    read_items,
)
from qinglang.cli.scan_summary import ScanSummary
from qinglang.cli.scan_workers import check_chunks

# A chunk (the unit sent to a worker) closes at this many items or characters.
CHUNK_ITEMS = 256
CHUNK_CHARS = 1_000_000
LEVELS = {"pass": 0, "review": 1, "block": 2}

EXIT_FOUND = 1
EXIT_ERROR = 2


class OnError(StrEnum):
    SKIP = "skip"
    FAIL = "fail"


class FailOn(StrEnum):
    REVIEW = "review"
    BLOCK = "block"


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


def _write_json_line(obj: dict[str, Any]) -> None:
    text = json.dumps(obj, ensure_ascii=False)
    try:
        data = (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (from a "\ud800" escape in JSONL input) cannot be UTF-8.
        data = (json.dumps(obj, ensure_ascii=True) + "\n").encode("ascii")
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:
        buffer.write(data)
    else:
        sys.stdout.write(data.decode("utf-8"))


def _fail(message: str) -> typer.Exit:
    _stderr().print(f"error: {message}", markup=False, soft_wrap=True)
    return typer.Exit(EXIT_ERROR)


def scan(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Files to scan. No path, or '-', reads stdin.",
            show_default=False,
            metavar="[PATH]...",
        ),
    ] = None,
    jsonl: Annotated[
        bool,
        typer.Option("--jsonl", help="Input is JSON Lines: one object per line with id and text."),
    ] = False,
    text_field: Annotated[
        str, typer.Option("--text-field", help="JSONL field holding the text.")
    ] = "text",
    id_field: Annotated[
        str,
        typer.Option("--id-field", help="JSONL field holding the id (default: line number)."),
    ] = "id",
    scene: Annotated[
        str,
        typer.Option("--scene", help="Scene: general, children, learning or live_chat."),
    ] = "general",
    workers: Annotated[
        int,
        typer.Option("--workers", min=1, help="Processes to check with; output order is kept."),
    ] = 1,
    explain: Annotated[
        bool, typer.Option("--explain", help="Add hit weights, notes and the scene.")
    ] = False,
    on_error: Annotated[
        OnError,
        typer.Option(
            "--on-error",
            help="Bad line (invalid UTF-8 or JSON, missing text): warn and skip it, or stop "
            "with exit code 2.",
        ),
    ] = OnError.SKIP,
    fail_on: Annotated[
        FailOn | None,
        typer.Option(
            "--fail-on", help="Exit 1 when any item reaches this verdict.", show_default=False
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar and no summary table.")
    ] = False,
    max_line_bytes: Annotated[
        int,
        typer.Option("--max-line-bytes", min=1, help="Longer lines are bad lines (bounds memory)."),
    ] = 64 * 1024 * 1024,
) -> None:
    """Check texts and write one JSON verdict per item to stdout.

    Plain text: one item per line, id = line number. Blank lines are skipped.
    """
    from qinglang.detect import Detector, LexiconError, UnknownSceneError

    sources = list(paths) if paths else ["-"]
    if not jsonl and (text_field != "text" or id_field != "id"):
        raise _fail("--text-field and --id-field apply to --jsonl input only")
    problem = check_inputs(sources)
    if problem:
        raise _fail(problem)
    try:
        detector = Detector.default()
        detector.scene(scene)
    except LexiconError as exc:
        raise _fail(f"cannot load lexicons: {exc}") from None
    except UnknownSceneError as exc:
        raise _fail(f"unknown scene {exc.scene!r}; choose from {', '.join(exc.known)}") from None

    options = ReadOptions(
        fmt=InputFormat.JSONL if jsonl else InputFormat.PLAIN,
        text_field=text_field,
        id_field=id_field,
        max_line_bytes=max_line_bytes,
    )
    console = _stderr()
    show_progress = console.is_terminal and not quiet
    progress = Progress(
        TextColumn("scanning"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not show_progress,
    )
    task = progress.add_task("scan", total=input_size(sources))
    summary = ScanSummary()
    multi = len(sources) > 1
    aborted: list[InputError] = []
    worst = 0

    def on_bytes(n: int) -> None:
        progress.advance(task, n)

    def chunks() -> Iterator[tuple[list[tuple[str, Any]], list[str]]]:
        tags: list[tuple[str, Any]] = []
        texts: list[str] = []
        chars = 0
        for entry in read_items(sources, options, on_bytes if show_progress else None):
            if isinstance(entry, InputError):
                summary.skipped += 1
                if on_error is OnError.FAIL:
                    aborted.append(entry)
                    break
                console.print(f"warning: {entry}; line skipped", markup=False, soft_wrap=True)
                continue
            tags.append((entry.file, entry.id))
            texts.append(entry.text)
            chars += len(entry.text)
            if len(texts) >= CHUNK_ITEMS or chars >= CHUNK_CHARS:
                yield tags, texts
                tags, texts, chars = [], [], 0
        if texts:
            yield tags, texts

    try:
        with progress:
            for tags, verdicts in check_chunks(
                detector, chunks(), scene=scene, explain=explain, workers=workers
            ):
                for (file, item_id), verdict in zip(tags, verdicts, strict=True):
                    out: dict[str, Any] = {"file": file} if multi else {}
                    out["id"] = item_id
                    out.update(verdict)
                    _write_json_line(out)
                    summary.add(verdict)
                    worst = max(worst, LEVELS.get(verdict["verdict"], 0))
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from complaining
        # when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(EXIT_FOUND) from None
    except OSError as exc:
        raise _fail(f"cannot read input: {exc}") from None

    if aborted:
        raise _fail(str(aborted[0]))
    if not quiet:
        summary.render(console)
    if fail_on is not None and worst >= LEVELS[fail_on.value]:
        raise typer.Exit(EXIT_FOUND)
