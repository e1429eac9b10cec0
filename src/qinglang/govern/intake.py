"""Intake (线索受理): the rules every arrival goes through, as data plus pure functions.

Four sources feed the main loop (DESIGN.md): public tips (公众举报), platform self-reports
(平台自查报告 / 重大违法违规信息报告, with a reporting deadline), patrol findings (巡查发现) and
department hand-offs (部门移交). Each is a registered class naming who may file it, what it
must carry and its limits, with `examples` that drive the shared test
(tests/govern/test_intake.py).

Deduplication works on two keys:

- the URL key: SHA-256 of a URL after `normalize_url` (scheme and host case, IDNA, default
  ports, userinfo, dot segments, percent-encoding, trailing slash, tracking parameters,
  parameter order, non-route fragments), read without its scheme so http and https meet;
- the content hash: SHA-256 of the text after `normalize_content` (NFKC, case folding, no
  punctuation or spaces) plus the sorted attachment digests. Only substantive content
  (`MIN_CONTENT_CHARS` characters, or any attachment) deduplicates: "举报" alone is no match.

Flooding and coordinated malicious reporting (恶意举报) are judged per target (the linked
ledger subject, else the registrable domain of the first URL) by `flood_flags`; see
`FloodRule` for the thresholds. Everything here is pure: no clock, no database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from typing import ClassVar, NamedTuple
from urllib.parse import urlsplit

from qinglang.govern.cases import State
from qinglang.govern.identifiers import IdentifierError, normalize_domain

# ---------------------------------------------------------------- errors


class IntakeError(ValueError):
    """An arrival the rules refuse. `code` is stable; `kind` picks the HTTP family:
    "invalid" (422), "forbidden" (403), "too_large" (413). `pointer` is a JSON Pointer into
    the request body when one field is at fault."""

    def __init__(
        self,
        code: str,
        message: str,
        message_zh: str,
        *,
        pointer: str | None = None,
        kind: str = "invalid",
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message_zh = message_zh
        self.pointer = pointer
        self.kind = kind


# ---------------------------------------------------------------- vocabularies

PUBLIC = "public"  # the filer key of someone without an account

ITEM_STATUSES: dict[str, str] = {
    "lead": "已生成线索",  # the item opened a new lead (a case in state lead)
    "merged": "已并入线索",  # the item joined an open lead with the same URL or content
}

FLAGS: dict[str, str] = {
    "duplicate": "重复线索",  # merged into an existing lead
    "flood": "集中举报",  # many tips against one target in the window
    "coordinated": "疑似恶意举报",  # ... most of them from few clients, or one template
    "late": "逾期报告",  # a self-report filed after its deadline
}

# ---------------------------------------------------------------- sources


@dataclass(frozen=True, slots=True)
class Draft:
    """The fields of an arrival that the source rules look at (after cleaning)."""

    text: str | None = None
    title: str | None = None
    urls: tuple[str, ...] = ()
    attachments: int = 0
    category: str | None = None
    discovered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Requirement:
    """One thing a source needs: a test on the draft and the refusal when it fails."""

    code: str
    test: Callable[[Draft], bool]
    message_zh: str
    pointer: str


TEXT_OR_URL = Requirement(
    "no_content",
    lambda d: bool(d.text) or bool(d.urls),
    "请填写举报内容或提供至少一个网址。",
    "#/text",
)
TEXT = Requirement("missing_text", lambda d: bool(d.text), "请填写情况说明。", "#/text")
TITLE = Requirement("missing_title", lambda d: bool(d.title), "请填写标题。", "#/title")
URL_OR_ATTACHMENT = Requirement(
    "missing_evidence",
    lambda d: bool(d.urls) or d.attachments > 0,
    "巡查发现须提供至少一个网址或一份截图等附件。",
    "#/urls",
)
CATEGORY = Requirement(
    "missing_category",
    lambda d: bool(d.category),
    "部门移交须注明问题类别（见 GET /api/v1/taxonomy）。",
    "#/category",
)
DISCOVERED_AT = Requirement(
    "missing_discovered_at",
    lambda d: d.discovered_at is not None,
    "自查报告须填写发现时间（discovered_at），用于计算报告时限。",
    "#/discovered_at",
)


@dataclass(frozen=True, slots=True)
class SourceExample:
    """Example data for the shared test: `draft` filed by `filer` is accepted when `error`
    is None, else refused with that code."""

    draft: Draft
    filer: str
    error: str | None = None


class IntakeSource:
    """A kind of arrival. Subclasses set the class data; `register_source` adds them."""

    name: ClassVar[str]
    name_zh: ClassVar[str]
    description: ClassVar[str]
    filers: ClassVar[frozenset[str]]  # "public" and/or role values
    required: ClassVar[tuple[Requirement, ...]]
    max_text: ClassVar[int] = 20_000
    max_title: ClassVar[int] = 200
    # 20 URLs of MAX_URL_CHARS keep the report.received audit payload under its 64 KiB cap.
    max_urls: ClassVar[int] = 20
    max_attachments: ClassVar[int] = 10
    has_deadline: ClassVar[bool] = False
    # The ground of the lead when neither the filer nor triage names a category: "content
    # management failing" (内容审核管理不力) leads with cyberspace, the department that leads
    # harmful-information work in the task matrix (000 三), which then re-routes.
    default_ground: ClassVar[str] = "moderation_failure"
    examples: ClassVar[tuple[SourceExample, ...]]

    @classmethod
    def may_file(cls, roles: Iterable[str] | None) -> bool:
        """`roles` None is the public (no account)."""
        if roles is None:
            return PUBLIC in cls.filers
        return any(str(r) in cls.filers for r in roles)

    @classmethod
    def check_filer(cls, roles: Iterable[str] | None) -> None:
        if not cls.may_file(roles):
            who = "无需登录的公众" if roles is None else "您的角色"
            raise IntakeError(
                "source_not_allowed",
                f"{'the public' if roles is None else 'these roles'} may not file {cls.name}",
                f"{who}不能提交“{cls.name_zh}”。",
                kind="forbidden",
            )

    @classmethod
    def check(cls, draft: Draft) -> None:
        """Limits first (they bound the work), then each requirement in order."""
        if draft.text is not None and len(draft.text) > cls.max_text:
            raise IntakeError(
                "text_too_long",
                f"text of {len(draft.text)} characters > {cls.max_text}",
                f"内容过长：最多 {cls.max_text} 个字符（收到 {len(draft.text)} 个）。",
                pointer="#/text",
                kind="too_large",
            )
        if draft.title is not None and len(draft.title) > cls.max_title:
            raise IntakeError(
                "title_too_long",
                f"title longer than {cls.max_title}",
                f"标题过长：最多 {cls.max_title} 个字符。",
                pointer="#/title",
            )
        if len(draft.urls) > cls.max_urls:
            raise IntakeError(
                "too_many_urls",
                f"{len(draft.urls)} URLs > {cls.max_urls}",
                f"网址过多：每次最多 {cls.max_urls} 个（收到 {len(draft.urls)} 个）。",
                pointer="#/urls",
            )
        if draft.attachments > cls.max_attachments:
            raise IntakeError(
                "too_many_attachments",
                f"{draft.attachments} attachments > {cls.max_attachments}",
                f"附件过多：每次最多 {cls.max_attachments} 个（收到 {draft.attachments} 个）。",
                pointer="#/attachments",
            )
        for req in cls.required:
            if not req.test(draft):
                raise IntakeError(
                    req.code, f"{cls.name}: {req.code}", req.message_zh, pointer=req.pointer
                )


_SOURCES: dict[str, type[IntakeSource]] = {}


def register_source(cls: type[IntakeSource]) -> type[IntakeSource]:
    if cls.name in _SOURCES and _SOURCES[cls.name] is not cls:
        raise ValueError(f"intake source {cls.name!r} registered twice")
    _SOURCES[cls.name] = cls
    return cls


def registered_sources() -> dict[str, type[IntakeSource]]:
    return dict(_SOURCES)


def get_source(name: str) -> type[IntakeSource]:
    try:
        return _SOURCES[name]
    except (KeyError, TypeError):
        known = "、".join(_SOURCES)
        raise IntakeError(
            "unknown_source",
            f"unknown intake source {name!r}",
            f"未知的线索来源，可选：{known}。",
            pointer="#/source",
        ) from None


_URL = ("https://example.cn/post/1",)
_AT = datetime.fromisoformat("2020-11-30T10:00:00+08:00")


@register_source
class PublicTip(IntakeSource):
    name = "public_tip"
    name_zh = "公众举报"
    description = (
        "公众通过举报渠道（无需登录）提交的未成年人网络环境问题；受理人员也可代为录入电话举报。"
    )
    filers = frozenset({PUBLIC, "officer", "analyst", "leader"})
    required = (TEXT_OR_URL,)
    max_text = 5_000
    max_urls = 10
    max_attachments = 5
    examples = (
        SourceExample(Draft(text="某网站向学生推送赌博广告"), PUBLIC),
        SourceExample(Draft(urls=_URL), PUBLIC),
        SourceExample(Draft(text="电话举报：某直播间诱导未成年人打赏"), "officer"),
        SourceExample(Draft(), PUBLIC, "no_content"),
        SourceExample(Draft(attachments=1), PUBLIC, "no_content"),
        SourceExample(Draft(text="x" * 5_001), PUBLIC, "text_too_long"),
        SourceExample(Draft(urls=_URL * 11), PUBLIC, "too_many_urls"),
        SourceExample(Draft(text="举报", attachments=6), PUBLIC, "too_many_attachments"),
        SourceExample(Draft(text="举报"), "operator", "source_not_allowed"),
    )


@register_source
class SelfReport(IntakeSource):
    name = "self_report"
    name_zh = "平台自查报告"
    description = (
        "平台运营者报告自查发现的重大违法违规信息（重大违法违规信息报告），"
        "须在发现后规定时限内报告（QINGLANG_SELF_REPORT_HOURS），逾期的标记为 late。"
    )
    filers = frozenset({"operator"})
    required = (TITLE, TEXT, DISCOVERED_AT)
    has_deadline = True
    examples = (
        SourceExample(
            Draft(title="发现涉未成年人色情信息", text="已删除并保存日志", discovered_at=_AT),
            "operator",
        ),
        SourceExample(Draft(title="自查", text="情况说明"), "operator", "missing_discovered_at"),
        SourceExample(Draft(text="情况说明", discovered_at=_AT), "operator", "missing_title"),
        SourceExample(Draft(title="自查", discovered_at=_AT), "operator", "missing_text"),
        SourceExample(
            Draft(title="自查", text="情况说明", discovered_at=_AT), "officer", "source_not_allowed"
        ),
        SourceExample(
            Draft(title="自查", text="情况说明", discovered_at=_AT), PUBLIC, "source_not_allowed"
        ),
    )


@register_source
class PatrolFinding(IntakeSource):
    name = "patrol"
    name_zh = "巡查发现"
    description = "监管部门巡查网站、应用、游戏和平台时发现的问题，须附网址或截图等证据。"
    filers = frozenset({"officer", "analyst", "leader"})
    required = (URL_OR_ATTACHMENT,)
    examples = (
        SourceExample(Draft(urls=_URL), "analyst"),
        SourceExample(Draft(text="应用内弹窗诱导充值", attachments=1), "officer"),
        SourceExample(Draft(text="只有文字没有证据"), "officer", "missing_evidence"),
        SourceExample(Draft(urls=_URL), "operator", "source_not_allowed"),
        SourceExample(Draft(urls=_URL), PUBLIC, "source_not_allowed"),
        SourceExample(Draft(urls=_URL), "admin", "source_not_allowed"),
    )


@register_source
class DepartmentHandoff(IntakeSource):
    name = "handoff"
    name_zh = "部门移交"
    description = "其他部门或上级机关移交的线索，须写明标题、情况和问题类别。"
    filers = frozenset({"officer", "analyst", "leader"})
    required = (TITLE, TEXT, CATEGORY)
    examples = (
        SourceExample(
            Draft(title="公安机关移交：赌博引流", text="见附件", category="gambling"), "leader"
        ),
        SourceExample(Draft(title="移交", text="见附件"), "officer", "missing_category"),
        SourceExample(Draft(text="见附件", category="gambling"), "officer", "missing_title"),
        SourceExample(
            Draft(title="移交", text="见附件", category="gambling"),
            "operator",
            "source_not_allowed",
        ),
    )


# ---------------------------------------------------------------- URLs

MAX_URL_CHARS = 2048
DEFAULT_PORTS = {"http": 80, "https": 443}
# Query parameters that track the click rather than name the content; dropped before
# deduplication. Prefixes cover families (utm_source, utm_medium ...).
TRACKING_PREFIXES = ("utm_", "share_", "spm_")
TRACKING_PARAMS = frozenset(
    {
        "spm",
        "scm",
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "vd_source",  # bilibili
        "unique_k",
        "xhsshare",  # Xiaohongshu
        "xsec_source",
        "is_story_h5",
    }
)
# Parameters that track only on some hosts (elsewhere the same name may pick the content).
HOST_TRACKING_PARAMS: dict[str, frozenset[str]] = {
    "mp.weixin.qq.com": frozenset(
        {
            "chksm",
            "scene",
            "subscene",
            "ascene",
            "sessionid",
            "clicktime",
            "enterid",
            "devicetype",
            "version",
            "nettype",
            "lang",
            "exportkey",
            "pass_ticket",
            "wx_header",
            "sharer_sharetime",
            "sharer_shareid",
            "from",
            "isappinstalled",
        }
    ),
    "www.bilibili.com": frozenset({"from", "seid", "buvid", "mid", "plat_id", "bbid", "ts"}),
    "b23.tv": frozenset({"from", "ts"}),
    "www.douyin.com": frozenset({"previous_page", "enter_from", "enter_method"}),
    "v.douyin.com": frozenset({"previous_page"}),
    "weibo.com": frozenset({"from", "wvr", "mod"}),
    "m.weibo.cn": frozenset({"from", "wvr", "mod"}),
}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Characters kept literally in a path, query or fragment (RFC 3986 pchar plus "/" and "?");
# everything else (spaces, quotes, non-ASCII ...) is percent-encoded as UTF-8.
_KEEP = _UNRESERVED | frozenset("!$&'()*+,;=:@/?%")
_PCT = re.compile(r"%([0-9A-Fa-f]{2})")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
# Chinese punctuation pasted after a link ("见 https://x.cn/a，"): never part of a URL as typed,
# and it cannot reappear at the end of a normalised URL (which is ASCII).
_STRIP_TRAILING = "，。；！？、）》」』】"
_INVISIBLE = re.compile(r"[\t\r\n\u200b-\u200d\u2060\ufeff]")


def _bad_url(index: int | None, code: str, message: str, message_zh: str) -> IntakeError:
    where = "" if index is None else f"第 {index + 1} 个"
    pointer = None if index is None else f"#/urls/{index}"
    return IntakeError(code, message, f"{where}网址{message_zh}", pointer=pointer)


def _encode_component(text: str) -> str:
    """Percent-encoding normalised: unreserved escapes decoded, other escapes upper-case,
    stray "%" escaped, characters outside `_KEEP` encoded as UTF-8."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "%":
            m = _PCT.match(text, i)
            if m:
                value = int(m.group(1), 16)
                decoded = chr(value)
                out.append(decoded if decoded in _UNRESERVED else f"%{value:02X}")
                i += 3
                continue
            out.append("%25")
        elif ch in _KEEP:
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
        i += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4."""
    output: list[str] = []
    for segment in path.split("/")[1:]:
        if segment == "..":
            if output:
                output.pop()
        elif segment != ".":
            output.append(segment)
    if path.split("/")[-1] in (".", ".."):
        output.append("")
    return "/" + "/".join(output)


def _is_tracking(key: str, host: str) -> bool:
    low = key.lower()
    return (
        low in TRACKING_PARAMS
        or low.startswith(TRACKING_PREFIXES)
        or low in HOST_TRACKING_PARAMS.get(host, ())
    )


def _host(hostname: str, index: int | None) -> str:
    if "%" in hostname:
        raise _bad_url(index, "bad_url", "percent-encoded host", "中的域名无效。")
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        address = None
    if address is not None:
        return f"[{address.compressed}]" if address.version == 6 else address.compressed
    try:
        return normalize_domain(hostname)
    except IdentifierError as exc:
        raise _bad_url(index, "bad_url", f"bad host: {exc}", "中的域名无效，请检查。") from None


def normalize_url(raw: str, index: int | None = None) -> str:
    """The canonical form of a pasted URL, or `IntakeError` ("bad_url", "url_too_long",
    "unsupported_url_scheme"). `index` names the URL's place in the request's list.

    Only http and https are accepted; a URL without a scheme is read as http. Idempotent:
    normalize_url(normalize_url(u)) == normalize_url(u).
    """
    if not isinstance(raw, str):
        raise _bad_url(index, "bad_url", "URL must be a string", "应为字符串。")
    text = _INVISIBLE.sub("", raw).strip().rstrip(_STRIP_TRAILING).strip()
    if not text:
        raise _bad_url(index, "bad_url", "empty URL", "为空。")
    if len(text) > MAX_URL_CHARS:
        raise _bad_url(
            index, "url_too_long", "URL too long", f"过长：最多 {MAX_URL_CHARS} 个字符。"
        )
    # Full-width forms people paste ("ｈｔｔｐｓ：／／例子。中国") become ASCII.
    text = unicodedata.normalize("NFKC", text)
    m = _SCHEME.match(text)
    if text.startswith("//"):
        text = "http:" + text
    elif m and text[m.end() : m.end() + 2] == "//":
        pass
    elif m and "." not in m.group(1) and not text[m.end() :][:1].isdigit():
        # "javascript:...", "mailto:..."; "example.cn:8080/x" and "localhost:80" have no scheme.
        raise _bad_url(
            index,
            "unsupported_url_scheme",
            f"unsupported scheme {m.group(1).lower()!r}",
            "不受支持：只接受以 http:// 或 https:// 开头的网址。",
        )
    else:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
        hostname = parts.hostname
    except ValueError:
        raise _bad_url(index, "bad_url", "unparsable URL", "无法解析，请检查格式。") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise _bad_url(
            index,
            "unsupported_url_scheme",
            f"unsupported scheme {scheme!r}",
            "不受支持：只接受以 http:// 或 https:// 开头的网址。",
        )
    if not hostname:
        raise _bad_url(index, "bad_url", "no host", "中没有域名。")
    host = _host(hostname, index)
    netloc = host if port is None or port == DEFAULT_PORTS[scheme] else f"{host}:{port}"

    path = _remove_dot_segments(_encode_component(parts.path or "/"))
    if not path.startswith("/"):
        path = "/" + path
    if len(path) > 1:
        path = path.rstrip("/") or "/"

    pairs = []
    for piece in parts.query.split("&"):
        if not piece:
            continue
        key, eq, value = piece.partition("=")
        key, value = _encode_component(key), _encode_component(value)
        if not key and not value:
            continue
        if _is_tracking(key, host):
            continue
        pairs.append((key, eq, value))
    pairs.sort()
    query = "&".join(k + eq + v for k, eq, v in pairs)

    fragment = _encode_component(parts.fragment)
    # "#!/post/1" and "#/post/1" name content in single-page sites; other fragments are a
    # place on the page and are dropped.
    keep_fragment = fragment[:1] in ("!", "/")

    url = f"{scheme}://{netloc}{path}"
    if query:
        url += "?" + query
    if keep_fragment:
        url += "#" + fragment
    if len(url) > MAX_URL_CHARS:
        raise _bad_url(
            index, "url_too_long", "URL too long", f"过长：最多 {MAX_URL_CHARS} 个字符。"
        )
    return url


def url_key(url: str) -> str:
    """SHA-256 of a normalised URL read without its scheme (http and https meet)."""
    _, _, rest = url.partition("://")
    return hashlib.sha256(rest.encode("utf-8", "surrogatepass")).hexdigest()


def url_host(url: str) -> str:
    """The host of a normalised URL (an A-label domain or an IP address)."""
    netloc = url.partition("://")[2].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if netloc.startswith("["):
        return netloc[: netloc.index("]") + 1]
    return netloc.rsplit(":", 1)[0] if ":" in netloc else netloc


# ---------------------------------------------------------------- domains and targets

# Public suffixes of more than one label that reports meet most (China first). Without the
# full Public Suffix List, "a.b.example.com.cn" reduces to "example.com.cn" by this table and
# anything else to its last two labels.
_CN_SECOND_LEVEL = (
    "com net org gov edu ac mil "  # categories
    "bj sh tj cq he sx nm ln jl hl js zj ah fj jx sd ha hb hn gd gx hi sc gz yn xz "  # provinces
    "sn gs qh nx xj tw hk mo"
)
MULTI_LABEL_SUFFIXES = frozenset(
    {
        *(f"{sld}.cn" for sld in _CN_SECOND_LEVEL.split()),
        "xn--55qx5d.cn",  # 公司.cn
        "xn--io0a7i.cn",  # 网络.cn
        "xn--od0alg.cn",  # 網絡.cn
        *(f"{sld}.hk" for sld in ("com", "org", "net", "edu", "gov", "idv")),
        *(f"{sld}.tw" for sld in ("com", "org", "net", "edu", "gov", "idv")),
        *(f"{sld}.mo" for sld in ("com", "org", "net", "edu", "gov")),
        "co.uk",
        "org.uk",
        "co.jp",
        "ne.jp",
        "or.jp",
        "com.au",
        "net.au",
        "co.kr",
        "com.sg",
        "com.my",
        "co.nz",
        "com.br",
        "github.io",
        "gitee.io",
    }
)


def registrable_domain(host: str) -> str:
    """The domain someone registered: "m.weibo.cn" → "weibo.cn", "a.b.com.cn" → "b.com.cn".
    IP addresses come back unchanged."""
    if host.startswith("[") or host.replace(".", "").isdigit():
        return host
    labels = host.split(".")
    if len(labels) >= 3 and ".".join(labels[-2:]) in MULTI_LABEL_SUFFIXES:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def domain_candidates(host: str) -> list[str]:
    """The host and each parent domain of two labels or more, longest first; what a ledger
    lookup tries ("m.example.com.cn" → [m.example.com.cn, example.com.cn, com.cn])."""
    if host.startswith("[") or host.replace(".", "").isdigit():
        return []
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def target_key(subject_id: int | None, urls: Sequence[str]) -> str | None:
    """Who an item is against: "subject:<id>" when linked to the ledger, else
    "domain:<registrable domain>" of the first URL, else None (nothing to flood)."""
    if subject_id is not None:
        return f"subject:{subject_id}"
    if urls:
        return f"domain:{registrable_domain(url_host(urls[0]))}"
    return None


# ---------------------------------------------------------------- content

MIN_CONTENT_CHARS = 20
CONTENT_HASH_VERSION = "qinglang-content-v1"


def normalize_content(text: str | None) -> str:
    """Text reduced to what it says: NFKC, case-folded, without punctuation, spaces, control
    and format characters, so re-posts differing only in those collide."""
    if not text:
        return ""
    previous, current = None, text
    # Folding and dropping can each undo the other's normal form; a fixed point is reached
    # in one or two rounds.
    while current != previous:
        previous = current
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", current).casefold())
        current = "".join(ch for ch in folded if unicodedata.category(ch)[0] not in "PZC")
    return current


def content_hash(text: str | None, digests: Iterable[str] = ()) -> str | None:
    """SHA-256 of the normalised text and the sorted attachment digests; None when empty."""
    norm = normalize_content(text)
    ds = sorted(set(digests))
    if not norm and not ds:
        return None
    body = "\n".join([CONTENT_HASH_VERSION, norm, *ds])
    return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()


def is_substantive(text: str | None, digests: Iterable[str] = ()) -> bool:
    """Content worth deduplicating on: at least MIN_CONTENT_CHARS characters, or evidence."""
    return len(normalize_content(text)) >= MIN_CONTENT_CHARS or any(True for _ in digests)


# ---------------------------------------------------------------- flooding


@dataclass(frozen=True, slots=True)
class FloodRule:
    """When tips against one target are a flood, and when a flood looks organised.

    flood: more than `threshold` public tips against the target within `window` (this one
    included). coordinated (恶意举报): a flood in which the `top_clients` most active clients
    (keyed hashes of their addresses) filed more than `majority` of the tips, or in which one
    content hash (a template) makes up more than `majority`. Both are flags for the officer,
    never a refusal: a real scandal also brings many tips.

    Only the most recent `sample` tips of the window are read (SAMPLE_FACTOR times the
    threshold), so judging stays cheap during a flood; counts above it are reported as
    `sample`.
    """

    threshold: int
    window: timedelta
    top_clients: int = 3
    majority: Fraction = Fraction(1, 2)

    SAMPLE_FACTOR: ClassVar[int] = 5

    @property
    def sample(self) -> int:
        return max(self.threshold * self.SAMPLE_FACTOR, self.threshold + 1)

    def __post_init__(self) -> None:
        if self.threshold < 1 or self.window <= timedelta(0) or self.top_clients < 1:
            raise ValueError("flood rule needs threshold >= 1, a positive window, top_clients >= 1")


@dataclass(frozen=True, slots=True)
class TargetActivity:
    """Public tips against one target within the window, the new one included."""

    count: int
    per_client: tuple[int, ...] = ()  # tips per identified client
    per_content: tuple[int, ...] = ()  # tips per content hash


def flood_flags(activity: TargetActivity, rule: FloodRule) -> tuple[str, ...]:
    if activity.count <= rule.threshold:
        return ()
    top = sum(sorted(activity.per_client, reverse=True)[: rule.top_clients])
    template = max(activity.per_content, default=0)
    limit = rule.majority * activity.count
    if top > limit or template > limit:
        return ("flood", "coordinated")
    return ("flood",)


# ---------------------------------------------------------------- self-report deadline


def report_deadline(discovered_at: datetime, hours: int) -> datetime:
    if discovered_at.tzinfo is None or discovered_at.utcoffset() is None:
        raise ValueError("discovered_at must be timezone-aware")
    return discovered_at + timedelta(hours=hours)


def is_late(received_at: datetime, deadline: datetime | None) -> bool:
    return deadline is not None and received_at > deadline


# ---------------------------------------------------------------- public status


class PublicStatus(NamedTuple):
    code: str
    name_zh: str
    description_zh: str


ACCEPTED = PublicStatus("accepted", "已受理", "您的举报已受理，正在核查。")
PROCESSING = PublicStatus("processing", "处理中", "有关部门正在依法处理。")
CONCLUDED = PublicStatus("concluded", "已办结", "处理完毕。")
DECLINED = PublicStatus("declined", "不予立案", "经核查，不予立案。")
TRANSFERRED = PublicStatus("transferred", "已移交", "已移交有关部门处理。")

_PUBLIC_BY_STATE: dict[State, PublicStatus] = {
    State.lead: ACCEPTED,
    State.opened: PROCESSING,
    State.assessing: PROCESSING,
    State.disposing: PROCESSING,
    State.rectifying: PROCESSING,
    State.rechecking: PROCESSING,
    State.closed: CONCLUDED,
    State.dismissed: DECLINED,
    State.transferred: TRANSFERRED,
}
PUBLIC_STATUSES = (ACCEPTED, PROCESSING, CONCLUDED, DECLINED, TRANSFERRED)


def public_status(case_state: str | None) -> PublicStatus:
    """What a reporter is told, derived from the state of the lead's case only."""
    if case_state is None:
        return ACCEPTED
    return _PUBLIC_BY_STATE[State(case_state)]


