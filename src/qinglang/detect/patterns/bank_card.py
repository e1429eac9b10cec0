"""Payment card numbers: personal financial data, and a staple of fraud scripts (转账到这张卡)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from qinglang.detect.patterns.base import Example, PatternDetector, PatternMatch, register
from qinglang.detect.patterns.checksums import luhn_valid
from qinglang.detect.patterns.limits import capped
from qinglang.detect.patterns.resident_id import resident_id_birth_date

# Issuer identification prefixes accepted, with the networks they belong to. Cards seen in
# Chinese chat are mostly UnionPay; the others are the international networks that issue
# 16-19 digit cards in China. American Express (34/37) is left out: its numbers have 15 digits.
#   62            China UnionPay (银联), including most mainland debit cards
#   60            older mainland debit BINs (e.g. 601382 Bank of China)
#   4             Visa
#   51-55         Mastercard
#   2221-2720     Mastercard 2-series
#   3528-3589     JCB
CARD_PREFIXES = ("62", "60", "4", "51", "52", "53", "54", "55")
_MC_2_SERIES = range(2221, 2721)
_JCB = range(3528, 3590)

# 16-19 contiguous digits, or groups of four separated by one space or hyphen (the same one
# throughout) with a last group of 1-3 digits for 17-19 digit numbers. Look-arounds keep it
# out of longer digit runs, spaced or not. Bounded quantifiers only: linear on any input.
_CARD_RE = re.compile(
    r"(?<![0-9])(?<![0-9][ -])"
    r"(?:([0-9]{16,19})"
    r"|([0-9]{4}([ -])[0-9]{4}\3[0-9]{4}\3[0-9]{4}(?:\3[0-9]{1,3})?))"
    r"(?![0-9])(?![ -][0-9])"
)


def has_card_prefix(number: str) -> bool:
    """True when `number` starts with an issuer prefix we accept (see CARD_PREFIXES)."""
    if number.startswith(CARD_PREFIXES):
        return True
    head = int(number[:4])
    return head in _MC_2_SERIES or head in _JCB


@register
class BankCardDetector(PatternDetector):
    """16-19 digit card numbers with a known issuer prefix that pass the Luhn check."""

    name: ClassVar[str] = "bank_card"
    # Gate (a group of four digits): see PatternDetector.gate.
    gate: ClassVar[re.Pattern[str] | None] = re.compile(r"[0-9]{4}")
    categories: ClassVar[tuple[str, ...]] = ("privacy_leak",)
    description: ClassVar[str] = (
        "银行卡号：16–19 位、银联/Visa/Mastercard/JCB 号段、通过 Luhn 校验，可四位一组分隔；"
        "不报告身份证号。"
    )
    weight: ClassVar[float] = 0.4
    examples: ClassVar[tuple[Example, ...]] = (
        Example("钱转到这张卡6222021234567890128就行", ("6222021234567890128",)),
        Example("卡号 6234 5678 9012 3451 户名张三", ("6234567890123451",)),
        Example("visa卡4111-1111-1111-1111，有效期别问", ("4111111111111111",)),
        Example("收款：６２１７００００００００００００００４", ("6217000000000000004",)),
        Example(
            "两张卡 5500000000000004 和 6013820000123456787",
            (
                "5500000000000004",
                "6013820000123456787",
            ),
        ),
        # Fails the Luhn check.
        Example("卡号6222021234567890127"),
        # Order number: prefix 20 belongs to no card network.
        Example("订单号：2023100812345678"),
        # A resident ID that happens to pass Luhn and starts with 62 (Gansu).
        Example("身份证620102199001010257"),
        # Inside a longer digit run, spaced or not.
        Example("流水号 62220212345678901280"),
        Example("编码 1234 6234 5678 9012 3451"),
        Example("时间戳1696752000000，手机13812345678"),
    )

    def find(self, view: str) -> Iterator[PatternMatch]:
        return capped(self._scan(view))

    def _scan(self, view: str) -> Iterator[PatternMatch]:
        for m in _CARD_RE.finditer(view):
            written = m.group(1) or m.group(2)
            number = written.replace(" ", "").replace("-", "")
            if not 16 <= len(number) <= 19 or not has_card_prefix(number):
                continue
            if not luhn_valid(number):
                continue
            # An 18-digit number that is a valid resident ID is reported as one, not as a card.
            if len(number) == 18 and resident_id_birth_date(number) is not None:
                continue
            yield PatternMatch(self.name, m.start(), m.end(), number, "privacy_leak", self.weight)
