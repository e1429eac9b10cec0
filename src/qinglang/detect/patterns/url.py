"""Links and domain names, disguised ones included ("abc点com", "xx8。vip", "bet365 dot com").

A link is not harmful by itself, so this detector feeds no category (category "", weight 0):
the engine treats links as traffic-diversion evidence (引流) and raises gambling, fraud and
porn scores when such terms appear in the same text. Disguised dots are themselves a tell:
nobody writes "点com" except to slip a link past a filter.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from qinglang.detect.patterns.base import Example, PatternDetector, PatternMatch, register
from qinglang.detect.patterns.limits import capped

# Top-level domains accepted for bare domains (links with a scheme or "www." need none). Common
# generic and Chinese-market TLDs, the cheap ones gambling and porn spam favours, and nearby
# country codes. Left out on purpose: TLDs that are everyday English words inside sentences or
# file names ("in", "is", "to", "at", "it", "my", "no", "so", "py", "md", "sh").
TLDS = frozenset(
    (
        *("com", "cn", "net", "org", "gov", "edu", "mil", "int"),
        *("top", "xyz", "vip", "cc", "app", "io", "info", "biz", "me", "tv", "club", "site"),
        *("online", "shop", "store", "live", "fun", "icu", "ltd", "link", "work", "win", "bet"),
        *("casino", "games", "game", "fit", "pro", "asia", "wang", "ren", "tech", "cloud", "ink"),
        *("art", "kim", "mobi", "red", "pink", "life", "world", "today", "best", "cyou", "sbs"),
        *("cfd", "bond", "buzz", "bid", "loan", "lol", "porn", "sex", "sexy", "xxx", "adult"),
        *("ai", "hk", "tw", "mo", "co", "uk", "jp", "kr", "ru", "ws", "tk", "ml", "ga", "cf"),
        *("gq", "pw"),
    )
)
MAX_HOST = 253
MAX_LABEL = 63
MAX_TAIL = 2048
# A host name has at most 127 labels (253 characters); bounding the repetition also bounds the
# regex engine's bookkeeping on a megabyte of "a。a。a。...".
MAX_LABELS = 127

# A dot, or a disguise of one: 点/點/。/丶 (with a space either side allowed), "(.)", "[.]",
# "{.}", "【.】" and the same with 点 or "dot" inside, and " dot " between spaces.
_DOT = (
    r"(?:\.| ?[点點。丶] ?"
    r"|\((?:\.|点|dot)\)|\[(?:\.|点|dot)\]|\{(?:\.|点|dot)\}|【(?:\.|点|dot)】"
    r"| dot | ?\(dot\) ?)"
)
_DOT_RE = re.compile(_DOT)
_LABEL = rf"[a-z0-9-]{{1,{MAX_LABEL}}}"
_URL_CHAR = r"[a-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]"
# Two branches: a link with a scheme, whose host may be anything; or a bare host of two or more
# labels, checked against TLDS afterwards. Labels and their number are bounded and a dot (or
# disguise) is required between labels, so there is one way to split a host into labels and
# the regex stays linear; the look-behinds keep matches from starting inside a word or an
# e-mail address.
_MORE_LABELS = rf"(?:{_DOT}{_LABEL})"
_URL_RE = re.compile(
    rf"(?<![a-z0-9])(?P<scheme>https?|ftp)://(?P<host>{_LABEL}{_MORE_LABELS}{{0,{MAX_LABELS - 1}}})"
    rf"(?P<rest>[:/?#]{_URL_CHAR}{{0,{MAX_TAIL}}})?"
    rf"|(?<![a-z0-9._@-])(?P<bare>{_LABEL}{_MORE_LABELS}{{1,{MAX_LABELS - 1}}})"
    rf"(?P<path>/{_URL_CHAR}{{0,{MAX_TAIL}}})?"
)
# Trailing characters that end the sentence rather than the link ("见 abc.com/x)。").
_TRAILING = ".,;:!?'\")]}"


def _labels(host: str) -> tuple[list[str], list[int]]:
    """Split a host as written into labels, with each label's end offset within `host`."""
    labels: list[str] = []
    ends: list[int] = []
    pos = 0
    for m in _DOT_RE.finditer(host):
        labels.append(host[pos : m.start()])
        ends.append(m.start())
        pos = m.end()
    labels.append(host[pos:])
    ends.append(len(host))
    return labels, ends


