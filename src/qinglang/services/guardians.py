"""Guardians: bind a child (by pi), set stricter limits, unlock, extend, alerts, reports.

A guardian is an account on the calling platform (`guardian`); the platform vouches for the
guardianship it reports. Limits only ever make the rules stricter (`qinglang.guard.guardian`);
a temporary unlock (15 min–2 h) lifts a guardian's own limits for that time; an extension of
today's budget (youth mode, where the rule set allows it) needs the guardian's password.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qinglang.guard.ages import ADULT_AGE, age_on, local_day
from qinglang.guard.decision import PlatformKind
from qinglang.guard.guardian import GuardianLimitError, GuardianLimits, validate_unlock
from qinglang.guard.pi import InvalidPi, birth_of_pi
from qinglang.guard.sessions import usage_key
from qinglang.services.errors import ServiceError, invalid, not_found
from qinglang.services.guard_platforms import PlatformInfo
from qinglang.services.guard_sessions import GuardRuntime
from qinglang.store.models import GuardAlert, GuardianLink, GuardPayment, GuardUsage
from qinglang.store.passwords import PasswordPolicyError, hash_password, verify_password

GUARDIAN_MAX = 64
MAX_ALERTS = 200


def _limits(data: dict[str, Any] | None) -> GuardianLimits:
    try:
        return GuardianLimits.from_dict(data or {})
    except GuardianLimitError as exc:
        raise invalid("bad_limits", str(exc), exc.message_zh) from None
    except (TypeError, ValueError) as exc:
        raise invalid("bad_limits", str(exc), "监护设置格式错误。") from None


def link_dict(row: GuardianLink, now: datetime) -> dict[str, Any]:
    active_unlock = row.unlock_until if row.unlock_until and row.unlock_until > now else None
    return {
        "id": row.id,
        "guardian": row.guardian,
        "child_pi": row.person_key,
        "limits": GuardianLimits.from_dict(row.limits).as_dict(),
        "has_password": row.password_hash is not None,
        "unlock_until": active_unlock.isoformat() if active_unlock else None,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


def bind(
    runtime: GuardRuntime,
    platform: PlatformInfo,
    guardian: str,
    child_pi: str,
    limits: dict[str, Any] | None,
    password: str | None,
    now: datetime,
) -> dict[str, Any]:
    if not isinstance(guardian, str) or not 0 < len(guardian) <= GUARDIAN_MAX:
        raise invalid("bad_guardian", "guardian must be 1–64 characters", "监护人账号标识无效。")
    try:
        birth = birth_of_pi(child_pi)
    except InvalidPi as exc:
        raise invalid("bad_pi", "invalid child pi", exc.message_zh) from None
    if age_on(birth, local_day(now)) >= ADULT_AGE:
        raise invalid("not_a_minor", "the child is an adult", "被监护人已成年，不能绑定。")
    parsed = _limits(limits)
    try:
        pw_hash = hash_password(password) if password else None
    except PasswordPolicyError as exc:
        raise invalid("weak_password", str(exc), exc.message_zh) from None
    with runtime.db.write() as session:
        row = session.execute(
            select(GuardianLink).where(
                GuardianLink.platform_id == platform.id,
                GuardianLink.guardian == guardian,
                GuardianLink.person_key == child_pi,
            )
        ).scalar_one_or_none()
        if row is not None and row.revoked_at is None:
            raise ServiceError(
                "conflict",
                "already_bound",
                "guardian already bound to this child",
                "已绑定该未成年人。",
            )
        if row is None:
            row = GuardianLink(
                platform_id=platform.id,
                guardian=guardian,
                person_key=child_pi,
                created_at=now,
            )
            session.add(row)
        row.limits = parsed.as_dict()
        row.password_hash = pw_hash
        row.unlock_until = None
        row.updated_at = now
        row.revoked_at = None
        session.flush()
        out = link_dict(row, now)
    runtime.forget_guardians(child_pi)
    return out


def _link(session: Session, platform: PlatformInfo, link_id: int) -> GuardianLink:
    row = session.get(GuardianLink, link_id)
    if row is None or row.platform_id != platform.id or row.revoked_at is not None:
        raise not_found("guardian_link", "监护绑定", link_id)
    return row


def get_link(runtime: GuardRuntime, platform: PlatformInfo, link_id: int, now: datetime) -> dict:
    with runtime.db.read() as session:
        return link_dict(_link(session, platform, link_id), now)


def set_limits(
    runtime: GuardRuntime,
    platform: PlatformInfo,
    link_id: int,
    limits: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    parsed = _limits(limits)
    with runtime.db.write() as session:
        row = _link(session, platform, link_id)
        row.limits = parsed.as_dict()
        row.updated_at = now
        out = link_dict(row, now)
        person = row.person_key
    runtime.forget_guardians(person)
    return out


def unbind(runtime: GuardRuntime, platform: PlatformInfo, link_id: int, now: datetime) -> None:
    with runtime.db.write() as session:
        row = _link(session, platform, link_id)
        row.revoked_at = now
        person = row.person_key
    runtime.forget_guardians(person)


def unlock(
    runtime: GuardRuntime, platform: PlatformInfo, link_id: int, seconds: int, now: datetime
) -> dict[str, Any]:
    try:
        validate_unlock(seconds)
    except GuardianLimitError as exc:
        raise invalid("bad_unlock", str(exc), exc.message_zh) from None
    with runtime.db.write() as session:
        row = _link(session, platform, link_id)
        row.unlock_until = now + timedelta(seconds=seconds)
        row.unlock_seconds = seconds
        row.updated_at = now
        out = link_dict(row, now)
        person = row.person_key
    runtime.forget_guardians(person)
    return out


def extend_today(
    runtime: GuardRuntime,
    platform: PlatformInfo,
    link_id: int,
    password: str,
    seconds: int,
    now: datetime,
) -> dict[str, Any]:
    """Extend today's budget where the rule set allows it (youth mode), with the password."""
    from qinglang.guard.youth_mode import ExtensionError, ExtensionRequest

    day = local_day(now)
    try:
        ExtensionRequest(day, seconds)
    except ExtensionError as exc:
        raise invalid("bad_extension", str(exc), exc.message_zh) from None
    with runtime.db.read() as session:
        row = _link(session, platform, link_id)
        stored, person = row.password_hash, row.person_key
    if not verify_password(stored, password or ""):
        raise ServiceError(
            "forbidden", "bad_guardian_password", "wrong guardian password", "监护人密码错误。"
        )
    from qinglang.guard.youth_mode import MAX_EXTENSION_S

    if runtime.extension_s(person, day) + seconds > MAX_EXTENSION_S:
        raise invalid(
            "extension_limit",
            "extensions of one day may not exceed 2 hours",
            "同一天的延长时长累计不能超过2小时。",
        )
    total = runtime.add_extension(person, day, seconds)
    return {"day": day.isoformat(), "extension_seconds": total}


