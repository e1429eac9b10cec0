"""Schemas of login, users, organisations and API tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from qinglang.govern.actors import Role


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str
    roles: list[Role]
    department: str | None
    jurisdiction: str
    organisation_id: int | None
    active: bool


class LoginPublic(BaseModel):
    user: UserPublic
    expires_at: datetime


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=2, max_length=64, examples=["officer.sh"])
    password: str = Field(min_length=10, max_length=256)
    roles: list[Role] = Field(min_length=1, max_length=5)
    jurisdiction: str = Field(min_length=2, max_length=12, examples=["310000"])
    department: str | None = Field(default=None, max_length=32, examples=["cyberspace"])
    display_name: str | None = Field(default=None, max_length=100)
    organisation_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    roles: list[Role] | None = Field(default=None, min_length=1, max_length=5)
    jurisdiction: str | None = Field(default=None, min_length=2, max_length=12)
    department: str | None = Field(default=None, max_length=32)
    active: bool | None = None


class OrganisationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    uscc: str | None = Field(default=None, max_length=40, description="统一社会信用代码")
    region: str | None = Field(default=None, max_length=12, description="Division code")


class OrganisationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    uscc: str | None
    region: str | None
    created_at: datetime


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="api", min_length=1, max_length=100)


class TokenPublic(BaseModel):
    id: int
    name: str
    prefix: str
    token: str | None = Field(default=None, description="The token itself, shown once only.")
    created_at: datetime
