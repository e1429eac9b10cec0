"""Play sessions: login → heartbeat … → logout, on the server's clock.

The platform never sends times: every step is stamped by the server, so a client cannot
rewind its clock to play longer. Time counts per natural person (`person_key`, the pi) per
day (Asia/Shanghai) and platform kind, across all of that person's accounts and platforms;
for an unverified guest it counts per device.

Counting rules (documented in docs/guard.md):

- the time between two steps of a session counts in full up to `TOLERANCE_S` (a missed
  heartbeat is tolerated); a longer silence ends the session as `expired`, counting only the
  tolerated part — the player logs in again and the rules are asked afresh;
- time after the instant the session had to end (`ends_at`) is not counted as play: the
  platform was told to log the player out then;
- a step that finds the session no longer active is refused (`session_ended`), and a second
  concurrent step for the same instant counts nothing (the counter store's compare-and-set);
- time crossing midnight is split between the two days.

`plan_step` is pure: it takes the session, the server time and the usage and returns what to
store and what to answer; `qinglang.services.guard_sessions` does the I/O.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache

from qinglang.guard.ages import SHANGHAI, local_day
from qinglang.guard.decision import PlatformKind

TOLERANCE_S = 300
GUEST_PERIOD_DAYS = 15
# Usage counters live a little longer than the longest look-back (the guest period).
USAGE_TTL_S = (GUEST_PERIOD_DAYS + 2) * 86_400
# An active session record outlives its last step by the tolerance plus a margin.
SESSION_TTL_S = 2 * 86_400


class _Keep:
    """Sentinel of `LiveSession.with_step`: leave `ends_ms` as it is."""


KEEP = _Keep()


class SessionState(StrEnum):
    active = "active"
    ended = "ended"  # logged out
    forced_out = "forced_out"  # the rules (or a guardian) ended it
    expired = "expired"  # silent for longer than the tolerance


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A session as the counter store keeps it (JSON). Instants are epoch milliseconds."""

    id: str
    platform_id: int
    kind: PlatformKind
    subject: str  # person_key (pi) or "guest:<device hash>"
    birth: date | None
    account: str
    started_ms: int
    last_ms: int
    ends_ms: int | None  # when the current allowance runs out; None: no limit
    state: SessionState = SessionState.active
    reason: str = ""
    counted_s: int = 0
    beat_ms: int = 0  # the last step's instant (0: the session's start)

    def with_step(
        self,
        *,
        last_ms: int | None = None,
        beat_ms: int | None = None,
        ends_ms: int | _Keep | None = KEEP,
        state: SessionState | None = None,
        reason: str | None = None,
        counted_s: int | None = None,
    ) -> LiveSession:
        """A copy with the step's fields changed (dataclasses.replace is several times
        slower, and this runs on every heartbeat). `ends_ms=KEEP` keeps it; None clears."""
        return LiveSession(
            self.id,
            self.platform_id,
            self.kind,
            self.subject,
            self.birth,
            self.account,
            self.started_ms,
            self.last_ms if last_ms is None else last_ms,
            self.ends_ms if isinstance(ends_ms, _Keep) else ends_ms,
            self.state if state is None else state,
            self.reason if reason is None else reason,
            self.counted_s if counted_s is None else counted_s,
            self.beat_ms if beat_ms is None else beat_ms,
        )

    @property
    def is_guest(self) -> bool:
        return self.birth is None

    def to_json(self) -> str:
        # By hand, not dataclasses.asdict (which deep-copies): this runs on every heartbeat.
        data = {
            "id": self.id,
            "platform_id": self.platform_id,
            "kind": self.kind.value,
            "subject": self.subject,
            "birth": self.birth.isoformat() if self.birth else None,
            "account": self.account,
            "started_ms": self.started_ms,
            "last_ms": self.last_ms,
            "ends_ms": self.ends_ms,
            "state": self.state.value,
            "reason": self.reason,
            "counted_s": self.counted_s,
            "beat_ms": self.beat_ms,
        }
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> LiveSession:
        data = json.loads(text)
        data["birth"] = date.fromisoformat(data["birth"]) if data["birth"] else None
        data["kind"] = PlatformKind(data["kind"])
        data["state"] = SessionState(data["state"])
        return cls(**data)


