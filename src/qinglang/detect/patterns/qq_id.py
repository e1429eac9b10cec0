"""QQ numbers introduced by a QQ cue: an invitation to continue the chat on QQ (引流, 私聊)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import islice
from typing import ClassVar

from qinglang.detect.patterns.base import Example, PatternDetector, PatternMatch, register
from qinglang.detect.patterns.limits import MAX_MATCHES, capped

# A bare 5-11 digit number is anything (a price, a score, an order); only a cue makes it a QQ
# number. Cues: "qq", "q号"/"q群"/"q:" (a lone q needs 号, 群 or a colon after it), 扣扣, 企鹅,
# 球球, 加扣, and a lone 扣 when 号 or a colon follows (扣分, 扣款 are not cues).
_CUE = (
    r"(?:(?<![a-z0-9])qq"
    r"|(?<![a-z0-9])q(?=[ \t]{0,3}[号群:：])"
    r"|扣扣|企鹅|球球|加扣"
    r"|扣(?=[ \t]{0,3}[号:：]))"
)
# What may sit between the cue and the number: "号", "号码", "群", "群号", then ":", "是", "为",
# "=", with a few spaces. Bounded: linear on any input.
_FILL = r"[ \t]{0,3}(?:号码|群号|号|群)?[ \t]{0,3}(?:(?:[:：=]|是|为)[ \t]{0,3})?"
# 5-11 digits without a leading zero, not part of a longer run, not a price or a count.
_NUMBER = r"(?<![0-9])([1-9][0-9]{4,10})(?![0-9])(?![元块圆万亿个次%]|\.[0-9])"
_QQ_RE = re.compile(_CUE + _FILL + _NUMBER)
# "12345678@qq.com" names the QQ number as surely as a cue does.
_MAIL_RE = re.compile(r"(?<![0-9a-z._-])([1-9][0-9]{4,10})@qq\.com(?![a-z0-9])")


@register
class QqIdDetector(PatternDetector):
    """QQ numbers (5-11 digits, no leading zero) after a QQ cue or in a ...@qq.com address."""

    name: ClassVar[str] = "qq_id"
    # Gate (five digits at least): see PatternDetector.gate.
    gate: ClassVar[re.Pattern[str] | None] = re.compile(r"[0-9]{5}")
    categories: ClassVar[tuple[str, ...]] = ("grooming",)
    description: ClassVar[str] = (
        "QQ 号码：qq、q号、q群、扣扣、企鹅、球球等提示词后的 5–11 位数字，或 号码@qq.com。"
    )
    weight: ClassVar[float] = 0.35
    examples: ClassVar[tuple[Example, ...]] = (
        Example("小妹妹加我qq：12345678，带你玩", ("12345678",)),
        Example("有事找我，扣扣号 987654321", ("987654321",)),
        Example("进ｑ群６６６８８８９９领皮肤", ("66688899",)),
        Example("企鹅是 20240601 私聊", ("20240601",)),
        Example("Q:55667788 或者发邮件到 13579246@qq.com", ("55667788", "13579246")),
        Example("球球号码：3456789", ("3456789",)),
        # QQ products and numbers that are not QQ numbers.
        Example("我在听qq音乐，今天签到12345次"),
        Example("qq飞车玩了20240601局"),
        Example("老师扣了我12345分，扣款100000元"),
        Example("qq：01234567 是假的"),
        Example("qq 123 太短"),
        Example("企鹅馆门票128000000000元"),
    )

    def find(self, view: str) -> Iterator[PatternMatch]:
        return capped(self._scan(view))

    def _scan(self, view: str) -> Iterator[PatternMatch]:
        # Two linear scans, merged by position so matches come out in text order.
        found = [
            PatternMatch(self.name, m.start(), m.end(), m.group(1), "grooming", self.weight)
            for regex in (_QQ_RE, _MAIL_RE)
            for m in islice(regex.finditer(view), MAX_MATCHES)
        ]
        found.sort(key=lambda p: (p.start, p.end))
        yield from found