def _valid_labels(labels: list[str]) -> bool:
    return all(lab and lab[0] != "-" and lab[-1] != "-" for lab in labels)


def _trim_tail(tail: str) -> str:
    """Drop sentence punctuation after a link; keep a ")" that closes a "(" inside it."""
    while tail and tail[-1] in _TRAILING:
        if tail[-1] == ")" and tail.count("(") >= tail.count(")"):
            break
        tail = tail[:-1]
    return tail


@register
class UrlDetector(PatternDetector):
    """Links (http/https/ftp), www. hosts and bare domains with a known TLD, disguised dots too."""

    name: ClassVar[str] = "url"
    # Gate (a label followed by a dot, a disguised dot or "://"): see PatternDetector.gate.
    gate: ClassVar[re.Pattern[str] | None] = re.compile(r"[a-z0-9-] ?(?:[.点點。丶:(\[{【]|dot )")
    # Links feed no category by themselves: see the module docstring.
    categories: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = (
        "网址和域名（含 http(s) 链接、www 主机、常见顶级域名的裸域名），识别“点com”“。vip”"
        "“(.)top”“dot com”等变形；本身不计入任何类别，由引擎作为引流证据与涉赌涉诈涉黄词语组合。"
    )
    weight: ClassVar[float] = 0.0
    examples: ClassVar[tuple[Example, ...]] = (
        Example("快来www.abc123.com注册送彩金", ("www.abc123.com",)),
        Example("网址：abc88点com 复制到浏览器打开", ("abc88.com",)),
        Example("详情见https://example.cn/path?a=1。", ("https://example.cn/path?a=1",)),
        Example("官网 bet365 dot com 或 xx8。vip", ("bet365.com", "xx8.vip")),
        Example("入口 ＡＢＣ(.)top/reg 进去", ("abc.top/reg",)),
        Example("后台 http://192.168.1.1:8080/admin", ("http://192.168.1.1:8080/admin",)),
        Example("新站www.qinglang.example上线了", ("www.qinglang.example",)),
        # Version numbers, prices, file names, frameworks, e-mail addresses, plain words.
        Example("版本1.2.3，价格3.5元"),
        Example("用node.js和main.py写的，readme.md看一下"),
        Example("我在.net框架下写代码"),
        Example("发邮件到abc@qq.com"),
        Example("好的。com你懂吗，i like com and net"),
        Example("www.abc 打不开"),
    )

    def find(self, view: str) -> Iterator[PatternMatch]:
        return capped(self._scan(view))

    def _scan(self, view: str) -> Iterator[PatternMatch]:
        for m in _URL_RE.finditer(view):
            found = self._link(m) if m.group("scheme") is not None else self._bare(m)
            if found is not None:
                start, end, value = found
                yield PatternMatch(self.name, start, end, value, "", self.weight)

    @staticmethod
    def _link(m: re.Match[str]) -> tuple[int, int, str] | None:
        host = m.group("host")
        if len(host) > MAX_HOST * 4:
            return None
        labels, _ = _labels(host)
        tail = _trim_tail(m.group("rest") or "")
        end = m.end("host") + len(tail)
        return m.start(), end, f"{m.group('scheme')}://{'.'.join(labels)}{tail}"

    @staticmethod
    def _bare(m: re.Match[str]) -> tuple[int, int, str] | None:
        host = m.group("bare")
        if len(host) > MAX_HOST * 4:
            return None
        labels, ends = _labels(host)
        # The domain runs to the last label that is a known TLD ("abc.com.hello" → "abc.com");
        # a www. host needs no known TLD, only an alphabetic last label.
        last = max((i for i, lab in enumerate(labels) if i > 0 and lab in TLDS), default=-1)
        if last < 0 and labels[0] == "www" and len(labels) >= 3 and labels[-1].isalpha():
            last = len(labels) - 1
        if last < 0:
            return None
        labels = labels[: last + 1]
        domain = ".".join(labels)
        if len(domain) > MAX_HOST or not _valid_labels(labels):
            return None
        end = m.start("bare") + ends[last]
        if last == len(ends) - 1 and m.group("path"):
            tail = _trim_tail(m.group("path"))
            domain += tail
            end += len(tail)
        return m.start(), end, domain
