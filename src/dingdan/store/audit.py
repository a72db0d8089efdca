"""The audit log: append and read. Append-only by construction: this repository has no
method that updates or deletes a row, and the database refuses it too (migration 0003)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from dingdan.domain.events import Actor, ActorKind
from dingdan.store.tables import api_tokens
from dingdan.store.tables_people import audit_log


@dataclass(frozen=True, slots=True)
class AuditQuery:
    user_id: int | None = None  # the person, whether signed in or through their token
    actor: str | None = None  # an actor label, e.g. token:shop
    object_type: str | None = None
    object_id: str | None = None
    action: str | None = None  # exact, or a prefix ending in "." (e.g. "order.")
    at_from: datetime | None = None
    at_to: datetime | None = None
    before_id: int | None = None  # cursor: rows older than this id
    limit: int = 50


def _plain(value: Any) -> Any:
    """JSON-safe copy of a before/after snapshot (datetimes to ISO text, sets to lists)."""
    if value is None:
        return None
    # Row keys are sqlalchemy quoted_name (a str subclass), which orjson refuses by default.
    return orjson.loads(orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS))


def _default(value: Any) -> Any:
    if isinstance(value, set | frozenset | tuple):
        return sorted(value, key=str)
    return str(value)


# inline(): no RETURNING of the new id, which nobody reads.
_INSERT = insert(audit_log).inline()
_INSERT_FOR_TOKEN = insert(audit_log).inline().values(user_id=select(api_tokens.c.user_id).where(
    api_tokens.c.id == bindparam("p_token_id")).scalar_subquery())


class AuditRepo:
    def __init__(self, conn: AsyncConnection, clock: Callable[[], datetime]) -> None:
        self.conn = conn
        self._clock = clock

    async def record(self, actor: Actor, action: str, object_type: str, object_id: str | int,
                     before: dict[str, Any] | None = None,
                     after: dict[str, Any] | None = None) -> None:
        """Append one audit row in the caller's transaction."""
        # Values as execution parameters of a statement built once: building bind parameters
        # for every value costs more than the insert itself (this runs with every change).
        values: dict[str, Any] = dict(
            at=self._clock(), actor=actor.label[:120], actor_kind=actor.kind.value,
            actor_id=actor.id, roles=sorted(actor.roles), source=actor.source,
            ip=actor.ip, client=(actor.client or None) and actor.client[:400], action=action,
            object_type=object_type, object_id=str(object_id), before=_plain(before),
            after=_plain(after))
        if actor.kind is ActorKind.TOKEN and actor.id.isdigit():
            # The token's owner, looked up in the same statement.
            await self.conn.execute(_INSERT_FOR_TOKEN, {**values, "p_token_id": int(actor.id)})
        else:
            values["user_id"] = int(actor.id) if actor.kind is ActorKind.USER else None
            await self.conn.execute(_INSERT, values)

    async def page(self, q: AuditQuery) -> tuple[list[dict[str, Any]], int | None]:
        """Newest first; the id to pass as ``before_id`` for the next page (None: last)."""
        c = audit_log.c
        stmt = select(audit_log)
        if q.user_id is not None:
            stmt = stmt.where(c.user_id == q.user_id)
        if q.actor:
            stmt = stmt.where(c.actor == q.actor)
        if q.object_type:
            stmt = stmt.where(c.object_type == q.object_type)
        if q.object_id:
            stmt = stmt.where(c.object_id == q.object_id)
        if q.action:
            stmt = stmt.where(c.action.startswith(q.action, autoescape=True)
                              if q.action.endswith(".") else c.action == q.action)
        if q.at_from:
            stmt = stmt.where(c.at >= q.at_from)
        if q.at_to:
            stmt = stmt.where(c.at < q.at_to)
        if q.before_id is not None:
            stmt = stmt.where(c.id < q.before_id)
        rows = [dict(r._mapping) for r in
                await self.conn.execute(stmt.order_by(c.id.desc()).limit(q.limit + 1))]
        more = len(rows) > q.limit
        rows = rows[: q.limit]
        return rows, (rows[-1]["id"] if more else None)
