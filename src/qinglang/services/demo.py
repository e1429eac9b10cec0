"""Demo data (`qinglang demo`): a clearly fictional campaign that a newcomer can click through.

`load` fills an empty database with one provincial campaign (Shanghai, from the national
template, running today in its second stage), the departments' users for every role, three
fictional platform operators and their subjects, public tips (with duplicates merged into one
lead), patrol findings, a hand-off and a platform self-report, cases in every state,
dispositions of every registered kind (most approved, one rejected, some pending), notices,
rectification reports (one notice overdue), re-checks (one failed), closures with public
results, typical cases on the disclosure page and the departments' progress reports (some
departments overdue).

Everything goes through the services, as users would do it: every event is audited, every
state is reached by legal transitions, every refusal the services make still applies. The
events are laid out on a timeline from the campaign's start to the day before `at` (office
hours, Asia/Shanghai) and replayed in time order, in one transaction: a failure leaves the
database as it was. Names, domains (example.cn / .com / .net / .org) and organisations are
fictional and marked （演示）.

Passwords are random (`secrets`) unless one is given; they are returned once in
`DemoResult.logins` and never stored anywhere but as Argon2id hashes.
"""

from __future__ import annotations

import base64
import os
import secrets
import struct
import zlib
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from qinglang.detect import Detector
from qinglang.govern import campaigns as plans
from qinglang.govern.actors import ROLE_NAMES_ZH, Role
from qinglang.govern.clock import SHANGHAI, require_aware, shanghai_date
from qinglang.govern.dispositions import Disposition, ParamKind, get_disposition, registered
from qinglang.govern.identifiers import uscc_check_char
from qinglang.services import campaigns, cases, disclosure, intake, ledger, notices, reports
from qinglang.services.errors import ServiceError, invalid
from qinglang.services.principal import Principal
from qinglang.services.users import create_organisation, create_user, principal_of
from qinglang.settings import Settings
from qinglang.store import audit_log
from qinglang.store.blobs import BlobStore
from qinglang.store.db import Database
from qinglang.store.models import (
    AuditRow,
    Campaign,
    CampaignReport,
    Case,
    CaseDispositionRow,
    CaseTask,
    IntakeItem,
    Notice,
    Organisation,
    Publication,
    Rectification,
    Subject,
    User,
)
from qinglang.store.passwords import PasswordPolicyError, check_policy, hash_password
from qinglang.taxonomy import get_taxonomy

TEMPLATE = "national-2020"
PROVINCE = "310000"  # 上海市
CITY = "310115"  # 浦东新区
DEMO_MARK = "（演示）"
CAMPAIGN_NAME = "【演示】{year}年上海市未成年人网络环境专项治理行动"
SYSTEM_ACTOR = "system:demo"
PASSWORD_BYTES = 12  # token_urlsafe(12): 16 characters, 96 bits
# Today must lie this many days into stage 2 for the template's own dates to be used; else the
# stages are moved so that it does (see `demo_plan`).
MIN_DAYS_INTO_STAGE_2 = 7
OFFICE_START = time(9, 0)
OFFICE_MINUTES = 8 * 60  # events fall between 09:00 and 17:00


# ---------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Login:
    username: str
    display_name: str
    roles: tuple[str, ...]
    department: str | None
    password: str = field(repr=False)
    jurisdiction: str = PROVINCE
    organisation: str | None = None  # the operator's organisation


@dataclass(frozen=True, slots=True)
class DemoTicket:
    """A public tip's ticket and the state of its case, to try the public lookup with."""

    ticket: str
    case_state: str


@dataclass(frozen=True, slots=True)
class DemoResult:
    logins: list[Login]
    campaign_id: int
    counts: dict[str, int]
    tickets: list[DemoTicket] = field(default_factory=list)


def is_empty(db: Database) -> bool:
    """True when the database holds no users and no ledger subjects (demo data may go in)."""
    with db.read() as session:
        return _is_empty(session)


def _is_empty(session: Session) -> bool:
    return not session.execute(
        select(exists(select(User.id)) | exists(select(Subject.id)))
    ).scalar()


# ---------------------------------------------------------------- the campaign's dates


def demo_plan(today: date) -> plans.CampaignPlan:
    """The demo campaign: the national template in `today`'s year, in Shanghai.

    When the template's dates do not put `today` at least MIN_DAYS_INTO_STAGE_2 days into
    stage 2 (集中整治), the three stages keep their names and are moved: started six weeks
    ago, stage 1 ended two weeks ago, stage 2 ends in a month, stage 3 a month later.
    """
    plan = plans.instantiate(TEMPLATE, year=today.year, jurisdiction=PROVINCE)
    first, second = plan.stages[0], plan.stages[1]
    if not first.deadline + timedelta(MIN_DAYS_INTO_STAGE_2) <= today <= second.deadline:
        starts_on = today - timedelta(days=42)
        deadlines = (today - timedelta(days=14), today + timedelta(days=30))
        deadlines += (deadlines[1] + timedelta(days=31),)
        plan = replace(
            plan,
            starts_on=starts_on,
            stages=tuple(
                replace(s, deadline=d) for s, d in zip(plan.stages, deadlines, strict=True)
            ),
        )
    plan = replace(plan, name=CAMPAIGN_NAME.format(year=plan.starts_on.year))
    return plans.validate(plan)


# ---------------------------------------------------------------- people and organisations


@dataclass(frozen=True, slots=True)
class _OrgSpec:
    key: str
    name: str
    region: str
    serial: str  # four characters of the USCC's organisation code


ORGANISATIONS = (
    _OrgSpec("game", "示例互动娱乐有限公司（演示）", "310115", "0001"),
    _OrgSpec("live", "示例直播科技有限公司（演示）", "310104", "0002"),
    _OrgSpec("edu", "示例学习科技有限公司（演示）", "310106", "0003"),
)


def demo_uscc(region: str, serial: str) -> str:
    """A well-formed unified social credit code for a fictional company (check char computed)."""
    body = f"91{region}MA1DM{serial}"
    return body + uscc_check_char(body)


@dataclass(frozen=True, slots=True)
class _UserSpec:
    username: str
    role: str
    department: str | None = None
    jurisdiction: str = PROVINCE
    organisation: str | None = None  # _OrgSpec.key, operators only
    display_name: str | None = None


# Short pinyin prefixes of the departments: 网信 wx, 公安 ga, 新闻出版 xw, 教育 jy,
# 市场监管 sj, 通信管理 tx. Culture takes part in the campaign but has no demo users (its
# progress reports are the overdue ones).
DEPARTMENT_PREFIXES = {
    "cyberspace": "wx",
    "police": "ga",
    "press": "xw",
    "education": "jy",
    "market": "sj",
    "telecom": "tx",
}

USERS: tuple[_UserSpec, ...] = (
    _UserSpec("admin", "admin", display_name="系统管理员（演示）"),
    *(
        _UserSpec(f"{prefix}_{role}", role, department)
        for department, prefix in DEPARTMENT_PREFIXES.items()
        for role in ("officer", "analyst", "leader")
    ),
    _UserSpec(
        "pd_officer", "officer", "cyberspace", CITY, display_name="浦东新区网信办案人员（演示）"
    ),
    _UserSpec("operator_game", "operator", organisation="game"),
    _UserSpec("operator_live", "operator", organisation="live"),
    _UserSpec("operator_edu", "operator", organisation="edu"),
)


