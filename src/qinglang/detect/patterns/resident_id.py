"""Mainland resident ID numbers (居民身份证号码, GB 11643-1999): a privacy leak when posted.

An ID number names a person and gives away their birth date, so posting one (one's own or
someone else's: 开盒, 人肉) is privacy_leak evidence. Never log the raw number: callers that
record matches should keep only a hash or a masked form.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import ClassVar

from qinglang.detect.patterns.base import Example, PatternDetector, PatternMatch, register
from qinglang.detect.patterns.checksums import gb11643_valid
from qinglang.detect.patterns.limits import capped

# First two digits of the region code: provinces, autonomous regions and municipalities, plus
# 71 (Taiwan), 81/82 (Hong Kong/Macao residence permits), as in GB/T 2260.
PROVINCE_CODES = frozenset(
    {
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
    }
)
EARLIEST_BIRTH = date(1900, 1, 1)
# China has one time zone and no daylight saving time, so a fixed offset is exact.
_CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

# 6-digit region, 8-digit birth date, 3-digit sequence + check character, optionally separated
# by one space or hyphen. Only bounded quantifiers: linear on any input. The look-arounds keep
# it out of longer digit runs (order numbers, card numbers).
_ID_RE = re.compile(r"(?<![0-9])([0-9]{6})[ -]?([0-9]{8})[ -]?([0-9]{3}[0-9x])(?![0-9x])")


def _today() -> date:
    return datetime.now(_CHINA_TZ).date()


def resident_id_birth_date(number: str, today: date | None = None) -> date | None:
    """The birth date of a valid 18-character resident ID, or None when it is not valid.

    Valid means: a known province code, a real birth date between 1900-01-01 and today (China
    time), and the GB 11643 check character. The guard package reuses this for age bands.
    """
    if len(number) != 18 or not gb11643_valid(number):
        return None
    if int(number[:2]) not in PROVINCE_CODES:
        return None
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
    if not EARLIEST_BIRTH <= born <= (today or _today()):
        return None
    return born


@register
class ResidentIdDetector(PatternDetector):
    """18-character resident ID numbers with a valid region, birth date and check character."""

    name: ClassVar[str] = "resident_id"
    # Gate (six digits of the region code): see PatternDetector.gate.
    gate: ClassVar[re.Pattern[str] | None] = re.compile(r"[0-9]{6}")
    categories: ClassVar[tuple[str, ...]] = ("privacy_leak",)
    description: ClassVar[str] = (
        "居民身份证号码（18位，校验省份代码、出生日期和 GB 11643 校验码），可带空格或连字符分隔。"
    )
    weight: ClassVar[float] = 0.6
    examples: ClassVar[tuple[Example, ...]] = (
        Example("我的身份证号是110101199003074514", ("110101199003074514",)),
        Example("身份证：33010620120318207x，别外传", ("33010620120318207X",)),
        Example("开盒了，他的证件号 440305 20080815 1239 住南山", ("440305200808151239",)),
        Example("实名用的是３１０１０４１９７５１２３１００２５", ("310104197512310025",)),
        Example(
            "号码 620102-19850612-0035 和 450102199201010049",
            (
                "620102198506120035",
                "450102199201010049",
            ),
        ),
        # Wrong check character.
        Example("我的身份证号是110101199003074515"),
        # Valid check character but 2010-02-29 does not exist.
        Example("身份证510107201002290082"),
        # Unknown province code 99.
        Example("编号990101199003074518"),
        # Inside a longer digit run (an order number).
        Example("订单号 81101011990030745140 已发货"),
        Example("时间戳1696752000000，订单20231008123456"),
        # Birth year in the future.
        Example("测试号110101299003074512"),
    )

    def find(self, view: str) -> Iterator[PatternMatch]:
        return capped(self._scan(view))

    def _scan(self, view: str) -> Iterator[PatternMatch]:
        today = _today()
        for m in _ID_RE.finditer(view):
            number = (m.group(1) + m.group(2) + m.group(3)).upper()
            if resident_id_birth_date(number, today) is None:
                continue
            yield PatternMatch(self.name, m.start(), m.end(), number, "privacy_leak", self.weight)
