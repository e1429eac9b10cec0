"""The ledger (台账) of supervised subjects: kinds, status scales and field validation (pure).

A subject is something the campaign supervises: a website, an app, an online game, a live or
video platform, an account or a group. Each kind is a registered class (python-threatexchange's
habit) with its Chinese name, the fields it requires, the fields it allows, and `examples` of
valid and invalid field sets that drive the shared test in tests/govern/test_ledger.py.

`validate_subject(fields)` takes the fields as they arrive from JSON or from a CSV/XLSX cell
(strings, numbers, booleans, Chinese labels such as “已落实” or “是”) and returns the canonical
record to store and compare: identifiers normalised (USCC check character verified, ICP filing
number in its canonical spelling, division codes, domains as IDNA A-labels), enumerations as
their codes, every field present. Everything wrong with a record is reported at once, per field,
in a `LedgerError` whose entries carry a stable code and a Chinese sentence for the end user, so
an import can list every problem of a row. Nothing here touches a database or the clock.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar
from urllib.parse import urlsplit

from qinglang.govern.identifiers import (
    IdentifierError,
    domain_of_url,
    normalize_division,
    normalize_domain,
    normalize_icp_filing,
    normalize_uscc,
)

MAX_ID = 2**31 - 1
MAX_DOMAINS = 50
MAX_NAME = 200
MAX_NOTES = 4000
MAX_URL = 2048
MAX_RAW_LIST = 20_000  # characters of a pasted domain list, before splitting

# ---------------------------------------------------------------- status scales


class YouthMode(StrEnum):
    """青少年模式 (000 一(二), video-youth-2019, cac-minor-mode-2024)."""

    unknown = "unknown"
    none = "none"
    partial = "partial"
    compliant = "compliant"


class AntiAddiction(StrEnum):
    """防沉迷: real-name checks, play-time and spending limits (nppa-2019, nppa-2021)."""

    unknown = "unknown"
    none = "none"
    partial = "partial"
    compliant = "compliant"


class RiskLevel(StrEnum):
    unknown = "unknown"
    low = "low"
    medium = "medium"
    high = "high"


class Category(StrEnum):
    """The subject's line of business, in the words of the 2020 notice (000)."""

    education = "education"
    game = "game"
    live_streaming = "live_streaming"
    video = "video"
    social = "social"
    forum = "forum"
    literature = "literature"
    news = "news"
    tool = "tool"
    ecommerce = "ecommerce"
    search = "search"
    other = "other"


_DUTY_LABELS = {"unknown": "未核查", "none": "未落实", "partial": "部分落实", "compliant": "已落实"}
_DUTY_ALIASES = {
    "未知": "unknown",
    "未检查": "unknown",
    "无": "none",
    "没有": "none",
    "未设置": "none",
    "未上线": "none",
    "部分": "partial",
    "有": "compliant",
    "已设置": "compliant",
    "已上线": "compliant",
    "合规": "compliant",
}

# Chinese label per enumeration value (what exports and forms show).
LABELS_ZH: dict[type[StrEnum], dict[str, str]] = {
    YouthMode: _DUTY_LABELS,
    AntiAddiction: _DUTY_LABELS,
    RiskLevel: {"unknown": "未评估", "low": "低", "medium": "中", "high": "高"},
    Category: {
        "education": "学习教育",
        "game": "网络游戏",
        "live_streaming": "网络直播",
        "video": "网络视频（含短视频）",
        "social": "社交",
        "forum": "论坛社区",
        "literature": "网络文学",
        "news": "新闻资讯",
        "tool": "工具类",
        "ecommerce": "电子商务",
        "search": "搜索引擎",
        "other": "其他",
    },
}

# More spellings accepted on input (spreadsheets written by hand).
_ALIASES: dict[type[StrEnum], dict[str, str]] = {
    YouthMode: _DUTY_ALIASES,
    AntiAddiction: _DUTY_ALIASES,
    RiskLevel: {
        "未知": "unknown",
        "低风险": "low",
        "中风险": "medium",
        "中等": "medium",
        "高风险": "high",
    },
    Category: {
        "教育": "education",
        "学习": "education",
        "游戏": "game",
        "直播": "live_streaming",
        "视频": "video",
        "短视频": "video",
        "网络视频": "video",
        "论坛": "forum",
        "社区": "forum",
        "文学": "literature",
        "小说": "literature",
        "新闻": "news",
        "资讯": "news",
        "工具": "tool",
        "电商": "ecommerce",
        "搜索": "search",
    },
}


