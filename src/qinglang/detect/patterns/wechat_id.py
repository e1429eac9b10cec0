"""WeChat IDs after a WeChat cue: an invitation to continue the chat on WeChat (引流, 私聊)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from qinglang.detect.patterns.base import Example, PatternDetector, PatternMatch, register
from qinglang.detect.patterns.limits import capped

# Cues people use for WeChat, including the homophones and letters that dodge keyword filters.
# "v" and "卫星" are weak (a letter, a satellite) and count only before an explicit separator
# ("号", ":", "是"...) or right after 加/+ ("加v", "+v").
_CUE = (
    r"(?:(?P<cn>微信|威信|薇信|徽信|维信|v信|卫星|绿泡泡)"
    r"|(?<![a-z0-9])(?P<latin>weixin|wechat|vx|wx|v))"
)
WEAK_CUES = frozenset({"v", "卫星"})
_ADD_CHARS = frozenset("加+➕")
_SEP = r"(?P<sep>(?:号码|号|id)?[ \t]{0,3}(?:(?:[:：=]|是|为|搜)[ \t]{0,3})?)"
_EXPLICIT = re.compile(r"[号:：=是为搜]|id")
# The target: a mobile number, or a WeChat ID (6-20 characters, starting with a letter, then
# letters, digits, "_" or "-"), not continued by more ID characters, "@" (an e-mail address) or
# ".x" (a domain). Bounded quantifiers only: linear on any input.
_TARGET = (
    r"(?:(?P<phone>1[3-9][0-9](?P<psep>[ -]?)[0-9]{4}(?P=psep)[0-9]{4})(?![0-9])"
    r"|(?P<id>[a-z][a-z0-9_-]{5,19})(?![a-z0-9_@-])(?!\.[a-z0-9]))"
)
# Internal IDs ("wxid_...") need no cue: the prefix is the cue.
_WXID = r"(?<![a-z0-9])(?P<wxid>wxid_[a-z0-9_-]{4,30})(?![a-z0-9_@-])"
_WECHAT_RE = re.compile(_WXID + "|" + _CUE + _SEP + _TARGET)


@register
class WechatIdDetector(PatternDetector):
    """WeChat IDs or phone numbers after 微信/vx/wx/v信... cues, and wxid_ internal IDs."""

    name: ClassVar[str] = "wechat_id"
    # Gate (an ID or phone number has six ASCII characters in a row): see PatternDetector.gate.
    gate: ClassVar[re.Pattern[str] | None] = re.compile(r"[a-z0-9_-]{6}")
    categories: ClassVar[tuple[str, ...]] = ("grooming",)
    description: ClassVar[str] = (
        "微信号：微信、威信、薇信、vx、wx、v信、weixin 等提示词后的微信号（字母开头 6–20 位）"
        "或手机号，以及 wxid_ 开头的原始 ID。"
    )
    weight: ClassVar[float] = 0.35
    examples: ClassVar[tuple[Example, ...]] = (
        Example("加我微信abc_123，带你上分", ("abc_123",)),
        Example("有意者vx：lisi2008", ("lisi2008",)),
        Example("加v 13812345678 私聊", ("13812345678",)),
        Example("我的微信号是 xiaoming_66", ("xiaoming_66",)),
        Example("薇信: zhangsan 备注学生", ("zhangsan",)),
        Example("搜 wxid_abcd1234efgh 就行", ("wxid_abcd1234efgh",)),
        Example("卫星号：qwerty99，ＶＸ：ＡＢＣ１２３４", ("qwerty99", "abc1234")),
        # WeChat features and words that merely contain the cue letters.
        Example("支持微信支付，用微信转账200元"),
        Example("wxpython很好用，wx python 教程"),
        Example("v2ray 节点，version 1.2"),
        Example("vx：12345 这个号不对"),
        Example("卫星发射成功 abcdef1"),
        Example("我的微信号忘了"),
        Example("发到微信 abc123@qq.com"),
    )

    def find(self, view: str) -> Iterator[PatternMatch]:
        return capped(self._scan(view))

    def _scan(self, view: str) -> Iterator[PatternMatch]:
        for m in _WECHAT_RE.finditer(view):
            wxid = m.group("wxid")
            if wxid is not None:
                yield PatternMatch(self.name, m.start(), m.end(), wxid, "grooming", self.weight)
                continue
            cue = m.group("cn") or m.group("latin")
            sep = m.group("sep")
            explicit = _EXPLICIT.search(sep) is not None
            after_add = m.start() > 0 and view[m.start() - 1] in _ADD_CHARS
            if cue in WEAK_CUES and not explicit and not after_add:
                continue
            ident = m.group("id")
            if ident is not None and m.group("latin") is not None:
                # "wxpython": cue and ID written as one word are one word.
                if not sep:
                    continue
                # "wx python": a letters-only word after a letter cue needs "号"/":" to be an ID.
                if not explicit and ident.isalpha():
                    continue
            phone = m.group("phone")
            value = ident if ident is not None else phone.replace(" ", "").replace("-", "")
            yield PatternMatch(self.name, m.start(), m.end(), value, "grooming", self.weight)
