"""`NppaState` in memory: for tests, demos and a single-process offline endpoint."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime

from qinglang.guard.nppa.protocol import Event
from qinglang.guard.nppa.server import AuthRecord, Partner


class MemoryNppaState:
    def __init__(self, partners: Sequence[Partner] = ()) -> None:
        self._lock = threading.Lock()
        self.partners: dict[str, Partner] = {p.app_id: p for p in partners}
        self.auth: dict[tuple[str, str], AuthRecord] = {}
        self.events: dict[tuple[str, str, int, int], Event] = {}

    def add_partner(self, partner: Partner) -> None:
        with self._lock:
            self.partners[partner.app_id] = partner

    def partner(self, app_id: str) -> Partner | None:
        return self.partners.get(app_id)

    def auth_record(self, app_id: str, ai: str) -> AuthRecord | None:
        return self.auth.get((app_id, ai))

    def auth_count(self, app_id: str) -> int:
        return sum(1 for a, _ in self.auth if a == app_id)

    def claim_auth(self, app_id: str, record: AuthRecord, at: datetime) -> AuthRecord:
        with self._lock:
            return self.auth.setdefault((app_id, record.ai), record)

    def pi_issued(self, pi: str) -> bool:
        return any(r.pi == pi for r in self.auth.values())

    def add_events(self, app_id: str, events: Sequence[Event], at: datetime) -> int:
        new = 0
        with self._lock:
            for e in events:
                key = (app_id, e.si, e.bt, e.ot)
                if key not in self.events:
                    self.events[key] = e
                    new += 1
        return new
