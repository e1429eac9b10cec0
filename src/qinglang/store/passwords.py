"""Password hashing with Argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()

MIN_PASSWORD = 10
MAX_PASSWORD = 256
# A fixed hash to verify against when the user does not exist, so both paths cost the same.
_DUMMY = _hasher.hash("qinglang-dummy-password")


class PasswordPolicyError(ValueError):
    def __init__(self, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.message_zh = message_zh


def check_policy(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise PasswordPolicyError(
            f"password shorter than {MIN_PASSWORD} characters",
            f"密码至少需要{MIN_PASSWORD}个字符。",
        )
    if len(password) > MAX_PASSWORD:
        raise PasswordPolicyError("password too long", f"密码不能超过{MAX_PASSWORD}个字符。")
    if len(set(password)) < 4:
        raise PasswordPolicyError("password too simple", "密码过于简单，请混合使用不同字符。")


def hash_password(password: str) -> str:
    check_policy(password)
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; constant work whether or not a hash exists."""
    if not isinstance(password, str) or len(password) > MAX_PASSWORD:
        return False
    try:
        return _hasher.verify(stored_hash or _DUMMY, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
