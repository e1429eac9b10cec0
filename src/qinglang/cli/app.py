"""The `qinglang` command: the Typer app and its commands."""

from __future__ import annotations

import typer

from qinglang import __version__
from qinglang.cli.audit import audit_app
from qinglang.cli.campaign import campaign_app
from qinglang.cli.db import db_app
from qinglang.cli.demo import demo
from qinglang.cli.guard import guard_app
from qinglang.cli.identity import id_app
from qinglang.cli.lexicon import lexicon_app
from qinglang.cli.model import evaluate, model_app
from qinglang.cli.nppa import nppa_app
from qinglang.cli.report import report_app
from qinglang.cli.scan import scan
from qinglang.cli.serve import serve
from qinglang.cli.stats import stats_app
from qinglang.cli.taxonomy import taxonomy
from qinglang.cli.user import token_app, user_app

app = typer.Typer(
    name="qinglang",
    help="Qinglang 清朗: protecting minors online — content safety checks and the API server.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

app.command("serve")(serve)
app.command("taxonomy")(taxonomy)
app.command("scan")(scan)
app.add_typer(lexicon_app, name="lexicon")
app.add_typer(model_app, name="model")
app.command("eval")(evaluate)
app.add_typer(db_app, name="db")
app.command("demo")(demo)
app.add_typer(report_app, name="report")
app.add_typer(campaign_app, name="campaign")
app.add_typer(stats_app, name="stats")
app.add_typer(audit_app, name="audit")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(nppa_app, name="nppa")
app.add_typer(id_app, name="id")
app.add_typer(guard_app, name="guard")


@app.command("version")
def version() -> None:
    """Print the version."""
    typer.echo(f"qinglang {__version__}")
