"""Validators for the identifiers a ledger row carries (pure functions, no I/O).

Each `normalize_*` function returns the canonical form to store and compare, or raises
`IdentifierError` (a `ValueError`) whose `args[0]` is an English message for logs and whose
`message_zh` is the sentence to show an end user. Canonical forms are what the storage layer
must index and deduplicate on: two spellings of one identifier normalise to the same string.

- unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters, check character;
- ICP filing number (ICP备案号, "京ICP备12345678号-1") and ICP licence number ("京ICP证030173号");
- public-security filing number (公网安备号, "京公网安备 11010502030143号");
- administrative division code (行政区划代码, GB/T 2260): 6 digits, level derived from zeros;
- domain name: IDNA A-label, lower case, no scheme, no trailing dot.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from urllib.parse import urlsplit

from qinglang.package_data import read_data

# ---------------------------------------------------------------- errors

_KIND_ZH = {
    "uscc": "统一社会信用代码",
    "icp": "ICP备案号",
    "icp_license": "ICP许可证号",
    "psb": "公安机关互联网站备案号",
    "division": "行政区划代码",
    "domain": "域名",
}

# (kind, reason) -> end-user sentence; "{label}" is the identifier's Chinese name.
_REASONS_ZH = {
    "empty": "请填写{label}。",
    "uscc:length": "{label}应为18位字符。",
    "uscc:charset": "{label}只能包含数字和大写字母（不使用I、O、Z、S、V）。",
    "uscc:authority": "{label}第1位（登记管理部门代码）无效。",
    "uscc:division": "{label}第3至8位应为有效的行政区划代码。",
    "uscc:check": "{label}校验位不正确，请核对是否抄录有误。",
    "icp:format": "{label}格式不正确，应形如“京ICP备12345678号”或“京ICP备12345678号-1”。",
    "icp:license": "这是ICP许可证号（“ICP证”），请填写ICP备案号（“ICP备”）。",
    "icp:province": "{label}开头的省份简称无效。",
    "icp:site": "{label}末尾的网站序号应为大于0的整数。",
    "icp_license:format": "{label}格式不正确，应形如“京ICP证030173号”。",
    "icp_license:province": "{label}开头的省份简称无效。",
    "psb:format": "{label}格式不正确，应形如“京公网安备 11010502030143号”。",
    "psb:province": "{label}开头的省份简称无效。",
    "psb:mismatch": "{label}中的数字与开头的省份简称不一致。",
    "psb:division": "{label}前6位应为有效的区县行政区划代码。",
    "division:format": "{label}应为6位数字。",
    "division:province": "{label}前两位不是有效的省级代码。",
    "division:structure": "{label}结构无效：县级代码的第3、4位不能为00。",
    "domain:not_bare": "请只填写域名本身，不要包含“http://”、路径、端口或用户名。",
    "domain:label": "{label}中有无效的部分（每段只能含字母、数字和连字符，且不超过63个字符）。",
    "domain:length": "{label}过长（不能超过253个字符）。",
    "domain:single_label": "{label}至少应包含一个点，如“example.cn”。",
    "domain:numeric_tld": "请填写域名而不是IP地址。",
    "domain:idna": "{label}包含无法转换的字符。",
    "url:no_host": "网址中没有域名。",
}


class IdentifierError(ValueError):
    """A value is not a valid identifier of `kind`; `reason` says why, in a stable code."""

    def __init__(self, kind: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.reason = reason

    @property
    def message_zh(self) -> str:
        return message_zh(self)


def message_zh(exc: ValueError) -> str:
    """The end-user (Chinese) sentence for an error raised by this module's validators."""
    if isinstance(exc, IdentifierError):
        label = _KIND_ZH.get(exc.kind, "标识")
        template = _REASONS_ZH.get(f"{exc.kind}:{exc.reason}") or _REASONS_ZH.get(exc.reason)
        if template:
            return template.format(label=label)
        return f"{label}无效。"
    return "输入的标识无效。"


def _clean(value: str, kind: str) -> str:
    """NFKC (full-width digits and letters to ASCII), then strip; empty is an error."""
    if not isinstance(value, str):
        raise TypeError(f"{kind} must be a str, got {type(value).__name__}")
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        raise IdentifierError(kind, "empty", f"{kind}: empty value")
    return text


# ---------------------------------------------------------------- administrative divisions


