"""Reading the audit log (``audit.read``). Writing it is the unit of work's
``uow.audit.record``, called by each use case inside its own transaction; there is no use
case that changes or removes an audit row."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dingdan.domain.errors import FieldError, ValidationFailed
from dingdan.domain.events import Actor
from dingdan.domain.permissions import Permission
from dingdan.services._access import require

# The query a reader builds (web/ imports it from here, not from the store).
from dingdan.store.audit import AuditQuery as AuditQuery
from dingdan.store.uow import UnitOfWork

MAX_PAGE = 500


def encode_cursor(before_id: int | None) -> str | None:
    return None if before_id is None else f"a{before_id}"


def decode_cursor(cursor: str) -> int:
    if not (cursor.startswith("a") and cursor[1:].isdigit()):
        raise ValidationFailed(details=[FieldError(
            "cursor", "invalid_cursor", "the cursor is not one this API gave out")])
    return int(cursor[1:])


async def list_audit(q: AuditQuery, uow: UnitOfWork, *, actor: Actor,
                     cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """One page of audit rows, newest first, and the cursor of the next page."""
    require(actor, Permission.AUDIT_READ, "audit", None)
    if not 1 <= q.limit <= MAX_PAGE:
        raise ValidationFailed(details=[FieldError(
            "limit", "out_of_range", f"limit is between 1 and {MAX_PAGE}")])
    if cursor:
        q = replace(q, before_id=decode_cursor(cursor))
    async with uow:
        rows, next_id = await uow.audit.page(q)
    return rows, encode_cursor(next_id)
