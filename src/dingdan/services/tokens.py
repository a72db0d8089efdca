"""API tokens: issued once in clear, stored as a digest, revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from dingdan.domain.errors import NotFound, Unauthenticated
from dingdan.domain.events import Actor, ActorKind
from dingdan.store.uow import UnitOfWork

PREFIX = "dd_"


@dataclass(frozen=True)
class IssuedToken:
    id: int
    name: str
    token: str  # shown once; only its digest is stored


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(name: str, uow: UnitOfWork,
                      expires_at: datetime | None = None) -> IssuedToken:
    token = PREFIX + secrets.token_urlsafe(32)
    async with uow:
        token_id = await uow.tokens.add(name, token[:10], digest(token), uow.now(), expires_at)
        await uow.commit()
    return IssuedToken(token_id, name, token)


async def authenticate(token: str, uow: UnitOfWork) -> Actor:
    """The actor behind a bearer token; raises Unauthenticated if unknown, expired or revoked."""
    async with uow:
        row = await uow.tokens.by_hash(digest(token))
        now = uow.now()
    if row is None or row["revoked_at"] is not None or (
            row["expires_at"] is not None and row["expires_at"] <= now):
        raise Unauthenticated()
    return Actor(ActorKind.TOKEN, str(row["id"]), row["name"])


async def revoke_token(token_id: int, uow: UnitOfWork) -> None:
    async with uow:
        if not await uow.tokens.revoke(token_id, uow.now()):
            raise NotFound({"kind": "token", "key": token_id})
        await uow.commit()
