"""The holiday calendar of mainland China: `chinese_calendar` plus an override table.

Each day is a `workday`, a `rest_day` (an ordinary weekend day) or a `holiday` (a day off in a
State Council holiday schedule, 法定节假日 and the days folded into its break). Make-up workdays
(调休: a Saturday or Sunday that is worked) are workdays. The override table (operators add a
new year's schedule there before the package ships it, or correct a day) wins over the package.

A year the package has no data for and the overrides do not fill raises `CalendarUnavailable`:
the rules then refuse minors with a clear reason instead of guessing (a fail-closed default),
and the health check (`coverage_report`) says which years are missing.

Under `nppa-2021` minors may play only on Fridays, Saturdays, Sundays and statutory holidays.
`PlayDayReading` makes the two readings of "Saturdays and Sundays" explicit:

- `schedule` (default): Fridays plus every rest day of the State Council schedule — a weekend
  day that is a make-up workday is *not* playable, holiday-break days are;
- `literal`: every Friday, Saturday and Sunday, plus holiday-break days.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cache

import chinese_calendar

FRIDAY, SATURDAY, SUNDAY = 4, 5, 6


class DayKind(StrEnum):
    workday = "workday"
    rest_day = "rest_day"
    holiday = "holiday"


class PlayDayReading(StrEnum):
    schedule = "schedule"
    literal = "literal"


class CalendarUnavailable(LookupError):
    """No calendar data for the year of `day` (package or overrides)."""

    def __init__(self, day: date) -> None:
        super().__init__(
            f"no holiday calendar data for {day.year} (chinese_calendar covers "
            f"{package_years()[0]}–{package_years()[-1]}); add overrides for {day.year}"
        )
        self.day = day
        self.message_zh = f"缺少{day.year}年的节假日数据，请更新日历或添加覆盖数据。"


@cache
def package_years() -> tuple[int, ...]:
    """The years `chinese_calendar` has schedules for."""
    years = []
    for year in range(2000, 2101):
        try:
            chinese_calendar.is_holiday(date(year, 6, 1))
        except NotImplementedError:
            continue
        years.append(year)
    return tuple(years)


@dataclass(frozen=True)
class GuardCalendar:
    """Days' kinds from the package plus `overrides`; `full_years` are years the overrides
    describe completely (so missing package data for them is not an error)."""

    overrides: Mapping[date, DayKind] = field(default_factory=dict)
    full_years: frozenset[int] = frozenset()
    reading: PlayDayReading = PlayDayReading.schedule
    # Rule sets cache their day plans here (the calendar is rebuilt when overrides change).
    plans: dict[object, object] = field(default_factory=dict, compare=False, repr=False)

    def covers(self, year: int) -> bool:
        return year in package_years() or year in self.full_years

    def kind(self, day: date) -> DayKind:
        override = self.overrides.get(day)
        if override is not None:
            return override
        if day.year in package_years():
            return _package_kind(day)
        if day.year in self.full_years:
            # The year's schedule is all in the overrides: other days follow the week.
            return DayKind.rest_day if day.weekday() >= SATURDAY else DayKind.workday
        raise CalendarUnavailable(day)

    def is_holiday(self, day: date) -> bool:
        """A day off in a statutory holiday break (3 h under nppa-2019)."""
        return self.kind(day) is DayKind.holiday

    def is_play_day(self, day: date) -> bool:
        """Whether minors may play on `day` under nppa-2021, in this calendar's reading."""
        weekday = day.weekday()
        if weekday == FRIDAY:
            return True
        if self.reading is PlayDayReading.literal and weekday >= SATURDAY:
            return True
        return self.kind(day) is not DayKind.workday

    def coverage_report(self, today: date, years_ahead: int = 1) -> dict[str, object]:
        """For the health check: which of this year and the next `years_ahead` lack data."""
        wanted = [today.year + i for i in range(years_ahead + 1)]
        missing = [y for y in wanted if not self.covers(y)]
        years = package_years()
        return {
            "ok": not missing,
            "package_years": [years[0], years[-1]],
            "override_years": sorted(self.full_years),
            "overrides": len(self.overrides),
            "missing_years": missing,
            "reading": self.reading.value,
        }


def _package_kind(day: date) -> DayKind:
    if day in chinese_calendar.holidays:
        return DayKind.holiday
    if day in chinese_calendar.workdays:
        return DayKind.workday  # a make-up workday (调休)
    return DayKind.rest_day if day.weekday() >= SATURDAY else DayKind.workday


DEFAULT_CALENDAR = GuardCalendar()
