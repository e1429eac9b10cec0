"""Rule sets as registered classes over versioned data (data/rulesets.toml).

Each rule set has a unique name, the document it implements (`source`), an effective period,
the platform kinds it governs and `examples` that drive tests/guard/test_rulesets.py. The
numbers live in the TOML table; the classes here hold the semantics the numbers need:

- `game_time` (nppa-2019): a daily window and a daily budget, larger on holidays; guests get
  an hour per device per 15 days;
- `game_play_days` (nppa-2021): one window on play days only (calendar.is_play_day), no guests;
- `youth_mode_time` (video-youth-2019, cac-minor-mode-2024): a daily window, a budget by age
  band, rest reminders, and a guardian's password may extend the day's budget;
- `tipping_only` (live-tipping-2022): no time rules; minors cannot tip.

Everything is pure: the caller passes the instant, the birth date (None for an unverified
guest), the seconds already used and the calendar. Which sets apply is chosen by platform
kind and date (`applicable`); several may apply at once (a live platform: minor mode for time,
the tipping rules for payments) and `evaluate` combines them, the strictest answer winning.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from typing import Any, ClassVar

from qinglang.guard.ages import ADULT_AGE, SHANGHAI, AgeBand, age_on, band_of, local_day
from qinglang.guard.calendar import DEFAULT_CALENDAR, CalendarUnavailable, GuardCalendar
from qinglang.guard.decision import Decision, PaymentDecision, PlatformKind, Reason, month_key
from qinglang.package_data import read_data

# Look-ahead for the next allowed instant: covers a Golden Week plus the weekends around it.
HORIZON_DAYS = 21
# Bounds for money (fen): one payment at most ¥1,000,000; a month's spending at most ¥10^8.
MAX_AMOUNT_FEN = 100_000_000
MAX_SPENT_FEN = 10_000_000_000
MAX_USED_S = 10 * 365 * 86_400
# Day plans cached per calendar: (rule set, day, band) → windows and budget.
PLAN_CACHE_MAX = 200_000


class GuardInputError(ValueError):
    """Bad input to a rule decision; `message_zh` is for the end user."""

    def __init__(self, message: str, message_zh: str, field_name: str | None = None) -> None:
        super().__init__(message)
        self.message_zh = message_zh
        self.field = field_name


class PayKind(StrEnum):
    payment = "payment"  # top-up, purchase
    tip = "tip"  # 打赏


@dataclass(frozen=True, slots=True)
class PlayRequest:
    """`used_today_s`: seconds this person used today (Asia/Shanghai) on the platform kinds the
    rule set counts; `guest_used_s`: for a guest, seconds used on the device in the guest
    period; `extension_s`: a guardian's extension of today's budget (only where allowed)."""

    at: datetime
    birth: date | None
    used_today_s: int = 0
    guest_used_s: int = 0
    extension_s: int = 0

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise GuardInputError("at must be timezone-aware", "时间必须带时区。", "at")
        for name in ("used_today_s", "guest_used_s", "extension_s"):
            value = getattr(self, name)
            if not 0 <= value <= MAX_USED_S:
                raise GuardInputError(
                    f"{name} must be between 0 and {MAX_USED_S}", "已用时长无效。", name
                )
        if self.birth is not None and self.birth > local_day(self.at):
            raise GuardInputError(
                "birth date is after the instant", "出生日期晚于当前时间。", "birth"
            )


@dataclass(frozen=True, slots=True)
class PayRequest:
    at: datetime
    birth: date | None
    amount_fen: int
    spent_month_fen: int = 0
    kind: PayKind = PayKind.payment

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise GuardInputError("at must be timezone-aware", "时间必须带时区。", "at")
        if not 0 < self.amount_fen <= MAX_AMOUNT_FEN:
            raise GuardInputError(
                f"amount must be > 0 and ≤ {MAX_AMOUNT_FEN} fen",
                "金额必须大于0且不超过100万元。",
                "amount",
            )
        if not 0 <= self.spent_month_fen <= MAX_SPENT_FEN:
            raise GuardInputError(
                "spent this month must be ≥ 0 and plausible",
                "本月已消费金额无效。",
                "spent_month",
            )
        if self.birth is not None and self.birth > local_day(self.at):
            raise GuardInputError(
                "birth date is after the instant", "出生日期晚于当前时间。", "birth"
            )


@dataclass(frozen=True, slots=True)
class PlayExample:
    """An instant and usage, and the expected answer; drives the shared tests."""

    at: str  # ISO 8601 with offset
    birth: str | None
    allowed: bool
    reason: Reason
    used_today_s: int = 0
    remaining_s: int | None = None
    next_allowed_at: str | None = None
    guest_used_s: int = 0


@dataclass(frozen=True, slots=True)
class PayExample:
    at: str
    birth: str | None
    amount_fen: int
    allowed: bool
    reason: Reason
    spent_month_fen: int = 0
    kind: PayKind = PayKind.payment
    monthly_remaining_fen: int | None = None


def _clock(text: str) -> time | None:
    """ "HH:MM" → time; "24:00" (end of day) → None."""
    if text == "24:00":
        return None
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


@cache
def _table() -> dict[str, Any]:
    return tomllib.loads(read_data("qinglang.guard", "rulesets.toml"))


REGISTRY: dict[str, type[RuleSet]] = {}


class RuleSet:
    """Base of the registered rule sets; subclasses set `name` and `semantics`."""

    name: ClassVar[str]
    semantics: ClassVar[str]
    play_examples: ClassVar[tuple[PlayExample, ...]] = ()
    pay_examples: ClassVar[tuple[PayExample, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            if cls.name in REGISTRY:
                raise ValueError(f"duplicate rule set {cls.name}")
            REGISTRY[cls.name] = cls

    def __init__(self) -> None:
        data = _table()[self.name]
        if data["semantics"] != self.semantics:
            raise ValueError(f"{self.name}: table says {data['semantics']}")
        self.data = data
        self.title_zh: str = data["title_zh"]
        self.source: str = data["source"]
        self.effective_from: date = data["effective_from"]
        self.effective_to: date | None = data.get("effective_to")
        self.platforms = frozenset(PlatformKind(p) for p in data["platforms"])
        self.windows: tuple[tuple[time, time | None], ...] = tuple(
            (_clock(a) or time(0), _clock(b)) for a, b in data.get("windows", [])
        )
        self.guests: bool = data["guests"]
        self.guest_payment: bool = data["guest_payment"]
        self.payment: str = data["payment"]
        self.rest_reminder_s: int | None = data.get("rest_reminder_s")
        self.guardian_extends: bool = bool(data.get("guardian_extends"))

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )

    def describe(self) -> dict[str, object]:
        return {
            "name": self.name,
            "title_zh": self.title_zh,
            "source": self.source,
            "effective_from": self.effective_from.isoformat(),
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "platforms": sorted(self.platforms),
        }

    # ---------------------------------------------------------------- time

    def has_time_rules(self) -> bool:
        return bool(self.windows)

    def budget_s(self, day: date, band: AgeBand, calendar: GuardCalendar) -> int:
        raise NotImplementedError

    def windows_on(self, day: date, calendar: GuardCalendar) -> list[tuple[datetime, datetime]]:
        """The instants minors may be served on `day` (may raise CalendarUnavailable)."""
        out = []
        for start, end in self.windows:
            begin = datetime.combine(day, start, SHANGHAI)
            finish = (
                datetime.combine(day + timedelta(days=1), time(0), SHANGHAI)
                if end is None
                else datetime.combine(day, end, SHANGHAI)
            )
            out.append((begin, finish))
        return out

    def outside_reason(self, day: date, calendar: GuardCalendar) -> Reason:
        return Reason.curfew

    def guest_band(self) -> AgeBand | None:
        band = self.data.get("guest_band")
        return AgeBand(band) if band else None

    def decide(self, req: PlayRequest, calendar: GuardCalendar = DEFAULT_CALENDAR) -> Decision:
        if not self.has_time_rules():
            return Decision(True, None, Reason.within_limits, self.name)
        day = local_day(req.at)
        if req.birth is None:
            band = self.guest_band()
            if not self.guests:
                return Decision(False, 0, Reason.guest_not_allowed, self.name)
            if band is None:
                return self._decide_guest(req, calendar)
        else:
            age = age_on(req.birth, day)
            if age >= ADULT_AGE:
                return Decision(True, None, Reason.adult, self.name)
            band = band_of(age)
        try:
            return self._decide_minor(req, band, calendar, day)
        except CalendarUnavailable:
            return Decision(False, 0, Reason.calendar_unavailable, self.name)

    def _plan(
        self, day: date, band: AgeBand, calendar: GuardCalendar
    ) -> tuple[tuple[tuple[datetime, datetime], ...], int]:
        """(windows, budget) of `day` for `band`, cached on the calendar (which is rebuilt when
        its overrides change). Raises CalendarUnavailable (never cached)."""
        cache = calendar.plans
        key = (self.name, day, band)
        plan = cache.get(key)
        if plan is None:
            if len(cache) > PLAN_CACHE_MAX:
                cache.clear()
            plan = (tuple(self.windows_on(day, calendar)), self.budget_s(day, band, calendar))
            cache[key] = plan
        return plan

    def _first_start(self, day: date, band: AgeBand, calendar: GuardCalendar) -> datetime | None:
        """The first window start on a day ≥ `day` with a budget (nothing used yet), within
        the horizon; None past the calendar's data. Cached like `_plan`."""
        cache = calendar.plans
        key = ("first", self.name, day, band)
        if key in cache:
            return cache[key]  # type: ignore[return-value]
        found: datetime | None = None
        for offset in range(HORIZON_DAYS + 1):
            try:
                windows, budget = self._plan(day + timedelta(days=offset), band, calendar)
            except CalendarUnavailable:
                break  # never guess past the calendar's data
            if budget > 0 and windows:
                found = windows[0][0]
                break
        cache[key] = found  # type: ignore[assignment]
        return found

    def _decide_minor(
        self, req: PlayRequest, band: AgeBand, calendar: GuardCalendar, day: date
    ) -> Decision:
        at = req.at
        windows, budget = self._plan(day, band, calendar)
        if self.guardian_extends:
            budget += req.extension_s
        # Less than a whole second of a window left counts as outside it: answers are in
        # whole seconds and never round up.
        current = None
        for s, e in windows:
            if s <= at and (e - at).total_seconds() >= 1:
                current = (s, e)
                break
        remind = self.rest_reminder_s
        used = req.used_today_s
        if current is None:
            reason = Reason.not_a_play_day if not windows else self.outside_reason(day, calendar)
            nxt = self._next_today(at, windows, budget, used, day, band, calendar)
            return Decision(False, 0, reason, self.name, nxt, remind)
        left = budget - used
        tomorrow = day + timedelta(days=1)
        if left <= 0:
            nxt = self._first_start(tomorrow, band, calendar)
            return Decision(False, 0, Reason.daily_limit_reached, self.name, nxt, remind)
        window_left = int((current[1] - at).total_seconds())
        if left <= window_left:
            nxt = self._first_start(tomorrow, band, calendar)
            return Decision(True, left, Reason.within_limits, self.name, nxt, remind)
        end = at + timedelta(seconds=window_left)
        nxt = self._next_today(end, windows, budget, used + window_left, day, band, calendar)
        return Decision(True, window_left, Reason.within_limits, self.name, nxt, remind)

    def _next_today(
        self,
        after: datetime,
        windows: tuple[tuple[datetime, datetime], ...],
        budget: int,
        used: int,
        day: date,
        band: AgeBand,
        calendar: GuardCalendar,
    ) -> datetime | None:
        """The first instant ≥ `after` (on `day`) with a window and budget left, else the first
        start on a later day."""
        if used < budget:
            for start, end in windows:
                begin = start if start > after else after
                if (end - begin).total_seconds() >= 1:
                    return begin
        return self._first_start(day + timedelta(days=1), band, calendar)

    def _decide_guest(self, req: PlayRequest, calendar: GuardCalendar) -> Decision:
        budget = int(self.data["guest_budget_s"])
        at = req.at
        day = local_day(at)
        windows = self.windows_on(day, calendar)
        current = next(
            ((s, e) for s, e in windows if s <= at and (e - at).total_seconds() >= 1), None
        )
        if req.guest_used_s >= budget:
            return Decision(False, 0, Reason.guest_time_used, self.name)
        if current is None:
            # Guests may be minors: the curfew applies to them too (the stricter reading).
            nxt = next((s for s, _ in windows if s > at), None)
            if nxt is None:
                nxt = self.windows_on(day + timedelta(days=1), calendar)[0][0]
            return Decision(False, 0, self.outside_reason(day, calendar), self.name, nxt)
        remaining = min(budget - req.guest_used_s, int((current[1] - at).total_seconds()))
        return Decision(True, remaining, Reason.within_limits, self.name, None)

    # ---------------------------------------------------------------- payments

    def check_payment(self, req: PayRequest) -> PaymentDecision:
        day = local_day(req.at)
        if req.birth is None:
            if self.payment == "no_tipping" and req.kind is PayKind.payment:
                return PaymentDecision(True, Reason.within_limits, self.name, None, None, None)
            return PaymentDecision(False, Reason.guest_no_payment, self.name, 0, 0, 0)
        age = age_on(req.birth, day)
        if age >= ADULT_AGE:
            return PaymentDecision(True, Reason.adult, self.name, None, None, None)
        if self.payment == "no_tipping":
            if req.kind is PayKind.tip:
                return PaymentDecision(False, Reason.tipping_not_allowed, self.name, 0, 0, 0)
            return PaymentDecision(True, Reason.within_limits, self.name, None, None, None)
        if self.payment == "none_for_minors":
            reason = (
                Reason.tipping_not_allowed
                if req.kind is PayKind.tip
                else Reason.payment_not_allowed
            )
            return PaymentDecision(False, reason, self.name, 0, 0, 0)
        single, monthly = game_caps(age)
        return capped_payment(self.name, req, single, monthly)