def label_zh(enum_cls: type[StrEnum], value: str) -> str:
    return LABELS_ZH[enum_cls][str(value)]


# ---------------------------------------------------------------- fields

# The fields of a ledger record, in the order forms and exports show them, with their labels.
FIELD_LABELS_ZH: dict[str, str] = {
    "kind": "类型",
    "name": "名称",
    "operator_name": "运营主体",
    "uscc": "统一社会信用代码",
    "organisation_id": "机构编号",
    "icp_filing": "ICP备案号",
    "domains": "域名",
    "region": "地区代码",
    "category": "行业类别",
    "education_app": "教育类应用",
    "school_cooperation": "与学校合作",
    "game_approval_no": "游戏版号",
    "youth_mode": "青少年模式",
    "anti_addiction": "防沉迷",
    "risk_level": "风险等级",
    "platform_url": "平台地址",
    "notes": "备注",
}
FIELDS: tuple[str, ...] = tuple(FIELD_LABELS_ZH)

# Every kind has these; `kind`, `name` and `region` are always required.
COMMON_FIELDS = frozenset(
    {
        "kind",
        "name",
        "region",
        "operator_name",
        "uscc",
        "organisation_id",
        "category",
        "risk_level",
        "notes",
    }
)
ALWAYS_REQUIRED = ("kind", "name", "region")

# The value a field has when it is not filled in.
DEFAULTS: dict[str, Any] = {
    "operator_name": None,
    "uscc": None,
    "organisation_id": None,
    "icp_filing": None,
    "domains": [],
    "category": None,
    "education_app": False,
    "school_cooperation": False,
    "game_approval_no": None,
    "youth_mode": "unknown",
    "anti_addiction": "unknown",
    "risk_level": "unknown",
    "platform_url": None,
    "notes": None,
}

ENUM_FIELDS: dict[str, type[StrEnum]] = {
    "youth_mode": YouthMode,
    "anti_addiction": AntiAddiction,
    "risk_level": RiskLevel,
    "category": Category,
}
BOOL_FIELDS = ("education_app", "school_cooperation")


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field: `code` is stable for programs, `message_zh` is for people."""

    field: str
    code: str
    message_zh: str


class LedgerError(ValueError):
    """A record that cannot enter the ledger; `errors` lists every problem found."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors = tuple(errors)
        if not self.errors:
            raise ValueError("LedgerError needs at least one FieldError")
        super().__init__("; ".join(f"{e.field}: {e.code}" for e in self.errors))

    @property
    def fields(self) -> set[str]:
        return {e.field for e in self.errors}

    @property
    def message_zh(self) -> str:
        return "；".join(
            f"{FIELD_LABELS_ZH.get(e.field, e.field)}：{e.message_zh}" for e in self.errors
        )


class _Bad(Exception):
    """Raised by a field parser; becomes one FieldError."""

    def __init__(self, code: str, message_zh: str) -> None:
        super().__init__(code)
        self.code = code
        self.message_zh = message_zh


def _echo(value: object, limit: int = 40) -> str:
    """A user value made safe to quote back: bounded and printable."""
    text = value if isinstance(value, str) else repr(value)
    text = "".join(ch if ch.isprintable() else "\ufffd" for ch in text[: limit + 1])
    return text if len(text) <= limit else text[:limit] + "…"


def _identifier_error(exc: IdentifierError) -> _Bad:
    return _Bad(f"{exc.kind}_{exc.reason}", exc.message_zh)


# ---------------------------------------------------------------- field parsers

_WS = re.compile(r"\s+")


def _bad_chars(text: str) -> bool:
    """Control characters other than tab and line breaks (a single-line field folds those
    into spaces), and lone surrogates, which neither UTF-8 nor PostgreSQL can hold."""
    return any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\r\t" for ch in text)


