"""Readiness: is this process able to serve? The database answers and its schema is at the
migrations' head. (Liveness is ``/healthz``: the process runs, nothing more.)"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import cache

import structlog

from dingdan.store.migrate import current_head
from dingdan.store.uow import UnitOfWorkFactory

log = structlog.get_logger("dingdan.health")


@dataclass(frozen=True)
class Readiness:
    ready: bool
    database: str  # "ok", "unreachable" or "migrations_pending"
    revision: str | None
    head: str | None


@cache
def _head() -> str | None:
    return current_head()


async def readiness(uows: UnitOfWorkFactory, timeout_seconds: float = 2.0) -> Readiness:
    head = _head()
    try:
        async with asyncio.timeout(timeout_seconds):
            async with uows(read_only=True) as uow:
                revision = await uow.schema_revision()
    except Exception as exc:  # any failure to reach the database means "not ready"
        log.warning("database unreachable", error=type(exc).__name__)
        return Readiness(False, "unreachable", None, head)
    if revision != head:
        return Readiness(False, "migrations_pending", revision, head)
    return Readiness(True, "ok", revision, head)