def to_ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    # Integer arithmetic: ms / 1000 as a float can land a microsecond short of a whole second.
    return datetime.fromtimestamp(ms // 1000, SHANGHAI) + timedelta(milliseconds=ms % 1000)


def usage_key(subject: str, day: date, kind: PlatformKind) -> str:
    return f"u:{subject}:{_day_text(day)}:{kind.value}"


@lru_cache(maxsize=1024)
def _day_text(day: date) -> str:
    return day.strftime("%Y%m%d")


def guest_keys(subject: str, day: date, kind: PlatformKind) -> list[str]:
    """The usage keys of the guest period ending on `day` (rolling 15 days)."""
    return [usage_key(subject, day - timedelta(days=i), kind) for i in range(GUEST_PERIOD_DAYS)]


def split_by_day(start: datetime, end: datetime) -> list[tuple[date, int]]:
    """Whole seconds of [start, end) per Asia/Shanghai day (end before start gives [])."""
    out: list[tuple[date, int]] = []
    total = int((end - start).total_seconds())
    if total <= 0:
        return out
    cursor = start
    remaining = total
    while remaining > 0:
        day = local_day(cursor)
        midnight = datetime.combine(day + timedelta(days=1), time(0), SHANGHAI)
        # Seconds that start before midnight belong to this day (a second begun at
        # 23:59:59.5 counts for the old day).
        chunk = min(remaining, max(math.ceil((midnight - cursor).total_seconds()), 1))
        out.append((day, chunk))
        remaining -= chunk
        cursor += timedelta(seconds=chunk)
    return out


@dataclass(frozen=True, slots=True)
class Step:
    """What a heartbeat or logout stores: the new session and the seconds to add per key."""

    session: LiveSession
    adds: tuple[tuple[str, int], ...]
    expired: bool


def plan_step(session: LiveSession, at: datetime, *, logout: bool = False) -> Step:
    """Count the time since the session's last step; does not decide (the caller asks the
    rules with the new totals and may then force the session out)."""
    last = from_ms(session.last_ms)
    beat_ms = session.beat_ms or session.last_ms
    now_ms = max(to_ms(at), session.last_ms, beat_ms)  # the clock never runs backwards here
    now = from_ms(now_ms)
    # Silence is measured from the last step itself (`beat_ms`), not from the counted point
    # (`last_ms`, which lags by the carried sub-second remainder).
    expired = now_ms - beat_ms > TOLERANCE_S * 1000
    counted_end = from_ms(beat_ms) + timedelta(seconds=TOLERANCE_S) if expired else now
    if session.ends_ms is not None:
        counted_end = min(counted_end, from_ms(session.ends_ms))
    parts = split_by_day(last, counted_end) if counted_end > last else []
    adds = tuple((usage_key(session.subject, day, session.kind), s) for day, s in parts)
    counted = sum(s for _, s in adds)
    # Carry the sub-second remainder forward (no drift from rounding down): the stored last
    # step advances by the whole seconds counted — unless the session ends here or the time
    # was cut at `ends_ms`, where the uncounted rest must not count later either.
    if expired or logout or counted_end < now:
        new_last = now_ms
    else:
        new_last = session.last_ms + counted * 1000
    state = SessionState.active
    if expired:
        state = SessionState.expired
    elif logout:
        state = SessionState.ended
    updated = session.with_step(
        last_ms=new_last,
        beat_ms=now_ms,
        state=state,
        counted_s=session.counted_s + counted,
        reason="expired" if expired else ("logout" if logout else session.reason),
    )
    return Step(updated, adds, expired)
