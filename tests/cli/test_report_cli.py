"""`qinglang report summary | statistics | notice` through Typer's runner, on a SQLite file
made through the services; bad input answers a message and exit 1 or 2, never a traceback."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import docx
import openpyxl
import pytest
from typer.testing import CliRunner

from qinglang.cli.report import report_app
from qinglang.govern.actors import Role
from qinglang.govern.campaigns import instantiate
from qinglang.services import cases
from qinglang.services.campaigns import create_campaign
from qinglang.services.principal import Principal
from qinglang.services.users import create_organisation, create_user
from qinglang.store.models import Subject

runner = CliRunner()
T0 = datetime(2020, 9, 1, 2, 0, tzinfo=UTC)


def P(uid: int, role: str, department: str, jurisdiction: str = "310000") -> Principal:
    return Principal(uid, f"u{uid}", frozenset({Role(role)}), department, jurisdiction)


@pytest.fixture
def db_url(sqlite_database) -> str:
    """A campaign with one case that got a notice, and a Henan user who sees neither."""
    db = sqlite_database
    officer, analyst, leader = (P(1, "officer", "police"), P(2, "analyst", "police"),
                                P(3, "leader", "police"))  # fmt: skip
    with db.write() as s:
        create_campaign(s, P(4, "leader", "cyberspace", "100000"), instantiate("national-2020"),
                        at=T0)  # fmt: skip
        org = create_organisation(s, name="某游戏公司", uscc=None, region="310100",
                                  by="system:test", at=T0).id  # fmt: skip
        subject = Subject(kind="game", name="某某传奇", organisation_id=org, region="310100",
                          created_at=T0, updated_at=T0)  # fmt: skip
        s.add(subject)
        s.flush()
        case_id = cases.create_case(
            s, officer, grounds=["gambling"], jurisdiction="310100", subject_id=subject.id, at=T0
        ).case.id
        create_user(s, username="henan", password=None, roles=["analyst"], jurisdiction="410000",
                    department="police", by="system:test", at=T0)  # fmt: skip
    steps = [
        lambda s, at: cases.act(s, officer, case_id, "open", at=at),
        lambda s, at: cases.act(s, analyst, case_id, "assess", at=at),
        lambda s, at: cases.propose(s, analyst, case_id, "rectify", {"deadline": "2020-09-30"},
                                    at=at),
        lambda s, at: cases.act(s, analyst, case_id, "dispose", at=at, reason="属实"),
        lambda s, at: cases.decide(s, leader, case_id, 1, "approve", at=at),
        lambda s, at: cases.act(s, officer, case_id, "notify", at=at),
    ]  # fmt: skip
    for i, step in enumerate(steps):
        with db.write() as s:
            step(s, T0 + timedelta(minutes=i + 1))
    return str(db.url)


def invoke(*args: str):
    return runner.invoke(report_app, list(args))


def test_summary_statistics_and_notice(db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "总结.docx"
    result = invoke("summary", "--campaign", "1", "--out", str(out), "--url", db_url)
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.stdout
    body = "\n".join(p.text for p in docx.Document(out).paragraphs)
    assert "未成年人网络环境专项治理行动工作总结" in body and "共登记案件1件" in body

    xlsx = tmp_path / "stats.xlsx"
    result = invoke("statistics", "--campaign", "1", "--out", str(xlsx), "--url", db_url)
    assert result.exit_code == 0, result.output
    summary = {r[0]: r[1] for r in openpyxl.load_workbook(xlsx)["概况"].iter_rows(values_only=True)}
    assert summary["案件总数（件）"] == 1

    notice = tmp_path / "notice.docx"
    result = invoke("notice", "--notice", "1", "--out", str(notice), "--url", db_url)
    assert result.exit_code == 0, result.output
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(notice.read_bytes())).paragraphs)
    assert "某游戏公司：" in text and "责令限期整改（整改期限：2020-09-30）" in text


def test_as_a_user_sees_their_scope(db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "henan.docx"
    result = invoke(
        "summary", "--campaign", "1", "--out", str(out), "--as", "henan", "--url", db_url
    )
    assert result.exit_code == 0, result.output
    body = "\n".join(p.text for p in docx.Document(out).paragraphs)
    assert "共登记案件0件" in body
    # The Henan user may not read a Shanghai notice: refused, no file.
    result = invoke("notice", "--notice", "1", "--out", str(out.with_name("n.docx")), "--as",
                    "henan", "--url", db_url)  # fmt: skip
    assert result.exit_code == 1 and "未找到该整改通知" in result.output
    assert not out.with_name("n.docx").exists()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["summary", "--campaign", "99"], 1, "未找到该专项行动"),
        (["notice", "--notice", "99"], 1, "未找到该整改通知"),
        (["summary", "--campaign", "1", "--as", "nobody"], 2, "未找到该用户"),
        (["summary", "--campaign", "0"], 2, ""),
    ],
)
def test_refusals(db_url: str, tmp_path: Path, args: list[str], code: int, message: str) -> None:
    out = tmp_path / "x.docx"
    result = invoke(*args, "--out", str(out), "--url", db_url)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not out.exists()


def test_bad_output_paths(db_url: str, tmp_path: Path) -> None:
    result = invoke("summary", "--campaign", "1", "--out", str(tmp_path / "x.pdf"),
                    "--url", db_url)  # fmt: skip
    assert result.exit_code == 2 and ".docx" in result.output
    result = invoke("statistics", "--campaign", "1", "--out", str(tmp_path / "x.docx"),
                    "--url", db_url)  # fmt: skip
    assert result.exit_code == 2 and ".xlsx" in result.output
    result = invoke("summary", "--campaign", "1", "--out", str(tmp_path / "no" / "x.docx"),
                    "--url", db_url)  # fmt: skip
    assert result.exit_code == 2 and "无法写入该目录" in result.output
    result = invoke("summary", "--campaign", "1", "--out", str(tmp_path / "x.docx"),
                    "--url", "mysql://nope")  # fmt: skip
    assert result.exit_code == 2
    assert not list(tmp_path.glob("*.part"))