def game_caps(age: int) -> tuple[int, int]:
    """(single, monthly) caps in fen under 国新出发〔2019〕34号 art. 3 for a minor of `age`."""
    if age < 8:
        return 0, 0
    if age < 16:
        return 5_000, 20_000
    return 10_000, 40_000


def capped_payment(rule_set: str, req: PayRequest, single: int, monthly: int) -> PaymentDecision:
    """Check `req` against caps; `monthly_remaining` is what is left of the month's cap once
    this payment is made (allowed) or now (refused)."""
    left = max(monthly - req.spent_month_fen, 0)
    if single == 0 and monthly == 0:
        return PaymentDecision(False, Reason.too_young_to_pay, rule_set, 0, 0, 0)
    if req.amount_fen > single:
        return PaymentDecision(False, Reason.single_cap_exceeded, rule_set, single, monthly, left)
    if req.amount_fen > left:
        return PaymentDecision(False, Reason.monthly_cap_exceeded, rule_set, single, monthly, left)
    return PaymentDecision(
        True, Reason.within_limits, rule_set, single, monthly, left - req.amount_fen
    )


def _iso(day: str, clock: str) -> str:
    return f"{day}T{clock}:00+08:00"


# ---------------------------------------------------------------- the registered sets


class Nppa2019(RuleSet):
    name = "nppa-2019"
    semantics = "game_time"
    play_examples = (
        # 2020-10-09 is a Friday, a workday: 1.5 h.
        PlayExample(
            _iso("2020-10-09", "10:00"),
            "2008-05-01",
            True,
            Reason.within_limits,
            remaining_s=5400,
            next_allowed_at=_iso("2020-10-10", "08:00"),
        ),
        PlayExample(
            _iso("2020-10-09", "21:30"),
            "2008-05-01",
            True,
            Reason.within_limits,
            remaining_s=1800,
            next_allowed_at=_iso("2020-10-10", "08:00"),
        ),
        PlayExample(
            _iso("2020-10-09", "22:00"),
            "2008-05-01",
            False,
            Reason.curfew,
            next_allowed_at=_iso("2020-10-10", "08:00"),
        ),
        PlayExample(
            _iso("2020-10-09", "07:59"),
            "2008-05-01",
            False,
            Reason.curfew,
            next_allowed_at=_iso("2020-10-09", "08:00"),
        ),
        PlayExample(
            _iso("2020-10-09", "12:00"),
            "2008-05-01",
            False,
            Reason.daily_limit_reached,
            used_today_s=5400,
            next_allowed_at=_iso("2020-10-10", "08:00"),
        ),
        # 2020-10-05: National Day break, 3 h.
        PlayExample(
            _iso("2020-10-05", "12:00"),
            "2008-05-01",
            True,
            Reason.within_limits,
            used_today_s=5400,
            remaining_s=5400,
        ),
        PlayExample(_iso("2020-10-09", "12:00"), "2000-01-01", True, Reason.adult),
        # Still 17 on the 18th birthday; adult the day after.
        PlayExample(_iso("2020-10-09", "23:00"), "2002-10-09", False, Reason.curfew),
        PlayExample(_iso("2020-10-10", "23:00"), "2002-10-09", True, Reason.adult),
        PlayExample(
            _iso("2020-10-09", "12:00"), None, True, Reason.within_limits, remaining_s=3600
        ),
        PlayExample(
            _iso("2020-10-09", "12:00"), None, False, Reason.guest_time_used, guest_used_s=3600
        ),
    )
    pay_examples = (
        PayExample(_iso("2020-10-09", "12:00"), "2014-01-01", 100, False, Reason.too_young_to_pay),
        PayExample(
            _iso("2020-10-09", "12:00"),
            "2010-01-01",
            5000,
            True,
            Reason.within_limits,
            spent_month_fen=10000,
            monthly_remaining_fen=5000,
        ),
        PayExample(
            _iso("2020-10-09", "12:00"),
            "2010-01-01",
            5001,
            False,
            Reason.single_cap_exceeded,
            monthly_remaining_fen=20000,
        ),
        PayExample(
            _iso("2020-10-09", "12:00"),
            "2010-01-01",
            5000,
            False,
            Reason.monthly_cap_exceeded,
            spent_month_fen=16000,
            monthly_remaining_fen=4000,
        ),
        PayExample(
            _iso("2020-10-09", "12:00"),
            "2004-01-01",
            10000,
            True,
            Reason.within_limits,
            spent_month_fen=30000,
            monthly_remaining_fen=0,
        ),
        PayExample(_iso("2020-10-09", "12:00"), None, 100, False, Reason.guest_no_payment),
    )

    def budget_s(self, day: date, band: AgeBand, calendar: GuardCalendar) -> int:
        table = self.data["holiday_daily_s"] if calendar.is_holiday(day) else self.data["daily_s"]
        return int(table.get(band.value, table["minor"]))

    def windows_on(self, day: date, calendar: GuardCalendar) -> list[tuple[datetime, datetime]]:
        calendar.kind(day)  # no data for the year: CalendarUnavailable, never a guess
        return super().windows_on(day, calendar)


