"""Command-line interface: `qinglang serve | scan | taxonomy | lexicon check | version`."""

from qinglang.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
