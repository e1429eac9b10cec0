"""Mainland mobile phone numbers: personal data, and a way to move a chat off the platform."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from qinglang.detect.patterns.base import Example, PatternDetector, PatternMatch, register
from qinglang.detect.patterns.limits import capped

# Optional country prefix (+86, 0086, 86, "(+86)"), then 1[3-9]x and 8 more digits, either
# contiguous or grouped 3-4-4 by one space or hyphen (the same separator both times).
# The look-arounds keep it out of longer digit runs, including hyphenated ones ("2023-1381...").
# Every quantifier is bounded: linear on any input.
_PHONE_RE = re.compile(
    r"(?<![0-9+])(?<![0-9]-)"
    r"(?:\(?(?:\+|00)?86\)?[ -]?)?"
    r"(1[3-9][0-9])([ -]?)([0-9]{4})\2([0-9]{4})"
    r"(?![0-9])(?!-[0-9])"
)


@register
class MobilePhoneDetector(PatternDetector):
    """Mainland mobile numbers (1[3-9]x + 8 digits), with optional +86 prefix and 3-4-4 groups."""

    name: ClassVar[str] = "mobile_phone"
    # Gate (the first three digits): see PatternDetector.gate.
    gate: ClassVar[re.Pattern[str] | None] = re.compile(r"1[3-9][0-9]")
    categories: ClassVar[tuple[str, ...]] = ("privacy_leak",)
    description: ClassVar[str] = (
        "大陆手机号码（1[3-9] 开头共 11 位），可带 +86/0086/86 前缀和 3-4-4 分隔。"
    )
    weight: ClassVar[float] = 0.3
    examples: ClassVar[tuple[Example, ...]] = (
        Example("我电话13812345678，放学打给我", ("13812345678",)),
        Example("联系方式：+86 139-1234-5678", ("13912345678",)),
        Example("手机 186 0000 1234 晚上打", ("18600001234",)),
        Example("号码是 008615912345678", ("15912345678",)),
        Example("打１７７１２３４５６７８或者19912345678", ("17712345678", "19912345678")),
        # Not a mobile prefix (12x), and inside a longer digit run.
        Example("这台电脑价格12800000000元"),
        Example("订单号202310081381234567890"),
        # Too long: 12 digits.
        Example("编号138123456789"),
        Example("时间戳1696752000000"),
        # Landline, not mobile.
        Example("座机010-12345678"),
        # Part of a hyphenated serial number.
        Example("序列号2023-13812345678-01"),
    )

    def find(self, view: str) -> Iterator[PatternMatch]:
        return capped(self._scan(view))

    def _scan(self, view: str) -> Iterator[PatternMatch]:
        for m in _PHONE_RE.finditer(view):
            number = m.group(1) + m.group(3) + m.group(4)
            yield PatternMatch(self.name, m.start(), m.end(), number, "privacy_leak", self.weight)