class Nppa2021(RuleSet):
    name = "nppa-2021"
    semantics = "game_play_days"
    play_examples = (
        # 2026-12-04 is a Friday.
        PlayExample(
            _iso("2026-12-04", "20:00"),
            "2012-03-01",
            True,
            Reason.within_limits,
            remaining_s=3600,
            next_allowed_at=_iso("2026-12-05", "20:00"),
        ),
        PlayExample(
            _iso("2026-12-04", "20:45"),
            "2012-03-01",
            True,
            Reason.within_limits,
            remaining_s=900,
            next_allowed_at=_iso("2026-12-05", "20:00"),
        ),
        PlayExample(
            _iso("2026-12-04", "19:59"),
            "2012-03-01",
            False,
            Reason.outside_play_window,
            next_allowed_at=_iso("2026-12-04", "20:00"),
        ),
        PlayExample(
            _iso("2026-12-04", "21:00"),
            "2012-03-01",
            False,
            Reason.outside_play_window,
            next_allowed_at=_iso("2026-12-05", "20:00"),
        ),
        # Thursday: next play day is Friday.
        PlayExample(
            _iso("2026-12-03", "20:30"),
            "2012-03-01",
            False,
            Reason.not_a_play_day,
            next_allowed_at=_iso("2026-12-04", "20:00"),
        ),
        # A make-up workday Saturday (2026-02-28) is not a play day in the default reading;
        # the next is Sunday 2026-03-01... which is an ordinary rest day.
        PlayExample(
            _iso("2026-02-28", "20:30"),
            "2012-03-01",
            False,
            Reason.not_a_play_day,
            next_allowed_at=_iso("2026-03-01", "20:00"),
        ),
        # National Day break, a Monday: playable.
        PlayExample(
            _iso("2026-10-05", "20:30"),
            "2012-03-01",
            True,
            Reason.within_limits,
            remaining_s=1800,
            next_allowed_at=_iso("2026-10-06", "20:00"),
        ),
        PlayExample(
            _iso("2026-12-04", "20:30"),
            "2012-03-01",
            False,
            Reason.daily_limit_reached,
            used_today_s=3600,
            next_allowed_at=_iso("2026-12-05", "20:00"),
        ),
        PlayExample(_iso("2026-12-04", "20:30"), None, False, Reason.guest_not_allowed),
        PlayExample(_iso("2026-12-03", "03:00"), "1990-01-01", True, Reason.adult),
    )
    pay_examples = (
        PayExample(
            _iso("2026-12-03", "12:00"),
            "2012-03-01",
            5000,
            True,
            Reason.within_limits,
            monthly_remaining_fen=15000,
        ),
        PayExample(_iso("2026-12-03", "12:00"), "2019-03-01", 600, False, Reason.too_young_to_pay),
        PayExample(_iso("2026-12-03", "12:00"), None, 600, False, Reason.guest_no_payment),
    )

    def budget_s(self, day: date, band: AgeBand, calendar: GuardCalendar) -> int:
        return int(self.data["daily_s"]["minor"])

    def windows_on(self, day: date, calendar: GuardCalendar) -> list[tuple[datetime, datetime]]:
        if not calendar.is_play_day(day):
            return []
        return super().windows_on(day, calendar)

    def outside_reason(self, day: date, calendar: GuardCalendar) -> Reason:
        return Reason.outside_play_window


