"""Guardians' limits: they can only make the rules stricter.

A guardian bound to a child may ban use outright, allow only some hours of the day, cap the
daily total and cap single and monthly spending. `apply_play` and `apply_payment` combine
those limits with a rule-set answer; the result is never looser than the rule set's answer
(the property tests in tests/guard/test_guardian.py check this on random inputs).

A temporary unlock (15 minutes to 2 hours) lifts the guardian's *own* limits for that time —
it never lifts the statutory rules. Extending the day's budget where a rule set allows it
(youth mode: "监护人输入密码后可延长") is a separate, explicit request (`extension_s` of
`PlayRequest`), not a setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from qinglang.guard.ages import SHANGHAI, local_day
from qinglang.guard.decision import Decision, PaymentDecision, Reason

MIN_UNLOCK_S = 15 * 60
MAX_UNLOCK_S = 2 * 3600
MAX_WINDOWS = 8


class GuardianLimitError(ValueError):
    def __init__(self, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.message_zh = message_zh


def _parse_clock(text: str) -> time | None:
    """ "HH:MM" → time; "24:00" → None (end of day)."""
    if text == "24:00":
        return None
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except (ValueError, AttributeError) as exc:
        raise GuardianLimitError(f"bad time {text!r}", f"时间格式应为 HH:MM：{text}") from exc


@dataclass(frozen=True, slots=True)
class GuardianLimits:
    """`windows`: allowed local periods ("HH:MM", "HH:MM"), None = no window limit."""

    banned: bool = False
    windows: tuple[tuple[str, str], ...] | None = None
    daily_cap_s: int | None = None
    single_cap_fen: int | None = None
    monthly_cap_fen: int | None = None

    def __post_init__(self) -> None:
        if self.windows is not None:
            if len(self.windows) > MAX_WINDOWS:
                raise GuardianLimitError("too many windows", f"最多设置{MAX_WINDOWS}个时段。")
            for start, end in self.windows:
                a, b = _parse_clock(start), _parse_clock(end)
                if a is None or (b is not None and b <= a):
                    raise GuardianLimitError(
                        f"window {start}-{end} is empty", f"时段{start}-{end}无效。"
                    )
        for name, upper in (
            ("daily_cap_s", 86_400),
            ("single_cap_fen", 100_000_000),
            ("monthly_cap_fen", 10_000_000_000),
        ):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= upper:
                raise GuardianLimitError(f"{name} out of range", "监护人设置的上限数值无效。")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GuardianLimits:
        known = {"banned", "windows", "daily_cap_s", "single_cap_fen", "monthly_cap_fen"}
        unknown = set(data) - known
        if unknown:
            raise GuardianLimitError(
                f"unknown settings {sorted(unknown)}", "包含未知的监护设置项。"
            )
        banned = data.get("banned", False)
        if not isinstance(banned, bool):
            raise GuardianLimitError("banned must be true or false", "禁止使用的设置应为是或否。")
        windows = data.get("windows")
        if windows is not None and (
            not isinstance(windows, list | tuple)
            or not all(
                isinstance(w, list | tuple) and len(w) == 2 and all(isinstance(x, str) for x in w)
                for w in windows
            )
        ):
            raise GuardianLimitError(
                "windows must be a list of [start, end] pairs",
                "时段应为若干[开始, 结束]时间对。",
            )
        caps = {}
        for name in ("daily_cap_s", "single_cap_fen", "monthly_cap_fen"):
            value = data.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise GuardianLimitError(f"{name} must be a whole number", "上限应为整数。")
            caps[name] = value
        return cls(
            banned=banned,
            windows=None if windows is None else tuple((a, b) for a, b in windows),
            **caps,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "banned": self.banned,
            "windows": None if self.windows is None else [list(w) for w in self.windows],
            "daily_cap_s": self.daily_cap_s,
            "single_cap_fen": self.single_cap_fen,
            "monthly_cap_fen": self.monthly_cap_fen,
        }

    def window_instants(self, at: datetime) -> list[tuple[datetime, datetime]]:
        day = local_day(at)
        out = []
        for start, end in self.windows or ():
            a, b = _parse_clock(start), _parse_clock(end)
            begin = datetime.combine(day, a or time(0), SHANGHAI)
            finish = (
                datetime.combine(day + timedelta(days=1), time(0), SHANGHAI)
                if b is None
                else datetime.combine(day, b, SHANGHAI)
            )
            out.append((begin, finish))
        return out


def validate_unlock(seconds: int) -> int:
    if not MIN_UNLOCK_S <= seconds <= MAX_UNLOCK_S:
        raise GuardianLimitError(
            f"unlock must be {MIN_UNLOCK_S}–{MAX_UNLOCK_S} s", "临时解锁时长须在15分钟至2小时之间。"
        )
    return seconds


def apply_play(
    decision: Decision,
    limits: GuardianLimits | None,
    at: datetime,
    used_today_s: int,
    unlock_until: datetime | None = None,
) -> Decision:
    """The rule set's `decision` with the guardian's limits on top: never looser."""
    if limits is None or decision.reason is Reason.adult:
        return decision  # guardianship ends at 18
    if not decision.allowed:
        return _refusal_next(decision, limits)
    if unlock_until is not None and (unlock_until - at).total_seconds() >= 1:
        left = int((unlock_until - at).total_seconds())
        if decision.remaining_seconds is None or left < decision.remaining_seconds:
            # After the unlock the guardian's limits return; the session re-asks then.
            return decision.with_(remaining_seconds=left, next_allowed_at=None)
        return decision
    if limits.banned:
        return Decision(False, 0, Reason.guardian_ban, decision.rule_set, None)
    remaining = decision.remaining_seconds
    if limits.windows is not None:
        windows = limits.window_instants(at)
        current = next(
            ((s, e) for s, e in windows if s <= at and (e - at).total_seconds() >= 1), None
        )
        if current is None:
            upcoming = [s for s, _ in windows if s > at]
            nxt = min(upcoming) if upcoming else None
            return Decision(False, 0, Reason.guardian_window, decision.rule_set, nxt)
        left = int((current[1] - at).total_seconds())
        remaining = left if remaining is None else min(remaining, left)
    if limits.daily_cap_s is not None:
        left = limits.daily_cap_s - used_today_s
        if left <= 0:
            return Decision(False, 0, Reason.guardian_daily_limit, decision.rule_set, None)
        remaining = left if remaining is None else min(remaining, left)
    if remaining != decision.remaining_seconds:
        return decision.with_(remaining_seconds=remaining)
    return decision


def _refusal_next(decision: Decision, limits: GuardianLimits) -> Decision:
    # A ban has no next allowed instant the rules could know.
    if limits.banned:
        return decision.with_(next_allowed_at=None)
    return decision


def apply_payment(
    decision: PaymentDecision,
    limits: GuardianLimits | None,
    amount_fen: int,
    spent_month_fen: int,
) -> PaymentDecision:
    """The rule set's payment answer with the guardian's caps on top: never looser."""
    if limits is None or not decision.allowed or decision.reason is Reason.adult:
        return decision
    if limits.banned:
        return PaymentDecision(False, Reason.guardian_ban, decision.rule_set, 0, 0, 0)
    single = decision.single_cap_fen
    monthly_left = (
        None
        if decision.monthly_remaining_fen is None
        else decision.monthly_remaining_fen + amount_fen  # the rule's remaining before paying
    )
    if limits.single_cap_fen is not None:
        single = limits.single_cap_fen if single is None else min(single, limits.single_cap_fen)
        if amount_fen > limits.single_cap_fen:
            return PaymentDecision(
                False,
                Reason.guardian_single_cap,
                decision.rule_set,
                single,
                decision.monthly_cap_fen,
                monthly_left,
            )
    monthly_cap = decision.monthly_cap_fen
    if limits.monthly_cap_fen is not None:
        g_left = max(limits.monthly_cap_fen - spent_month_fen, 0)
        monthly_left = g_left if monthly_left is None else min(monthly_left, g_left)
        monthly_cap = (
            limits.monthly_cap_fen
            if monthly_cap is None
            else min(monthly_cap, limits.monthly_cap_fen)
        )
        if amount_fen > g_left:
            return PaymentDecision(
                False,
                Reason.guardian_monthly_cap,
                decision.rule_set,
                single,
                monthly_cap,
                monthly_left,
            )
    return PaymentDecision(
        True,
        decision.reason,
        decision.rule_set,
        single,
        monthly_cap,
        None if monthly_left is None else monthly_left - amount_fen,
    )
