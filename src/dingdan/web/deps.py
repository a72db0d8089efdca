"""Request dependencies: the unit of work, the acting token, the user's language."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dingdan.domain.errors import Unauthenticated
from dingdan.domain.events import Actor
from dingdan.services.tokens import authenticate
from dingdan.store.uow import UnitOfWork, UnitOfWorkFactory
from dingdan.web.errors import language

_bearer = HTTPBearer(auto_error=False, description="An API token: `dingdan token create`")


def uow_factory(request: Request) -> UnitOfWorkFactory:
    factory: UnitOfWorkFactory = request.app.state.uow
    return factory


def get_uow(request: Request) -> UnitOfWork:
    return uow_factory(request)()


def get_read_uow(request: Request) -> UnitOfWork:
    return uow_factory(request)(read_only=True)


class TokenCache:
    """Remembers verified tokens for a few seconds, so a burst of requests does not look each
    one up again. A revoked token stops working within ``ttl`` seconds."""

    def __init__(self, ttl: float, max_size: int = 10_000) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._seen: dict[str, tuple[Actor, float]] = {}

    def get(self, token: str) -> Actor | None:
        hit = self._seen.get(token)
        if hit is None or hit[1] < time.monotonic():
            return None
        return hit[0]

    def put(self, token: str, actor: Actor) -> None:
        if len(self._seen) >= self.max_size:
            self._seen.clear()
        self._seen[token] = (actor, time.monotonic() + self.ttl)


async def current_actor(request: Request,
                        creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                        ) -> Actor:
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise Unauthenticated()
    cache: TokenCache = request.app.state.token_cache
    actor = cache.get(creds.credentials)
    if actor is None:
        actor = await authenticate(creds.credentials, get_read_uow(request))
        cache.put(creds.credentials, actor)
    return actor


UowDep = Annotated[UnitOfWork, Depends(get_uow)]
ReadUowDep = Annotated[UnitOfWork, Depends(get_read_uow)]
ActorDep = Annotated[Actor, Depends(current_actor)]
LangDep = Annotated[str, Depends(language)]