class _YouthModeTime(RuleSet):
    semantics = "youth_mode_time"

    def budget_s(self, day: date, band: AgeBand, calendar: GuardCalendar) -> int:
        table = self.data["daily_s"]
        return int(table.get(band.value, table.get("minor", 0)))


class VideoYouth2019(_YouthModeTime):
    name = "video-youth-2019"
    play_examples = (
        PlayExample(
            _iso("2020-06-01", "12:00"),
            "2010-01-01",
            True,
            Reason.within_limits,
            remaining_s=2400,
            next_allowed_at=_iso("2020-06-02", "06:00"),
        ),
        PlayExample(
            _iso("2020-06-01", "05:59"),
            "2010-01-01",
            False,
            Reason.curfew,
            next_allowed_at=_iso("2020-06-01", "06:00"),
        ),
        PlayExample(
            _iso("2020-06-01", "12:00"),
            "2010-01-01",
            False,
            Reason.daily_limit_reached,
            used_today_s=2400,
            next_allowed_at=_iso("2020-06-02", "06:00"),
        ),
        PlayExample(
            _iso("2020-06-01", "12:00"), None, True, Reason.within_limits, remaining_s=2400
        ),
    )
    pay_examples = (
        PayExample(
            _iso("2020-06-01", "12:00"), "2010-01-01", 100, False, Reason.payment_not_allowed
        ),
        PayExample(
            _iso("2020-06-01", "12:00"),
            "2010-01-01",
            100,
            False,
            Reason.tipping_not_allowed,
            kind=PayKind.tip,
        ),
        PayExample(_iso("2020-06-01", "12:00"), "1990-01-01", 100, True, Reason.adult),
    )


