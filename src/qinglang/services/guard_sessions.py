"""The guard at run time: decisions, play sessions and the guardian cache.

`GuardRuntime` holds what every request needs — the counter store (in-process or Redis), the
calendar with its override table (reloaded every `CALENDAR_TTL_S`), the guardians' limits per
person (cached in the counter store, dropped when a guardian changes them) — and runs the
session steps of `qinglang.guard.sessions` against them. A heartbeat costs one session read,
one usage read and one atomic compare-and-set; it does not touch the database.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from qinglang.guard.ages import local_day
from qinglang.guard.calendar import DayKind, GuardCalendar, PlayDayReading
from qinglang.guard.decision import Decision, PlatformKind, Reason
from qinglang.guard.guardian import GuardianLimits, apply_play
from qinglang.guard.rulesets import PlayRequest, RuleSet, evaluate, resolve
from qinglang.guard.sessions import (
    GUEST_PERIOD_DAYS,
    SESSION_TTL_S,
    USAGE_TTL_S,
    LiveSession,
    SessionState,
    from_ms,
    guest_keys,
    plan_step,
    to_ms,
    usage_key,
)
from qinglang.services.errors import ServiceError
from qinglang.services.guard_platforms import PlatformInfo, ProfileInfo
from qinglang.store.db import Database
from qinglang.store.guard_counters import Counters
from qinglang.store.models import CalendarOverride, GuardAlert, GuardianLink, GuardUsage

log = logging.getLogger("qinglang.guard")

CALENDAR_TTL_S = 60.0
GUARDIAN_TTL_S = 300
# Guardians' limits are also kept in the process this long: a change made through another
# replica applies here within it (through this one, at once).
LOCAL_GUARDIAN_TTL_S = 5.0
LOCAL_GUARDIANS_MAX = 100_000
DEVICE_MAX = 64


@dataclass(frozen=True, slots=True)
class GuardianState:
    """The limits of every guardian bound to a person, as cached per person."""

    links: tuple[tuple[int, GuardianLimits, datetime | None], ...] = ()

    @property
    def linked(self) -> bool:
        return bool(self.links)

    def to_json(self) -> list[Any]:
        return [
            [lid, limits.as_dict(), until.isoformat() if until else None]
            for lid, limits, until in self.links
        ]

    @classmethod
    def from_json(cls, data: list[Any]) -> GuardianState:
        return cls(
            tuple(
                (
                    int(lid),
                    GuardianLimits.from_dict(limits),
                    datetime.fromisoformat(until) if until else None,
                )
                for lid, limits, until in data
            )
        )


@dataclass(frozen=True, slots=True)
class StepAnswer:
    session: LiveSession | None
    decision: Decision
    used_today_s: int

    def as_dict(self) -> dict[str, Any]:
        out = self.decision.as_dict()
        s = self.session
        out.update(
            {
                "session_id": s.id if s else None,
                "state": s.state.value if s else None,
                "ends_at": from_ms(s.ends_ms).isoformat() if s and s.ends_ms else None,
                "counted_seconds": s.counted_s if s else 0,
                "used_today_seconds": self.used_today_s,
            }
        )
        return out


class GuardRuntime:
    def __init__(
        self,
        db: Database,
        counters: Counters,
        *,
        key: bytes,
        reading: PlayDayReading = PlayDayReading.schedule,
    ) -> None:
        self.db = db
        self.counters = counters
        self.key = key
        self.reading = reading
        self._calendar: GuardCalendar | None = None
        self._calendar_at = 0.0
        self._lock = threading.Lock()
        self._sets: dict[tuple[PlatformKind, date], list[RuleSet]] = {}
        self._guardians: dict[str, tuple[GuardianState, float]] = {}
        self._days: dict[date, list[str]] = {}

    # ---------------------------------------------------------------- calendar and rules

    def calendar(self) -> GuardCalendar:
        now = time.monotonic()
        if self._calendar is None or now - self._calendar_at > CALENDAR_TTL_S:
            with self.db.read() as session:
                rows = session.execute(select(CalendarOverride.day, CalendarOverride.kind)).all()
            overrides = {day: DayKind(kind) for day, kind in rows}
            self._calendar = GuardCalendar(
                overrides, frozenset(d.year for d in overrides), self.reading
            )
            self._calendar_at = now
        return self._calendar

    def invalidate_calendar(self) -> None:
        self._calendar = None

    def rule_sets(self, kind: PlatformKind, at: datetime) -> list[RuleSet]:
        day = local_day(at)
        cached = self._sets.get((kind, day))
        if cached is None:
            if len(self._sets) > 64:
                self._sets.clear()
            cached = self._sets[(kind, day)] = resolve(kind, at)
        return cached

    # ---------------------------------------------------------------- guardians

    def guardians(self, person_key: str) -> GuardianState:
        local = self._guardians.get(person_key)
        if local is not None and local[1] > time.monotonic():
            return local[0]
        state = self._load_guardians(person_key)
        if len(self._guardians) > LOCAL_GUARDIANS_MAX:
            self._guardians.clear()
        self._guardians[person_key] = (state, time.monotonic() + LOCAL_GUARDIAN_TTL_S)
        return state

    def _load_guardians(self, person_key: str) -> GuardianState:
        cached = self.counters.get_json(f"g:{person_key}")
        if cached is not None:
            return GuardianState.from_json(cached)
        with self.db.read() as session:
            rows = (
                session.execute(
                    select(GuardianLink).where(
                        GuardianLink.person_key == person_key, GuardianLink.revoked_at.is_(None)
                    )
                )
                .scalars()
                .all()
            )
            state = GuardianState(
                tuple((r.id, GuardianLimits.from_dict(r.limits), r.unlock_until) for r in rows)
            )
        self.counters.set_json(f"g:{person_key}", state.to_json(), GUARDIAN_TTL_S)
        return state

    def forget_guardians(self, person_key: str) -> None:
        self._guardians.pop(person_key, None)
        self.counters.delete(f"g:{person_key}")

    def extension_s(self, person_key: str, day: date) -> int:
        value = self.counters.get_json(f"x:{person_key}:{day.isoformat()}")
        return int(value or 0)

    def add_extension(self, person_key: str, day: date, seconds: int) -> int:
        total = self.extension_s(person_key, day) + seconds
        self.counters.set_json(f"x:{person_key}:{day.isoformat()}", total, 2 * 86_400)
        return total

    # ---------------------------------------------------------------- decisions

    def decide(
        self,
        kind: PlatformKind,
        subject: str,
        birth: date | None,
        at: datetime,
        used_today_s: int,
        guest_used_s: int = 0,
    ) -> Decision:
        sets = self.rule_sets(kind, at)
        extends = birth is not None and any(rs.guardian_extends for rs in sets)
        extension = self.extension_s(subject, local_day(at)) if extends else 0
        req = PlayRequest(at, birth, min(used_today_s, 10**8), min(guest_used_s, 10**8), extension)
        decision = evaluate(sets, req, self.calendar())
        if birth is not None and decision.reason is not Reason.adult:
            for _lid, limits, until in self.guardians(subject).links:
                decision = apply_play(decision, limits, at, used_today_s, until)
        if decision.reason is Reason.calendar_unavailable:
            log.error("guard calendar has no data for %s: minors refused", local_day(at).year)
        return decision

    def usage_today(self, subject: str, kind: PlatformKind, at: datetime) -> int:
        return self.counters.usage([usage_key(subject, local_day(at), kind)])[0]

    def guest_usage(self, subject: str, kind: PlatformKind, at: datetime) -> int:
        return sum(self.counters.usage(guest_keys(subject, local_day(at), kind)))

    def _used(self, s: LiveSession, at: datetime) -> tuple[int, int]:
        if s.birth is None:
            return 0, self.guest_usage(s.subject, s.kind, at)
        return self.usage_today(s.subject, s.kind, at), 0

    # ---------------------------------------------------------------- sessions

    def guest_subject(self, platform: PlatformInfo, device: str) -> str:
        if not isinstance(device, str) or not 0 < len(device) <= DEVICE_MAX:
            raise ServiceError(
                "validation-error",
                "bad_device",
                "device must be 1–64 characters",
                "设备标识长度应为1至64个字符。",
            )
        digest = hmac.new(self.key, f"device:{device}".encode(), hashlib.sha256).hexdigest()
        return f"guest:{digest[:32]}"

    def _seed_today(self, subject: str, kind: PlatformKind, at: datetime) -> None:
        """Restore today's persisted usage into counters that lost it (a restart)."""
        day = local_day(at)
        with self.db.read() as session:
            row = session.get(GuardUsage, (subject, day, kind.value))
            seconds = row.seconds if row is not None else 0
        if seconds:
            self.counters.seed_usage(usage_key(subject, day, kind), seconds, USAGE_TTL_S)

    def login(
        self,
        platform: PlatformInfo,
        at: datetime,
        *,
        profile: ProfileInfo | None = None,
        device: str | None = None,
    ) -> StepAnswer:
        if profile is not None:
            subject, birth, account = profile.person_key, profile.birth_date, profile.account
        else:
            subject, birth = self.guest_subject(platform, device or ""), None
            account = subject
        kind = platform.kind
        if birth is not None:
            self._seed_today(subject, kind, at)
        used, guest_used = (
            (self.usage_today(subject, kind, at), 0)
            if birth is not None
            else (0, self.guest_usage(subject, kind, at))
        )
        decision = self.decide(kind, subject, birth, at, used, guest_used)
        if not decision.allowed:
            self._alert_refusal(subject, birth, decision, at, "login")
            return StepAnswer(None, decision, used or guest_used)
        now_ms = to_ms(at)
        ends = (
            None
            if decision.remaining_seconds is None
            else now_ms + decision.remaining_seconds * 1000
        )
        session = LiveSession(
            id=secrets.token_urlsafe(16),
            platform_id=platform.id,
            kind=kind,
            subject=subject,
            birth=birth,
            account=account,
            started_ms=now_ms,
            last_ms=now_ms,
            ends_ms=ends,
        )
        self.counters.put_session(session, SESSION_TTL_S)
        return StepAnswer(session, decision, used or guest_used)

    def _load(self, platform: PlatformInfo, session_id: str) -> LiveSession:
        s = self.counters.get_session(session_id) if 0 < len(session_id) <= 64 else None
        if s is None or s.platform_id != platform.id:
            raise ServiceError(
                "not-found",
                "session_not_found",
                "no such session (never logged in, or long gone)",
                "会话不存在：请先登录。",
            )
        return s

    def _ended(self, s: LiveSession, at: datetime) -> ServiceError:
        used, guest_used = self._used(s, at)
        nxt = self.decide(s.kind, s.subject, s.birth, at, used, guest_used)
        return ServiceError(
            "conflict",
            "session_ended",
            f"the session is {s.state.value}",
            Reason.session_ended.message_zh,
            state=s.state.value,
            end_reason=s.reason,
            next_allowed_at=(
                nxt.next_allowed_at.isoformat() if not nxt.allowed and nxt.next_allowed_at else None
            ),
        )

    def heartbeat(self, platform: PlatformInfo, session_id: str, at: datetime) -> StepAnswer:
        return self._step(platform, session_id, at, logout=False)

    def logout(self, platform: PlatformInfo, session_id: str, at: datetime) -> StepAnswer:
        return self._step(platform, session_id, at, logout=True)

    def _period_days(self, day: date) -> list[str]:
        """YYYYMMDD of `day` and the 14 before it (the guest period), cached per day."""
        cached = self._days.get(day)
        if cached is None:
            if len(self._days) > 8:
                self._days.clear()
            cached = self._days[day] = [
                (day - timedelta(days=i)).strftime("%Y%m%d") for i in range(GUEST_PERIOD_DAYS)
            ]
        return cached

    def _step(
        self, platform: PlatformInfo, session_id: str, at: datetime, *, logout: bool
    ) -> StepAnswer:
        days = self._period_days(local_day(at))
        for _attempt in range(3):
            s, total = (
                self.counters.load_step(session_id, days)
                if len(session_id) <= 64
                else (
                    None,
                    0,
                )
            )
            if s is None or s.platform_id != platform.id:
                s = self._load(platform, session_id)  # raises session_not_found
            if s.state is not SessionState.active:
                raise self._ended(s, at)
            step = plan_step(s, at, logout=logout)
            used, guest_used = (0, total) if s.birth is None else (total, 0)
            today = usage_key(s.subject, local_day(at), s.kind)
            added_today = sum(sec for key, sec in step.adds if key == today)
            if s.birth is None:
                guest_used += sum(sec for _k, sec in step.adds)
            else:
                used += added_today
            new = step.session
            if step.expired:
                decision = Decision(False, 0, Reason.session_expired, "session")
            else:
                # On logout: what a new login would get now (time left, next allowed instant).
                decision = self.decide(s.kind, s.subject, s.birth, at, used, guest_used)
                if logout:
                    pass
                elif decision.allowed:
                    ends = (
                        None
                        if decision.remaining_seconds is None
                        else to_ms(at) + decision.remaining_seconds * 1000
                    )
                    new = new.with_step(ends_ms=ends)
                else:
                    new = new.with_step(state=SessionState.forced_out, reason=decision.reason.value)
            if self.counters.advance(s.last_ms, new, step.adds, USAGE_TTL_S, SESSION_TTL_S):
                break
        else:
            raise ServiceError(
                "conflict",
                "concurrent_step",
                "the session changed concurrently; retry",
                "请求过于频繁，请稍后重试。",
            )
        if new.state is not SessionState.active:
            self._persist_end(new, at)
            if new.state is SessionState.forced_out:
                self._alert_refusal(s.subject, s.birth, decision, at, "forced_logout")
        return StepAnswer(new, decision, used if s.birth is not None else guest_used)

    # ---------------------------------------------------------------- persistence

    def _persist_end(self, s: LiveSession, at: datetime) -> None:
        """Add the session's counted time to the day's usage row (reports; restarts)."""
        if s.is_guest:
            return
        day = local_day(from_ms(s.last_ms) if s.last_ms else at)
        try:
            with self.db.write() as session:
                row = session.get(GuardUsage, (s.subject, day, s.kind.value))
                if row is None:
                    session.add(
                        GuardUsage(
                            person_key=s.subject,
                            day=day,
                            platform_kind=s.kind.value,
                            seconds=s.counted_s,
                            sessions=1,
                        )
                    )
                else:
                    row.seconds += s.counted_s
                    row.sessions += 1
        except Exception:  # the counters keep the truth for the day; the row is for reports
            log.exception("could not persist guard usage of a session")

    def _alert_refusal(
        self, subject: str, birth: date | None, decision: Decision, at: datetime, step: str
    ) -> None:
        if birth is None or decision.reason is Reason.adult:
            return
        kinds = {
            Reason.curfew: "curfew_attempt",
            Reason.outside_play_window: "curfew_attempt",
            Reason.not_a_play_day: "curfew_attempt",
            Reason.daily_limit_reached: "limit_reached",
            Reason.guardian_daily_limit: "limit_reached",
            Reason.guardian_ban: "ban_attempt",
            Reason.guardian_window: "curfew_attempt",
        }
        kind = kinds.get(decision.reason)
        if kind is None or not self.guardians(subject).linked:
            return
        record_alert(self.db, subject, kind, {"step": step, "reason": decision.reason.value}, at)


def record_alert(
    db: Database, person_key: str, kind: str, detail: dict[str, Any], at: datetime
) -> None:
    try:
        with db.write() as session:
            session.add(GuardAlert(person_key=person_key, kind=kind, detail=detail, at=at))
    except Exception:
        log.exception("could not record a guardian alert")
