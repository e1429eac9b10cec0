"""An NPPA-compatible server as a pure request handler: `NppaServer.handle(...)`.

It answers the three endpoints of the NPPA interface (check, query, loginout) with the same
crypto, fields, statuses and error codes, so that a game can integrate and test offline. The
web layer (qinglang.web.nppa_router) only passes the raw request in and the document out; the
records live behind `NppaState` (in memory: state_memory; SQL: services.nppa_state).

Checks, in order: route (1002) and method (1003); headers appId, bizId, timestamps, sign
(1004); timestamps within `window_s` of the clock (1007); partner known (1008) and enabled
(1009); bizId belongs to it (1010); signature (1011); the partner's request rate (1006, a
token bucket of `qps` per second); replay — the same (appId, timestamps, sign) seen before
within the window (1007); then the body (1012) and the endpoint's own rules.

Replays and rates are tracked in this process only: behind several replicas each replica
keeps its own (the real system's limits are per partner across its whole service).
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from qinglang.guard.ages import local_day
from qinglang.guard.identity import InvalidIdNumber, id_hash, parse_id_number
from qinglang.guard.nppa import crypto
from qinglang.guard.nppa.protocol import (
    CHECK_PATH,
    QUERY_PATH,
    ROUTES,
    AuthStatus,
    ErrorCode,
    Event,
    ItemResult,
    PlayerType,
    ProtocolError,
    auth_response,
    loginout_response,
    parse_check,
    parse_collections,
    response,
    valid_ai,
)
from qinglang.guard.pi import make_pi

log = logging.getLogger("qinglang.guard.nppa")

Clock = Callable[[], float]  # epoch seconds, like time.time

SIGNED_HEADERS = ("appId", "bizId", "timestamps")
REQUIRED_HEADERS = (*SIGNED_HEADERS, "sign")


@dataclass(frozen=True, slots=True)
class Partner:
    """A game company: its appId, bizId (the service it may call) and shared secretKey."""

    app_id: str
    biz_id: str
    secret_key: str
    enabled: bool = True
    name: str = ""

    def __repr__(self) -> str:
        return f"Partner(app_id={self.app_id!r}, enabled={self.enabled})"


@dataclass(frozen=True, slots=True)
class AuthRecord:
    """The result of a check for an `ai`: the person as a keyed hash, never the number."""

    ai: str
    id_hash: str
    status: int
    pi: str | None


class NppaState(Protocol):
    """Where partners, check results and behaviour events live."""

    def partner(self, app_id: str) -> Partner | None: ...

    def auth_record(self, app_id: str, ai: str) -> AuthRecord | None: ...

    def auth_count(self, app_id: str) -> int: ...

    def claim_auth(self, app_id: str, record: AuthRecord, at: datetime) -> AuthRecord:
        """Store `record` unless the (app_id, ai) already has one; return the stored one."""
        ...

    def pi_issued(self, pi: str) -> bool:
        """Whether a successful check (of any partner) issued this pi."""
        ...

    def add_events(self, app_id: str, events: Sequence[Event], at: datetime) -> int:
        """Store the events, skipping ones already stored (same si, bt, ot); return how many
        were new."""
        ...


class _TokenBucket:
    def __init__(self, rate: float, now: float) -> None:
        self.rate = rate
        self.tokens = rate
        self.at = now

    def take(self, now: float) -> bool:
        self.tokens = min(self.rate, self.tokens + max(0.0, now - self.at) * self.rate)
        self.at = max(self.at, now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class NppaServer:
    """The NPPA endpoints over `state`; thread-safe (rates and replays behind a lock).

    `id_key` keys the stored ID-number hashes and the issued pi. `window_s` is how far
    `timestamps` may be from the clock (and how far in the future an event's `ot` may be);
    `max_age_s` how old an event may be; `auth_limit`, when set, caps the check records per
    partner (2002); `require_issued_pi` refuses (3010) a certified player's pi that no check
    here issued.
    """

    def __init__(
        self,
        state: NppaState,
        *,
        clock: Clock = time.time,
        id_key: bytes,
        window_s: float = 5,
        qps: float = 10,
        max_age_s: float = 180,
        auth_limit: int | None = None,
        require_issued_pi: bool = True,
    ) -> None:
        if not id_key:
            raise ValueError("NppaServer needs a non-empty id_key")
        self.state = state
        self.clock = clock
        self.id_key = id_key
        self.window_s = window_s
        self.qps = qps
        self.max_age_s = max_age_s
        self.auth_limit = auth_limit
        self.require_issued_pi = require_issued_pi
        self._lock = threading.Lock()
        self._buckets: dict[str, _TokenBucket] = {}
        self._seen: set[tuple[str, str, str]] = set()
        self._expiry: list[tuple[float, tuple[str, str, str]]] = []

    # ------------------------------------------------------------ entry point

    def handle(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        raw_body: bytes | str,
    ) -> tuple[int, dict[str, Any]]:
        """Answer one request: always HTTP 200 and an NPPA document, as the real system does."""
        try:
            return 200, self._handle(method.upper(), path, headers, query, raw_body)
        except ProtocolError as exc:
            return 200, response(exc.code)
        except Exception:
            log.exception("NPPA request failed with an internal error")
            return 200, response(ErrorCode.SYS_ERROR)

    def _handle(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        raw_body: bytes | str,
    ) -> dict[str, Any]:
        path = "/" + path.strip("/")
        if path not in ROUTES:
            raise ProtocolError(ErrorCode.SYS_REQ_RESOURCE_NOT_EXIST)
        if method != ROUTES[path]:
            raise ProtocolError(ErrorCode.SYS_REQ_METHOD_ERROR)
        lower = {k.lower(): v for k, v in headers.items()}
        values = {name: lower.get(name.lower(), "").strip() for name in REQUIRED_HEADERS}
        if not all(values.values()):
            raise ProtocolError(ErrorCode.SYS_REQ_HEADER_MISS_ERROR)
        now = self.clock()
        stamp = values["timestamps"]
        if not stamp.isdigit() or abs(int(stamp) / 1000 - now) > self.window_s:
            raise ProtocolError(ErrorCode.SYS_REQ_EXPIRE_ERROR)
        app_id = values["appId"]
        partner = self.state.partner(app_id)
        if partner is None:
            raise ProtocolError(ErrorCode.SYS_REQ_PARTNER_ERROR)
        if not partner.enabled:
            raise ProtocolError(ErrorCode.SYS_REQ_PARTNER_AUTH_DISABLE)
        if values["bizId"] != partner.biz_id:
            raise ProtocolError(ErrorCode.SYS_REQ_AUTH_ERROR)
        params = {name: values[name] for name in SIGNED_HEADERS}
        params.update(query)
        if not crypto.verify(partner.secret_key, params, raw_body, values["sign"]):
            raise ProtocolError(ErrorCode.SYS_REQ_PARTNER_AUTH_ERROR)
        self._admit(app_id, stamp, values["sign"], now)

        at = datetime.fromtimestamp(now, UTC)
        if path == QUERY_PATH:
            return self._query(app_id, query)
        try:
            payload = crypto.decrypt_body(partner.secret_key, raw_body)
        except crypto.NppaCryptoError as exc:
            raise ProtocolError(ErrorCode.SYS_REQ_PARAM_CHECK_ERROR, str(exc)) from None
        if path == CHECK_PATH:
            return self._check(app_id, payload, at)
        return self._loginout(app_id, payload, now, at)

    def _admit(self, app_id: str, stamp: str, sign: str, now: float) -> None:
        """The rate limit (1006), then the replay check (1007); records the request."""
        key = (app_id, stamp, sign.lower())
        with self._lock:
            bucket = self._buckets.get(app_id)
            if bucket is None:
                bucket = self._buckets[app_id] = _TokenBucket(self.qps, now)
            while self._expiry and self._expiry[0][0] < now:
                self._seen.discard(heapq.heappop(self._expiry)[1])
            if key in self._seen:
                raise ProtocolError(ErrorCode.SYS_REQ_EXPIRE_ERROR, "replayed request")
            if not bucket.take(now):
                raise ProtocolError(ErrorCode.SYS_REQ_BUSY_ERROR)
            self._seen.add(key)
            # Once the timestamps fall out of the window the request is refused anyway.
            heapq.heappush(self._expiry, (int(stamp) / 1000 + self.window_s, key))

    # ------------------------------------------------------------ endpoints

    def _check(self, app_id: str, payload: object, at: datetime) -> dict[str, Any]:
        request = parse_check(payload)
        try:
            number = parse_id_number(request.id_num, today=local_day(at))
        except InvalidIdNumber:
            raise ProtocolError(ErrorCode.BUS_AUTH_IDNUM_ILLEGAL) from None
        person = id_hash(number, self.id_key)
        existing = self.state.auth_record(app_id, request.ai)
        if existing is None:
            if self.auth_limit is not None and self.state.auth_count(app_id) >= self.auth_limit:
                raise ProtocolError(ErrorCode.BUS_AUTH_RESOURCE_LIMIT)
            record = AuthRecord(
                ai=request.ai,
                id_hash=person,
                status=int(AuthStatus.SUCCESS),
                pi=make_pi(number, self.id_key),
            )
            existing = self.state.claim_auth(app_id, record, at)
        if existing.id_hash != person:
            raise ProtocolError(ErrorCode.BUS_AUTH_CODE_ALREADY_IN_USE)
        return auth_response(existing.status, existing.pi)

    def _query(self, app_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        ai = query.get("ai")
        if not valid_ai(ai):
            raise ProtocolError(ErrorCode.SYS_REQ_PARAM_CHECK_ERROR, "ai: 1 to 32 characters")
        record = self.state.auth_record(app_id, ai)  # type: ignore[arg-type]
        if record is None:
            raise ProtocolError(ErrorCode.BUS_AUTH_CODE_NO_AUTH_RECODE)
        return auth_response(record.status, record.pi)

    def _loginout(self, app_id: str, payload: object, now: float, at: datetime) -> dict[str, Any]:
        batch = parse_collections(
            payload, now_s=now, max_age_s=self.max_age_s, skew_s=self.window_s
        )
        failed = list(batch.failed)
        events: list[Event] = []
        for no, event in batch.accepted:
            if (
                self.require_issued_pi
                and event.ct == PlayerType.CERTIFIED
                and not self.state.pi_issued(event.pi or "")
            ):
                failed.append(ItemResult(no, ErrorCode.BUS_COLL_PLAYERID_INVALID))
            else:
                events.append(event)
        if events:
            self.state.add_events(app_id, events, at)
        failed.sort(key=lambda r: (not isinstance(r.no, int), r.no if isinstance(r.no, int) else 0))
        return loginout_response(failed)
