"""Request and response bodies of the guard API (/api/v1/guard)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Account = Field(min_length=1, max_length=64, description="The platform's account id")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IdCheckIn(_Strict):
    id_number: str = Field(min_length=1, max_length=64, description="Resident ID number")


class IdCheckOut(BaseModel):
    valid: bool
    birth_date: str | None
    sex: str | None
    region_code: str | None
    error: dict[str, Any] | None


class ProfileIn(_Strict):
    account: str = Account
    id_number: str | None = Field(default=None, min_length=1, max_length=64)
    pi: str | None = Field(default=None, min_length=1, max_length=64)


class ProfileOut(BaseModel):
    account: str
    pi: str = Field(description="The person key: the NPPA pi or Qinglang's own pi")
    birth_date: date
    age: int
    age_band: str
    minor: bool
    verified_via: str


class DecisionOut(BaseModel):
    allowed: bool
    remaining_seconds: int | None
    reason: str
    message: str
    rule_set: str
    next_allowed_at: str | None
    rest_reminder_seconds: int | None


class DecideIn(_Strict):
    account: str | None = Field(default=None, min_length=1, max_length=64)
    birth_date: date | None = None
    guest: bool = False
    platform: Literal["game", "video", "live"] | None = None
    rules: str | None = Field(default=None, max_length=32)
    used_today_seconds: int | None = Field(default=None, ge=0, le=86_400 * 366)


class LoginIn(_Strict):
    account: str | None = Field(default=None, min_length=1, max_length=64)
    device: str | None = Field(
        default=None, min_length=1, max_length=64, description="Device id, for a guest"
    )


class SessionOut(DecisionOut):
    session_id: str | None
    state: str | None
    ends_at: str | None
    counted_seconds: int
    used_today_seconds: int


Yuan = Field(gt=0, le=Decimal("1000000"), max_digits=9, decimal_places=2)


class PaymentIn(_Strict):
    account: str = Account
    amount_yuan: Decimal = Yuan
    kind: Literal["payment", "tip"] = "payment"


class PaymentRecordIn(PaymentIn):
    order_ref: str = Field(min_length=1, max_length=64)


class PaymentOut(BaseModel):
    allowed: bool
    reason: str
    message: str
    rule_set: str
    single_cap_yuan: float | None
    monthly_remaining_yuan: float | None
    spent_month_yuan: float
    recorded: bool
    payment_id: int | None
    duplicate: bool


class RefundIn(_Strict):
    refund_ref: str = Field(min_length=1, max_length=64)
    amount_yuan: Decimal | None = Field(
        default=None, gt=0, le=Decimal("1000000"), max_digits=9, decimal_places=2
    )


class RefundOut(BaseModel):
    refund_id: int
    order_ref: str
    refund_yuan: float
    month: str
    spent_month_yuan: float
    duplicate: bool


class LimitsIn(_Strict):
    banned: bool = False
    windows: list[tuple[str, str]] | None = Field(default=None, max_length=8)
    daily_cap_s: int | None = Field(default=None, ge=0, le=86_400)
    single_cap_fen: int | None = Field(default=None, ge=0, le=100_000_000)
    monthly_cap_fen: int | None = Field(default=None, ge=0, le=10_000_000_000)


class GuardianIn(_Strict):
    guardian: str = Account
    child_pi: str = Field(min_length=38, max_length=38)
    limits: LimitsIn | None = None
    password: str | None = Field(default=None, min_length=1, max_length=128)


class GuardianOut(BaseModel):
    id: int
    guardian: str
    child_pi: str
    limits: dict[str, Any]
    has_password: bool
    unlock_until: str | None
    created_at: str
    updated_at: str


class UnlockIn(_Strict):
    seconds: int = Field(ge=1, le=86_400, description="15 min to 2 h (900–7200)")


class ExtendIn(_Strict):
    password: str = Field(min_length=1, max_length=128)
    seconds: int = Field(ge=1, le=86_400, description="15 min to 2 h (900–7200)")


class YouthItemIn(_Strict):
    id: str = Field(min_length=1, max_length=128)
    text: str | None = Field(default=None, max_length=4000)
    min_age: int | None = Field(default=None, ge=0, le=18)
    age_band: str | None = Field(default=None, max_length=16)
    categories: list[str] = Field(default_factory=list, max_length=32)


class YouthFilterIn(_Strict):
    account: str | None = Field(default=None, min_length=1, max_length=64)
    age_band: str | None = Field(default=None, max_length=16)
    items: list[YouthItemIn] = Field(max_length=1000)


class PlatformIn(_Strict):
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["game", "video", "live"]
    organisation_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class PlatformOut(BaseModel):
    id: int
    name: str
    kind: str
    api_key: str = Field(description="Shown once; only its SHA-256 is stored")


class OverrideIn(_Strict):
    day: date
    kind: Literal["holiday", "workday", "rest_day"]
    note: str = Field(default="", max_length=200)
