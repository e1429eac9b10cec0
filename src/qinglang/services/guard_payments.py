"""Payments: check against the rule sets and the guardians' caps, record, refund.

Spending counts per natural person and month (Asia/Shanghai; months reset on the 1st) across
all platforms. Recording re-checks inside the write transaction, serialised per person (one
writer on SQLite; a transaction-scoped advisory lock on PostgreSQL), so two concurrent
payments cannot both slip under a cap. `order_ref` makes a retried record idempotent. A refund
lowers the spending of the month the payment counted in, never below zero for that order.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from qinglang.guard.decision import PaymentDecision, yuan
from qinglang.guard.guardian import apply_payment
from qinglang.guard.rulesets import PayKind, PayRequest, evaluate_payment, resolve, spending_month
from qinglang.services.errors import ServiceError, invalid, not_found
from qinglang.services.guard_platforms import PlatformInfo, ProfileInfo
from qinglang.services.guard_sessions import GuardRuntime, record_alert
from qinglang.store.models import GuardPayment

ORDER_MAX = 64


@dataclass(frozen=True, slots=True)
class PaymentAnswer:
    decision: PaymentDecision
    spent_month_fen: int
    record_id: int | None = None
    duplicate: bool = False

    def as_dict(self) -> dict[str, Any]:
        out = self.decision.as_dict()
        out["spent_month_yuan"] = yuan(self.spent_month_fen)
        out["recorded"] = self.record_id is not None
        out["payment_id"] = self.record_id
        out["duplicate"] = self.duplicate
        return out


def spent_in_month(session: Session, person_key: str, month: str) -> int:
    total = session.execute(
        select(func.coalesce(func.sum(GuardPayment.amount_fen), 0)).where(
            GuardPayment.person_key == person_key, GuardPayment.month == month
        )
    ).scalar_one()
    return max(int(total), 0)


def _decide(
    runtime: GuardRuntime,
    session: Session,
    platform: PlatformInfo,
    profile: ProfileInfo,
    amount_fen: int,
    kind: PayKind,
    at: datetime,
) -> tuple[PaymentDecision, int]:
    spent = spent_in_month(session, profile.person_key, spending_month(at))
    try:
        req = PayRequest(at, profile.birth_date, amount_fen, spent, kind)
    except ValueError as exc:
        raise invalid("bad_amount", str(exc), getattr(exc, "message_zh", "金额无效。")) from None
    decision = evaluate_payment(resolve(platform.kind, at), req)
    for _lid, limits, _until in runtime.guardians(profile.person_key).links:
        decision = apply_payment(decision, limits, amount_fen, spent)
    return decision, spent


def check_payment(
    runtime: GuardRuntime,
    platform: PlatformInfo,
    profile: ProfileInfo,
    amount_fen: int,
    kind: PayKind,
    at: datetime,
) -> PaymentAnswer:
    with runtime.db.read() as session:
        decision, spent = _decide(runtime, session, platform, profile, amount_fen, kind, at)
    return PaymentAnswer(decision, spent)


def _lock_person(session: Session, person_key: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(person_key.encode())}
        )


def _order(order_ref: str) -> str:
    if not isinstance(order_ref, str) or not 0 < len(order_ref) <= ORDER_MAX:
        raise invalid(
            "bad_order_ref", "order_ref must be 1–64 characters", "订单号长度应为1至64个字符。"
        )
    return order_ref


def record_payment(
    runtime: GuardRuntime,
    platform: PlatformInfo,
    profile: ProfileInfo,
    order_ref: str,
    amount_fen: int,
    kind: PayKind,
    at: datetime,
) -> PaymentAnswer:
    """Check and, when allowed, record; a refused payment records nothing (and alerts)."""
    order_ref = _order(order_ref)
    with runtime.db.write() as session:
        existing = session.execute(
            select(GuardPayment).where(
                GuardPayment.platform_id == platform.id, GuardPayment.order_ref == order_ref
            )
        ).scalar_one_or_none()
        _lock_person(session, profile.person_key)
        if existing is not None:
            if (existing.person_key, existing.amount_fen, existing.kind) != (
                profile.person_key,
                amount_fen,
                kind.value,
            ):
                raise ServiceError(
                    "conflict",
                    "order_ref_reused",
                    "order_ref already used for another payment",
                    "该订单号已用于另一笔支付。",
                )
            spent = spent_in_month(session, profile.person_key, existing.month)
            decision, _ = _decide(runtime, session, platform, profile, 1, kind, at)
            return PaymentAnswer(
                PaymentDecision(
                    True,
                    decision.reason,
                    existing.rule_set,
                    decision.single_cap_fen,
                    decision.monthly_cap_fen,
                    decision.monthly_remaining_fen,
                ),
                spent,
                existing.id,
                duplicate=True,
            )
        decision, spent = _decide(runtime, session, platform, profile, amount_fen, kind, at)
        if not decision.allowed:
            blocked = True
            record_id = None
        else:
            blocked = False
            row = GuardPayment(
                platform_id=platform.id,
                order_ref=order_ref,
                person_key=profile.person_key,
                kind=kind.value,
                amount_fen=amount_fen,
                month=spending_month(at),
                rule_set=decision.rule_set,
                at=at,
            )
            session.add(row)
            session.flush()
            record_id = row.id
            spent += amount_fen
    if blocked and runtime.guardians(profile.person_key).linked:
        record_alert(
            runtime.db,
            profile.person_key,
            "payment_blocked",
            {"amount_fen": amount_fen, "reason": decision.reason.value, "kind": kind.value},
            at,
        )
    return PaymentAnswer(decision, spent, record_id)


def refund_payment(
    runtime: GuardRuntime,
    platform: PlatformInfo,
    order_ref: str,
    refund_ref: str,
    amount_fen: int | None,
    at: datetime,
) -> dict[str, Any]:
    """Refund all or part of a recorded payment; `refund_ref` makes retries idempotent."""
    order_ref, refund_ref = _order(order_ref), _order(refund_ref)
    with runtime.db.write() as session:
        original = session.execute(
            select(GuardPayment).where(
                GuardPayment.platform_id == platform.id,
                GuardPayment.order_ref == order_ref,
                GuardPayment.amount_fen > 0,
            )
        ).scalar_one_or_none()
        if original is None:
            raise not_found("payment", "支付记录", order_ref)
        _lock_person(session, original.person_key)
        again = session.execute(
            select(GuardPayment).where(
                GuardPayment.platform_id == platform.id, GuardPayment.order_ref == refund_ref
            )
        ).scalar_one_or_none()
        if again is not None:
            if again.refund_of != original.id:
                raise ServiceError(
                    "conflict",
                    "order_ref_reused",
                    "refund_ref already used",
                    "该退款单号已被使用。",
                )
            return _refund_dict(session, original, again, duplicate=True)
        refunded = -int(
            session.execute(
                select(func.coalesce(func.sum(GuardPayment.amount_fen), 0)).where(
                    GuardPayment.refund_of == original.id
                )
            ).scalar_one()
        )
        left = original.amount_fen - refunded
        amount = left if amount_fen is None else amount_fen
        if amount <= 0 or amount > left:
            raise invalid(
                "bad_refund_amount",
                f"refund must be > 0 and ≤ {left} fen",
                f"退款金额必须大于0且不超过可退金额（{yuan(left)}元）。",
            )
        row = GuardPayment(
            platform_id=platform.id,
            order_ref=refund_ref,
            person_key=original.person_key,
            kind="refund",
            amount_fen=-amount,
            month=original.month,
            refund_of=original.id,
            rule_set=original.rule_set,
            at=at,
        )
        session.add(row)
        session.flush()
        return _refund_dict(session, original, row, duplicate=False)


def _refund_dict(
    session: Session, original: GuardPayment, row: GuardPayment, *, duplicate: bool
) -> dict[str, Any]:
    return {
        "refund_id": row.id,
        "order_ref": original.order_ref,
        "refund_yuan": yuan(-row.amount_fen),
        "month": original.month,
        "spent_month_yuan": yuan(spent_in_month(session, original.person_key, original.month)),
        "duplicate": duplicate,
    }