def _text(value: Any, max_len: int, *, multiline: bool = False) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _Bad("bad_type", "应为文本。")
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    if _bad_chars(text):
        raise _Bad("control_char", "含有不可见的控制字符或无效字符，请删除后重试。")
    text = text.strip() if multiline else _WS.sub(" ", text).strip()
    if not text:
        return None
    if len(text) > max_len:
        raise _Bad("too_long", f"过长：最多{max_len}个字符（现有{len(text)}个）。")
    return text


def _name(value: Any) -> str | None:
    return _text(value, MAX_NAME)


def _notes(value: Any) -> str | None:
    return _text(value, MAX_NOTES, multiline=True)


def _identifier(normalize: Callable[[str], str]) -> Callable[[Any], str | None]:
    def parse(value: Any) -> str | None:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # a spreadsheet may hand over 310000 as a number
        text = _text(value, 100)
        if text is None:
            return None
        try:
            return normalize(text)
        except IdentifierError as exc:
            raise _identifier_error(exc) from None

    return parse


# Since 2023 apps, mini programs and quick apps file under the operator's ICP number with a
# letter after the site suffix: "京ICP备12345678号-1A" (App), "…-1X" (小程序), "…-1K" (快应用).
APP_FILING_SUFFIXES = "AXK"
_APP_FILING = re.compile(r"(?P<base>.+号-[0-9]{1,4})(?P<letter>[A-Za-z])")


def normalize_subject_icp(value: str) -> str:
    """An ICP filing number, with the app / mini program / quick app letter if it has one."""
    text = _WS.sub("", unicodedata.normalize("NFKC", value))
    m = _APP_FILING.fullmatch(text)
    if m is None:
        return normalize_icp_filing(text)
    letter = m["letter"].upper()
    if letter not in APP_FILING_SUFFIXES:
        raise IdentifierError("icp", "format", f"unknown ICP filing suffix letter {letter!r}")
    return normalize_icp_filing(m["base"]) + letter


def icp_is_app_filing(icp: str) -> bool:
    return icp[-1:] in APP_FILING_SUFFIXES


_uscc = _identifier(normalize_uscc)
_region = _identifier(normalize_division)
_icp = _identifier(normalize_subject_icp)


