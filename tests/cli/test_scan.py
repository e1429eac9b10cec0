"""`qinglang scan`: formats, stdin, bad lines, workers, summary and exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from itertools import islice
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qinglang.cli import app
from qinglang.cli.scan_input import InputError, Item, ReadOptions, read_items

HARMFUL = "你就是个傻逼"
BENIGN = "今天天气很好"

runner = CliRunner()


def run(*args: str, input: bytes | str | None = None):
    return runner.invoke(app, ["scan", *args], input=input)


def lines_of(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def run_subprocess(*args: str, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-c", "from qinglang.cli import main; main()", "scan", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    path = tmp_path / "comments.txt"
    path.write_text(f"{BENIGN}\n{HARMFUL}\n\n{BENIGN}\n", encoding="utf-8")
    return path


# -- plain text ------------------------------------------------------------------------------


def test_plain_text_one_item_per_line(plain: Path) -> None:
    result = run(str(plain), "--quiet")
    assert result.exit_code == 0, result.output
    rows = lines_of(result.stdout)
    assert [r["id"] for r in rows] == [1, 2, 4]  # line numbers; the blank line is skipped
    assert list(rows[0]) == ["id", "verdict", "categories", "hits"]
    assert rows[0]["verdict"] == "pass"
    assert rows[1]["verdict"] != "pass"
    assert "abuse" in [c["code"] for c in rows[1]["categories"]]


def test_output_is_utf8_not_ascii_escaped(plain: Path) -> None:
    result = run(str(plain), "--quiet")
    assert "傻逼" in result.stdout


def test_crlf_and_bom_are_handled(tmp_path: Path) -> None:
    path = tmp_path / "windows.txt"
    path.write_bytes(b"\xef\xbb\xbf" + f"{HARMFUL}\r\n{BENIGN}\r\n".encode())
    rows = lines_of(run(str(path), "-q").stdout)
    assert [r["id"] for r in rows] == [1, 2]
    hit = rows[0]["hits"][0]
    assert HARMFUL[hit["start"] : hit["end"]] == hit["match"]


def test_explain_and_scene(plain: Path) -> None:
    rows = lines_of(run(str(plain), "-q", "--explain", "--scene", "children").stdout)
    assert rows[1]["scene"] == "children"
    assert "weight" in rows[1]["hits"][0]


def test_multiple_files_name_the_file(plain: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.txt"
    other.write_text(HARMFUL + "\n", encoding="utf-8")
    rows = lines_of(run(str(plain), str(other), "-q").stdout)
    assert [(r["file"], r["id"]) for r in rows] == [
        (str(plain), 1),
        (str(plain), 2),
        (str(plain), 4),
        (str(other), 1),
    ]


# -- JSONL -----------------------------------------------------------------------------------


def test_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    records = [{"id": "a", "text": BENIGN}, {"id": 7, "text": HARMFUL}, {"text": BENIGN}]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n")
    rows = lines_of(run("--jsonl", str(path), "-q").stdout)
    assert [r["id"] for r in rows] == ["a", 7, 3]
    assert rows[1]["verdict"] != "pass"


def test_jsonl_renamed_fields(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        json.dumps({"comment_id": "c-1", "body": HARMFUL, "text": "ignored"}) + "\n",
        encoding="utf-8",
    )
    result = run("--jsonl", "--text-field", "body", "--id-field", "comment_id", str(path), "-q")
    rows = lines_of(result.stdout)
    assert rows[0]["id"] == "c-1"
    assert rows[0]["verdict"] != "pass"


def test_field_options_need_jsonl(plain: Path) -> None:
    result = run("--text-field", "body", str(plain))
    assert result.exit_code == 2
    assert "--jsonl" in result.stderr


def test_jsonl_lone_surrogate_escape_still_gives_valid_json(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": 1, "text": "傻\\udfff逼 \\ud800"}\n', encoding="utf-8")
    result = run("--jsonl", str(path), "-q")
    assert result.exit_code == 0
    rows = lines_of(result.stdout)
    assert rows[0]["verdict"] in {"pass", "review", "block"}


# -- stdin -----------------------------------------------------------------------------------


def test_stdin_when_no_path() -> None:
    result = run("-q", input=f"{HARMFUL}\n{BENIGN}\n".encode())
    rows = lines_of(result.stdout)
    assert [r["id"] for r in rows] == [1, 2]
    assert rows[0]["verdict"] != "pass"


def test_stdin_dash_in_subprocess() -> None:
    proc = run_subprocess("-", "--jsonl", stdin=json.dumps({"id": "x", "text": HARMFUL}).encode())
    assert proc.returncode == 0, proc.stderr.decode()
    rows = lines_of(proc.stdout.decode("utf-8"))
    assert rows[0]["id"] == "x"
    assert rows[0]["verdict"] != "pass"
    assert b"Verdicts" in proc.stderr  # the summary goes to stderr, not stdout
    assert b"Verdicts" not in proc.stdout


def test_stdin_invalid_utf8_in_subprocess() -> None:
    data = f"{BENIGN}\n".encode() + b"\xff\xfe\xfd\n" + f"{HARMFUL}\n".encode()
    proc = run_subprocess(stdin=data)
    assert proc.returncode == 0
    assert [r["id"] for r in lines_of(proc.stdout.decode())] == [1, 3]
    assert "<stdin>:2: invalid UTF-8" in proc.stderr.decode()


# -- bad lines -------------------------------------------------------------------------------


@pytest.fixture
def bad_utf8(tmp_path: Path) -> Path:
    path = tmp_path / "mixed.txt"
    path.write_bytes(
        f"{BENIGN}\n".encode() + b"ok \xe4\xbd then broken\n" + f"{HARMFUL}\n".encode()
    )
    return path


def test_invalid_utf8_skip_warns_with_file_and_line(bad_utf8: Path) -> None:
    result = run(str(bad_utf8), "-q")
    assert result.exit_code == 0
    assert [r["id"] for r in lines_of(result.stdout)] == [1, 3]
    assert f"{bad_utf8}:2: invalid UTF-8" in result.stderr
    assert "warning" in result.stderr


def test_invalid_utf8_fail_exits_2(bad_utf8: Path) -> None:
    result = run(str(bad_utf8), "-q", "--on-error", "fail")
    assert result.exit_code == 2
    assert f"{bad_utf8}:2: invalid UTF-8" in result.stderr
    assert [r["id"] for r in lines_of(result.stdout)] == [1]  # items before the bad line


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "invalid JSON"),
        ('["a list"]', "expected a JSON object"),
        ('{"id": 1}', "missing text field 'text'"),
        ('{"text": 5}', "field 'text' is not a string"),
        ("[" * 100_000, "invalid JSON"),
    ],
)
def test_bad_jsonl_lines(tmp_path: Path, line: str, reason: str) -> None:
    path = tmp_path / "in.jsonl"
    good = json.dumps({"id": "g", "text": BENIGN})
    path.write_text(f"{good}\n{line}\n{good}\n", encoding="utf-8")
    skipped = run("--jsonl", str(path), "-q")
    assert skipped.exit_code == 0
    assert len(lines_of(skipped.stdout)) == 2
    assert f"{path}:2: {reason}" in skipped.stderr
    failed = run("--jsonl", str(path), "-q", "--on-error", "fail")
    assert failed.exit_code == 2
    assert f"{path}:2: {reason}" in failed.stderr


def test_over_long_line_is_a_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text(f"{BENIGN}\n{'长' * 1000}\n{HARMFUL}\n", encoding="utf-8")
    result = run(str(path), "-q", "--max-line-bytes", "100")
    assert [r["id"] for r in lines_of(result.stdout)] == [1, 3]
    assert f"{path}:2: line longer than 100 bytes" in result.stderr


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = run(str(tmp_path / "nope.txt"))
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_unknown_scene_exits_2(plain: Path) -> None:
    result = run(str(plain), "--scene", "nope")
    assert result.exit_code == 2
    assert "unknown scene" in result.stderr


# -- workers, summary, exit codes ----------------------------------------------------------


@pytest.mark.slow
def test_workers_keep_output_identical(tmp_path: Path) -> None:
    path = tmp_path / "many.txt"
    texts = [HARMFUL if i % 7 == 0 else f"{BENIGN} {i}" for i in range(700)]  # > 2 chunks
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    one = run(str(path), "-q", "--workers", "1")
    two = run(str(path), "-q", "--workers", "2")
    assert one.exit_code == two.exit_code == 0
    assert one.stdout == two.stdout
    assert len(lines_of(one.stdout)) == 700


def test_summary_goes_to_stderr(plain: Path) -> None:
    result = run(str(plain))
    assert result.exit_code == 0
    assert "Verdicts" in result.stderr
    assert "abuse" in result.stderr
    assert "Verdicts" not in result.stdout
    lines_of(result.stdout)  # stdout stays pure JSON Lines


def test_quiet_suppresses_summary(plain: Path) -> None:
    assert run(str(plain), "--quiet").stderr == ""


def test_no_progress_bar_when_stderr_is_not_a_terminal(plain: Path) -> None:
    assert "scanning" not in run(str(plain)).stderr


def test_fail_on(tmp_path: Path, plain: Path) -> None:
    clean = tmp_path / "clean.txt"
    clean.write_text(BENIGN + "\n", encoding="utf-8")
    assert run(str(clean), "-q", "--fail-on", "review").exit_code == 0
    assert run(str(plain), "-q", "--fail-on", "review").exit_code == 1
    assert run(str(plain), "-q").exit_code == 0


# -- streaming -------------------------------------------------------------------------------


class EndlessLines(io.RawIOBase):
    """An unbounded input that counts how much of it was read."""

    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        line = f"{BENIGN}\n".encode()
        n = min(len(buffer), len(line))
        buffer[:n] = line[:n]
        self.served += n
        return n


def test_reading_is_streamed(monkeypatch: pytest.MonkeyPatch) -> None:
    source = EndlessLines()
    stream = io.BufferedReader(source, buffer_size=4096)
    monkeypatch.setattr("qinglang.cli.scan_input.open_input", lambda path: (path, stream, False))
    items = list(islice(read_items(["endless"], ReadOptions()), 10))
    assert all(isinstance(i, Item) for i in items)
    assert [i.line for i in items] == list(range(1, 11))
    assert source.served < 64 * 1024


def test_read_items_reports_errors_in_place(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_bytes(b"a\n\xff\nb\n")
    entries = list(read_items([str(path)], ReadOptions()))
    assert [type(e) for e in entries] == [Item, InputError, Item]
    assert str(entries[1]) == f"{path}:2: invalid UTF-8 at byte 1"
