"""Login sessions, the caller's API tokens, users and organisations (admin)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Cookie, Path, Response

from qinglang.govern.actors import Role
from qinglang.services import users as users_service
from qinglang.services.errors import not_found
from qinglang.web.auth import SESSION_COOKIE, CurrentPrincipal, DatabaseDep, ReadSession, now
from qinglang.web.deps import SettingsDep
from qinglang.web.schemas.accounts import (
    LoginPublic,
    LoginRequest,
    OrganisationCreate,
    OrganisationPublic,
    TokenCreate,
    TokenPublic,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from qinglang.web.schemas.problem import problem_responses

router = APIRouter(tags=["accounts"])

IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post(
    "/auth/login",
    response_model=LoginPublic,
    responses=problem_responses(400, 401, 422),
    summary="Log in (sets the session cookie)",
)
def login(body: LoginRequest, response: Response, db: DatabaseDep, settings: SettingsDep):
    at = now()
    with db.write() as session:
        token, user = users_service.login(
            session, body.username, body.password, at, settings.session_hours
        )
        public = UserPublic.model_validate(user)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="strict",
        secure=settings.env.value == "prod",
    )
    return {"user": public, "expires_at": at + timedelta(hours=settings.session_hours)}


@router.post("/auth/logout", status_code=204, summary="Log out (ends the session)")
def logout(
    response: Response,
    db: DatabaseDep,
    qinglang_session: Annotated[str | None, Cookie()] = None,
) -> Response:
    if qinglang_session:
        with db.write() as session:
            users_service.logout(session, qinglang_session)
    response.status_code = 204
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get(
    "/auth/me", response_model=UserPublic, responses=problem_responses(401), summary="Who am I"
)
def me(principal: CurrentPrincipal, session: ReadSession):
    from qinglang.store.models import User

    return session.get(User, principal.user_id)


@router.post(
    "/tokens",
    response_model=TokenPublic,
    status_code=201,
    responses=problem_responses(400, 401, 422),
    summary="Create an API token for yourself (shown once)",
)
def create_token(body: TokenCreate, principal: CurrentPrincipal, db: DatabaseDep):
    with db.write() as session:
        value, row = users_service.create_token(session, principal.user_id, body.name, now())
        return {
            "id": row.id,
            "name": row.name,
            "prefix": row.prefix,
            "token": value,
            "created_at": row.created_at,
        }


@router.delete(
    "/tokens/{token_id}",
    status_code=204,
    responses=problem_responses(401, 404),
    summary="Revoke one of your API tokens",
)
def revoke_token(token_id: IdPath, principal: CurrentPrincipal, db: DatabaseDep) -> Response:
    with db.write() as session:
        users_service.revoke_token(session, token_id, principal.user_id, now())
    return Response(status_code=204)


@router.get(
    "/users",
    response_model=list[UserPublic],
    responses=problem_responses(401, 403),
    summary="List users (admin)",
)
def list_users(principal: CurrentPrincipal, session: ReadSession):
    principal.require(Role.admin)
    return [u for u in users_service.list_users(session) if principal.covers(u.jurisdiction)]


@router.post(
    "/users",
    response_model=UserPublic,
    status_code=201,
    responses=problem_responses(400, 401, 403, 404, 409, 422),
    summary="Create a user (admin)",
)
def create_user(body: UserCreate, principal: CurrentPrincipal, db: DatabaseDep):
    principal.require(Role.admin)
    principal.require_covers(body.jurisdiction)
    with db.write() as session:
        user = users_service.create_user(
            session,
            username=body.username,
            password=body.password,
            roles=[r.value for r in body.roles],
            jurisdiction=body.jurisdiction,
            department=body.department,
            display_name=body.display_name,
            organisation_id=body.organisation_id,
            by=principal.actor_id,
            at=now(),
        )
        return UserPublic.model_validate(user)


@router.patch(
    "/users/{user_id}",
    response_model=UserPublic,
    responses=problem_responses(400, 401, 403, 404, 422),
    summary="Change a user's roles, department, jurisdiction or status (admin)",
)
def update_user(user_id: IdPath, body: UserUpdate, principal: CurrentPrincipal, db: DatabaseDep):
    from qinglang.store.models import User

    principal.require(Role.admin)
    with db.write() as session:
        existing = session.get(User, user_id)
        if existing is None:
            raise not_found("user", "用户", user_id)
        principal.require_covers(existing.jurisdiction)
        if body.jurisdiction is not None:
            principal.require_covers(body.jurisdiction)
        user = users_service.update_user(
            session,
            user_id,
            roles=[r.value for r in body.roles] if body.roles is not None else None,
            department=body.department,
            jurisdiction=body.jurisdiction,
            active=body.active,
            by=principal.actor_id,
            at=now(),
        )
        return UserPublic.model_validate(user)


@router.get(
    "/organisations",
    response_model=list[OrganisationPublic],
    responses=problem_responses(401, 403),
    summary="List platform operators (regulators)",
)
def list_organisations(principal: CurrentPrincipal, session: ReadSession):
    if not principal.is_regulator:
        principal.require(Role.admin)
    return users_service.list_organisations(session)


@router.post(
    "/organisations",
    response_model=OrganisationPublic,
    status_code=201,
    responses=problem_responses(400, 401, 403, 409, 422),
    summary="Register a platform operator (admin, officer)",
)
def create_organisation(body: OrganisationCreate, principal: CurrentPrincipal, db: DatabaseDep):
    principal.require(Role.admin, Role.officer)
    with db.write() as session:
        org = users_service.create_organisation(
            session,
            name=body.name,
            uscc=body.uscc,
            region=body.region,
            by=principal.actor_id,
            at=now(),
        )
        return OrganisationPublic.model_validate(org)
