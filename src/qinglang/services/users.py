"""Users, organisations, login sessions and API tokens.

Passwords are Argon2id hashes; session cookies and API tokens are random 256-bit values of
which only the SHA-256 is stored, so a copy of the database logs nobody in. Every change is an
audit event.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from qinglang.govern.actors import Role
from qinglang.govern.identifiers import IdentifierError, normalize_division, normalize_uscc
from qinglang.services.errors import ServiceError, conflict, invalid, not_found
from qinglang.services.principal import REGULATOR_ROLES, Principal
from qinglang.store import audit_log
from qinglang.store.models import ApiToken, Organisation, User, UserSession
from qinglang.store.passwords import PasswordPolicyError, hash_password, verify_password
from qinglang.taxonomy import get_taxonomy

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
TOKEN_PREFIX = "qlt_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def principal_of(user: User) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        roles=frozenset(Role(r) for r in user.roles),
        department=user.department,
        jurisdiction=user.jurisdiction,
        organisation_id=user.organisation_id,
    )


# ---------------------------------------------------------------- validation


def _roles(roles: Iterable[str]) -> list[str]:
    out: list[str] = []
    for r in roles:
        try:
            out.append(Role(r).value)
        except ValueError:
            raise invalid("unknown_role", f"unknown role {r!r}", f"未知的角色：{r}") from None
    if not out:
        raise invalid("no_role", "a user needs at least one role", "请至少选择一个角色。")
    return sorted(set(out))


def _check_user_fields(
    session: Session,
    roles: list[str],
    department: str | None,
    jurisdiction: str,
    organisation_id: int | None,
) -> str:
    try:
        jurisdiction = normalize_division(jurisdiction)
    except IdentifierError as exc:
        raise invalid("bad_jurisdiction", str(exc), exc.message_zh) from None
    if department is not None and department not in get_taxonomy().departments:
        raise invalid(
            "unknown_department", f"unknown department {department!r}", f"未知的部门：{department}"
        )
    regulator = bool(set(roles) & {r.value for r in REGULATOR_ROLES})
    case_roles = set(roles) & {"officer", "analyst", "leader"}
    if case_roles and department is None:
        raise invalid(
            "department_required", "case roles need a department", "办案角色必须归属一个部门。"
        )
    if "operator" in roles:
        if regulator:
            raise invalid(
                "operator_and_regulator",
                "a platform operator cannot also hold a regulator role",
                "平台运营者账号不能同时拥有监管角色。",
            )
        if organisation_id is None:
            raise invalid(
                "organisation_required",
                "platform operators belong to an organisation",
                "平台运营者账号必须关联一个运营主体。",
            )
    elif organisation_id is not None:
        raise invalid(
            "organisation_for_regulator",
            "only platform operators belong to an organisation",
            "只有平台运营者账号可以关联运营主体。",
        )
    if organisation_id is not None and session.get(Organisation, organisation_id) is None:
        raise not_found("organisation", "运营主体", organisation_id)
    return jurisdiction


# ---------------------------------------------------------------- users


def create_user(
    session: Session,
    *,
    username: str,
    password: str | None,
    roles: Iterable[str],
    jurisdiction: str,
    department: str | None = None,
    display_name: str | None = None,
    organisation_id: int | None = None,
    by: str,
    at: datetime,
) -> User:
    """A new user; `by` is the actor recorded in the audit log ("system" for the CLI)."""
    username = (username or "").strip().lower()
    if not USERNAME.fullmatch(username):
        raise invalid(
            "bad_username",
            "username: 2-64 characters a-z 0-9 . _ -, starting with a letter or digit",
            "用户名须为2至64位小写字母、数字或 . _ -，以字母或数字开头。",
        )
    role_list = _roles(roles)
    jurisdiction = _check_user_fields(session, role_list, department, jurisdiction, organisation_id)
    if session.execute(select(User.id).where(User.username == username)).first():
        raise conflict("username_taken", f"username {username!r} exists", "该用户名已被使用。")
    try:
        pw_hash = hash_password(password) if password is not None else None
    except PasswordPolicyError as exc:
        raise invalid("weak_password", str(exc), exc.message_zh) from None
    user = User(
        username=username,
        display_name=(display_name or username).strip()[:100] or username,
        password_hash=pw_hash,
        roles=role_list,
        department=department,
        jurisdiction=jurisdiction,
        organisation_id=organisation_id,
        active=True,
        created_at=at,
        updated_at=at,
    )
    session.add(user)
    session.flush()
    audit_log.record(
        session,
        at=at,
        actor=by,
        kind="user.created",
        subject=f"user:{user.id}",
        payload={"roles": role_list, "department": department, "jurisdiction": jurisdiction},
    )
    return user


def update_user(
    session: Session,
    user_id: int,
    *,
    roles: Iterable[str] | None = None,
    department: str | None = None,
    jurisdiction: str | None = None,
    active: bool | None = None,
    by: str,
    at: datetime,
) -> User:
    user = session.get(User, user_id, with_for_update=True)
    if user is None:
        raise not_found("user", "用户", user_id)
    role_list = _roles(roles) if roles is not None else list(user.roles)
    dept = department if department is not None else user.department
    juris = _check_user_fields(
        session, role_list, dept, jurisdiction or user.jurisdiction, user.organisation_id
    )
    user.roles, user.department, user.jurisdiction = role_list, dept, juris
    if active is not None:
        user.active = active
        if not active:
            for s in session.execute(select(UserSession).where(UserSession.user_id == user.id)):
                session.delete(s[0])
    user.updated_at = at
    payload: dict[str, object] = {"roles": role_list, "department": dept, "jurisdiction": juris}
    if active is not None:
        payload["active"] = active
    audit_log.record(
        session,
        at=at,
        actor=by,
        kind="user.roles_changed",
        subject=f"user:{user.id}",
        payload=payload,
    )
    return user


def set_password(session: Session, user_id: int, password: str, *, by: str, at: datetime) -> User:
    """An administrator sets a new password; the user's sessions end (they log in again)."""
    user = session.get(User, user_id, with_for_update=True)
    if user is None:
        raise not_found("user", "用户", user_id)
    try:
        user.password_hash = hash_password(password)
    except PasswordPolicyError as exc:
        raise invalid("weak_password", str(exc), exc.message_zh) from None
    for (row,) in session.execute(select(UserSession).where(UserSession.user_id == user.id)):
        session.delete(row)
    user.updated_at = at
    audit_log.record(
        session,
        at=at,
        actor=by,
        kind="user.password_reset",
        subject=f"user:{user.id}",
        payload={"sessions_ended": True},
    )
    return user


