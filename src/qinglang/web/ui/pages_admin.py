"""UI pages of user and department administration (system administrators only).

Users: list, create (roles, department, jurisdiction, organisation for platform operators,
initial password), edit (roles, department, jurisdiction, active, password reset).
Departments: the taxonomy's, read-only, with how many users each has. Organisations (platform
operators): list and register. The pages call `qinglang.services.users` as the JSON API does
(`qinglang.web.api.accounts`), with the same jurisdiction checks; password hashes are never
shown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from qinglang.govern.actors import ROLE_NAMES_ZH, Role
from qinglang.govern.identifiers import IdentifierError, normalize_division
from qinglang.services import users as users_service
from qinglang.services.errors import ServiceError, not_found
from qinglang.services.principal import Principal
from qinglang.store.models import User
from qinglang.store.passwords import MIN_PASSWORD
from qinglang.taxonomy import get_taxonomy
from qinglang.web.auth import now
from qinglang.web.ui.forms import (
    ID_MAX,
    FormError,
    choice,
    choices,
    field_errors,
    known_id,
    read_form,
    text,
    values,
)
from qinglang.web.ui.session import UiPrincipal
from qinglang.web.ui.templating import redirect, render

router = APIRouter(include_in_schema=False)

ROLE_OPTIONS = [(r.value, ROLE_NAMES_ZH[r]) for r in Role]
PASSWORD_HINT = (
    f"至少{MIN_PASSWORD}个字符，混合使用大小写字母、数字和符号；不要使用用户名或常见词语。"
    "请通过安全渠道告知本人，并提醒其妥善保管。"
)

# Which form field a refusal of the users service is about.
USER_FIELDS = {
    "bad_username": "username",
    "username_taken": "username",
    "unknown_role": "roles",
    "no_role": "roles",
    "operator_and_regulator": "roles",
    "bad_jurisdiction": "jurisdiction",
    "out_of_jurisdiction": "jurisdiction",
    "unknown_department": "department",
    "department_required": "department",
    "organisation_required": "organisation_id",
    "organisation_for_regulator": "organisation_id",
    "organisation_not_found": "organisation_id",
    "weak_password": "password",
}
ORGANISATION_FIELDS = {
    "bad_name": "name",
    "organisation_exists": "name",
    "bad_uscc": "uscc",
    "bad_division": "region",
}


def require_admin(principal: Principal) -> None:
    principal.require(Role.admin)


def _departments() -> list[tuple[str, str]]:
    return [(d.code, d.name) for d in get_taxonomy().departments.values()]


def _organisations(session: Session) -> dict[int, str]:
    return {o.id: o.name for o in users_service.list_organisations(session)}


def _user_row(user: User, organisations: Mapping[int, str]) -> dict[str, Any]:
    """A user as the pages show it (never the password hash)."""
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "roles": list(user.roles),
        "department": user.department,
        "jurisdiction": user.jurisdiction,
        "organisation_id": user.organisation_id,
        "organisation": organisations.get(user.organisation_id or 0),
        "active": bool(user.active),
        "created_at": user.created_at,
    }


def _visible_users(session: Session, principal: Principal) -> list[User]:
    return [u for u in users_service.list_users(session) if principal.covers(u.jurisdiction)]


# ---------------------------------------------------------------- users


@router.get("/admin/users")
def users_list(request: Request, principal: UiPrincipal) -> Response:
    require_admin(principal)
    with request.app.state.database.read() as session:
        orgs = _organisations(session)
        rows = [_user_row(u, orgs) for u in _visible_users(session, principal)]
    return render(request, "admin/users.html", {"users": rows}, title="用户管理")


def _user_form(
    request: Request,
    *,
    values_: Mapping[str, Any],
    errors: Mapping[str, str],
    user: Mapping[str, Any] | None = None,
    status: int = 200,
) -> Response:
    with request.app.state.database.read() as session:
        orgs = _organisations(session)
    return render(
        request,
        "admin/user_form.html",
        {
            "values": values_,
            "errors": errors,
            "user": user,
            "role_options": ROLE_OPTIONS,
            "departments": _departments(),
            "organisations": [(str(i), name) for i, name in orgs.items()],
            "password_hint": PASSWORD_HINT,
            "min_password": MIN_PASSWORD,
        },
        status=status,
        title=f"修改用户：{user['username']}" if user else "新建用户",
    )


def _form_values(form: FormData) -> dict[str, Any]:
    """The submitted values to refill the form with (passwords are never sent back)."""
    out: dict[str, Any] = {
        k: v for k, v in values(form).items() if k not in ("password", "password_confirm")
    }
    out["roles"] = [r for r in form.getlist("roles") if isinstance(r, str)]
    return out


def _jurisdiction(form: FormData) -> str:
    """The division code of the form, normalised (the scope check needs a valid one)."""
    raw = text(form, "jurisdiction", "管辖地区代码", max_len=12, required=True) or ""
    try:
        return normalize_division(raw)
    except IdentifierError as exc:
        raise FormError("jurisdiction", exc.message_zh) from None


def _password(form: FormData, *, required: bool) -> str | None:
    raw = form.get("password")
    password = raw if isinstance(raw, str) else ""
    confirm = form.get("password_confirm")
    if not password:
        if required:
            raise FormError("password", "请设置初始密码。")
        return None
    if password != (confirm if isinstance(confirm, str) else ""):
        raise FormError("password_confirm", "两次输入的密码不一致。")
    return password


@router.get("/admin/users/new")
def user_new(request: Request, principal: UiPrincipal) -> Response:
    require_admin(principal)
    return _user_form(
        request, values_={"jurisdiction": principal.jurisdiction, "roles": []}, errors={}
    )


@router.post("/admin/users/new")
async def user_create(request: Request, principal: UiPrincipal) -> Response:
    form = await read_form(request)
    require_admin(principal)
    try:
        username = text(form, "username", "用户名", max_len=64, required=True) or ""
        display_name = text(form, "display_name", "姓名", max_len=100)
        roles = choices(form, "roles", [r for r, _ in ROLE_OPTIONS], "角色")
        department = choice(form, "department", dict(_departments()), "部门")
        jurisdiction = _jurisdiction(form)
        organisation = text(form, "organisation_id", "运营主体", max_len=12)
        organisation_id = _organisation_id(organisation)
        password = _password(form, required=True)
        principal.require_covers(jurisdiction)
        with request.app.state.database.write() as session:
            user = users_service.create_user(
                session,
                username=username,
                password=password,
                roles=roles,
                jurisdiction=jurisdiction,
                department=department,
                display_name=display_name,
                organisation_id=organisation_id,
                by=principal.actor_id,
                at=now(),
            )
            name = user.username
    except FormError as exc:
        return _user_form(
            request, values_=_form_values(form), errors={exc.field: exc.message_zh}, status=422
        )
    except ServiceError as exc:
        return _user_form(
            request,
            values_=_form_values(form),
            errors=field_errors(exc, USER_FIELDS),
            status=exc.status,
        )
    return redirect("/admin/users", flash=f"已创建用户 {name}。")


def _organisation_id(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= ID_MAX:
        raise FormError("organisation_id", "请从列表中选择运营主体。")
    return int(raw)


def _load_user(session: Session, principal: Principal, user_id: int) -> User:
    user = session.get(User, known_id(user_id, "user", "用户"))
    if user is None:
        raise not_found("user", "用户", user_id)
    principal.require_covers(user.jurisdiction)
    return user


@router.get("/admin/users/{user_id:int}/edit")
def user_edit_form(request: Request, principal: UiPrincipal, user_id: int) -> Response:
    require_admin(principal)
    with request.app.state.database.read() as session:
        row = _user_row(_load_user(session, principal, user_id), _organisations(session))
    values_ = {
        "roles": row["roles"],
        "department": row["department"] or "",
        "jurisdiction": row["jurisdiction"],
        "active": "1" if row["active"] else "",
    }
    return _user_form(request, values_=values_, errors={}, user=row)


@router.post("/admin/users/{user_id:int}/edit")
async def user_edit(request: Request, principal: UiPrincipal, user_id: int) -> Response:
    form = await read_form(request)
    require_admin(principal)
    db = request.app.state.database
    with db.read() as session:
        current = _user_row(_load_user(session, principal, user_id), _organisations(session))
    try:
        roles = choices(form, "roles", [r for r, _ in ROLE_OPTIONS], "角色")
        department = choice(form, "department", dict(_departments()), "部门")
        jurisdiction = _jurisdiction(form)
        active = form.get("active") == "1"
        password = _password(form, required=False)
        if user_id == principal.user_id and (not active or Role.admin.value not in roles):
            raise FormError(
                "roles", "不能停用自己的账号或取消自己的系统管理员角色，请由其他管理员操作。"
            )
        principal.require_covers(jurisdiction)
        at = now()
        with db.write() as session:
            user = _load_user(session, principal, user_id)
            users_service.update_user(
                session,
                user_id,
                roles=roles,
                department=department,
                jurisdiction=jurisdiction,
                active=active,
                by=principal.actor_id,
                at=at,
            )
            if password is not None:
                users_service.set_password(session, user.id, password, by=principal.actor_id, at=at)
    except FormError as exc:
        return _user_form(
            request,
            values_=_form_values(form),
            errors={exc.field: exc.message_zh},
            user=current,
            status=422,
        )
    except ServiceError as exc:
        if exc.code == "user_not_found":
            raise
        return _user_form(
            request,
            values_=_form_values(form),
            errors=field_errors(exc, USER_FIELDS),
            user=current,
            status=exc.status,
        )
    flash = f"已保存用户 {current['username']} 的修改。"
    if password is not None:
        flash += "密码已重置，该用户需要用新密码重新登录。"
    return redirect("/admin/users", flash=flash)


# ---------------------------------------------------------------- departments


@router.get("/admin/departments")
def departments(request: Request, principal: UiPrincipal) -> Response:
    require_admin(principal)
    with request.app.state.database.read() as session:
        counts = Counter(u.department for u in _visible_users(session, principal))
    rows = [
        {"code": d.code, "name": d.name, "full_name": d.full_name, "users": counts.get(d.code, 0)}
        for d in get_taxonomy().departments.values()
    ]
    return render(
        request,
        "admin/departments.html",
        {"departments": rows, "without": counts.get(None, 0)},
        title="部门",
    )


# ---------------------------------------------------------------- organisations


def _organisations_page(
    request: Request,
    principal: Principal,
    *,
    values_: Mapping[str, str],
    errors: Mapping[str, str],
    status: int = 200,
) -> Response:
    with request.app.state.database.read() as session:
        orgs = [
            {"id": o.id, "name": o.name, "uscc": o.uscc, "region": o.region, "at": o.created_at}
            for o in users_service.list_organisations(session)
        ]
        members = Counter(
            u.organisation_id for u in users_service.list_users(session) if u.organisation_id
        )
    return render(
        request,
        "admin/organisations.html",
        {"organisations": orgs, "members": members, "values": values_, "errors": errors},
        status=status,
        title="运营主体",
    )


@router.get("/admin/organisations")
def organisations(request: Request, principal: UiPrincipal) -> Response:
    require_admin(principal)
    return _organisations_page(request, principal, values_={}, errors={})


@router.post("/admin/organisations")
async def organisation_create(request: Request, principal: UiPrincipal) -> Response:
    form = await read_form(request)
    require_admin(principal)
    try:
        name = text(form, "name", "名称", max_len=200, required=True) or ""
        uscc = text(form, "uscc", "统一社会信用代码", max_len=40)
        region = text(form, "region", "所在地区代码", max_len=12)
        with request.app.state.database.write() as session:
            org = users_service.create_organisation(
                session, name=name, uscc=uscc, region=region, by=principal.actor_id, at=now()
            )
            created = org.name
    except FormError as exc:
        return _organisations_page(
            request, principal, values_=values(form), errors={exc.field: exc.message_zh}, status=422
        )
    except ServiceError as exc:
        return _organisations_page(
            request,
            principal,
            values_=values(form),
            errors=field_errors(exc, ORGANISATION_FIELDS),
            status=exc.status,
        )
    return redirect("/admin/organisations", flash=f"已登记运营主体“{created}”。")
