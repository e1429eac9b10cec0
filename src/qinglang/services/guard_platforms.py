"""Platforms of the guard API and their accounts' profiles.

A platform authenticates with an API key (`qlp_...`, shown once; only its SHA-256 is stored).
A profile ties a platform account to a natural person: the NPPA `pi` when the platform has
one, else Qinglang's own pi derived from the ID number with a keyed hash
(`qinglang.guard.pi.make_pi`) — so the same person has the same key across platforms that
give Qinglang the ID number. The ID number itself is never stored or logged.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from qinglang.guard.ages import local_day
from qinglang.guard.decision import PlatformKind
from qinglang.guard.identity import InvalidIdNumber, parse_id_number
from qinglang.guard.pi import InvalidPi, birth_of_pi, make_pi
from qinglang.services.errors import ServiceError, invalid, not_found
from qinglang.services.users import token_hash
from qinglang.store.models import GuardPlatform, GuardProfile

KEY_PREFIX = "qlp_"
ACCOUNT_MAX = 64


@dataclass(frozen=True, slots=True)
class PlatformInfo:
    id: int
    name: str
    kind: PlatformKind


@dataclass(frozen=True, slots=True)
class ProfileInfo:
    platform_id: int
    account: str
    person_key: str
    birth_date: date
    sex: str | None
    verified_via: str


def create_platform(
    session: Session, name: str, kind: str, now: datetime, organisation_id: int | None = None
) -> tuple[GuardPlatform, str]:
    try:
        platform_kind = PlatformKind(kind)
    except ValueError:
        raise invalid(
            "bad_platform_kind",
            f"unknown platform kind {kind!r}",
            "平台类型应为 game、video 或 live。",
        ) from None
    if not name.strip() or len(name) > 200:
        raise invalid("bad_name", "name must be 1–200 characters", "平台名称长度应为1至200个字符。")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = GuardPlatform(
        name=name.strip(),
        kind=platform_kind.value,
        organisation_id=organisation_id,
        key_hash=token_hash(key),
        prefix=key[:12],
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row, key


def platform_for_key(session: Session, key: str) -> PlatformInfo | None:
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    row = session.execute(
        select(GuardPlatform).where(GuardPlatform.key_hash == token_hash(key))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    return PlatformInfo(row.id, row.name, PlatformKind(row.kind))


class PlatformKeyCache:
    """API key → platform, cached for `ttl_s` (a revoked key stops working within it)."""

    def __init__(self, ttl_s: float = 30.0, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[PlatformInfo | None, float]] = {}

    def get(self, key: str) -> tuple[bool, PlatformInfo | None]:
        item = self._entries.get(token_hash(key))
        if item is None or item[1] < time.monotonic():
            return False, None
        return True, item[0]

    def put(self, key: str, info: PlatformInfo | None) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[token_hash(key)] = (info, time.monotonic() + self.ttl_s)


def _account(account: str) -> str:
    if not isinstance(account, str) or not 0 < len(account) <= ACCOUNT_MAX:
        raise invalid(
            "bad_account", "account must be 1–64 characters", "账号标识长度应为1至64个字符。"
        )
    return account


def register_profile(
    session: Session,
    platform: PlatformInfo,
    account: str,
    *,
    id_number: str | None,
    pi: str | None,
    key: bytes,
    now: datetime,
) -> ProfileInfo:
    """Create or confirm the profile of `account`; re-registering the same person is a no-op,
    another person on the same account is a conflict."""
    account = _account(account)
    if (id_number is None) == (pi is None):
        raise invalid(
            "identity_required",
            "give exactly one of id_number and pi",
            "请提供身份证号或 pi 之一（且只提供一个）。",
        )
    sex: str | None = None
    if id_number is not None:
        try:
            parsed = parse_id_number(id_number, today=local_day(now))
        except InvalidIdNumber as exc:
            raise invalid(
                f"id_{exc.code}", f"invalid ID number: {exc.code}", exc.message_zh
            ) from None
        person_key = make_pi(parsed, key)
        birth = parsed.birth_date
        sex = parsed.sex
        via = "id_number"
    else:
        assert pi is not None
        try:
            birth = birth_of_pi(pi)
        except InvalidPi as exc:
            raise invalid("bad_pi", "invalid pi", exc.message_zh) from None
        person_key = pi
        via = "pi"
    existing = session.execute(
        select(GuardProfile).where(
            GuardProfile.platform_id == platform.id, GuardProfile.account == account
        )
    ).scalar_one_or_none()
    if existing is not None:
        if existing.person_key != person_key:
            raise ServiceError(
                "conflict",
                "account_bound_to_other_person",
                "the account is already bound to another person",
                "该账号已绑定其他实名信息，不能更换。",
            )
        return _info(existing)
    row = GuardProfile(
        platform_id=platform.id,
        account=account,
        person_key=person_key,
        birth_date=birth,
        sex=sex,
        verified_via=via,
        created_at=now,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise ServiceError(
            "conflict",
            "account_exists",
            "account registered concurrently",
            "该账号正在被注册，请重试。",
        ) from None
    return _info(row)


def get_profile(session: Session, platform: PlatformInfo, account: str) -> ProfileInfo:
    row = session.execute(
        select(GuardProfile).where(
            GuardProfile.platform_id == platform.id, GuardProfile.account == _account(account)
        )
    ).scalar_one_or_none()
    if row is None:
        raise not_found("profile", "实名档案", account)
    return _info(row)


def _info(row: GuardProfile) -> ProfileInfo:
    return ProfileInfo(
        row.platform_id, row.account, row.person_key, row.birth_date, row.sex, row.verified_via
    )