def _display_name(spec: _UserSpec, org_names: Mapping[str, str]) -> str:
    if spec.display_name:
        return spec.display_name
    role = ROLE_NAMES_ZH[Role(spec.role)]
    if spec.organisation is not None:
        return f"{org_names[spec.organisation].removesuffix(DEMO_MARK)}{role}（演示）"
    department = get_taxonomy().departments[spec.department or ""].name
    return f"{department}{role}（演示）"


# ---------------------------------------------------------------- evidence files


def _png(seed: int, width: int = 48, height: int = 32) -> bytes:
    """A small, valid PNG of one colour (a stand-in screenshot; the colour varies by seed)."""
    rgb = bytes(((seed * 67) % 256, (seed * 131) % 256, (seed * 29 + 90) % 256))
    raw = b"".join(b"\x00" + rgb * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------- the run's context


class _Run:
    """What the steps share while the timeline is replayed in one transaction."""

    def __init__(
        self,
        session: Session,
        blobs: BlobStore,
        detector: Detector,
        settings: Settings,
        today: date,
    ) -> None:
        self.session = session
        self.blobs = blobs
        self.detector = detector
        self.settings = settings
        self.today = today
        self.principals: dict[str, Principal] = {}
        self.organisations: dict[str, int] = {}
        self.subjects: dict[str, int] = {}
        self.campaign_id = 0
        self.evidence = 0

    def who(self, username: str) -> Principal:
        return self.principals[username]

    def next_png(self) -> bytes:
        self.evidence += 1
        return _png(self.evidence)


@dataclass(slots=True)
class _FlowState:
    name: str
    case_id: int | None = None
    tickets: list[str] = field(default_factory=list)

    def case(self) -> int:
        if self.case_id is None:
            raise RuntimeError(f"demo flow {self.name}: no case yet (an intake step comes first)")
        return self.case_id


# ---------------------------------------------------------------- steps


class _Step:
    """One thing a user does at a point of the timeline."""

    def run(self, ctx: _Run, flow: _FlowState, at: datetime) -> None:  # pragma: no cover
        raise NotImplementedError


@dataclass(frozen=True)
class NewSubject(_Step):
    by: str
    fields: Mapping[str, Any]
    organisation: str | None = None

    def run(self, ctx: _Run, flow: _FlowState, at: datetime) -> None:
        values = dict(self.fields)
        if self.organisation is not None:
            values["organisation_id"] = ctx.organisations[self.organisation]
        view = ledger.create_subject(ctx.session, ctx.who(self.by), values, at=at)
        ctx.subjects[view.name] = view.id


def _receipt(ctx: _Run, flow: _FlowState, receipt: intake.Receipt, public: bool) -> None:
    if flow.case_id is None:
        flow.case_id = receipt.case_id
    elif receipt.case_id != flow.case_id:
        raise RuntimeError(
            f"demo flow {flow.name}: item went to case {receipt.case_id}, not {flow.case_id}"
        )
    if public:
        flow.tickets.append(receipt.ticket)


@dataclass(frozen=True)
class Tip(_Step):
    """A public tip from the reporting form (no account)."""

    text: str
    url: str | None = None
    category: str | None = None
    client: int = 1  # last octet of a documentation address (203.0.113.0/24)
    title: str | None = None
    region: str = PROVINCE
    platform: str | None = None
    evidence: bool = False

    def run(self, ctx: _Run, flow: _FlowState, at: datetime) -> None:
        files = []
        if self.evidence:
            data = base64.b64encode(ctx.next_png()).decode("ascii")
            files.append(intake.AttachmentIn(data, "截图.png", "image/png"))
        key = ctx.settings.secret_key.get_secret_value()
        receipt = intake.receive(
            ctx.session,
            ctx.blobs,
            ctx.detector,
            ctx.settings,
            source="public_tip",
            principal_or_none=None,
            at=at,
            text=self.text,
            urls=[self.url] if self.url else [],
            attachments=files,
            title=self.title,
            category=self.category,
            jurisdiction=self.region,
            subject_name=self.platform,
            client_hash=reports.client_hash(key, f"203.0.113.{self.client}"),
            jurisdiction_pointer="#/region",
        )
        _receipt(ctx, flow, receipt, public=True)


@dataclass(frozen=True)
class Filed(_Step):
    """A regulator's patrol finding or hand-off, or a platform's self-report."""

    by: str
    source: str  # patrol | handoff | self_report
    title: str
    text: str
    category: str
    url: str | None = None
    jurisdiction: str | None = None
    subject: str | None = None  # a subject's name, when the URL does not name it
    evidence: bool = True

    def run(self, ctx: _Run, flow: _FlowState, at: datetime) -> None:
        files = []
        if self.evidence:
            data = base64.b64encode(ctx.next_png()).decode("ascii")
            files.append(intake.AttachmentIn(data, "巡查截图.png", "image/png"))
        extra: dict[str, Any] = {}
        if self.source == "self_report":
            extra["discovered_at"] = at - timedelta(hours=5)
        receipt = intake.receive(
            ctx.session,
            ctx.blobs,
            ctx.detector,
            ctx.settings,
            source=self.source,
            principal_or_none=ctx.who(self.by),
            at=at,
            title=self.title,
            text=self.text,
            urls=[self.url] if self.url else [],
            attachments=files,
            category=self.category,
            jurisdiction=self.jurisdiction,
            subject_id=ctx.subjects[self.subject] if self.subject else None,
            **extra,
        )
        _receipt(ctx, flow, receipt, public=False)


@dataclass(frozen=True)
class Act(_Step):
    """A transition of the case: open, assess, dispose, notify, recheck, close, ..."""

    by: str
    action: str
    reason: str | None = None
    target: str | None = None
    result: str | None = None  # the public result of close / dismiss / transfer

    def run(self, ctx: _Run, flow: _FlowState, at: datetime) -> None:
        cases.act(
            ctx.session,
            ctx.who(self.by),
            flow.case(),
            self.action,
            at=at,
            reason=self.reason,
            target=self.target,
            public_result=self.result,
        )


def example_params(kind: type[Disposition]) -> dict[str, Any]:
    """The first valid example parameters of a disposition kind (the shared test data)."""
    example = next(e for e in kind.examples if e.valid)
    return dict(example.params)


@dataclass(frozen=True)
class Propose(_Step):
    """Propose a disposition. Date parameters (a rectification deadline) are set from the
    proposal day: `days` after it; `overdue` keeps the deadline before today; `until_today`
    puts it that many days after today instead."""

    by: str
    code: str
    params: Mapping[str, Any] | None = None
    reason: str | None = None
    days: int = 15
    overdue: bool = False
    until_today: int | None = None

    def deadline(self, ctx: _Run, at: datetime) -> date:
        day = shanghai_date(at)
        if self.until_today is not None:
            return ctx.today + timedelta(days=self.until_today)
        if self.overdue:
            gap = (ctx.today - day).days
            if gap < 4:
                raise RuntimeError(f"demo: no room for an overdue deadline after {day}")
            return day + timedelta(days=max(2, min(self.days, gap // 2)))
        return day + timedelta(days=self.days)

    def run(self, ctx: _Run, flow: _FlowState, at: datetime) -> None:
        kind = get_disposition(self.code)
        params = dict(self.params) if self.params is not None else example_params(kind)
        for param in kind.params:
            if param.kind is ParamKind.date:
                params[param.name] = self.deadline(ctx, at).isoformat()
        cases.propose(
            ctx.session, ctx.who(self.by), flow.case(), self.code, params, at=at, reason=self.reason
        )


@dataclass(frozen=True)
class Decide(_Step):
    """A leader approves (or rejects) the oldest pending disposition of kind `code`."""

    by: str
    code: str
    decision: str = "approve"
    reason: str | None = None

    def run(self, ctx: _Run, flow: _FlowState, at: datetime) -> None:
        n = ctx.session.execute(
            select(CaseDispositionRow.n)
            .where(
                CaseDispositionRow.case_id == flow.case(),
                CaseDispositionRow.code == self.code,
                CaseDispositionRow.status == "proposed",
            )
            .order_by(CaseDispositionRow.n)
            .limit(1)
        ).scalar_one()
        cases.decide(
            ctx.session,
            ctx.who(self.by),
            flow.case(),
            n,
            self.decision,
            at=at,
            reason=self.reason,
        )


@dataclass(frozen=True)
class Rectified(_Step):
    """The platform operator reports its rectification on the case's current notice."""

    by: str
    summary: str
    evidence: bool = False

    def run(self, ctx: _Run, flow: _FlowState, at: datetime) -> None:
        notice_id = ctx.session.execute(
            select(Notice.id)
            .where(Notice.case_id == flow.case(), Notice.status.in_(("sent", "answered")))
            .order_by(Notice.id.desc())
            .limit(1)
        ).scalar_one()
        files = [notices.Attachment("整改情况报告.txt", "text/plain", self.summary.encode())]
        if self.evidence:
            files.append(notices.Attachment("整改后页面截图.png", "image/png", ctx.next_png()))
        notices.report_rectification(
            ctx.session, ctx.blobs, ctx.who(self.by), notice_id, self.summary, files, at=at
        )


@dataclass(frozen=True)
class TaskDone(_Step):
    """A cooperating department finishes its task on the case."""

    by: str
    note: str

    def run(self, ctx: _Run, flow: _FlowState, at: datetime) -> None:
        principal = ctx.who(self.by)
        task_id = ctx.session.execute(
            select(CaseTask.id).where(
                CaseTask.case_id == flow.case(),
                CaseTask.department == principal.department,
                CaseTask.status == cases.TASK_OPEN,
            )
        ).scalar_one()
        cases.complete_task(ctx.session, principal, flow.case(), task_id, at=at, note=self.note)


@dataclass(frozen=True)
class Publish(_Step):
    """The lead department's leader publishes the case as a typical case (曝光台)."""

    by: str
    title: str
    body: str

    def run(self, ctx: _Run, flow: _FlowState, at: datetime) -> None:
        disclosure.publish(
            ctx.session,
            ctx.who(self.by),
            flow.case(),
            title=self.title,
            body=self.body,
            at=at,
            fields=(*disclosure.DEFAULT_FIELDS, "closed_at"),
        )


@dataclass(frozen=True)
class Flow:
    """One story: the steps of one case (or of the ledger) at positions 0 ≤ p < 1 of the
    timeline, in order."""

    name: str
    steps: tuple[tuple[float, _Step], ...]


# ---------------------------------------------------------------- the stories

COMMUNITY = "https://community.example.cn"
VIDEO = "https://video.example.cn"
LIVE = "https://live.example.cn"
ACG = "https://acg.example.com"


def _subject(
    by: str, org: str | None, kind: str, name: str, region: str, where: str | None, **more: Any
) -> NewSubject:
    """A ledger entry; `where` is its domain (an account's page address for accounts)."""
    fields: dict[str, Any] = {"kind": kind, "name": name, "region": region, **more}
    if where is not None:
        fields["platform_url" if kind == "account" else "domains"] = where
    return NewSubject(by, fields, org)


_C, _P, _N = "compliant", "partial", "none"
# fmt: off
LEDGER: tuple[NewSubject, ...] = (
    _subject("xw_officer", "game", "game", "星海传说（演示）", "310115", "game1.example.cn",
             category="game", game_approval_no="国新出审〔2023〕0101号", anti_addiction=_C,
             youth_mode=_C, risk_level="low"),
    _subject("xw_officer", "game", "game", "萌宠大乱斗（演示）", "310115", "game2.example.cn",
             category="game", game_approval_no="国新出审〔2022〕0456号", anti_addiction=_P,
             youth_mode=_P, risk_level="medium"),
    _subject("xw_officer", "game", "game", "暗影契约（演示）", "310115", "game3.example.cn",
             category="game", anti_addiction=_N, youth_mode=_N, risk_level="high",
             notes="未查询到网络游戏出版物号。"),
    _subject("wx_officer", "game", "website", "示例游戏社区（演示）", "310115",
             "community.example.cn", category="forum", youth_mode=_P, risk_level="medium"),
    _subject("wx_officer", "game", "app", "示例游戏盒子（演示）", "310115", None,
             category="game", youth_mode=_N, risk_level="medium"),
    _subject("wx_officer", "live", "live_video", "示例直播（演示）", "310104", "live.example.cn",
             category="live_streaming", youth_mode=_P, anti_addiction=_P, risk_level="high"),
    _subject("wx_officer", "live", "live_video", "示例短视频（演示）", "310104",
             "video.example.cn", category="video", youth_mode=_C, anti_addiction=_C,
             risk_level="medium"),
    _subject("wx_officer", "live", "live_video", "示例游戏直播（演示）", "310104",
             "gamelive.example.cn", category="live_streaming", youth_mode=_C,
             risk_level="medium"),
    _subject("wx_analyst", "live", "app", "示例语音交友（演示）", "310104", "voice.example.cn",
             category="social", youth_mode=_N, anti_addiction=_N, risk_level="high"),
    _subject("wx_analyst", "live", "account", "主播“示例少爷”（演示）", "310104",
             f"{LIVE}/u/10086", category="live_streaming", risk_level="high"),
    _subject("jy_officer", "edu", "app", "示例作业帮手（演示）", "310106", None,
             category="education", education_app=True, school_cooperation=True,
             youth_mode=_C, anti_addiction=_C, risk_level="low"),
    _subject("jy_officer", "edu", "website", "示例网课平台（演示）", "310106",
             "learn.example.cn", category="education", education_app=True,
             school_cooperation=True, youth_mode=_P, risk_level="medium"),
    _subject("jy_officer", "edu", "app", "示例口算练习（演示）", "310106", None,
             category="education", education_app=True),
    _subject("wx_analyst", None, "website", "示例小说网（演示）", PROVINCE, "novel.example.com",
             category="literature", youth_mode=_N, risk_level="high"),
    _subject("tx_officer", None, "website", "示例资讯站（演示）", PROVINCE, "news.example.net",
             category="news", risk_level="medium", notes="曾因传播低俗信息列入黑名单。"),
    _subject("tx_officer", None, "website", "示例壁纸下载站（演示）", PROVINCE,
             "wallpaper.example.org", category="tool", risk_level="medium"),
    _subject("tx_officer", None, "website", "示例游戏加速器下载站（演示）", PROVINCE,
             "speed.example.net", category="tool", risk_level="high"),
    _subject("ga_officer", None, "website", "境外博彩引流页（演示）", PROVINCE, "bet.example.net",
             category="other", risk_level="high"),
    _subject("wx_analyst", None, "website", "示例二次元论坛（演示）", PROVINCE, "acg.example.com",
             category="forum", youth_mode=_N, risk_level="high"),
    _subject("wx_analyst", None, "app", "示例清理大师（演示）", PROVINCE, "clean.example.org",
             category="tool", risk_level="medium"),
    _subject("ga_officer", None, "group", "某明星应援打榜群（演示）", PROVINCE, None,
             category="social", risk_level="high", notes="群号：示例0001"),
)
# fmt: on

# What people wrote: tips, findings, reasons, reports back and public texts, by story.
W: dict[str, str] = {
    # The injected-spam pattern of seed 002: gambling promotion dressed up as ordinary text.
    "spam.tip1": "孩子常去的游戏社区里，攻略帖下面被人刷了几百条“鸿运国际娱乐（演示）最新官方"
    "网址”“首充送彩金、加微信上分”的评论，夹在正常内容里，点进去是博彩网站，请尽快处理。",
    "spam.tip2": "该论坛评论区被刷了大量赌博引流信息，伪装成游戏攻略，链接跳转到境外博彩网站，"
    "还有人私信学生招代理。",
    "spam.tip3": "举报：游戏社区帖子评论区有人发“线上百家乐”“充值返水”的广告，这个社区很多是"
    "中小学生。",
    "spam.task": "已督促平台先行屏蔽评论区引流信息，并固定电子证据。",
    "spam.dispose": "经研判，该社区评论区存在有组织的博彩引流，平台审核缺失；建议清理信息、"
    "关闭发布账号并通报企业。",
    "spam.fixed": "已清理博彩引流评论326条，关闭发布账号58个；上线外链跳转拦截和评论关键词审核，"
    "增设夜间人工巡查。",
    "spam.result": "经核查，您反映的游戏社区博彩引流信息已全部清理，相关账号已关闭，平台已完成"
    "整改。感谢您的监督。",
    "spam.publication": "群众举报某游戏社区评论区被大量发布博彩引流信息。公安机关会同网信部门"
    "查明，不法分子将博彩网址伪装成游戏攻略评论，诱导青少年访问境外博彩网站。平台已清理相关信息"
    "326条，关闭账号58个，并被通报。",
    "bet.finding": "巡查发现境外博彩网站通过游戏广告位引流，页面宣传“真人娱乐、体育投注”，"
    "要求上传证件开户，疑似面向在校学生招募代理。",
    "bet.dispose": "网站涉嫌开设赌场犯罪，建议移送司法机关。",
    "bet.transfer": "涉嫌开设赌场犯罪，移送立案侦查。",
    "porn.tip": "短视频平台“少儿”频道推荐页出现打擦边球的软色情视频，封面暴露、标题低俗，"
    "孩子刷到好几次。",
    "porn.dispose": "少儿频道推荐池混入低俗内容，平台审核不力。",
    "porn.fixed": "已下架擦边视频1200条，“少儿”频道推荐池改为人工复核后入池，已按约谈要求提交"
    "整改报告。",
    "porn.result": "经核查，相关低俗视频已清理，平台已被约谈并完成整改。感谢您的监督。",
    "tipping.tip1": "某主播在直播间对未成年观众说“刷个火箭就给你签名”，我家孩子用我的手机打赏了"
    "三千多元。",
    "tipping.tip2": "该直播间主播诱导小学生打赏，还让孩子加粉丝群私下转账。",
    "tipping.task": "已核查平台打赏设置：未对未成年人账号设置单笔和月累计上限。",
    "tipping.dispose": "主播诱导未成年人打赏属实，平台未落实未成年人打赏限制。",
    "tipping.fixed": "已封禁涉事主播12名；未成年人账号关闭打赏功能，大额打赏增加二次验证；"
    "涉及未成年人的打赏款项已退还。",
    "tipping.result": "经核查，涉事主播已被封禁，平台已被处罚并完成整改，未成年人打赏款项已退还。"
    "感谢您的监督。",
    "tipping.publication": "网信部门接群众举报查明，某直播平台多名主播以签名、互动为诱饵诱导"
    "未成年人打赏，平台未落实未成年人打赏限制。依法封禁主播12名，对平台处以罚款并公开曝光。",
    "learning.handoff": "多所学校家长反映，“示例网课平台”课程播放页侧栏和课后弹窗推送网络游戏"
    "广告和娱乐直播链接，学生上网课时被诱导下载游戏。",
    "learning.tip": "网课平台上课时弹出游戏广告，点一下就跳到下载页面，孩子根本没法专心上课。",
    "learning.task": "已提醒相关学校暂停推荐使用该平台，并向家长发放提示。",
    "learning.dispose": "学习平台推送与学习无关的游戏广告属实。",
    "youth.finding": "巡查发现该语音交友应用未提供青少年模式，注册时不核验年龄，未成年人可进入"
    "“连麦交友”房间。",
    "youth.dispose": "未按规定开发使用青少年模式。",
    "youth.fixed": "已暂停应用更新；青少年模式已完成开发，正在灰度测试，预计按期全量上线。",
    "gamead.tip": "在小学生常看的动画视频前贴片里看到“暗影契约”游戏广告，画面血腥，还写着"
    "“充值送神装”。",
    "gamead.dispose": "面向未成年人投放游戏广告属实。",
    "gamead.fixed": "已停止在少儿类视频中投放该游戏广告，删除“充值送神装”等诱导性表述，已签订"
    "整改承诺书。",
    "realname.finding": "巡查发现该游戏可用游客模式无限时长游玩，未接入实名认证，晚上10点后"
    "未成年人账号仍可登录。",
    "realname.dispose": "未落实实名注册和未成年人时段时长限制。",
    "realname.fixed1": "已接入网络游戏防沉迷实名验证系统，关闭游客模式。",
    "realname.failed": "复查发现旧版本客户端仍可进入游客模式，夜间时段限制未生效。",
    "realname.fixed2": "已强制升级客户端并下线旧版本；未成年人账号22时至次日8时无法登录；"
    "游客模式已关闭。",
    "realname.publication": "出版管理部门巡查发现某网络游戏未落实实名注册、未限制未成年人游戏"
    "时段。首次整改后复查不合格，经再次限期整改，企业已全面落实防沉迷要求。",
    "fans.tip": "某明星粉丝群组织中学生集资打榜，还号召去别家超话“控评”“开撕”，有人被人肉曝光"
    "了学校和班级。",
    "fans.dispose": "组织未成年人集资打榜、互撕和人肉搜索属实。",
    "doxx.tip": "有一个“开盒”小组专门收集同学的照片、住址和家长电话，然后在组里发起网暴，"
    "我的同学被他们开盒了。",
    "doxx.dispose": "“开盒”网暴团伙属实，涉及多名未成年人。",
    "doxx.task": "已配合公安机关调取小组成员注册信息，并清理被曝光的个人信息。",
    "doxx.result": "经核查，相关“开盒”小组及账号已依法关闭。感谢您的监督。",
    "bullying.tip": "短视频平台上有人发布中学生在厕所殴打同学的视频，还配字“教他做人”，"
    "播放量很高。",
    "harm.tip": "论坛有个小组在传播自残“打卡挑战”，要求成员每天拍伤口照片，成员大多是初中生。",
    "harm.task": "已要求平台先行屏蔽相关小组并保存数据。",
    "rich.tip": "这个主播天天晒豪车名表，说“读书没用，不如来直播”，还让粉丝里的学生刷礼物。",
    "novels.tip": "小说网站首页推荐大量低俗擦边小说，没有任何年龄提示，初中生都在看。",
    "popups.tip": "下载壁纸的网站不停弹出博彩和交友广告，关掉又弹，还自动跳转下载不明应用。",
    "history.tip": "有账号发布视频恶搞抗战英雄，歪曲历史，评论区很多是学生在跟风。",
    "bypass.tip": "有人在学生群里卖“游戏账号解除防沉迷”服务，说付钱就能绕过实名认证和时长限制，"
    "还要孩子先转账押金。",
    "hard.tip": "这个游戏太难了，孩子天天输还一直玩，我觉得价值观有问题，举报一下。",
    "hard.dismiss": "举报内容系对游戏难度的个人意见，不涉及违法违规信息。",
    "hard.result": "经核查，您反映的情况不属于违法违规情形，不予立案。感谢您的关注。",
    "scam.tip": "有人冒充游戏客服，以“未成年人退款”为由骗取家长的银行卡验证码，我被骗了五千元。",
    "scam.transfer": "涉嫌电信网络诈骗，移交公安机关立案侦查。",
    "scam.result": "您反映的冒充客服诈骗线索已移交公安机关依法处理。",
    "self.report": "平台巡查发现3个直播间存在未成年人出镜的低俗表演，已于发现后立即关闭直播间、"
    "封禁账号并保存日志。",
    "self.dispose": "平台主动报告并已先行处置，建议封禁涉事主播并签订整改承诺书。",
    "self.fixed": "已永久封禁涉事主播3名，签订整改承诺书，上线未成年人出镜识别。",
    "unfiled.finding": "巡查发现该网站未履行ICP备案手续，提供“防沉迷破解版”游戏下载。",
    "unfiled.dispose": "网站未备案且提供破解防沉迷的游戏。",
    "blacklist.finding": "该网站此前因传播低俗信息被列入黑名单，近期更换域名 news2.example.net "
    "重新接入。",
    "blacklist.dispose": "黑名单网站变换域名重新接入属实。",
    "pi.finding": "检测发现该应用在未成年人使用时强制索取通讯录、定位和相册权限，并将设备信息"
    "上传至第三方。",
    "pi.task": "已核查应用上架渠道，并通知应用商店做好下架准备。",
    "pi.task2": "已核查应用数据上传去向，未发现非法出售个人信息的情形。",
    "pi.dispose": "超范围收集个人信息属实，拒不整改。",
    "values.finding": "社区“攻略”板块置顶帖宣扬“逃学打游戏才酷”等不良价值观，评论区多为学生。",
    "values.dispose": "宣扬不良价值观的内容被平台置顶推荐。",
    "unapproved.finding": "该游戏未取得网络游戏出版物号即上线运营并开放充值。",
    "unapproved.dispose": "未经审批运营网络游戏属实。",
    "unapproved.reject": "罚款金额超出裁量基准，请按首次违法情形重新提出。",
    "unapproved.fixed": "已在各应用商店下架该游戏并停止充值服务，罚款已缴纳，正在补办出版审批"
    "手续。",
    "other.finding": "巡查发现平台未成年人频道审核机制缺失。",
    "other.dispose": "平台内容审核管理不力。",
}


# fmt: off
def _stories() -> list[Flow]:
    out: list[Flow] = []

    def flow(name: str, *steps: tuple[float, _Step]) -> None:
        out.append(Flow(name, steps))

    flow("ledger", *((0.004 + i * 0.003, s) for i, s in enumerate(LEDGER)))

    # Gambling spam in a game community (seed 002's pattern): four tips, one lead (by URL and
    # by content), police lead with cyberspace's help; closed and published.
    thread = f"{COMMUNITY}/thread/8812"
    flow(
        "gambling_spam",
        (0.100, Tip(W["spam.tip1"], thread, "gambling", 11, "游戏社区评论区大量博彩引流信息",
                    region=CITY, evidence=True)),
        (0.130, Tip(W["spam.tip2"], thread, "gambling", 12)),
        (0.150, Tip(W["spam.tip2"], f"{COMMUNITY}/thread/8813", "gambling", 13)),
        (0.160, Tip(W["spam.tip3"], thread, "gambling", 14)),
        (0.180, Act("ga_officer", "open")),
        (0.190, TaskDone("wx_officer", W["spam.task"])),
        (0.210, Act("ga_analyst", "assess")),
        (0.240, Propose("ga_analyst", "remove_content", {"count": 326})),
        (0.242, Propose("ga_analyst", "close_accounts", {"count": 58})),
        (0.244, Propose("ga_analyst", "notify_company")),
        (0.250, Act("ga_analyst", "dispose", W["spam.dispose"])),
        (0.280, Decide("ga_leader", "remove_content")),
        (0.281, Decide("ga_leader", "close_accounts")),
        (0.282, Decide("ga_leader", "notify_company")),
        (0.290, Act("ga_officer", "notify")),
        (0.360, Rectified("operator_game", W["spam.fixed"], evidence=True)),
        (0.400, Act("ga_officer", "recheck")),
        (0.430, Act("ga_officer", "close", result=W["spam.result"])),
        (0.460, Publish("ga_leader", "某游戏社区评论区博彩引流案", W["spam.publication"])),
    )
    flow(
        "gambling_site",
        (0.200, Filed("ga_analyst", "patrol", "境外博彩网站借游戏广告引流", W["bet.finding"],
                      "gambling", "https://bet.example.net/promo?from=game")),
        (0.220, Act("ga_officer", "open")),
        (0.250, Act("ga_analyst", "assess")),
        (0.270, Propose("ga_analyst", "transfer_judicial", reason="涉嫌开设赌场罪")),
        (0.300, Act("ga_analyst", "dispose", W["bet.dispose"])),
        (0.310, Decide("ga_leader", "transfer_judicial")),
        (0.330, Act("ga_leader", "transfer", W["bet.transfer"],
                    target="上海市公安局刑事侦查部门（演示）")),
    )
    flow(
        "soft_porn_video",
        (0.240, Tip(W["porn.tip"], f"{VIDEO}/v/55120", "porn_vulgar", 21, region="310104",
                    evidence=True)),
        (0.260, Act("wx_officer", "open")),
        (0.280, Act("wx_analyst", "assess")),
        (0.300, Propose("wx_analyst", "interview")),
        (0.305, Propose("wx_analyst", "remove_content", {"count": 1200})),
        (0.310, Act("wx_analyst", "dispose", W["porn.dispose"])),
        (0.320, Decide("wx_leader", "interview")),
        (0.321, Decide("wx_leader", "remove_content")),
        (0.330, Act("wx_officer", "notify")),
        (0.380, Rectified("operator_live", W["porn.fixed"])),
        (0.420, Act("wx_analyst", "recheck")),
        (0.450, Act("wx_officer", "close", result=W["porn.result"])),
    )
    room = f"{LIVE}/room/20417"
    flow(
        "live_tipping",
        (0.300, Tip(W["tipping.tip1"], room, "minor_tipping", 31, "直播间诱导未成年人打赏",
                    region="310112")),
        (0.310, Tip(W["tipping.tip2"], room, "minor_tipping", 32)),
        (0.330, Act("wx_officer", "open")),
        (0.340, TaskDone("xw_officer", W["tipping.task"])),
        (0.360, Act("wx_analyst", "assess")),
        (0.380, Propose("wx_analyst", "ban_streamers", {"count": 12})),
        (0.382, Propose("wx_analyst", "penalty", {"amount": "50000"})),
        (0.384, Propose("wx_analyst", "expose")),
        (0.390, Act("wx_analyst", "dispose", W["tipping.dispose"])),
        (0.400, Decide("wx_leader", "ban_streamers")),
        (0.401, Decide("wx_leader", "penalty")),
        (0.402, Decide("wx_leader", "expose")),
        (0.410, Act("wx_officer", "notify")),
        (0.470, Rectified("operator_live", W["tipping.fixed"], evidence=True)),
        (0.500, Act("wx_analyst", "recheck")),
        (0.530, Act("wx_officer", "close", result=W["tipping.result"])),
        (0.550, Publish("wx_leader", "某直播平台主播诱导未成年人打赏案", W["tipping.publication"])),
    )
    # Handed over by education, joined by a parent's tip on the same page; the platform never
    # answers the notice, so it is overdue.
    course = "https://learn.example.cn/course/math-7"
    flow(
        "learning_game_ads",
        (0.340, Filed("jy_officer", "handoff", "市教委转来：网课平台推送游戏广告",
                      W["learning.handoff"], "off_topic_learning", course, evidence=False)),
        (0.360, Tip(W["learning.tip"], course, "off_topic_learning", 41, region="310106")),
        (0.380, Act("wx_officer", "open")),
        (0.400, TaskDone("jy_officer", W["learning.task"])),
        (0.420, Act("wx_analyst", "assess")),
        (0.440, Propose("wx_analyst", "rectify", days=10, overdue=True)),
        (0.445, Propose("wx_analyst", "warning")),
        (0.450, Act("wx_analyst", "dispose", W["learning.dispose"])),
        (0.455, Decide("wx_leader", "rectify")),
        (0.456, Decide("wx_leader", "warning")),
        (0.460, Act("wx_officer", "notify")),
    )
    flow(
        "no_youth_mode",
        (0.400, Filed("wx_analyst", "patrol", "语音交友应用未设置青少年模式", W["youth.finding"],
                      "no_youth_mode", "https://voice.example.cn/download")),
        (0.420, Act("wx_officer", "open")),
        (0.440, Act("wx_analyst", "assess")),
        (0.500, Propose("wx_analyst", "rectify", until_today=14)),
        (0.505, Propose("wx_analyst", "suspend_updates", {"days": 30})),
        (0.510, Act("wx_analyst", "dispose", W["youth.dispose"])),
        (0.520, Decide("wx_leader", "rectify")),
        (0.521, Decide("wx_leader", "suspend_updates")),
        (0.530, Act("wx_officer", "notify")),
        (0.800, Rectified("operator_live", W["youth.fixed"])),
    )
    flow(
        "game_ads_for_kids",
        (0.440, Tip(W["gamead.tip"], "https://game3.example.cn/ad/landing?ch=kids", "game_ad",
                    51, region=CITY)),
        (0.460, Act("sj_officer", "open")),
        (0.480, Act("sj_analyst", "assess")),
        (0.520, Propose("sj_analyst", "rectify", days=15)),
        (0.525, Propose("sj_analyst", "commitment")),
        (0.530, Act("sj_analyst", "dispose", W["gamead.dispose"])),
        (0.540, Decide("sj_leader", "rectify")),
        (0.541, Decide("sj_leader", "commitment")),
        (0.550, Act("sj_officer", "notify")),
        (0.660, Rectified("operator_game", W["gamead.fixed"], evidence=True)),
        (0.700, Act("sj_officer", "recheck")),
    )
    # A failed re-check: a new deadline, a new notice, then closed and published.
    flow(
        "no_real_name",
        (0.140, Filed("xw_analyst", "patrol", "网络游戏未落实实名注册和防沉迷",
                      W["realname.finding"], "no_real_name", "https://game2.example.cn/")),
        (0.160, Act("xw_officer", "open")),
        (0.180, Act("xw_analyst", "assess")),
        (0.200, Propose("xw_analyst", "rectify", days=12)),
        (0.210, Act("xw_analyst", "dispose", W["realname.dispose"])),
        (0.220, Decide("xw_leader", "rectify")),
        (0.230, Act("xw_officer", "notify")),
        (0.320, Rectified("operator_game", W["realname.fixed1"])),
        (0.350, Act("xw_analyst", "recheck")),
        (0.370, Act("xw_analyst", "fail_recheck", W["realname.failed"])),
        (0.390, Propose("xw_analyst", "rectify", days=10, reason="复查不合格，重新限期整改。")),
        (0.400, Decide("xw_leader", "rectify")),
        (0.480, Rectified("operator_game", W["realname.fixed2"], evidence=True)),
        (0.520, Act("xw_analyst", "recheck")),
        (0.550, Act("xw_officer", "close")),
        (0.580, Publish("xw_leader", "某网络游戏未落实实名注册和防沉迷要求案",
                        W["realname.publication"])),
    )
    flow(
        "fan_circle",  # waits for the police leader's approval
        (0.500, Tip(W["fans.tip"], None, "fan_circle", 61, platform="某明星应援打榜群（演示）")),
        (0.550, Act("ga_officer", "open")),
        (0.580, Act("ga_analyst", "assess")),
        (0.620, Propose("ga_analyst", "close_groups", {"count": 3})),
        (0.625, Propose("ga_analyst", "close_accounts", {"count": 45})),
        (0.630, Act("ga_analyst", "dispose", W["fans.dispose"])),
    )
    flow(
        "doxxing_group",  # the forum has no operator account: the notice goes on paper
        (0.560, Tip(W["doxx.tip"], f"{ACG}/group/7741", "dark_world", 71, region="310110")),
        (0.580, Act("ga_officer", "open")),
        (0.600, Act("ga_analyst", "assess")),
        (0.630, Propose("ga_analyst", "close_groups", {"count": 6})),
        (0.635, Propose("ga_analyst", "close_accounts", {"count": 120})),
        (0.640, Act("ga_analyst", "dispose", W["doxx.dispose"])),
        (0.650, Decide("ga_leader", "close_groups")),
        (0.651, Decide("ga_leader", "close_accounts")),
        (0.660, Act("ga_officer", "notify")),
        (0.700, TaskDone("wx_officer", W["doxx.task"])),
        (0.740, Act("ga_officer", "recheck")),
        (0.770, Act("ga_officer", "close", result=W["doxx.result"])),
    )
    flow(
        "school_bullying",
        (0.700, Tip(W["bullying.tip"], f"{VIDEO}/v/60311", "school_bullying", 81,
                    region="310113", evidence=True)),
        (0.730, Act("wx_officer", "open")),
        (0.760, Act("wx_analyst", "assess")),
        (0.800, Propose("wx_analyst", "remove_content", {"count": 37})),
    )
    flow(
        "self_harm",
        (0.780, Tip(W["harm.tip"], f"{ACG}/group/7802", "self_harm", 91)),
        (0.820, Act("ga_officer", "open")),
        (0.850, TaskDone("wx_officer", W["harm.task"])),
    )
    # Fresh leads in the intake queue; the last two reports carry the same text (one lead).
    flow("show_off", (0.860, Tip(W["rich.tip"], f"{LIVE}/u/10086", "money_worship", 101,
                                 region="310104")))
    flow("novels", (0.900, Tip(W["novels.tip"], "https://novel.example.com/rank/hot",
                               "porn_vulgar", 102)))
    flow("popups", (0.930, Tip(W["popups.tip"], "https://wallpaper.example.org/anime",
                               "malicious_popup", 103)))
    flow("history", (0.950, Tip(W["history.tip"], f"{VIDEO}/v/61002", "history_distortion",
                                104)))
    flow(
        "anti_addiction_bypass",
        (0.960, Tip(W["bypass.tip"], None, "fraud", 105, region=CITY)),
        (0.980, Tip(W["bypass.tip"], None, "fraud", 106)),
    )
    flow(
        "not_a_violation",
        (0.600, Tip(W["hard.tip"], None, "bad_values", 111)),
        (0.620, Act("wx_officer", "dismiss", W["hard.dismiss"], result=W["hard.result"])),
    )
    flow(
        "fake_support_scam",
        (0.640, Tip(W["scam.tip"], "https://pay.example.com/refund", "fraud", 121,
                    region="310112")),
        (0.660, Act("ga_officer", "transfer", W["scam.transfer"],
                    target="属地公安机关反诈中心（演示）", result=W["scam.result"])),
    )
    flow(
        "self_report",
        (0.460, Filed("operator_live", "self_report", "自查发现涉未成年人低俗直播内容",
                      W["self.report"], "porn_vulgar", subject="示例游戏直播（演示）")),
        (0.480, Act("wx_officer", "open")),
        (0.500, Act("wx_analyst", "assess")),
        (0.520, Propose("wx_analyst", "ban_streamers", {"count": 3})),
        (0.525, Propose("wx_analyst", "commitment")),
        (0.530, Act("wx_analyst", "dispose", W["self.dispose"])),
        (0.540, Decide("wx_leader", "ban_streamers")),
        (0.541, Decide("wx_leader", "commitment")),
        (0.550, Act("wx_officer", "notify")),
        (0.600, Rectified("operator_live", W["self.fixed"])),
        (0.640, Act("wx_analyst", "recheck")),
        (0.660, Act("wx_officer", "close")),
    )
    flow(
        "unfiled_site",
        (0.160, Filed("tx_officer", "patrol", "未备案网站提供防沉迷破解版游戏下载",
                      W["unfiled.finding"], "unfiled_site", "https://speed.example.net/download")),
        (0.180, Act("tx_officer", "open")),
        (0.200, Act("tx_analyst", "assess")),
        (0.220, Propose("tx_analyst", "shutdown")),
        (0.230, Act("tx_analyst", "dispose", W["unfiled.dispose"])),
        (0.240, Decide("tx_leader", "shutdown")),
        (0.250, Act("tx_officer", "notify")),
        (0.300, Act("tx_officer", "recheck")),
        (0.310, Act("tx_officer", "close")),
    )
    flow(
        "blacklisted_site",
        (0.260, Filed("tx_analyst", "patrol", "黑名单网站更换域名重新接入",
                      W["blacklist.finding"], "blacklisted_reaccess", "https://news2.example.net/",
                      subject="示例资讯站（演示）")),
        (0.280, Act("tx_officer", "open")),
        (0.300, Act("tx_analyst", "assess")),
        (0.320, Propose("tx_analyst", "revoke_license")),
        (0.330, Act("tx_analyst", "dispose", W["blacklist.dispose"])),
        (0.340, Decide("tx_leader", "revoke_license")),
        (0.350, Act("tx_officer", "notify")),
        (0.400, Act("tx_officer", "recheck")),
        (0.410, Act("tx_officer", "close")),
    )
    flow(
        "over_collection",
        (0.560, Filed("wx_analyst", "patrol", "清理类应用超范围收集未成年人个人信息",
                      W["pi.finding"], "pi_over_collection", "https://clean.example.org/app")),
        (0.580, Act("wx_officer", "open")),
        (0.590, TaskDone("tx_officer", W["pi.task"])),
        (0.600, Act("wx_analyst", "assess")),
        (0.620, Propose("wx_analyst", "delist")),
        (0.630, Act("wx_analyst", "dispose", W["pi.dispose"])),
        (0.640, Decide("wx_leader", "delist")),
        (0.650, Act("wx_officer", "notify")),
        (0.690, TaskDone("ga_officer", W["pi.task2"])),
        (0.700, Act("wx_analyst", "recheck")),
        (0.720, Act("wx_officer", "close")),
    )
    flow(
        "city_bad_values",  # a district officer's case, approved by the province's leader
        (0.660, Filed("pd_officer", "patrol", "游戏社区置顶帖宣扬逃学打游戏", W["values.finding"],
                      "bad_values", f"{COMMUNITY}/board/guide", jurisdiction=CITY)),
        (0.680, Act("pd_officer", "open")),
        (0.700, Act("pd_officer", "assess")),
        (0.720, Propose("pd_officer", "warning")),
        (0.730, Act("pd_officer", "dispose", W["values.dispose"])),
        (0.750, Decide("wx_leader", "warning")),
        (0.760, Act("pd_officer", "notify")),
    )
    flow(
        "unapproved_game",  # a fine rejected as too high, proposed again and approved
        (0.600, Filed("xw_officer", "patrol", "网络游戏未经审批上线运营", W["unapproved.finding"],
                      "unapproved_game", "https://game3.example.cn/")),
        (0.620, Act("xw_officer", "open")),
        (0.640, Act("xw_analyst", "assess")),
        (0.660, Propose("xw_analyst", "penalty", {"amount": "500000"})),
        (0.665, Propose("xw_analyst", "delist")),
        (0.670, Act("xw_analyst", "dispose", W["unapproved.dispose"])),
        (0.680, Decide("xw_leader", "penalty", "reject", W["unapproved.reject"])),
        (0.685, Propose("xw_analyst", "penalty", {"amount": "100000"})),
        (0.690, Decide("xw_leader", "penalty")),
        (0.691, Decide("xw_leader", "delist")),
        (0.700, Act("xw_officer", "notify")),
        (0.760, Rectified("operator_game", W["unapproved.fixed"], evidence=True)),
        (0.800, Act("xw_analyst", "recheck")),
        (0.830, Act("xw_officer", "close")),
    )

    missing = _unapproved_kinds(out)
    if missing:  # kinds registered after these stories were written: one more case shows them
        steps: list[tuple[float, _Step]] = [
            (0.700, Filed("wx_analyst", "patrol", "平台内容审核管理不力", W["other.finding"],
                          "moderation_failure", f"{LIVE}/channel/kids")),
            (0.710, Act("wx_officer", "open")),
            (0.720, Act("wx_analyst", "assess")),
        ]
        steps += [(0.73 + i * 0.001, Propose("wx_analyst", c)) for i, c in enumerate(missing)]
        steps.append((0.760, Act("wx_analyst", "dispose", W["other.dispose"])))
        steps += [(0.77 + i * 0.001, Decide("wx_leader", c)) for i, c in enumerate(missing)]
        steps.append((0.800, Act("wx_officer", "notify")))
        flow("other_measures", *steps)
    return out
# fmt: on


def _unapproved_kinds(flows: Sequence[Flow]) -> list[str]:
    approved = {
        s.code
        for f in flows
        for _, s in f.steps
        if isinstance(s, Decide) and s.decision == "approve"
    }
    return [code for code in registered() if code not in approved]


def stories() -> list[Flow]:
    """The demo's stories (checked: each flow's steps are in time order)."""
    out = _stories()
    for f in out:
        ps = [p for p, _ in f.steps]
        if ps != sorted(ps) or not all(0 <= p < 1 for p in ps):
            raise RuntimeError(f"demo flow {f.name}: steps out of order")
    return out


# ---------------------------------------------------------------- progress reports


@dataclass(frozen=True)
class Report(_Step):
    """A department's progress report, `days` before the deadline of stage 1 (negative: that
    many days late), or, for stage 2, yesterday."""

    by: str
    stage: int
    body: str
    figures: Mapping[str, int]
    days: int = 0

    def when(self, plan: plans.CampaignPlan, today: date) -> datetime | None:
        """When it was filed; None when that would not be before today (the report is then
        simply missing, as an overdue one is)."""
        first = plan.stages[0].deadline
        day = first - timedelta(days=self.days) if self.stage == 1 else today - timedelta(1)
        if not plan.starts_on <= day < today or (self.stage == 2 and day <= first):
            return None
        return datetime.combine(day, time(15, 30), SHANGHAI)

    def run(self, ctx: _Run, flow: _FlowState, at: datetime) -> None:
        campaigns.add_report(
            ctx.session,
            ctx.who(self.by),
            ctx.campaign_id,
            stage=self.stage,
            body=self.body,
            at=at,
            figures=dict(self.figures),
        )


# fmt: off
# Stage 1: four departments on time, market late, telecom and culture overdue; stage 2: one.
REPORTS: tuple[Report, ...] = (
    Report("wx_leader", 1, "完成全市重点网站平台摸底，建立涉未成年人重点平台台账；约谈平台2家，"
           "清理低俗有害信息1500余条。",
           {"items_cleaned": 1520, "sites_interviewed": 2, "accounts_handled": 86}, days=3),
    Report("ga_leader", 1, "组织网安部门开展涉未成年人网络违法犯罪线索摸排，侦办赌博引流、"
           "网络诈骗案件线索若干。",
           {"leads_transferred": 2, "accounts_handled": 140, "groups_closed": 6}, days=2),
    Report("xw_leader", 1, "完成本市网络游戏企业防沉迷落实情况摸底，检查游戏32款，责令整改2款。",
           {"rectifications_ordered": 2}, days=5),
    Report("jy_leader", 1, "部署全市中小学开学网络素养教育，排查与学校合作的教育类应用12款。",
           {}, days=1),
    Report("sj_leader", 1, "排查面向未成年人的网络游戏广告投放情况，发现问题线索3条。",
           {"rectifications_ordered": 1}, days=-2),
    Report("wx_officer", 2, "集中整治阶段：受理群众举报并办结一批，对直播平台诱导打赏问题依法"
           "处罚并公开曝光。", {"items_cleaned": 2600, "streamers_banned": 15, "cases_exposed": 1}),
)
# fmt: on


# ---------------------------------------------------------------- the timeline


class _Clock:
    """Positions p in [0, 1) to office time between the campaign's start and yesterday."""

    def __init__(self, starts_on: date, today: date) -> None:
        self.starts_on = starts_on
        self.days = (today - starts_on).days
        if self.days < 14:
            raise ValueError("the demo campaign must have run two weeks before today")

    def __call__(self, p: float) -> datetime:
        minutes = int(p * self.days * OFFICE_MINUTES)
        day = self.starts_on + timedelta(days=minutes // OFFICE_MINUTES)
        start = datetime.combine(day, OFFICE_START, SHANGHAI)
        return start + timedelta(minutes=minutes % OFFICE_MINUTES)


def _password_hashes(passwords: Sequence[str]) -> dict[str, str]:
    """Argon2id hashes of the distinct passwords, computed side by side (argon2 releases the
    GIL): two dozen hashes one after another would be most of the demo's load time."""
    distinct = list(dict.fromkeys(passwords))
    with ThreadPoolExecutor(max_workers=min(len(distinct), os.cpu_count() or 1)) as pool:
        return dict(zip(distinct, pool.map(hash_password, distinct), strict=True))


def _setup(
    ctx: _Run, at: datetime, password: str | None, plan: plans.CampaignPlan
) -> tuple[list[Login], int]:
    """Users, organisations and the campaign, a few days before it starts."""
    session = ctx.session
    org_names = {o.key: o.name for o in ORGANISATIONS}
    regions = {o.key: o.region for o in ORGANISATIONS}
    secrets_ = [
        password if password is not None else secrets.token_urlsafe(PASSWORD_BYTES) for _ in USERS
    ]
    hashes = _password_hashes(secrets_)
    logins: list[Login] = []
    tick = iter(range(10_000))

    def when() -> datetime:
        return at + timedelta(minutes=next(tick))

    def make(spec: _UserSpec, secret: str, by: str) -> Principal:
        # The hash is the one create_user would compute from `secret`, made ahead of time.
        user = create_user(
            session,
            username=spec.username,
            password=None,
            roles=[spec.role],
            jurisdiction=regions[spec.organisation] if spec.organisation else spec.jurisdiction,
            department=spec.department,
            display_name=_display_name(spec, org_names),
            organisation_id=ctx.organisations.get(spec.organisation or ""),
            by=by,
            at=when(),
        )
        user.password_hash = hashes[secret]
        principal = principal_of(user)
        ctx.principals[user.username] = principal
        logins.append(
            Login(
                user.username,
                user.display_name,
                tuple(user.roles),
                user.department,
                secret,
                user.jurisdiction,
                org_names.get(spec.organisation or ""),
            )
        )
        return principal

    admin = make(USERS[0], secrets_[0], SYSTEM_ACTOR)
    for o in ORGANISATIONS:
        org = create_organisation(
            session,
            name=o.name,
            uscc=demo_uscc(o.region, o.serial),
            region=o.region,
            by=admin.actor_id,
            at=when(),
        )
        ctx.organisations[o.key] = org.id
    for spec, secret in zip(USERS[1:], secrets_[1:], strict=True):
        make(spec, secret, admin.actor_id)
    view = campaigns.create_campaign(
        session, ctx.who("wx_leader"), plan, at=when() + timedelta(hours=2), public=True
    )
    return logins, view.id


def _counts(session: Session) -> dict[str, int]:
    audit_log.write_pending(session)  # the events of this transaction count too
    tables = {
        "users": User,
        "organisations": Organisation,
        "subjects": Subject,
        "intake_items": IntakeItem,
        "cases": Case,
        "dispositions": CaseDispositionRow,
        "notices": Notice,
        "rectifications": Rectification,
        "publications": Publication,
        "campaigns": Campaign,
        "campaign_reports": CampaignReport,
        "audit_events": AuditRow,
    }
    return {
        name: int(session.execute(select(func.count()).select_from(model)).scalar_one())
        for name, model in tables.items()
    }


def load(
    db: Database,
    blobs: BlobStore,
    settings: Settings,
    *,
    at: datetime,
    password: str | None = None,
    detector: Detector | None = None,
) -> DemoResult:
    """Fill an empty database with the demo (module docstring); refuses a non-empty one.

    `at` is "now": the campaign runs at `at` (in stage 2) and every event lies before it.
    `password`, when given, is every demo user's password; otherwise each gets a random one.
    """
    require_aware(at)
    if password is not None:
        try:
            check_policy(password)
        except PasswordPolicyError as exc:
            raise invalid("weak_password", str(exc), exc.message_zh) from None
    today = shanghai_date(at)
    plan = demo_plan(today)
    clock = _Clock(plan.starts_on, today)
    detector = detector if detector is not None else Detector.default()
    setup_at = datetime.combine(plan.starts_on - timedelta(days=3), time(9, 30), SHANGHAI)
    flows = stories()
    states = [_FlowState(f.name) for f in flows]
    timeline: list[tuple[datetime, int, int, _Step, _FlowState]] = []
    for i, (f, state) in enumerate(zip(flows, states, strict=True)):
        timeline += [(clock(p), i, j, step, state) for j, (p, step) in enumerate(f.steps)]
    reports_flow = _FlowState("reports")
    for j, report in enumerate(REPORTS):
        filed = report.when(plan, today)
        if filed is not None:
            timeline.append((filed, len(flows), j, report, reports_flow))
    timeline.sort(key=lambda row: row[:3])
    with db.write() as session:
        if not _is_empty(session):
            raise ServiceError(
                "conflict",
                "database_not_empty",
                "the database already holds users or subjects; demo data goes only into an "
                "empty database",
                "数据库中已有用户或台账数据，演示数据只能写入空数据库，以免与真实数据混在一起。",
            )
        ctx = _Run(session, blobs, detector, settings, today)
        logins, ctx.campaign_id = _setup(ctx, setup_at, password, plan)
        for when, _, _, step, state in timeline:
            step.run(ctx, state, when)
        tickets = []
        for state in states:
            if state.tickets and state.case_id is not None:
                row = session.get(Case, state.case_id)
                tickets.append(DemoTicket(state.tickets[0], row.state if row else ""))
        counts = _counts(session)
    return DemoResult(logins, ctx.campaign_id, counts, tickets)