def list_users(session: Session) -> list[User]:
    return list(session.execute(select(User).order_by(User.id)).scalars())


# ---------------------------------------------------------------- organisations


def create_organisation(
    session: Session,
    *,
    name: str,
    uscc: str | None,
    region: str | None,
    by: str,
    at: datetime,
) -> Organisation:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise invalid("bad_name", "name must be 1-200 characters", "名称须为1至200个字符。")
    try:
        uscc = normalize_uscc(uscc) if uscc else None
        region = normalize_division(region) if region else None
    except IdentifierError as exc:
        raise invalid(f"bad_{exc.kind}", str(exc), exc.message_zh) from None
    clash = select(Organisation.id).where(Organisation.name == name)
    if uscc:
        clash = select(Organisation.id).where(
            (Organisation.name == name) | (Organisation.uscc == uscc)
        )
    if session.execute(clash).first():
        raise conflict("organisation_exists", "organisation exists", "该运营主体已存在。")
    org = Organisation(name=name, uscc=uscc, region=region, created_at=at)
    session.add(org)
    session.flush()
    audit_log.record(
        session,
        at=at,
        actor=by,
        kind="organisation.created",
        subject=f"organisation:{org.id}",
        payload={"name": name, "uscc": uscc, "region": region},
    )
    return org


def list_organisations(session: Session) -> list[Organisation]:
    return list(session.execute(select(Organisation).order_by(Organisation.id)).scalars())


# ---------------------------------------------------------------- login sessions and tokens


def _bad_login() -> ServiceError:
    return ServiceError(
        "unauthorized", "bad_credentials", "wrong username or password", "用户名或密码错误。"
    )


def login(
    session: Session, username: str, password: str, at: datetime, hours: int
) -> tuple[str, User]:
    """A new session cookie value for valid credentials (the same error for every failure)."""
    user = session.execute(
        select(User).where(User.username == (username or "").strip().lower())
    ).scalar_one_or_none()
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        raise _bad_login()
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            id=token_hash(token),
            user_id=user.id,
            created_at=at,
            expires_at=at + timedelta(hours=hours),
        )
    )
    return token, user


def logout(session: Session, token: str) -> None:
    row = session.get(UserSession, token_hash(token))
    if row is not None:
        session.delete(row)


def user_for_session(session: Session, token: str, at: datetime) -> User | None:
    row = session.get(UserSession, token_hash(token))
    if row is None or row.expires_at <= at:
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


def create_token(session: Session, user_id: int, name: str, at: datetime) -> tuple[str, ApiToken]:
    """A new API token for `user_id`; the value is returned once and never stored."""
    user = session.get(User, user_id)
    if user is None:
        raise not_found("user", "用户", user_id)
    name = (name or "").strip()[:100] or "token"
    value = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user_id,
        name=name,
        token_hash=token_hash(value),
        prefix=value[:12],
        created_at=at,
    )
    session.add(row)
    session.flush()
    return value, row


def revoke_token(session: Session, token_id: int, user_id: int, at: datetime) -> None:
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user_id:
        raise not_found("token", "令牌", token_id)
    row.revoked_at = row.revoked_at or at


def user_for_token(session: Session, value: str) -> User | None:
    if not value.startswith(TOKEN_PREFIX) or len(value) > 200:
        return None
    row = session.execute(
        select(ApiToken).where(ApiToken.token_hash == token_hash(value))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None