class DivisionLevel(StrEnum):
    national = "national"
    province = "province"
    city = "city"  # prefecture level (地级), including 市辖区 rows of municipalities
    county = "county"  # county level (县级: 县, 区, 县级市, 旗...)


# Not a GB/T 2260 row, but the code the USCC standard and Chinese systems use for central organs
# and the nation as a whole; jurisdictions use it for national departments.
NATIONAL_DIVISION = "100000"


@dataclass(frozen=True, slots=True)
class Province:
    code: str  # two digits
    name: str
    abbr: str  # 简称 used in filing numbers
    alt: tuple[str, ...]
    mainland: bool  # MIIT ICP and MPS filings exist only on the mainland

    @property
    def abbrs(self) -> tuple[str, ...]:
        return (self.abbr, *self.alt)


@cache
def provinces() -> dict[str, Province]:
    """Province-level divisions by two-digit code (data/provinces.toml)."""
    rows = tomllib.loads(read_data("qinglang.govern", "provinces.toml"))["province"]
    out: dict[str, Province] = {}
    for row in rows:
        prov = Province(
            code=row["code"],
            name=row["name"],
            abbr=row["abbr"],
            alt=tuple(row.get("alt", ())),
            mainland=bool(row["mainland"]),
        )
        if prov.code in out:
            raise ValueError(f"duplicate province {prov.code}")
        out[prov.code] = prov
    return out


@cache
def _province_by_abbr() -> dict[str, Province]:
    out: dict[str, Province] = {}
    for prov in provinces().values():
        if not prov.mainland:
            continue
        for abbr in prov.abbrs:
            if abbr in out:
                raise ValueError(f"province abbreviation {abbr} used twice")
            out[abbr] = prov
    return out


_SIX_DIGITS = re.compile(r"[0-9]{6}")


def normalize_division(value: str) -> str:
    """A 6-digit administrative division code whose province part exists."""
    code = _clean(value, "division")
    if not _SIX_DIGITS.fullmatch(code):
        raise IdentifierError("division", "format", f"division code must be 6 digits: {code!r}")
    if code == NATIONAL_DIVISION:
        return code
    if code[:2] not in provinces():
        raise IdentifierError("division", "province", f"unknown province code {code[:2]!r}")
    if code[2:4] == "00" and code[4:] != "00":
        # GB/T 2260 places every county under a prefecture part; "XX00YY" does not exist.
        raise IdentifierError("division", "structure", f"county code without city part: {code}")
    return code


def division_level(code: str) -> DivisionLevel:
    """National, province, city or county, read from the trailing zero pairs."""
    code = normalize_division(code)
    if code == NATIONAL_DIVISION:
        return DivisionLevel.national
    if code[2:] == "0000":
        return DivisionLevel.province
    if code[4:] == "00":
        return DivisionLevel.city
    return DivisionLevel.county


def division_parent(code: str) -> str | None:
    """The enclosing division (county → city → province → national → None)."""
    level = division_level(code)
    if level is DivisionLevel.national:
        return None
    if level is DivisionLevel.province:
        return NATIONAL_DIVISION
    if level is DivisionLevel.city:
        return code[:2] + "0000"
    return code[:4] + "00"


def division_covers(outer: str, inner: str) -> bool:
    """True when `inner` lies inside (or is) `outer`: the jurisdiction scoping rule."""
    outer, inner = normalize_division(outer), normalize_division(inner)
    level = division_level(outer)
    if level is DivisionLevel.national:
        return True
    if inner == NATIONAL_DIVISION:
        return False
    if level is DivisionLevel.province:
        return inner[:2] == outer[:2]
    if level is DivisionLevel.city:
        return inner[:4] == outer[:4]
    return inner == outer


# ---------------------------------------------------------------- unified social credit code

# GB 32100-2015: 31 characters, the digits and the capitals without I, O, Z, S, V.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# Weight of position i (0-based, 17 body positions) is 3^i mod 31.
USCC_WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))
# First character: the registration authority (登记管理部门代码) of GB 32100-2015 and its
# amendments; 9 (market regulation, formerly 工商) issues the codes of companies.
USCC_AUTHORITIES = {
    "1": "机构编制",
    "2": "外交",
    "3": "司法行政",
    "4": "文化",
    "5": "民政",
    "6": "旅游",
    "7": "宗教",
    "8": "工会",
    "9": "市场监管（工商）",
    "A": "中央军委改革和编制办公室",
    "N": "农业",
    "Y": "其他",
}
_USCC_INDEX = {ch: i for i, ch in enumerate(USCC_CHARSET)}


