"""What the rule sets answer: play-time decisions and payment decisions, with stable reasons.

Every answer carries a reason code (stable, for machines), a Chinese message for the player and,
when play is refused or will end, the next instant play is allowed again. Money is in fen (分)
as int; yuan only at the edges.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum


class PlatformKind(StrEnum):
    game = "game"
    video = "video"
    live = "live"


class Reason(StrEnum):
    """Why an answer is what it is. `message_zh` is shown to the player."""

    adult = "adult"
    within_limits = "within_limits"
    guest_not_allowed = "guest_not_allowed"
    guest_time_used = "guest_time_used"
    guest_no_payment = "guest_no_payment"
    curfew = "curfew"
    outside_play_window = "outside_play_window"
    not_a_play_day = "not_a_play_day"
    daily_limit_reached = "daily_limit_reached"
    guardian_ban = "guardian_ban"
    guardian_window = "guardian_window"
    guardian_daily_limit = "guardian_daily_limit"
    guardian_single_cap = "guardian_single_cap"
    guardian_monthly_cap = "guardian_monthly_cap"
    too_young_to_pay = "too_young_to_pay"
    payment_not_allowed = "payment_not_allowed"
    tipping_not_allowed = "tipping_not_allowed"
    single_cap_exceeded = "single_cap_exceeded"
    monthly_cap_exceeded = "monthly_cap_exceeded"
    calendar_unavailable = "calendar_unavailable"
    session_expired = "session_expired"
    session_ended = "session_ended"

    @property
    def message_zh(self) -> str:
        return REASON_MESSAGES[self]


REASON_MESSAGES: dict[Reason, str] = {
    Reason.adult: "已成年，不受未成年人时长和消费限制。",
    Reason.within_limits: "在限制范围内，可以继续。",
    Reason.guest_not_allowed: "未实名认证的游客不能进入游戏，请先完成实名认证。",
    Reason.guest_time_used: "游客体验时长已用完（15天内累计1小时），请完成实名认证。",
    Reason.guest_no_payment: "游客不能充值付费，请先完成实名认证。",
    Reason.curfew: "当前为未成年人禁止使用时段，请按时休息。",
    Reason.outside_play_window: "当前不在未成年人可游戏的时段内。",
    Reason.not_a_play_day: "今天不是未成年人可游戏的日子（仅周五、周六、周日和法定节假日）。",
    Reason.daily_limit_reached: "今日可用时长已用完，请明天再来。",
    Reason.guardian_ban: "监护人已设置禁止使用。",
    Reason.guardian_window: "当前不在监护人允许的时段内。",
    Reason.guardian_daily_limit: "已达到监护人设置的每日时长上限。",
    Reason.guardian_single_cap: "超过监护人设置的单次消费上限。",
    Reason.guardian_monthly_cap: "超过监护人设置的每月消费上限。",
    Reason.too_young_to_pay: "未满8周岁的用户不能充值付费。",
    Reason.payment_not_allowed: "未成年人模式下不能充值、提现或付费。",
    Reason.tipping_not_allowed: "未成年人不能打赏。",
    Reason.single_cap_exceeded: "超过单次充值金额上限。",
    Reason.monthly_cap_exceeded: "超过本月累计充值金额上限。",
    Reason.calendar_unavailable: "节假日数据缺失，无法判断今天是否可以游戏，请联系平台。",
    Reason.session_expired: "超过5分钟未收到心跳，本次会话已结束，请重新登录。",
    Reason.session_ended: "本次会话已结束，请重新登录。",
}


@dataclass(frozen=True, slots=True)
class Decision:
    """A play-time answer at one instant.

    `remaining_seconds` is how long play may continue from `at` (None: no limit applies);
    `next_allowed_at` is when play may start again after it ends or when refused (None: not
    within the look-ahead horizon, or no limit). `rest_reminder_seconds`, when set, is the
    interval of rest reminders.
    """

    allowed: bool
    remaining_seconds: int | None
    reason: Reason
    rule_set: str
    next_allowed_at: datetime | None = None
    rest_reminder_seconds: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "allowed": self.allowed,
            "remaining_seconds": self.remaining_seconds,
            "reason": self.reason.value,
            "message": self.reason.message_zh,
            "rule_set": self.rule_set,
            "next_allowed_at": self.next_allowed_at.isoformat() if self.next_allowed_at else None,
            "rest_reminder_seconds": self.rest_reminder_seconds,
        }

    def with_(self, **changes: object) -> Decision:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class PaymentDecision:
    """A payment answer. Caps in fen; None means no cap applies."""

    allowed: bool
    reason: Reason
    rule_set: str
    single_cap_fen: int | None
    monthly_cap_fen: int | None
    monthly_remaining_fen: int | None

    def as_dict(self) -> dict[str, object]:
        return {
            "allowed": self.allowed,
            "reason": self.reason.value,
            "message": self.reason.message_zh,
            "rule_set": self.rule_set,
            "single_cap_yuan": yuan(self.single_cap_fen),
            "monthly_remaining_yuan": yuan(self.monthly_remaining_fen),
        }


def yuan(fen: int | None) -> int | float | None:
    """Yuan as a JSON number: whole yuan as an int, else rounded to fen. Arithmetic stays in
    fen; this is only the last step before JSON."""
    if fen is None:
        return None
    if fen % 100 == 0:
        return fen // 100
    return round(fen / 100, 2)


def month_key(day: date) -> str:
    """The spending month a day belongs to (months reset on the 1st, Asia/Shanghai)."""
    return f"{day.year:04d}-{day.month:02d}"