def shows_result(status: PublicStatus) -> bool:
    """A public result (cases.public_result) is shown once the case has ended."""
    return status in (CONCLUDED, DECLINED, TRANSFERRED)


# ---------------------------------------------------------------- attachments

ALLOWED_MEDIA_TYPES: dict[str, str] = {
    "image/png": "PNG 图片",
    "image/jpeg": "JPEG 图片",
    "image/gif": "GIF 图片",
    "image/webp": "WebP 图片",
    "application/pdf": "PDF 文档",
    "video/mp4": "MP4 视频",
    "text/plain": "纯文本（UTF-8）",
}
MEDIA_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "application/x-pdf": "application/pdf",
    "text/x-log": "text/plain",
}
# Declared types that mean "unknown": the content decides.
UNSPECIFIED_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_DATA_URL = re.compile(r"data:([^;,]*)(?:;[^,]*)?;base64,", re.IGNORECASE)
_B64_SPACE = re.compile(r"\s+")
_B64_CHARS = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def sniff_media_type(content: bytes) -> str | None:
    """The allowed media type the bytes show (magic numbers), or None."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content[4:8] == b"ftyp":
        return "video/mp4"
    if b"\x00" not in content:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return "text/plain"
    return None


def _declared(media_type: str | None) -> str:
    base = (media_type or "").split(";", 1)[0].strip().lower()
    return MEDIA_ALIASES.get(base, base)


@dataclass(frozen=True, slots=True)
class DecodedAttachment:
    content: bytes
    media_type: str
    declared_name: str | None = field(default=None)


def decode_attachment(
    data: str, media_type: str | None, max_bytes: int, index: int
) -> DecodedAttachment:
    """Base64 (or a data: URL) to bytes, checked for size and type. Refusals:
    bad_base64, attachment_too_large, empty_attachment, unsupported_attachment_type,
    attachment_type_mismatch."""
    where = f"第 {index + 1} 个附件"
    pointer = f"#/attachments/{index}"
    if not isinstance(data, str):
        raise IntakeError("bad_base64", "data must be a string", f"{where}内容应为 Base64 字符串。")
    text = data
    m = _DATA_URL.match(text)
    if m:
        media_type = media_type or m.group(1)
        text = text[m.end() :]
    text = _B64_SPACE.sub("", text).replace("-", "+").replace("_", "/")
    # Bound the work before decoding: 4 characters carry 3 bytes.
    if (len(text) // 4) * 3 - 2 > max_bytes:
        raise IntakeError(
            "attachment_too_large",
            f"attachment {index} larger than {max_bytes} bytes",
            f"{where}过大：每个附件最多 {max_bytes} 字节（{max_bytes // 1024} KiB）。",
            pointer=pointer + "/data",
            kind="too_large",
        )
    if not _B64_CHARS.fullmatch(text) or len(text.rstrip("=")) % 4 == 1:
        raise IntakeError(
            "bad_base64",
            f"attachment {index} is not valid base64",
            f"{where}不是有效的 Base64 编码。",
            pointer=pointer + "/data",
        )
    try:
        content = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise IntakeError(
            "bad_base64",
            f"attachment {index} is not valid base64",
            f"{where}不是有效的 Base64 编码。",
            pointer=pointer + "/data",
        ) from None
    if len(content) > max_bytes:
        raise IntakeError(
            "attachment_too_large",
            f"attachment {index} larger than {max_bytes} bytes",
            f"{where}过大：每个附件最多 {max_bytes} 字节（{max_bytes // 1024} KiB）。",
            pointer=pointer + "/data",
            kind="too_large",
        )
    if not content:
        raise IntakeError(
            "empty_attachment", f"attachment {index} is empty", f"{where}为空。", pointer=pointer
        )
    sniffed = sniff_media_type(content)
    allowed = "、".join(ALLOWED_MEDIA_TYPES.values())
    if sniffed is None:
        raise IntakeError(
            "unsupported_attachment_type",
            f"attachment {index}: unsupported content",
            f"{where}的文件类型不受支持，仅接受：{allowed}。",
            pointer=pointer,
        )
    declared = _declared(media_type)
    if declared not in UNSPECIFIED_TYPES and declared != sniffed:
        if declared not in ALLOWED_MEDIA_TYPES:
            raise IntakeError(
                "unsupported_attachment_type",
                f"attachment {index}: declared type {declared!r} not allowed",
                f"{where}的文件类型不受支持，仅接受：{allowed}。",
                pointer=pointer + "/media_type",
            )
        raise IntakeError(
            "attachment_type_mismatch",
            f"attachment {index}: declared {declared}, content is {sniffed}",
            f"{where}声明的类型与文件内容不符（内容为{ALLOWED_MEDIA_TYPES[sniffed]}）。",
            pointer=pointer + "/media_type",
        )
    return DecodedAttachment(content, sniffed)


DEFAULT_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    "video/mp4": ".mp4",
    "text/plain": ".txt",
}