class CacMinorMode2024(_YouthModeTime):
    name = "cac-minor-mode-2024"
    play_examples = (
        PlayExample(
            _iso("2026-12-03", "12:00"),
            "2014-01-01",
            True,
            Reason.within_limits,
            remaining_s=3600,
            next_allowed_at=_iso("2026-12-04", "06:00"),
        ),
        PlayExample(
            _iso("2026-12-03", "12:00"),
            "2020-01-01",
            True,
            Reason.within_limits,
            remaining_s=2400,
            next_allowed_at=_iso("2026-12-04", "06:00"),
        ),
        PlayExample(
            _iso("2026-12-03", "12:00"),
            "2009-06-01",
            True,
            Reason.within_limits,
            remaining_s=7200,
            next_allowed_at=_iso("2026-12-04", "06:00"),
        ),
        PlayExample(
            _iso("2026-12-03", "21:30"),
            "2009-06-01",
            True,
            Reason.within_limits,
            remaining_s=1800,
            next_allowed_at=_iso("2026-12-04", "06:00"),
        ),
        PlayExample(
            _iso("2026-12-03", "22:00"),
            "2009-06-01",
            False,
            Reason.curfew,
            next_allowed_at=_iso("2026-12-04", "06:00"),
        ),
        PlayExample(
            _iso("2026-12-03", "12:00"),
            "2014-01-01",
            False,
            Reason.daily_limit_reached,
            used_today_s=3600,
            next_allowed_at=_iso("2026-12-04", "06:00"),
        ),
    )
    pay_examples = (
        PayExample(
            _iso("2026-12-03", "12:00"), "2014-01-01", 100, False, Reason.payment_not_allowed
        ),
    )