def alerts(
    runtime: GuardRuntime, platform: PlatformInfo, link_id: int, limit: int = 50
) -> list[dict[str, Any]]:
    limit = max(1, min(limit, MAX_ALERTS))
    with runtime.db.read() as session:
        row = _link(session, platform, link_id)
        rows = (
            session.execute(
                select(GuardAlert)
                .where(GuardAlert.person_key == row.person_key, GuardAlert.at >= row.created_at)
                .order_by(GuardAlert.id.desc())
                .limit(limit)
            )
            .scalars()
            .all()
        )
        return [
            {"id": a.id, "kind": a.kind, "detail": a.detail, "at": a.at.isoformat()} for a in rows
        ]


def usage_report(
    runtime: GuardRuntime, platform: PlatformInfo, link_id: int, period: str, end: date
) -> dict[str, Any]:
    """Daily or weekly usage: seconds per day and platform kind (the larger of the live
    counters and the persisted rows), payments per day, alerts per kind."""
    if period not in ("day", "week"):
        raise invalid("bad_period", "period must be day or week", "报告周期应为 day 或 week。")
    days = [end - timedelta(days=i) for i in range(1 if period == "day" else 7)][::-1]
    with runtime.db.read() as session:
        row = _link(session, platform, link_id)
        person = row.person_key
        stored = {
            (u.day, u.platform_kind): u.seconds
            for u in session.execute(
                select(GuardUsage).where(
                    GuardUsage.person_key == person, GuardUsage.day.between(days[0], days[-1])
                )
            ).scalars()
        }
        pay_rows = session.execute(
            select(GuardPayment.at, GuardPayment.amount_fen).where(
                GuardPayment.person_key == person
            )
        ).all()
        alert_counts = dict(
            session.execute(
                select(GuardAlert.kind, func.count())
                .where(GuardAlert.person_key == person)
                .group_by(GuardAlert.kind)
            ).all()
        )
    keys = [(d, k) for d in days for k in PlatformKind]
    live = runtime.counters.usage([usage_key(person, d, k) for d, k in keys])
    per_day = []
    for d in days:
        kinds = {
            k.value: max(live[keys.index((d, k))], stored.get((d, k.value), 0))
            for k in PlatformKind
        }
        spent = sum(a for at, a in pay_rows if local_day(at) == d)
        per_day.append(
            {
                "day": d.isoformat(),
                "seconds": kinds,
                "total_seconds": sum(kinds.values()),
                "spent_yuan": spent / 100,
            }
        )
    return {
        "child_pi": person,
        "period": period,
        "days": per_day,
        "total_seconds": sum(x["total_seconds"] for x in per_day),
        "alerts": alert_counts,
    }
