"""Ages and age bands, computed on the calendar of Asia/Shanghai.

An age in full years (周岁) is reached on the day *after* the birthday: the Supreme People's
Court's reading of 周岁 ("从生日的第二天起算", 法释〔2006〕1号 art. 2), which is also the
stricter one for minors — on their 18th birthday a person is still 17 here. Someone born on
29 February has the birthday on 28 February in common years, so the new age starts on 1 March.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
ADULT_AGE = 18


def local_day(at: datetime) -> date:
    """The calendar day in Asia/Shanghai of an aware instant."""
    if at.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    return at.astimezone(SHANGHAI).date()


def _birthday_in(birth: date, year: int) -> date:
    try:
        return birth.replace(year=year)
    except ValueError:  # 29 February in a common year
        return date(year, 2, 28)


def age_on(birth: date, day: date) -> int:
    """Full years on `day` (negative days before birth give -1)."""
    if day < birth:
        return -1
    years = day.year - birth.year
    # The new age starts the day after this year's birthday.
    if day <= _birthday_in(birth, day.year):
        years -= 1
    return max(years, 0)


def age_at(birth: date, at: datetime) -> int:
    return age_on(birth, local_day(at))


def next_age_day(birth: date, age: int) -> date:
    """The first day on which the person is `age` full years old."""
    return _birthday_in(birth, birth.year + age) + timedelta(days=1)


def is_minor(birth: date, at: datetime) -> bool:
    return age_at(birth, at) < ADULT_AGE


class AgeBand(StrEnum):
    """The age bands of the CAC minor-mode guide (2024): <3, 3–8, 8–12, 12–16, 16–18, adult."""

    under_3 = "under_3"
    age_3_8 = "3_8"
    age_8_12 = "8_12"
    age_12_16 = "12_16"
    age_16_18 = "16_18"
    adult = "adult"

    @property
    def label_zh(self) -> str:
        return _BAND_LABELS[self]

    @property
    def lower(self) -> int:
        return _BAND_LOWER[self]


_BAND_LOWER = {
    AgeBand.under_3: 0,
    AgeBand.age_3_8: 3,
    AgeBand.age_8_12: 8,
    AgeBand.age_12_16: 12,
    AgeBand.age_16_18: 16,
    AgeBand.adult: 18,
}
_BAND_LABELS = {
    AgeBand.under_3: "3岁以下",
    AgeBand.age_3_8: "3至8岁",
    AgeBand.age_8_12: "8至12岁",
    AgeBand.age_12_16: "12至16岁",
    AgeBand.age_16_18: "16至18岁",
    AgeBand.adult: "成年",
}


def band_of(age: int) -> AgeBand:
    """The band of an age in full years; each band includes its lower bound."""
    if age < 0:
        raise ValueError("age must be ≥ 0")
    return _BY_AGE[age] if age < ADULT_AGE else AgeBand.adult


_BY_AGE = tuple(next(b for b in reversed(AgeBand) if age >= b.lower) for age in range(ADULT_AGE))