def _organisation_id(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        if re.fullmatch(r"[0-9]{1,10}", text):
            number = int(text)
    if number is None or not 1 <= number <= MAX_ID:
        raise _Bad("bad_id", "应为正整数编号。")
    return number


_TRUE = frozenset({"true", "1", "yes", "y", "是", "有", "对", "√", "✓"})
_FALSE = frozenset({"false", "0", "no", "n", "否", "无", "不是", "×", "✗"})


def _bool(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip().lower()
        if not text:
            return False
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise _Bad("bad_bool", "应为“是”或“否”。")


def parse_choice(enum_cls: type[StrEnum], value: Any) -> str | None:
    """The code of an enumeration value given as its code or its Chinese label; None if empty."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Bad("bad_type", "应为文本。")
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        return None
    lowered = text.lower()
    if lowered in enum_cls.__members__:
        return enum_cls(lowered).value
    for code, label in LABELS_ZH[enum_cls].items():
        if text == unicodedata.normalize("NFKC", label):
            return code
    alias = _ALIASES.get(enum_cls, {}).get(text)
    if alias is not None:
        return alias
    choices = "、".join(f"{c}（{label}）" for c, label in LABELS_ZH[enum_cls].items())
    raise _Bad("unknown_value", f"取值“{_echo(text)}”无效，可选：{choices}。")


def _choice(enum_cls: type[StrEnum], default: str | None) -> Callable[[Any], str | None]:
    def parse(value: Any) -> str | None:
        code = parse_choice(enum_cls, value)
        return default if code is None else code

    return parse


_PROVINCE_SLDS = (
    "bj",
    "tj",
    "he",
    "sx",
    "nm",
    "ln",
    "jl",
    "hl",
    "sh",
    "js",
    "zj",
    "ah",
    "fj",
    "jx",
    "sd",
    "ha",
    "hb",
    "hn",
    "gd",
    "gx",
    "hi",
    "cq",
    "sc",
    "gz",
    "yn",
    "xz",
    "sn",
    "gs",
    "qh",
    "nx",
    "xj",
    "tw",
    "hk",
    "mo",
)

# Second-level names under .cn that registries hand out below, never to one operator: a
# subject claiming one would swallow every site under it in the domain lookup.
PUBLIC_SUFFIXES = frozenset(
    {f"{sld}.cn" for sld in ("com", "net", "org", "gov", "edu", "ac", "mil")}
    | {f"{p}.cn" for p in _PROVINCE_SLDS}
    | {"com.hk", "com.tw", "com.mo", "co.uk", "com.au", "co.jp"}
)
_LIST_SEPARATORS = re.compile(r"[;；、,，|\s]+")


def _one_domain(text: str) -> str:
    try:
        if "/" in text or "\\" in text:
            return domain_of_url(text)  # a pasted address: keep its host
        return normalize_domain(text)
    except IdentifierError as exc:
        raise _Bad(f"{exc.kind}_{exc.reason}", f"“{_echo(text)}”：{exc.message_zh}") from None


def _domains(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        if len(value) > MAX_RAW_LIST:
            raise _Bad("too_long", "域名列表过长。")
        items: list[Any] = [p for p in _LIST_SEPARATORS.split(value) if p]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise _Bad("bad_type", "应为域名列表，多个域名以分号或顿号分隔。")
    if len(items) > MAX_DOMAINS:
        raise _Bad("too_many", f"域名过多：每个主体最多{MAX_DOMAINS}个。")
    out: set[str] = set()
    for item in items:
        if not isinstance(item, str):
            raise _Bad("bad_type", "每个域名应为文本。")
        if _bad_chars(item):
            raise _Bad("control_char", "含有不可见的控制字符或无效字符，请删除后重试。")
        text = item.strip()
        if not text:
            continue
        domain = _one_domain(text)
        if domain in PUBLIC_SUFFIXES:
            raise _Bad(
                "public_suffix",
                f"“{domain}”是公共后缀，不属于任何一个运营主体，请填写完整域名。",
            )
        out.add(domain)
    return sorted(out)


def _platform_url(value: Any) -> str | None:
    text = _text(value, MAX_URL)
    if text is None:
        return None
    bad = _Bad("bad_url", "应为以 http:// 或 https:// 开头的完整网址。")
    if " " in text:
        raise bad
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        raise bad from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise bad
    host = parts.hostname
    try:
        ipaddress.ip_address(host)
    except ValueError:
        try:
            normalize_domain(host)
        except IdentifierError as exc:
            raise _Bad("bad_url", f"网址中的域名无效：{exc.message_zh}") from None
    return text


# ---------------------------------------------------------------- game approval numbers (版号)

# The NPPA's approval document number (批准文号) has carried three prefixes over the years:
# 新出审字 (GAPP, to 2013), 新广出审 (SAPPRFT, 2013-2018), 国新出审 (NPPA, since 2018).
_APPROVAL_PREFIXES = ("国新出审", "新广出审", "新出审字")
_APPROVAL = re.compile(
    r"(?P<prefix>国新出审|新广出审|新出审字)[\[【〔(（［](?P<year>(?:19|20)[0-9]{2})[\]】〕)）］]"
    r"第?(?P<number>[0-9]{1,6})号"
)
_ISBN = re.compile(r"ISBN:?(?P<digits>[0-9-]{13,20})", re.IGNORECASE)


def isbn13_check_digit(first12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def normalize_game_approval(value: str) -> str:
    """A game's 版号: the approval document number or its publication number (ISBN 978-7).

    "国新出审[2021]1234号" → "国新出审〔2021〕1234号"; "ISBN 978-7-498-01234-0" →
    "ISBN 9787498012340" (hyphen placement varies, so the canonical form drops it).
    """
    text = _WS.sub("", unicodedata.normalize("NFKC", value))
    m = _APPROVAL.fullmatch(text)
    if m is not None:
        return f"{m['prefix']}〔{m['year']}〕{int(m['number'])}号"
    m = _ISBN.fullmatch(text)
    if m is not None:
        digits = m["digits"].replace("-", "")
        if len(digits) != 13 or not digits.isdigit():
            raise ValueError("ISBN must have 13 digits")
        if not digits.startswith("9787"):
            raise ValueError("game ISBNs of Chinese publishers start 978-7")
        if isbn13_check_digit(digits[:12]) != digits[12]:
            raise ValueError("ISBN check digit does not match")
        return f"ISBN {digits}"
    raise ValueError(f"not a game approval number: {text!r}")


def _game_approval(value: Any) -> str | None:
    text = _text(value, 64)
    if text is None:
        return None
    try:
        return normalize_game_approval(text)
    except ValueError as exc:
        if "check digit" in str(exc):
            raise _Bad("isbn_check", "出版物号（ISBN）校验位不正确，请核对。") from None
        raise _Bad(
            "bad_format",
            "格式不正确，应为批准文号（如“国新出审〔2021〕1234号”）"
            "或出版物号（如“ISBN 978-7-498-01234-0”）。",
        ) from None


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "name": _name,
    "operator_name": _name,
    "uscc": _uscc,
    "organisation_id": _organisation_id,
    "icp_filing": _icp,
    "domains": _domains,
    "region": _region,
    "category": _choice(Category, None),
    "education_app": _bool,
    "school_cooperation": _bool,
    "game_approval_no": _game_approval,
    "youth_mode": _choice(YouthMode, "unknown"),
    "anti_addiction": _choice(AntiAddiction, "unknown"),
    "risk_level": _choice(RiskLevel, "unknown"),
    "platform_url": _platform_url,
    "notes": _notes,
}


# ---------------------------------------------------------------- kinds


@dataclass(frozen=True, slots=True)
class Example:
    """A field set and whether it is valid.

    `normalised`: fields the result must contain (valid examples); `field`: a field the
    errors must name (invalid examples).
    """

    fields: Mapping[str, Any]
    valid: bool
    normalised: Mapping[str, Any] | None = None
    field: str | None = None


class SubjectKind:
    """A kind of supervised subject. Subclasses set the class attributes and register."""

    code: ClassVar[str]
    name: ClassVar[str]  # Chinese name, as regulators write it in a ledger
    description: ClassVar[str]
    required: ClassVar[frozenset[str]] = frozenset()  # beyond kind, name and region
    allowed: ClassVar[frozenset[str]] = frozenset()  # beyond COMMON_FIELDS
    app_filing: ClassVar[bool] = False  # may carry an app/mini-program ICP filing ("-1A")
    examples: ClassVar[tuple[Example, ...]]

    @classmethod
    def fields(cls) -> frozenset[str]:
        """Every field this kind may fill in."""
        return COMMON_FIELDS | cls.allowed | cls.required

    @classmethod
    def check(cls, record: Mapping[str, Any], failed: set[str]) -> list[FieldError]:
        """Kind rules on parsed fields; `failed` names fields that already have an error."""
        errors: list[FieldError] = []
        for name in sorted(cls.required):
            if name not in failed and record.get(name) in (None, [], ""):
                errors.append(FieldError(name, "required", "必须填写。"))
        for name in sorted(set(DEFAULTS) - cls.fields()):
            if name not in failed and record.get(name) != DEFAULTS[name]:
                errors.append(
                    FieldError(name, "not_applicable", f"“{cls.name}”不适用此项，请留空。")
                )
        icp = record.get("icp_filing")
        if icp and "icp_filing" not in failed and icp_is_app_filing(icp) and not cls.app_filing:
            errors.append(
                FieldError(
                    "icp_filing",
                    "app_filing",
                    f"带字母后缀的是App、小程序或快应用的备案号，“{cls.name}”应填写网站备案号。",
                )
            )
        if (
            record.get("school_cooperation")
            and not record.get("education_app")
            and "school_cooperation" in cls.fields()
            and not failed & {"school_cooperation", "education_app"}
        ):
            errors.append(
                FieldError(
                    "school_cooperation",
                    "needs_education_app",
                    "与学校合作的应用须同时标记为教育类应用。",
                )
            )
        return errors


_REGISTRY: dict[str, type[SubjectKind]] = {}


def register(cls: type[SubjectKind]) -> type[SubjectKind]:
    """Class decorator: add a subject kind under its unique code."""
    if cls.code in _REGISTRY and _REGISTRY[cls.code] is not cls:
        raise ValueError(f"subject kind {cls.code!r} registered twice")
    unknown = (cls.required | cls.allowed) - set(FIELDS)
    if unknown:
        raise ValueError(f"subject kind {cls.code!r}: unknown fields {sorted(unknown)}")
    _REGISTRY[cls.code] = cls
    return cls


def registered() -> dict[str, type[SubjectKind]]:
    """All subject kinds by code, in registration order."""
    return dict(_REGISTRY)


# Other names a spreadsheet may use for a kind.
_KIND_ALIASES = {
    "网址": "website",
    "网页": "website",
    "app": "app",
    "应用": "app",
    "移动应用": "app",
    "移动应用程序": "app",
    "应用程序": "app",
    "小程序": "app",
    "游戏": "game",
    "手游": "game",
    "直播平台": "live_video",
    "视频平台": "live_video",
    "直播": "live_video",
    "短视频平台": "live_video",
    "帐号": "account",
    "用户账号": "account",
    "群": "group",
    "群聊": "group",
}


def get_kind(value: Any) -> type[SubjectKind]:
    """The kind named by its code, its Chinese name or a common alias; `_Bad` otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _Bad("required", "必须填写。")
    if not isinstance(value, str):
        raise _Bad("bad_type", "应为文本。")
    text = unicodedata.normalize("NFKC", value).strip()
    code = text.lower()
    if code not in _REGISTRY:
        by_name = {unicodedata.normalize("NFKC", k.name): c for c, k in _REGISTRY.items()}
        code = by_name.get(text) or _KIND_ALIASES.get(code, "")
    if code not in _REGISTRY:
        choices = "、".join(f"{c}（{k.name}）" for c, k in _REGISTRY.items())
        raise _Bad("unknown_value", f"类型“{_echo(text)}”无效，可选：{choices}。")
    return _REGISTRY[code]


def kind_of(value: Any) -> type[SubjectKind]:
    """`get_kind` for callers outside this module: raises `LedgerError`."""
    try:
        return get_kind(value)
    except _Bad as exc:
        raise LedgerError([FieldError("kind", exc.code, exc.message_zh)]) from None


def parse_field(name: str, value: Any) -> Any:
    """One field parsed on its own (for filters and lookups); raises `LedgerError`."""
    if name == "kind":
        return kind_of(value).code
    try:
        return _PARSERS[name](value)
    except _Bad as exc:
        raise LedgerError([FieldError(name, exc.code, exc.message_zh)]) from None


def validate_subject(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical record for `fields`, or `LedgerError` listing every problem.

    Missing fields take their defaults (empty, “否”, “未核查”); the result has every field
    of FIELDS, enumerations as codes and domains as a sorted list of A-labels. Applying it
    again to its own result returns the same record.
    """
    errors: list[FieldError] = []
    for name in fields:
        if name not in FIELD_LABELS_ZH:
            errors.append(FieldError(_echo(name), "unknown_field", "不支持的字段。"))
    kind: type[SubjectKind] | None = None
    try:
        kind = get_kind(fields.get("kind"))
    except _Bad as exc:
        errors.append(FieldError("kind", exc.code, exc.message_zh))
    record: dict[str, Any] = {"kind": kind.code if kind else None}
    failed: set[str] = set()
    for name, parse in _PARSERS.items():
        try:
            record[name] = parse(fields.get(name))
        except _Bad as exc:
            failed.add(name)
            record[name] = DEFAULTS.get(name)
            errors.append(FieldError(name, exc.code, exc.message_zh))
    for name in ALWAYS_REQUIRED[1:]:  # the kind was checked above
        if name not in failed and record[name] is None:
            errors.append(FieldError(name, "required", "必须填写。"))
    if kind is not None:
        errors.extend(kind.check(record, failed))
    if errors:
        raise LedgerError(errors)
    return {name: record[name] for name in FIELDS}


def changes_between(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """{field: {"old": ..., "new": ...}} for every field of FIELDS that differs."""
    return {
        name: {"old": old.get(name), "new": new.get(name)}
        for name in FIELDS
        if old.get(name) != new.get(name)
    }


# ---------------------------------------------------------------- the kinds (issue 4)

_USCC = "91310000MA1FL0001R"  # a well-formed code (check character R), not a real company
_SH = "310000"


@register
class Website(SubjectKind):
    code = "website"
    name = "网站"
    description = "A website reached by its domains; files an ICP number with MIIT."
    required = frozenset({"domains"})
    allowed = frozenset(
        {
            "icp_filing",
            "platform_url",
            "youth_mode",
            "anti_addiction",
            "education_app",
            "school_cooperation",
        }
    )
    examples = (
        Example(
            {
                "kind": "website",
                "name": "示例学习网",
                "region": "310000",
                "domains": "Example.CN; www.example.cn、例子.中国",
                "uscc": " 91310000ma1fl0001r ",
                "icp_filing": "沪ICP备12345678号-1",
                "category": "学习教育",
            },
            True,
            {
                "domains": ["example.cn", "www.example.cn", "xn--fsqu00a.xn--fiqs8s"],
                "uscc": _USCC,
                "icp_filing": "沪ICP备12345678号-1",
                "category": "education",
                "youth_mode": "unknown",
                "education_app": False,
            },
        ),
        Example(
            {
                "kind": "网站",
                "name": "示例网",
                "region": 310000,
                "domains": ["https://m.example.cn/path?q=1"],
            },
            True,
            {"kind": "website", "region": "310000", "domains": ["m.example.cn"]},
        ),
        Example({"kind": "website", "name": "无域名网站", "region": _SH}, False, field="domains"),
        Example(
            {"kind": "website", "name": "x", "region": _SH, "domains": "com.cn"},
            False,
            field="domains",
        ),
        Example(
            {"kind": "website", "name": "x", "region": _SH, "domains": "localhost"},
            False,
            field="domains",
        ),
        Example(
            {
                "kind": "website",
                "name": "x",
                "region": _SH,
                "domains": "example.cn",
                "icp_filing": "沪ICP备12345678号-1A",
            },
            False,
            field="icp_filing",
        ),
        Example(
            {
                "kind": "website",
                "name": "x",
                "region": _SH,
                "domains": "example.cn",
                "game_approval_no": "国新出审〔2021〕1234号",
            },
            False,
            field="game_approval_no",
        ),
        Example(
            {
                "kind": "website",
                "name": "x",
                "region": _SH,
                "domains": "example.cn",
                "uscc": "91310000MA1FL00010",
            },
            False,
            field="uscc",
        ),
    )


@register
class App(SubjectKind):
    """Apps, with the two flags the 2018 education-app campaign (004) asks to count."""

    code = "app"
    name = "应用程序（App）"
    description = "A mobile app; education apps and apps used through schools are flagged."
    allowed = frozenset(
        {
            "domains",
            "icp_filing",
            "platform_url",
            "youth_mode",
            "anti_addiction",
            "education_app",
            "school_cooperation",
        }
    )
    app_filing = True
    examples = (
        Example(
            {
                "kind": "app",
                "name": "示例作业帮手",
                "region": "430100",
                "education_app": "是",
                "school_cooperation": "是",
                "icp_filing": "湘ICP备12345678号-3a",
                "youth_mode": "已落实",
            },
            True,
            {
                "education_app": True,
                "school_cooperation": True,
                "icp_filing": "湘ICP备12345678号-3A",
                "youth_mode": "compliant",
            },
        ),
        Example(
            {"kind": "APP", "name": "工具", "region": "430100", "education_app": False},
            True,
            {"kind": "app", "school_cooperation": False, "domains": []},
        ),
        Example(
            {"kind": "app", "name": "x", "region": "430100", "school_cooperation": True},
            False,
            field="school_cooperation",
        ),
        Example(
            {"kind": "app", "name": "x", "region": "430100", "education_app": "也许"},
            False,
            field="education_app",
        ),
        Example(
            {"kind": "app", "name": "x", "region": "430100", "icp_filing": "湘ICP备12345678号-3Q"},
            False,
            field="icp_filing",
        ),
        Example({"kind": "app", "name": "x", "region": "431"}, False, field="region"),
    )


@register
class Game(SubjectKind):
    code = "game"
    name = "网络游戏"
    description = "An online game; its approval number (版号) is checked for format."
    allowed = frozenset(
        {
            "domains",
            "icp_filing",
            "platform_url",
            "game_approval_no",
            "youth_mode",
            "anti_addiction",
        }
    )
    app_filing = True
    examples = (
        Example(
            {
                "kind": "game",
                "name": "示例手游",
                "region": "440300",
                "game_approval_no": "国新出审[2021]1234号",
                "anti_addiction": "partial",
            },
            True,
            {"game_approval_no": "国新出审〔2021〕1234号", "anti_addiction": "partial"},
        ),
        Example(
            {
                "kind": "网络游戏",
                "name": "示例网游",
                "region": "440300",
                "game_approval_no": "ISBN 978-7-498-01234-0",
            },
            True,
            {"game_approval_no": "ISBN 9787498012340"},
        ),
        Example(
            {"kind": "game", "name": "未取得版号的游戏", "region": "440300"},
            True,
            {"game_approval_no": None},
        ),
        Example(
            {
                "kind": "game",
                "name": "x",
                "region": "440300",
                "game_approval_no": "ISBN 978-7-498-01234-9",
            },
            False,
            field="game_approval_no",
        ),
        Example(
            {"kind": "game", "name": "x", "region": "440300", "game_approval_no": "版号1234"},
            False,
            field="game_approval_no",
        ),
        Example(
            {"kind": "game", "name": "x", "region": "440300", "education_app": True},
            False,
            field="education_app",
        ),
        Example(
            {"kind": "game", "name": "x", "region": "440300", "anti_addiction": "maybe"},
            False,
            field="anti_addiction",
        ),
    )


@register
class LiveVideo(SubjectKind):
    code = "live_video"
    name = "直播/视频平台"
    description = "A live-streaming or (short) video platform; youth mode is its key duty."
    allowed = frozenset({"domains", "icp_filing", "platform_url", "youth_mode", "anti_addiction"})
    app_filing = True
    examples = (
        Example(
            {
                "kind": "live_video",
                "name": "示例直播",
                "region": "110000",
                "domains": "live.example.com",
                "youth_mode": "none",
                "risk_level": "高",
                "category": "直播",
            },
            True,
            {"youth_mode": "none", "risk_level": "high", "category": "live_streaming"},
        ),
        Example(
            {
                "kind": "live_video",
                "name": "x",
                "region": "110000",
                "platform_url": "ftp://example.com/",
            },
            False,
            field="platform_url",
        ),
        Example(
            {"kind": "live_video", "name": "x", "region": "110000", "risk_level": "severe"},
            False,
            field="risk_level",
        ),
        Example(
            {"kind": "live_video", "name": "x", "region": "110000", "school_cooperation": True},
            False,
            field="school_cooperation",
        ),
    )


@register
class Account(SubjectKind):
    """An account on someone else's platform: it owns no domain and files no ICP number."""

    code = "account"
    name = "账号"
    description = "An account on a platform, identified by its page address."
    required = frozenset({"platform_url"})
    examples = (
        Example(
            {
                "kind": "account",
                "name": "某炫富主播",
                "region": "510100",
                "platform_url": "https://live.example.com/u/12345",
                "risk_level": "high",
            },
            True,
            {"platform_url": "https://live.example.com/u/12345", "domains": []},
        ),
        Example({"kind": "account", "name": "x", "region": "510100"}, False, field="platform_url"),
        Example(
            {
                "kind": "account",
                "name": "x",
                "region": "510100",
                "platform_url": "https://live.example.com/u/1",
                "domains": "live.example.com",
            },
            False,
            field="domains",
        ),
        Example(
            {
                "kind": "account",
                "name": "x",
                "region": "510100",
                "platform_url": "https://live.example.com/u/1",
                "youth_mode": "compliant",
            },
            False,
            field="youth_mode",
        ),
    )


@register
class Group(SubjectKind):
    """A chat group or community (QQ/WeChat group, forum board); many have no public address."""

    code = "group"
    name = "群组"
    description = "A group or community on a platform (饭圈、“黑界” groups and the like)."
    allowed = frozenset({"platform_url"})
    examples = (
        Example(
            {"kind": "group", "name": "某应援打榜群", "region": "320100", "notes": "群号：123\n"},
            True,
            {"notes": "群号：123", "platform_url": None},
        ),
        Example({"kind": "群组", "name": "  ", "region": "320100"}, False, field="name"),
        Example(
            {"kind": "group", "name": "x", "region": "320100", "icp_filing": "苏ICP备12345678号"},
            False,
            field="icp_filing",
        ),
        Example({"kind": "club", "name": "x", "region": "320100"}, False, field="kind"),
        Example({"kind": "group", "name": "x\x00y", "region": "320100"}, False, field="name"),
    )
