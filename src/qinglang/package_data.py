"""Reading data files shipped inside the package (TOML tables, lexicons)."""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable


def data_path(package: str, *parts: str) -> Traversable:
    """The `data/...` entry of a package, e.g. data_path("qinglang.detect", "scenes.toml")."""
    node = resources.files(package).joinpath("data")
    for part in parts:
        node = node.joinpath(part)
    return node


def read_data(package: str, *parts: str) -> str:
    return data_path(package, *parts).read_text("utf-8")
