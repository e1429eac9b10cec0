"""A Python client for the guard API (`/api/v1/guard`, docs/guard.md).

    with GuardClient("https://qinglang.example.cn", "qlp_...") as guard:
        guard.register("acc-1", id_number=id_number)
        s = guard.login(account="acc-1")
        ...
        guard.heartbeat(s["session_id"])

Every method returns the JSON answer as a plain dict. Non-2xx answers raise `GuardAPIError`
built from the problem document (`code`, `detail`). A 503 or a connection error raises
`GuardUnavailable`; idempotent calls (GET, heartbeats, and `pay`, which the server keys by
`order_ref`) are first retried `retries` times with a short exponential backoff. Amounts are
sent as decimal strings, never floats.
"""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal, InvalidOperation
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote

import httpx

PREFIX = "/api/v1/guard"
PROBLEM_PREFIX = "urn:qinglang:problem:"
USER_AGENT = "qinglang-guard-sdk/1"

Amount = Decimal | str | int
PayKindName = Literal["payment", "tip"]


class GuardAPIError(Exception):
    """An error answer of the guard API.

    `status` is the HTTP status (None when no answer came back); `code` the stable error code
    (the problem's `code`, else its type slug such as `validation-error`); `message_zh` the
    problem's Chinese `detail`; `body` the parsed problem document (or None).
    """

    def __init__(
        self,
        status: int | None,
        code: str,
        message_zh: str,
        body: dict[str, Any] | None = None,
        *,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message_zh}" if status else f"{code}: {message_zh}")
        self.status = status
        self.code = code
        self.message_zh = message_zh
        self.body = body
        self.retry_after = retry_after


class GuardUnavailable(GuardAPIError):
    """The guard could not answer: a 503, or no connection (after any retries)."""


def _yuan(amount: Amount) -> str:
    if isinstance(amount, bool) or not isinstance(amount, Decimal | str | int):
        raise TypeError(f"amounts are Decimal, str or int, never {type(amount).__name__}")
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(amount)
    except InvalidOperation:
        raise ValueError(f"not a decimal amount: {amount!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {amount!r}")
    return format(value, "f")


def _seg(value: str | int) -> str:
    return quote(str(value), safe="")


