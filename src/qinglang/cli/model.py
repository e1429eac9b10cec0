"""`qinglang model train` and `qinglang eval`: the abuse model and its evaluation harness."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

model_app = typer.Typer(help="Train the learned abuse model.", no_args_is_help=True)

DEFAULT_COLD = Path("../shared/data/cold")
DEFAULT_ARTIFACT = Path("src/qinglang/detect/data/model/abuse.npz")


def _cold_dir(cold: Path) -> Path:
    if not (cold / "train.csv").is_file():
        typer.echo(
            f"error: COLD dataset not found in {cold} (expected train.csv, dev.csv, test.csv); "
            "pass --cold DIR",
            err=True,
        )
        raise typer.Exit(2)
    return cold


@model_app.command("train")
def train(
    cold: Annotated[
        Path, typer.Option(help="Folder with COLD's train.csv, dev.csv and test.csv.")
    ] = DEFAULT_COLD,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same artifact).")] = 2020,
    out: Annotated[Path, typer.Option(help="Where to write the model artifact.")] = (
        DEFAULT_ARTIFACT
    ),
) -> None:
    """Train the abuse model on COLD train (+ dev for selection and calibration)."""
    from qinglang.detect.model.train import train as fit

    model = fit(_cold_dir(cold), seed=seed)
    path = model.save(out)
    typer.echo(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MB)")


def evaluate(
    file: Annotated[
        Path | None,
        typer.Option(help="Labelled JSONL file to evaluate instead of COLD's test split."),
    ] = None,
    label_field: Annotated[str, typer.Option(help="JSONL field with the 0/1 label.")] = "label",
    text_field: Annotated[str, typer.Option(help="JSONL field with the text.")] = "text",
    fine_field: Annotated[
        str | None, typer.Option(help="Optional JSONL field with a fine-grained label.")
    ] = None,
    topic_field: Annotated[
        str | None, typer.Option(help="Optional JSONL field with a topic, for per-topic F1.")
    ] = None,
    cold: Annotated[Path, typer.Option(help="COLD folder (when no --file).")] = DEFAULT_COLD,
    scene: Annotated[str, typer.Option(help="Scene the Detector checks in.")] = "general",
    model_path: Annotated[
        Path | None, typer.Option("--model", help="Model artifact (default: the shipped one).")
    ] = None,
    card: Annotated[
        Path | None,
        typer.Option(help="Model card to update (between its eval markers), e.g. docs/model.md."),
    ] = None,
    png: Annotated[
        Path | None, typer.Option(help="Where to draw the reliability curve (with --card).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the reports as JSON.")] = False,
) -> None:
    """Evaluate the rule path, the model and both on labelled data (COLD test by default)."""
    import json

    from qinglang.detect import UnknownSceneError
    from qinglang.detect.model.artifact import AbuseModel
    from qinglang.detect.model.harness import DataError, load_cold, load_jsonl, run, tables
    from qinglang.detect.model.harness import write_card as update_card

    try:
        if file is not None:
            data = load_jsonl(file, label_field, text_field, fine_field, topic_field)
        else:
            data = load_cold(_cold_dir(cold) / "test.csv")
        model = AbuseModel.load(model_path) if model_path else AbuseModel.load_default()
        evaluation = run(data, model, scene)
    except (DataError, UnknownSceneError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except FileNotFoundError as exc:
        typer.echo(f"error: model artifact not found: {exc.filename}", err=True)
        raise typer.Exit(2) from None
    if json_out:
        payload = {
            r.name: {**r.report.to_dict(), "messages_per_s": r.messages_per_s}
            for r in evaluation.results
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        typer.echo(tables(evaluation))
    if card is not None:
        update_card(evaluation, card, png)
        typer.echo(f"updated {card}", err=True)