def uscc_check_char(body: str) -> str:
    """The check character of a USCC from its 17-character body (GB 32100-2015, mod 31)."""
    if len(body) != 17 or any(ch not in _USCC_INDEX for ch in body):
        raise ValueError("a USCC body is 17 characters of the GB 32100 charset")
    total = sum(_USCC_INDEX[ch] * w for ch, w in zip(body, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def normalize_uscc(value: str) -> str:
    """An 18-character unified social credit code, upper case, check character verified.

    Positions 9-17 (the organisation code) are not checked against GB 11714: codes of
    individual businesses (个体工商户, "92...") carry numbers that do not follow it.
    """
    code = re.sub(r"\s+", "", _clean(value, "uscc")).upper()
    if len(code) != 18:
        raise IdentifierError("uscc", "length", f"USCC must be 18 characters, got {len(code)}")
    bad = sorted({ch for ch in code if ch not in _USCC_INDEX})
    if bad:
        raise IdentifierError("uscc", "charset", f"USCC contains invalid characters: {bad}")
    if code[0] not in USCC_AUTHORITIES:
        raise IdentifierError("uscc", "authority", f"unknown registration authority {code[0]!r}")
    try:
        normalize_division(code[2:8])
    except IdentifierError:
        raise IdentifierError(
            "uscc", "division", f"USCC positions 3-8 are not a division code: {code[2:8]!r}"
        ) from None
    if uscc_check_char(code[:17]) != code[17]:
        raise IdentifierError("uscc", "check", "USCC check character does not match")
    return code


# ---------------------------------------------------------------- ICP numbers (MIIT)

_DASHES = str.maketrans({"–": "-", "—": "-", "‐": "-", "‑": "-", "－": "-"})
_ICP_FILING = re.compile(
    r"(?P<abbr>.)ICP备(?P<serial>[0-9]{6,10})(?:号(?:-(?P<site>[0-9]{1,4}))?|-(?P<site2>[0-9]{1,4})号)"
)
_ICP_LICENSE = re.compile(r"(?P<abbr>.)ICP证(?P<serial>[0-9]{6})号")


@dataclass(frozen=True, slots=True)
class IcpFiling:
    """A parsed ICP filing number; `site` is the per-site suffix ("-1") or None."""

    abbr: str
    province: str  # two-digit province code
    serial: str
    site: int | None

    @property
    def main(self) -> str:
        """The filer's number without the site suffix: all sites of one filer share it."""
        return f"{self.abbr}ICP备{self.serial}号"

    @property
    def text(self) -> str:
        return self.main if self.site is None else f"{self.main}-{self.site}"


def _compact(value: str, kind: str) -> str:
    text = re.sub(r"\s+", "", _clean(value, kind)).translate(_DASHES)
    return re.sub("icp", "ICP", text, flags=re.IGNORECASE)


def _province_of_abbr(abbr: str, kind: str) -> Province:
    prov = _province_by_abbr().get(abbr)
    if prov is None:
        raise IdentifierError(kind, "province", f"{kind}: unknown province abbreviation {abbr!r}")
    return prov


def parse_icp_filing(value: str) -> IcpFiling:
    """Parse "京ICP备12345678号", "京ICP备12345678号-1" (or "…12345678-1号")."""
    text = _compact(value, "icp")
    if _ICP_LICENSE.fullmatch(text):
        raise IdentifierError("icp", "license", "an ICP licence number, not a filing number")
    m = _ICP_FILING.fullmatch(text)
    if not m:
        raise IdentifierError("icp", "format", f"not an ICP filing number: {text!r}")
    prov = _province_of_abbr(m["abbr"], "icp")
    site_text = m["site"] or m["site2"]
    site = int(site_text) if site_text is not None else None
    if site is not None and site < 1:
        raise IdentifierError("icp", "site", "ICP site suffix must be 1 or more")
    return IcpFiling(abbr=m["abbr"], province=prov.code, serial=m["serial"], site=site)


def normalize_icp_filing(value: str) -> str:
    """Canonical ICP filing number: no spaces, "ICP" upper case, site suffix as "号-N"."""
    return parse_icp_filing(value).text


def normalize_icp_license(value: str) -> str:
    """Canonical ICP licence number (增值电信业务经营许可证), e.g. "京ICP证030173号"."""
    text = _compact(value, "icp_license")
    m = _ICP_LICENSE.fullmatch(text)
    if not m:
        raise IdentifierError("icp_license", "format", f"not an ICP licence number: {text!r}")
    _province_of_abbr(m["abbr"], "icp_license")
    return text


# ---------------------------------------------------------------- public-security filing (MPS)

_PSB_FILING = re.compile(r"(?P<abbr>.)公网安备(?P<number>[0-9]{14})号")


def normalize_psb_filing(value: str) -> str:
    """Canonical 公网安备 number: "京公网安备 11010502030143号" (one space, as sites display it).

    The 14 digits start with the division code of the filing public-security bureau, so the
    first two must match the province abbreviation in front.
    """
    text = re.sub(r"\s+", "", _clean(value, "psb"))
    m = _PSB_FILING.fullmatch(text)
    if not m:
        raise IdentifierError("psb", "format", f"not a public-security filing number: {text!r}")
    prov = _province_of_abbr(m["abbr"], "psb")
    number = m["number"]
    if number[:2] != prov.code:
        raise IdentifierError(
            "psb", "mismatch", f"number starts {number[:2]} but {m['abbr']} is {prov.code}"
        )
    try:
        normalize_division(number[:6])
    except IdentifierError:
        raise IdentifierError("psb", "division", f"bad division part {number[:6]!r}") from None
    return f"{m['abbr']}公网安备 {number}号"


def psb_filing_division(value: str) -> str:
    """The division code of the bureau that holds a 公网安备 filing."""
    number = normalize_psb_filing(value).split(" ", 1)[1]
    return number[:6]


# ---------------------------------------------------------------- domain names

_IDEOGRAPHIC_DOTS = str.maketrans({"。": ".", "．": ".", "｡": "."})
_LDH_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_NOT_BARE = re.compile(r"[/\\?#@:\s]")


def normalize_domain(value: str) -> str:
    """A host name as lower-case IDNA A-labels ("例子.中国" → "xn--fsqu00a.xn--fiqs8s").

    Only a bare domain is accepted (no scheme, path, port or user); use `domain_of_url` for a
    pasted URL. One trailing dot (the DNS root) is dropped. Conversion uses the standard
    library's IDNA 2003 codec (nameprep: NFKC and case folding per label).
    """
    text = _clean(value, "domain").translate(_IDEOGRAPHIC_DOTS)
    if _NOT_BARE.search(text):
        raise IdentifierError("domain", "not_bare", f"not a bare domain name: {text!r}")
    if text.endswith("."):
        text = text[:-1]
    labels = text.split(".")
    if any(not label for label in labels):
        raise IdentifierError("domain", "label", f"empty label in {text!r}")
    out = []
    for label in labels:
        try:
            ascii_label = label.encode("idna").decode("ascii").lower()
            if ascii_label.startswith("xn--"):
                ascii_label.encode("ascii").decode("idna")  # the punycode must decode
        except UnicodeError:
            # The codec also refuses over-long ASCII labels: report those as bad labels.
            reason = "label" if label.isascii() and not label.lower().startswith("xn--") else "idna"
            raise IdentifierError("domain", reason, f"label {label!r} is not valid") from None
        if not _LDH_LABEL.fullmatch(ascii_label):
            raise IdentifierError("domain", "label", f"invalid label {ascii_label!r}")
        if ascii_label[2:4] == "--" and not ascii_label.startswith("xn--"):
            raise IdentifierError("domain", "label", f"reserved label form {ascii_label!r}")
        out.append(ascii_label)
    if len(out) < 2:
        raise IdentifierError("domain", "single_label", f"no dot in {text!r}")
    if out[-1].isdigit():
        raise IdentifierError("domain", "numeric_tld", f"looks like an IP address: {text!r}")
    domain = ".".join(out)
    if len(domain) > 253:
        raise IdentifierError("domain", "length", f"domain longer than 253 characters: {domain}")
    return domain


def domain_to_unicode(domain: str) -> str:
    """The display form (U-labels) of a normalised domain."""
    return normalize_domain(domain).encode("ascii").decode("idna")


def domain_of_url(url: str) -> str:
    """The normalised host of a URL; a scheme-less "www.example.cn/path" is read as http."""
    text = _clean(url, "domain").translate(_IDEOGRAPHIC_DOTS)
    if "://" not in text:
        text = "http://" + text
    try:
        host = urlsplit(text).hostname
    except ValueError:
        host = None
    if not host:
        raise IdentifierError("url", "no_host", f"no host in URL {url!r}")
    return normalize_domain(host)
