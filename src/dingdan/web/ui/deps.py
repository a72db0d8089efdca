"""Request dependencies of the pages: who is acting, and the units of work.

``PageActor`` is the signed-in person (session cookie) or a bearer token; a page asked for
without either is sent to the sign-in page (``web/auth.py`` owns sign-in and sessions).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from dingdan.store.uow import UnitOfWork, UnitOfWorkFactory
from dingdan.web.deps import PageActorDep

PageActor = PageActorDep


def uows(request: Request) -> UnitOfWorkFactory:
    factory: UnitOfWorkFactory = request.app.state.uow
    return factory


def write_uows(request: Request) -> Callable[[], UnitOfWork]:
    factory = uows(request)
    return lambda: factory()


def read_uow(request: Request) -> UnitOfWork:
    return uows(request)(read_only=True)


def write_uow(request: Request) -> UnitOfWork:
    return uows(request)()