class LiveTipping2022(RuleSet):
    name = "live-tipping-2022"
    semantics = "tipping_only"
    play_examples = (
        PlayExample(_iso("2026-12-03", "23:00"), "2014-01-01", True, Reason.within_limits),
    )
    pay_examples = (
        PayExample(
            _iso("2026-12-03", "12:00"),
            "2010-01-01",
            100,
            False,
            Reason.tipping_not_allowed,
            kind=PayKind.tip,
        ),
        PayExample(
            _iso("2026-12-03", "12:00"), None, 100, False, Reason.guest_no_payment, kind=PayKind.tip
        ),
        PayExample(
            _iso("2026-12-03", "12:00"), "2000-01-01", 100, True, Reason.adult, kind=PayKind.tip
        ),
    )

    def budget_s(self, day: date, band: AgeBand, calendar: GuardCalendar) -> int:
        return 0


# ---------------------------------------------------------------- selection and combination


@cache
def get(name: str) -> RuleSet:
    cls = REGISTRY.get(name)
    if cls is None:
        raise GuardInputError(
            f"unknown rule set {name!r}; known: {', '.join(sorted(REGISTRY))}",
            f"未知的规则集：{name}。",
            "rules",
        )
    return cls()


def all_rule_sets() -> list[RuleSet]:
    return [get(name) for name in REGISTRY]


