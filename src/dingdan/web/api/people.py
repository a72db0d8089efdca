"""People and API tokens (``people.manage``), and ``/me``: who the caller is, what they may do."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, Strict

from dingdan.domain.permissions import Role, permissions_of
from dingdan.services import tokens as token_svc
from dingdan.services import users as svc
from dingdan.web.deps import ActorDep, ReadUowDep, UowDep
from dingdan.web.errors import problem_responses
from dingdan.web.fields import Id, IdPath, IdQuery, Line, Moment, Version
from dingdan.web.schemas import NotNull

router = APIRouter(responses=problem_responses(400, 401, 403, 422))

RoleName = Annotated[Role, Field(description="one of the roles of docs/security.md")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


WarehouseCode = Annotated[Line, Field(min_length=1, max_length=32)]


class UserCreate(_In):
    name: Line = Field(min_length=1, max_length=200, examples=["王芳"])
    email: Line | None = Field(None, max_length=254, examples=["wang.fang@example.com"])
    phone: Line | None = Field(None, max_length=32)
    language: Line | None = Field(None, max_length=8,
                                  description="zh-CN or en; none: the browser's")
    roles: list[RoleName] = Field([], max_length=len(Role))
    warehouses: list[WarehouseCode] = Field([], max_length=1000, description="warehouse "
                                            "codes; empty: every warehouse")
    password: Line | None = Field(None, max_length=256,
                                  description="none: cannot sign in until one is set")


class UserUpdate(_In):
    name: Annotated[Line | None, NotNull] = Field(None, min_length=1, max_length=200)
    email: Line | None = Field(None, max_length=254)
    phone: Line | None = Field(None, max_length=32)
    language: Line | None = Field(None, max_length=8)
    roles: Annotated[list[RoleName] | None, NotNull] = Field(None, max_length=len(Role))
    warehouses: Annotated[list[WarehouseCode] | None, NotNull] = Field(None, max_length=1000)
    expected_version: Version | None = None


class PasswordReset(_In):
    password: Line = Field(max_length=256)


class UserPublic(BaseModel):
    id: int
    name: str
    email: str | None
    phone: str | None
    language: str | None
    active: bool
    roles: list[str]
    warehouses: list[str]
    has_password: bool
    failed_attempts: int
    locked_until: datetime | None
    last_sign_in_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class TokenCreate(_In):
    name: Line = Field(min_length=1, max_length=120, examples=["tmall-shop"])
    roles: list[RoleName] = Field([], max_length=len(Role),
                                  description="an integration token needs at least one; "
                                                  "a personal token without any has all of "
                                                  "its owner's")
    user_id: Id | None = Field(None, description="the person it acts for; none: an "
                                                 "integration")
    expires_at: Moment | None = None
    expires_in_days: Annotated[int, Strict()] | None = Field(None, ge=1, le=3650)


class TokenPublic(BaseModel):
    id: int
    name: str
    prefix: str
    roles: list[str]
    user_id: int | None
    created_by: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenIssued(TokenPublic):
    token: str = Field(description="shown once: only its digest is kept")


class Me(BaseModel):
    kind: str
    id: str
    name: str
    roles: list[str]
    permissions: list[str]
    warehouse_ids: list[int] | None


@router.get("/me", response_model=Me, tags=["people"], summary="Who is calling")
async def me(actor: ActorDep) -> dict[str, Any]:
    return {"kind": actor.kind.value, "id": actor.id, "name": actor.name,
            "roles": sorted(actor.roles),
            "permissions": sorted(p.value for p in permissions_of(actor.roles)),
            "warehouse_ids": sorted(actor.warehouse_ids) if actor.warehouse_ids is not None
            else None}


@router.get("/users", response_model=list[UserPublic], tags=["people"])
async def list_users(uow: ReadUowDep, actor: ActorDep,
                     active: bool | None = None) -> list[dict[str, Any]]:
    return await svc.list_users(uow, actor=actor, active=active)


@router.post("/users", status_code=201, response_model=UserPublic, tags=["people"],
             responses=problem_responses(409))
async def create_user(body: UserCreate, request: Request, uow: UowDep,
                      actor: ActorDep) -> dict[str, Any]:
    return await svc.create_user(svc.CreateUser(svc.UserFields(
        body.name, body.email, body.phone, body.language,
        frozenset(r.value for r in body.roles), frozenset(body.warehouses)),
        actor, body.password), uow, request.app.state.passwords)


@router.get("/users/{user_id}", response_model=UserPublic, tags=["people"],
            responses=problem_responses(404))
async def get_user(user_id: IdPath, uow: ReadUowDep, actor: ActorDep) -> dict[str, Any]:
    return await svc.get_user(user_id, uow, actor=actor)


@router.patch("/users/{user_id}", response_model=UserPublic, tags=["people"],
              responses=problem_responses(404, 409),
              summary="Change details, roles or warehouses (lists replace)")
async def update_user(user_id: IdPath, body: UserUpdate, uow: UowDep,
                      actor: ActorDep) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True, exclude={"expected_version"})
    if "roles" in changes and changes["roles"] is not None:
        changes["roles"] = [Role(r).value for r in changes["roles"]]
    return await svc.update_user(svc.UpdateUser(user_id, changes, actor, body.expected_version),
                                 uow)


@router.post("/users/{user_id}/deactivate", response_model=UserPublic, tags=["people"],
             responses=problem_responses(404, 409),
             summary="Deactivate: their sessions and personal tokens stop working")
async def deactivate_user(user_id: IdPath, uow: UowDep, actor: ActorDep) -> dict[str, Any]:
    return await svc.set_active(svc.SetActive(user_id, False, actor), uow)


@router.post("/users/{user_id}/activate", response_model=UserPublic, tags=["people"],
             responses=problem_responses(404, 409))
async def activate_user(user_id: IdPath, uow: UowDep, actor: ActorDep) -> dict[str, Any]:
    return await svc.set_active(svc.SetActive(user_id, True, actor), uow)


@router.post("/users/{user_id}/password", status_code=204, tags=["people"],
             responses=problem_responses(404),
             summary="Set a new password (lifts a lock, ends their sessions)")
async def reset_password(user_id: IdPath, body: PasswordReset, request: Request, uow: UowDep,
                         actor: ActorDep) -> None:
    await svc.reset_password(svc.ResetPassword(user_id, body.password, actor), uow,
                             request.app.state.passwords)


@router.get("/tokens", response_model=list[TokenPublic], tags=["people"])
async def list_tokens(uow: ReadUowDep, actor: ActorDep,
                      user_id: IdQuery = None) -> list[dict[str, Any]]:
    return await token_svc.list_tokens(uow, actor=actor, user_id=user_id)


@router.post("/tokens", status_code=201, response_model=TokenIssued, tags=["people"],
             responses=problem_responses(404), summary="Issue a token (shown once)")
async def create_token(body: TokenCreate, uow: UowDep, actor: ActorDep) -> dict[str, Any]:
    expires_at = body.expires_at
    if expires_at is None and body.expires_in_days is not None:
        expires_at = uow.now() + timedelta(days=body.expires_in_days)
    issued = await token_svc.issue_token(body.name, uow, expires_at,
                                         roles=[r.value for r in body.roles], actor=actor,
                                         user_id=body.user_id)
    return {"id": issued.id, "name": issued.name, "prefix": issued.token[:10],
            "roles": list(issued.roles), "user_id": issued.user_id, "created_by": actor.label,
            "created_at": uow.now(), "expires_at": issued.expires_at, "revoked_at": None,
            "token": issued.token}


@router.post("/tokens/{token_id}/revoke", status_code=204, tags=["people"],
             responses=problem_responses(404), summary="Revoke a token")
async def revoke_token(token_id: IdPath, request: Request, uow: UowDep, actor: ActorDep) -> None:
    await token_svc.revoke_token(token_id, uow, actor=actor)
    request.app.state.token_cache.forget(token_id)

