"""Every setting and every CLI command and option is documented (datasette's habit)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

from qinglang.cli import app
from qinglang.settings import Settings, env_var

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _commands(command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


def test_the_tree_is_walked() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"serve", "scan", "taxonomy", "version", "lexicon", "lexicon check"} <= names


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_setting_is_documented(field: str) -> None:
    assert f"`{env_var(field)}`" in (DOCS / "settings.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("path", "command"),
    [pytest.param(p, c, id=" ".join(p)) for p, c in COMMANDS if p],
)
def test_command_and_options_are_documented(path: tuple[str, ...], command) -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert f"`qinglang {' '.join(path)}" in text, f"command `qinglang {' '.join(path)}`"
    for param in command.params:
        if getattr(param, "param_type_name", "") != "option":
            continue
        for opt in (*param.opts, *param.secondary_opts):
            if opt == "--help":
                continue
            assert f"`{opt}" in text, f"option {opt} of `qinglang {' '.join(path)}`"


def test_root_options_are_documented() -> None:
    root = COMMANDS[0][1]
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for param in root.params:
        for opt in param.opts:
            assert opt == "--help" or f"`{opt}" in text
