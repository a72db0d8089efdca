"""API tokens: issued once in clear, stored as a digest, with roles and an expiry, revocable.

A token belongs to an integration (its roles are its own) or to a person (it acts for them,
within their current roles — narrowed to the token's roles if it has any — and their
warehouses; it stops working when they are deactivated). Issuing, listing and revoking
tokens needs ``people.manage``; every issue and revocation is on the audit record.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dingdan.domain.errors import ErrorCollector, NotFound, Unauthenticated
from dingdan.domain.events import Actor, ActorKind
from dingdan.domain.people import check_roles
from dingdan.domain.permissions import Permission
from dingdan.services._access import require
from dingdan.store.uow import UnitOfWork

PREFIX = "dd_"


@dataclass(frozen=True)
class IssuedToken:
    id: int
    name: str
    token: str  # shown once; only its digest is stored
    roles: tuple[str, ...] = ()
    user_id: int | None = None
    expires_at: datetime | None = None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(name: str, uow: UnitOfWork, expires_at: datetime | None = None, *,
                      roles: Iterable[str], actor: Actor,
                      user_id: int | None = None) -> IssuedToken:
    """Issue a token. An integration token needs at least one role; a personal token with
    no roles acts with all of its owner's."""
    require(actor, Permission.PEOPLE_MANAGE, "token", None)
    wanted = frozenset(roles)
    errors = ErrorCollector()
    if not name.strip():
        errors.add("name", "required", "a token needs a name")
    check_roles(wanted, errors)
    if user_id is None and not wanted:
        errors.add("roles", "required", "an integration token needs at least one role")
    errors.raise_if_any()
    token = PREFIX + secrets.token_urlsafe(32)
    async with uow:
        now = uow.now()
        if expires_at is not None and expires_at <= now:
            errors.add("expires_at", "in_the_past", "a token must expire in the future")
            errors.raise_if_any()
        if user_id is not None and await uow.users.get(user_id) is None:
            raise NotFound({"kind": "user", "key": user_id})
        token_id = await uow.tokens.add(name.strip(), token[:10], digest(token), now,
                                        expires_at, roles=wanted, user_id=user_id,
                                        created_by=actor.label)
        await uow.audit.record(actor, "token.issue", "token", token_id, None, {
            "name": name.strip(), "prefix": token[:10], "roles": sorted(wanted),
            "user_id": user_id, "expires_at": expires_at})
        await uow.commit()
    return IssuedToken(token_id, name.strip(), token, tuple(sorted(wanted)), user_id,
                       expires_at)


async def authenticate(token: str, uow: UnitOfWork) -> Actor:
    """The actor behind a bearer token; raises Unauthenticated if unknown, expired or revoked,
    or if the person it belongs to has been deactivated."""
    async with uow:
        row = await uow.tokens.by_hash(digest(token))
        now = uow.now()
        if row is None or row["revoked_at"] is not None or (
                row["expires_at"] is not None and row["expires_at"] <= now):
            raise Unauthenticated()
        roles = frozenset(row["roles"] or ())
        warehouse_ids: frozenset[int] | None = None
        if row["user_id"] is not None:
            owner = await uow.users.get(row["user_id"])
            if owner is None or not owner["active"]:
                raise Unauthenticated()
            owned = frozenset(owner["roles"])
            roles = roles & owned if roles else owned
            warehouse_ids = frozenset(owner["warehouse_ids"]) or None
    return Actor(ActorKind.TOKEN, str(row["id"]), row["name"], "api", roles, warehouse_ids)


def public_token(row: dict[str, Any]) -> dict[str, Any]:
    """What may be shown of a token: never its digest."""
    return {k: row[k] for k in ("id", "name", "prefix", "roles", "user_id", "created_by",
                                "created_at", "expires_at", "revoked_at")}


async def list_tokens(uow: UnitOfWork, *, actor: Actor,
                      user_id: int | None = None) -> list[dict[str, Any]]:
    require(actor, Permission.PEOPLE_MANAGE, "token", None)
    async with uow:
        return [public_token(r) for r in await uow.tokens.search(user_id)]


async def revoke_token(token_id: int, uow: UnitOfWork, *, actor: Actor) -> None:
    require(actor, Permission.PEOPLE_MANAGE, "token", token_id)
    async with uow:
        before = await uow.tokens.get(token_id)
        if before is None or not await uow.tokens.revoke(token_id, uow.now()):
            raise NotFound({"kind": "token", "key": token_id})
        await uow.audit.record(actor, "token.revoke", "token", token_id,
                               {"revoked_at": None}, {"revoked_at": uow.now()})
        await uow.commit()