def _drop_none(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def _error(response: httpx.Response) -> GuardAPIError:
    body: dict[str, Any] | None
    try:
        parsed = response.json()
        body = parsed if isinstance(parsed, dict) else None
    except ValueError:
        body = None
    doc = body or {}
    slug = str(doc.get("type", ""))
    slug = slug[len(PROBLEM_PREFIX) :] if slug.startswith(PROBLEM_PREFIX) else ""
    code = str(doc.get("code") or slug or f"http_{response.status_code}")
    message = str(doc.get("detail") or doc.get("title") or response.reason_phrase or "")
    cls = GuardUnavailable if response.status_code == 503 else GuardAPIError
    return cls(response.status_code, code, message, body, retry_after=_retry_after(response))


class GuardClient:
    """The guard API for one platform, authenticated with its key (`qlp_...`).

    With `http` (any `httpx.Client`, e.g. FastAPI's TestClient) requests go through that
    client as is, on relative paths under `/api/v1/guard`, and `base_url`/`timeout` are not
    applied; `close()` leaves it open. Otherwise the client makes and owns its own.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        http: httpx.Client | None = None,
        timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.2,
    ) -> None:
        if retries < 0:
            raise ValueError("retries must be >= 0")
        self.base_url = base_url
        self.retries = retries
        self.backoff = backoff
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        self._owns = http is None
        self._http = http if http is not None else httpx.Client(base_url=base_url, timeout=timeout)

    # ------------------------------------------------------------ plumbing

    def close(self) -> None:
        """Close the HTTP client when this object made it (a given `http` stays open)."""
        if self._owns:
            self._http.close()

    def __enter__(self) -> GuardClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        idempotent: bool = False,
        answer_503: bool = False,
    ) -> Any:
        attempts = 1 + (self.retries if idempotent else 0)
        failure: GuardAPIError | None = None
        cause: BaseException | None = None
        for attempt in range(attempts):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self._http.request(
                    method, PREFIX + path, json=json, params=params, headers=self._headers
                )
            except httpx.TransportError as exc:
                failure = GuardUnavailable(
                    None, "connection_error", f"无法连接青朗守护服务：{type(exc).__name__}"
                )
                cause = exc
                continue
            if response.status_code == 503 and answer_503:
                body = response.json() if _is_json(response) else None
                if isinstance(body, dict) and "status" in body and "type" not in body:
                    return body
            if response.status_code == 503:
                failure, cause = _error(response), None
                continue
            if not response.is_success:
                raise _error(response)
            if response.status_code == 204 or not response.content:
                return None
            return response.json()
        assert failure is not None
        raise failure from cause

    # ------------------------------------------------------------ public

    def health(self) -> dict[str, Any]:
        """Calendar coverage and counters; a `failing` status (HTTP 503) is returned, not raised."""
        return self._call("GET", "/health", idempotent=True, answer_503=True)

    def rule_sets(self) -> dict[str, Any]:
        return self._call("GET", "/rule-sets", idempotent=True)

    # ------------------------------------------------------------ identity and profiles

    def check_id(self, id_number: str) -> dict[str, Any]:
        """Check a resident ID number (`valid`, `birth_date`, `sex`, `region_code`, `error`)."""
        return self._call("POST", "/identity/check", json={"id_number": id_number})

    def register(
        self, account: str, *, id_number: str | None = None, pi: str | None = None
    ) -> dict[str, Any]:
        """Register an account's real-name identity (give `id_number` or an NPPA `pi`)."""
        body = _drop_none({"account": account, "id_number": id_number, "pi": pi})
        return self._call("POST", "/profiles", json=body)

    def profile(self, account: str) -> dict[str, Any]:
        return self._call("GET", f"/profiles/{_seg(account)}", idempotent=True)

    # ------------------------------------------------------------ decisions and sessions

    def decide(
        self,
        *,
        account: str | None = None,
        birth_date: date | str | None = None,
        guest: bool = False,
        platform: str | None = None,
        rules: str | None = None,
        used_today_seconds: int | None = None,
    ) -> dict[str, Any]:
        """Ask the rules now, without a session (exactly one of account, birth_date, guest)."""
        body = _drop_none(
            {
                "account": account,
                "birth_date": birth_date.isoformat()
                if isinstance(birth_date, date)
                else birth_date,
                "guest": True if guest else None,
                "platform": platform,
                "rules": rules,
                "used_today_seconds": used_today_seconds,
            }
        )
        return self._call("POST", "/decide", json=body)

    def login(self, *, account: str | None = None, device: str | None = None) -> dict[str, Any]:
        """Log in (an account, or a guest's device); `session_id` is None when play is refused."""
        return self._call(
            "POST", "/sessions", json=_drop_none({"account": account, "device": device})
        )

    def heartbeat(self, session_id: str) -> dict[str, Any]:
        return self._call("POST", f"/sessions/{_seg(session_id)}/heartbeat", idempotent=True)

    def logout(self, session_id: str) -> dict[str, Any]:
        return self._call("POST", f"/sessions/{_seg(session_id)}/logout")

    # ------------------------------------------------------------ payments

    def check_payment(
        self, account: str, amount_yuan: Amount, kind: PayKindName = "payment"
    ) -> dict[str, Any]:
        body = {"account": account, "amount_yuan": _yuan(amount_yuan), "kind": kind}
        return self._call("POST", "/payments/check", json=body)

    def pay(
        self, account: str, order_ref: str, amount_yuan: Amount, kind: PayKindName = "payment"
    ) -> dict[str, Any]:
        """Check and record a payment (`recorded` false when refused); idempotent by order_ref."""
        body = {
            "account": account,
            "order_ref": order_ref,
            "amount_yuan": _yuan(amount_yuan),
            "kind": kind,
        }
        return self._call("POST", "/payments", json=body, idempotent=True)

    def refund(
        self, order_ref: str, refund_ref: str, amount_yuan: Amount | None = None
    ) -> dict[str, Any]:
        """Refund all of a payment, or `amount_yuan` of it."""
        body = {"refund_ref": refund_ref}
        if amount_yuan is not None:
            body["amount_yuan"] = _yuan(amount_yuan)
        return self._call("POST", f"/payments/{_seg(order_ref)}/refunds", json=body)

    # ------------------------------------------------------------ guardians

    def bind_guardian(
        self,
        guardian: str,
        child_pi: str,
        *,
        limits: dict[str, Any] | None = None,
        password: str | None = None,
    ) -> dict[str, Any]:
        body = _drop_none(
            {"guardian": guardian, "child_pi": child_pi, "limits": limits, "password": password}
        )
        return self._call("POST", "/guardians", json=body)

    def set_limits(self, link_id: int, limits: dict[str, Any]) -> dict[str, Any]:
        return self._call("PUT", f"/guardians/{_seg(link_id)}/limits", json=limits)

    def unlock(self, link_id: int, seconds: int) -> dict[str, Any]:
        return self._call("POST", f"/guardians/{_seg(link_id)}/unlock", json={"seconds": seconds})

    def extend(self, link_id: int, password: str, seconds: int) -> dict[str, Any]:
        body = {"password": password, "seconds": seconds}
        return self._call("POST", f"/guardians/{_seg(link_id)}/extend", json=body)

    def alerts(self, link_id: int, limit: int = 50) -> dict[str, Any]:
        return self._call(
            "GET", f"/guardians/{_seg(link_id)}/alerts", params={"limit": limit}, idempotent=True
        )

    def report(
        self, link_id: int, period: Literal["day", "week"] = "day", date: date | str | None = None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"period": period}
        if date is not None:
            params["date"] = date if isinstance(date, str) else date.isoformat()
        return self._call(
            "GET", f"/guardians/{_seg(link_id)}/report", params=params, idempotent=True
        )

    def unbind(self, link_id: int) -> None:
        self._call("DELETE", f"/guardians/{_seg(link_id)}")


def _is_json(response: httpx.Response) -> bool:
    return "json" in response.headers.get("content-type", "")
