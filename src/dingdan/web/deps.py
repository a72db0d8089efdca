"""Request dependencies: the unit of work, the acting token or person, the user's language.

Who is acting is decided in ``web/auth.py`` (a bearer token or the session cookie).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated

from cachetools import TTLCache
from fastapi import Depends, Request

from dingdan.adapters.netguard import OutboundGuard
from dingdan.adapters.notify.registry import outbound_guard as guard_of
from dingdan.domain.events import Actor
from dingdan.domain.sla import WorkingCalendar
from dingdan.services.sla import base_calendar
from dingdan.services.templates import Renderer
from dingdan.services.throttle import Throttle
from dingdan.settings import Settings
from dingdan.store.uow import UnitOfWork, UnitOfWorkFactory
from dingdan.web.auth import PageActorDep, current_actor
from dingdan.web.errors import language


def uow_factory(request: Request) -> UnitOfWorkFactory:
    factory: UnitOfWorkFactory = request.app.state.uow
    return factory


def get_uow(request: Request) -> UnitOfWork:
    return uow_factory(request)()


def get_read_uow(request: Request) -> UnitOfWork:
    return uow_factory(request)(read_only=True)


class TokenCache:
    """Remembers verified tokens for a few seconds, so a burst of requests does not look each
    one up again. A revoked token stops working within ``ttl`` seconds.

    A ``cachetools.TTLCache``: entries expire on their own, and a full cache drops its oldest
    entry rather than forgetting everyone at once.
    """

    def __init__(self, ttl: float, max_size: int = 10_000,
                 timer: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._seen: TTLCache[str, Actor] = TTLCache(maxsize=max_size, ttl=ttl, timer=timer)

    def get(self, token: str) -> Actor | None:
        return self._seen.get(token)

    def forget(self, token_id: int) -> None:
        """Drop a revoked token at once (in this process; others within ``ttl``)."""
        for token, actor in list(self._seen.items()):
            if actor.kind.value == "token" and actor.id == str(token_id):
                self._seen.pop(token, None)

    def put(self, token: str, actor: Actor) -> None:
        self._seen[token] = actor


# FastAPI runs a plain ``def`` dependency in a worker thread; these are instant, so they are
# wrapped as coroutines to spare every request the thread hand-offs.
async def _uow(request: Request) -> UnitOfWork:
    return get_uow(request)


async def _read_uow(request: Request) -> UnitOfWork:
    return get_read_uow(request)


async def _language(request: Request) -> str:
    return language(request)


UowDep = Annotated[UnitOfWork, Depends(_uow)]
ReadUowDep = Annotated[UnitOfWork, Depends(_read_uow)]
ActorDep = Annotated[Actor, Depends(current_actor)]  # a bearer token or the session
__all__ = ["ActorDep", "LangDep", "PageActorDep", "ReadUowDep", "TokenCache", "UowDep",
           "current_actor", "get_read_uow", "get_uow", "uow_factory"]
LangDep = Annotated[str, Depends(_language)]


def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def template_renderer(request: Request) -> Renderer:
    """The app's one notification-template renderer, shared by the API and the pages."""
    renderer: Renderer | None = getattr(request.app.state, "renderer", None)
    if renderer is None:
        renderer = request.app.state.renderer = Renderer()
    return renderer


def working_calendar(request: Request) -> WorkingCalendar:
    s = app_settings(request)
    return base_calendar(s.timezone, s.work_day_start, s.work_day_end, s.work_weekdays)


def outbound_guard(request: Request) -> OutboundGuard:
    """The app's one outbound-URL guard (``DINGDAN_OUTBOUND_ALLOW``); tests may set
    ``app.state.outbound_guard`` to one with a resolver of theirs."""
    guard: OutboundGuard | None = getattr(request.app.state, "outbound_guard", None)
    if guard is None:
        guard = request.app.state.outbound_guard = guard_of(app_settings(request))
    return guard


def push_throttle(request: Request) -> Throttle:
    """Counts anonymous web-push subscription attempts, per address and per order."""
    throttle: Throttle | None = getattr(request.app.state, "push_throttle", None)
    if throttle is None:
        s = app_settings(request)
        throttle = request.app.state.push_throttle = Throttle(
            {"ip": s.push_subscribe_limit_per_ip, "order": s.push_subscribe_limit_per_order})
    return throttle


async def _outbound_guard(request: Request) -> OutboundGuard:
    return outbound_guard(request)


async def _push_throttle(request: Request) -> Throttle:
    return push_throttle(request)


GuardDep = Annotated[OutboundGuard, Depends(_outbound_guard)]
PushThrottleDep = Annotated[Throttle, Depends(_push_throttle)]
