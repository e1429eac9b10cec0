"""`qinglang report summary | statistics | notice`: the regulators' documents as files.

Each command reads the database (QINGLANG_DATABASE_URL or --url) as a principal: the user
named by `--as`, or by default a synthetic national administrator that only reads (user id 0,
jurisdiction 100000: it sees every campaign and notice, and the commands write nothing but
the output file). Refusals print the reason and exit 1; usage errors (wrong suffix, an
unwritable path, an unknown user) exit 2 before anything is read.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from qinglang.cli.db import UrlOption, open_database

report_app = typer.Typer(
    help="Documents: campaign summary (.docx), statistics (.xlsx), rectification notice (.docx).",
    no_args_is_help=True,
)

AsOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Username whose view the document shows. [default: a national read-only admin]",
    ),
]
CLI_USER_ID = 0


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _check_out(out: Path, suffix: str) -> Path:
    """The output path, refused before any work when its suffix or directory is wrong."""
    if out.suffix.lower() != suffix:
        raise _fail(f"{out}: the output file must end in {suffix}（输出文件应以 {suffix} 结尾）", 2)
    parent = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise _fail(f"{out} is a directory（输出路径是一个目录）", 2)
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise _fail(f"cannot write to {parent}（无法写入该目录）", 2)
    return out


def _write(out: Path, content: bytes) -> None:
    """Write through a temporary file in the same directory, so no half file is left."""
    fd, tmp = tempfile.mkstemp(dir=out.parent if str(out.parent) else ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.replace(tmp, out)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _fail(f"cannot write {out}: {exc.strerror}（写入文件失败）", 2) from None


def cli_principal() -> Any:
    """The default principal: a national administrator, used here only to read."""
    from qinglang.govern.actors import Role
    from qinglang.services.principal import Principal

    return Principal(CLI_USER_ID, "cli", frozenset({Role.admin}), None, "100000")


def principal_for(session: Any, username: str | None) -> Any:
    """The named active user as a principal, or the default CLI principal."""
    from sqlalchemy import select

    from qinglang.services.users import principal_of
    from qinglang.store.models import User

    if username is None:
        return cli_principal()
    user = session.execute(
        select(User).where(User.username == username.strip().lower())
    ).scalar_one_or_none()
    if user is None or not user.active:
        raise _fail(f"no active user {username!r}（未找到该用户或账号已停用）", 2)
    return principal_of(user)


def _run(
    url: str | None, username: str | None, out: Path, make: Callable[[Any, Any, datetime], bytes]
) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from qinglang.services.errors import ServiceError

    db = open_database(url)
    try:
        with db.read() as session:
            principal = principal_for(session, username)
            content = make(session, principal, datetime.now(UTC))
    except ServiceError as exc:
        raise _fail(f"{exc}（{exc.message_zh}）", 1) from None
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc.__class__.__name__
        raise _fail(f"cannot read the database: {reason}（无法读取数据库）", 1) from None
    finally:
        db.dispose()
    _write(out, content)
    typer.echo(f"wrote {out} ({len(content):,} bytes)")


CampaignOption = Annotated[int, typer.Option("--campaign", help="Campaign id.", min=1)]


@report_app.command("summary")
def summary(
    campaign: CampaignOption,
    out: Annotated[Path, typer.Option("--out", help="Output file (.docx).")],
    as_user: AsOption = None,
    url: UrlOption = None,
) -> None:
    """Write the campaign summary (专项行动工作总结) as a Word document."""
    from qinglang.services.documents import summary_docx

    _check_out(out, ".docx")
    _run(
        url,
        as_user,
        out,
        lambda s, p, at: summary_docx.summary_for_campaign(s, p, campaign, at=at),
    )


@report_app.command("statistics")
def statistics(
    campaign: CampaignOption,
    out: Annotated[Path, typer.Option("--out", help="Output file (.xlsx).")],
    as_user: AsOption = None,
    url: UrlOption = None,
) -> None:
    """Write the campaign's statistics as an XLSX workbook."""
    from qinglang.services.documents import statistics_xlsx
    from qinglang.services.statistics import campaign_statistics

    _check_out(out, ".xlsx")
    _run(
        url,
        as_user,
        out,
        lambda s, p, at: statistics_xlsx.build(campaign_statistics(s, p, campaign, at=at)),
    )


@report_app.command("notice")
def notice(
    notice_id: Annotated[int, typer.Option("--notice", help="Notice id.", min=1)],
    out: Annotated[Path, typer.Option("--out", help="Output file (.docx).")],
    as_user: AsOption = None,
    url: UrlOption = None,
) -> None:
    """Write a rectification notice (责令整改通知书) as a Word document."""
    from qinglang.services.documents import notice_docx

    _check_out(out, ".docx")
    _run(url, as_user, out, lambda s, p, at: notice_docx.notice_for(s, p, notice_id, at=at))