def applicable(platform: PlatformKind, day: date) -> list[RuleSet]:
    """The rule sets in force for `platform` on `day`, in registration order."""
    return [rs for rs in all_rule_sets() if platform in rs.platforms and rs.in_force(day)]


def resolve(platform: PlatformKind, at: datetime, names: Iterable[str] = ()) -> list[RuleSet]:
    """Named sets if given, else those in force for the platform on the day of `at`."""
    chosen = [get(n) for n in names]
    return chosen or applicable(platform, local_day(at))


NO_RULES = "none"


def evaluate(
    sets: list[RuleSet], req: PlayRequest, calendar: GuardCalendar = DEFAULT_CALENDAR
) -> Decision:
    """The strictest answer of `sets`: refused if any refuses, else the least remaining time.

    When several refuse, the answer names the first; `next_allowed_at` is an instant at which
    every set allows play (found by re-asking at the latest proposed instant), or None."""
    if not sets:
        return Decision(True, None, Reason.within_limits, NO_RULES)
    # Sets without time rules (live-tipping-2022) always allow play: only the others count.
    timed_sets = [rs for rs in sets if rs.windows]
    if len(timed_sets) == 1:
        return timed_sets[0].decide(req, calendar)
    sets = timed_sets or sets[:1]
    decisions = [rs.decide(req, calendar) for rs in sets]
    refused = [d for d in decisions if not d.allowed]
    if refused:
        first = refused[0]
        if len(sets) == 1:
            return first
        return first.with_(next_allowed_at=_common_next(sets, req, calendar, decisions))
    timed = [d for d in decisions if d.remaining_seconds is not None]
    if not timed:
        return decisions[0]
    return min(timed, key=lambda d: d.remaining_seconds or 0)


def _common_next(
    sets: list[RuleSet], req: PlayRequest, calendar: GuardCalendar, decisions: list[Decision]
) -> datetime | None:
    if len(sets) == 1:
        return decisions[0].next_allowed_at
    candidate: datetime | None = max(
        (d.next_allowed_at for d in decisions if not d.allowed and d.next_allowed_at),
        default=None,
    )
    if any(not d.allowed and d.next_allowed_at is None for d in decisions):
        return None
    for _ in range(8):
        if candidate is None:
            return None
        same_day = local_day(candidate) == local_day(req.at)
        probe = PlayRequest(
            candidate,
            req.birth,
            req.used_today_s if same_day else 0,
            req.guest_used_s,
            req.extension_s if same_day else 0,
        )
        later = [rs.decide(probe, calendar) for rs in sets]
        if all(d.allowed for d in later):
            return candidate
        proposals = [d.next_allowed_at for d in later if not d.allowed]
        if any(p is None for p in proposals):
            return None
        candidate = max(p for p in proposals if p is not None)
    return None


def evaluate_payment(sets: list[RuleSet], req: PayRequest) -> PaymentDecision:
    """The strictest payment answer: refused if any set refuses; caps are the smallest."""
    if not sets:
        return PaymentDecision(True, Reason.within_limits, NO_RULES, None, None, None)
    decisions = [rs.check_payment(req) for rs in sets]
    refused = [d for d in decisions if not d.allowed]
    if refused:
        return refused[0]
    capped = [d for d in decisions if d.single_cap_fen is not None]
    return min(capped, key=lambda d: d.monthly_remaining_fen or 0) if capped else decisions[0]


def spending_month(at: datetime) -> str:
    return month_key(local_day(at))
