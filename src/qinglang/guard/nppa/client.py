"""A client of the NPPA interface (or of Qinglang's compatible endpoint).

    client = NppaClient(app_id, biz_id, secret_key, "https://host/nppa")
    result = client.check("account-1", "张三", id_number)   # AuthResult(status, pi)
    client.loginout([Event(si="s1", bt=1, ot=int(time.time()), ct=0, pi=result.pi)])

Every call is signed with fresh `timestamps`; bodies are encrypted. The client keeps to `qps`
requests per second, retries network errors, HTTP 5xx and the codes 1001 (SYS ERROR) and 1006
(BUSY) with exponential back-off (re-signing each try), and raises `NppaError` for any other
error. `loginout` splits events into batches of at most 128 and does not send events older than
`max_age_s` (the system refuses them with 3005): they come back as rejected, marked local.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from qinglang.guard.nppa import crypto
from qinglang.guard.nppa.protocol import (
    CHECK_PATH,
    LOGINOUT_PATH,
    MAX_BATCH,
    QUERY_PATH,
    ErrorCode,
    Event,
)

__all__ = ["AuthResult", "Event", "LoginoutResult", "NppaClient", "NppaError", "Rejected"]

RETRY_CODES = frozenset({int(ErrorCode.SYS_ERROR), int(ErrorCode.SYS_REQ_BUSY_ERROR)})
STALE_MESSAGE_ZH = "行为发生时间已超过{age}秒，未上报（系统会以 3005 拒绝）。"


def _zh(code: int) -> str:
    try:
        return ErrorCode(code).message_zh
    except ValueError:
        return "未知错误"


class NppaError(Exception):
    """The system answered with error `code` (or, for NppaTransportError, never answered)."""

    def __init__(self, code: int, errmsg: str, message_zh: str | None = None) -> None:
        super().__init__(f"{code} {errmsg}")
        self.code = code
        self.errmsg = errmsg
        self.message_zh = message_zh if message_zh is not None else _zh(code)


class NppaTransportError(NppaError):
    """No usable answer after all retries (network error, HTTP error, not an NPPA document)."""


@dataclass(frozen=True, slots=True)
class AuthResult:
    status: int  # 0 success, 1 in progress, 2 failed
    pi: str | None


@dataclass(frozen=True, slots=True)
class Rejected:
    """An event that was not taken: `local` when the client did not send it at all."""

    event: Event
    code: int
    errmsg: str
    local: bool = False


@dataclass(slots=True)
class LoginoutResult:
    accepted: list[Event] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected


class NppaClient:
    def __init__(
        self,
        app_id: str,
        biz_id: str,
        secret_key: str,
        base_url: str,
        *,
        http: httpx.Client | None = None,
        qps: float = 10,
        retries: int = 3,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        backoff_s: float = 0.5,
        max_age_s: float = 180,
        timeout_s: float = 10,
    ) -> None:
        if not crypto.is_secret_key(secret_key):
            raise ValueError("secret_key must be 32 hex characters")
        if qps <= 0:
            raise ValueError("qps must be positive")
        self.app_id = app_id
        self.biz_id = biz_id
        self._secret_key = secret_key
        self.base_url = base_url.rstrip("/")
        self._owns_http = http is None
        self.http = http if http is not None else httpx.Client(timeout=timeout_s)
        self.qps = qps
        self.retries = retries
        self.clock = clock
        self.sleep = sleep
        self.backoff_s = backoff_s
        self.max_age_s = max_age_s
        self._lock = threading.Lock()
        self._next_slot = 0.0

    def __repr__(self) -> str:  # the secret key stays out of reprs
        return f"NppaClient(app_id={self.app_id!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> NppaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ calls

    def check(self, ai: str, name: str, id_num: str) -> AuthResult:
        """Submit a real-name check for account `ai`; raises `NppaError` (e.g. 2001, 2004)."""
        doc = self._call("POST", CHECK_PATH, payload={"ai": ai, "name": name, "idNum": id_num})
        return self._auth_result(doc)

    def query(self, ai: str) -> AuthResult:
        """The result of an earlier check for `ai`; raises `NppaError` (2003 when none)."""
        return self._auth_result(self._call("GET", QUERY_PATH, query={"ai": ai}))

    def loginout(self, events: Iterable[Event]) -> LoginoutResult:
        """Report logins and logouts in batches of at most 128 (numbered 1..n per batch).

        Events older than `max_age_s` when their batch is sent are not sent; they, and items
        the system refuses, are listed in `rejected`. Raises `NppaError` when a whole batch is
        refused (then the batches before it have been taken).
        """
        result = LoginoutResult()
        pending = list(events)
        while pending:
            now = self.clock()
            batch: list[Event] = []
            while pending and len(batch) < MAX_BATCH:
                event = pending.pop(0)
                if event.ot < now - self.max_age_s:
                    result.rejected.append(self._stale(event))
                else:
                    batch.append(event)
            if not batch:
                continue
            items = [event.to_item(no) for no, event in enumerate(batch, start=1)]
            doc = self._call("POST", LOGINOUT_PATH, payload={"collections": items})
            code = doc["errcode"]
            if code not in (ErrorCode.OK, ErrorCode.BUS_COLL_PARTIAL_ERROR):
                raise NppaError(code, str(doc.get("errmsg", "")))
            failed = {}
            for item in (doc.get("data") or {}).get("results") or []:
                if isinstance(item, Mapping) and isinstance(item.get("no"), int):
                    failed[item["no"]] = item
            if code == ErrorCode.BUS_COLL_PARTIAL_ERROR and not failed:
                raise NppaError(code, str(doc.get("errmsg", "")))
            for no, event in enumerate(batch, start=1):
                if no in failed:
                    item = failed[no]
                    result.rejected.append(
                        Rejected(event, int(item.get("errcode", 0)), str(item.get("errmsg", "")))
                    )
                else:
                    result.accepted.append(event)
        return result

    # ------------------------------------------------------------ plumbing

    def _stale(self, event: Event) -> Rejected:
        code = ErrorCode.BUS_COLL_BEHAVIOR_TIME_ERROR
        text = STALE_MESSAGE_ZH.format(age=int(self.max_age_s))
        return Rejected(event, int(code), f"{code.errmsg}: {text}", local=True)

    @staticmethod
    def _auth_result(doc: Mapping[str, Any]) -> AuthResult:
        if doc["errcode"] != ErrorCode.OK:
            raise NppaError(doc["errcode"], str(doc.get("errmsg", "")))
        try:
            result = doc["data"]["result"]
            return AuthResult(status=int(result["status"]), pi=result.get("pi"))
        except (KeyError, TypeError, ValueError):
            raise NppaTransportError(
                int(ErrorCode.SYS_ERROR), "response without data.result", "应答缺少认证结果。"
            ) from None

    def _throttle(self) -> None:
        with self._lock:
            now = self.clock()
            start = max(now, self._next_slot)
            self._next_slot = start + 1.0 / self.qps
        if start > now:
            self.sleep(start - now)

    def _send(
        self, method: str, path: str, query: Mapping[str, str], payload: Mapping[str, Any] | None
    ) -> httpx.Response:
        body = crypto.encrypt_body(self._secret_key, payload) if payload is not None else ""
        params = {
            "appId": self.app_id,
            "bizId": self.biz_id,
            "timestamps": str(int(self.clock() * 1000)),
        }
        signature = crypto.sign(self._secret_key, {**params, **query}, body)
        headers = {**params, "sign": signature}
        headers["Content-Type"] = "application/json; charset=utf-8"
        return self.http.request(
            method,
            self.base_url + path,
            params=dict(query) or None,
            content=body.encode("utf-8"),
            headers=headers,
        )

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        last: NppaError | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(self.backoff_s * 2 ** (attempt - 1))
            self._throttle()
            try:
                reply = self._send(method, path, query or {}, payload)
            except httpx.TransportError as exc:
                last = NppaTransportError(
                    int(ErrorCode.SYS_ERROR), f"network error: {type(exc).__name__}", "网络错误。"
                )
                continue
            if reply.status_code >= 500:
                last = NppaTransportError(
                    int(ErrorCode.SYS_ERROR), f"HTTP {reply.status_code}", "服务端错误。"
                )
                continue
            try:
                doc = reply.json()
            except ValueError:
                doc = None
            if not isinstance(doc, dict) or not isinstance(doc.get("errcode"), int):
                raise NppaTransportError(
                    int(ErrorCode.SYS_ERROR),
                    f"HTTP {reply.status_code} without an NPPA document",
                    "应答不是 NPPA 格式。",
                )
            if doc["errcode"] in RETRY_CODES:
                last = NppaError(doc["errcode"], str(doc.get("errmsg", "")))
                continue
            return doc
        assert last is not None
        raise last
