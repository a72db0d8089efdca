"""Back-office use cases: today's counts, overdue orders, the review queue and its
assignments, saved views, bulk lifecycle actions, catalogue lists and the event feed that
live pages follow.

Status changes go through :func:`dingdan.services.orders.change_status`, one order per unit of
work, so a bulk action is exactly N single actions with N results.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dingdan.domain import lifecycle
from dingdan.domain.errors import DomainError, FieldError, NotFound, ValidationFailed
from dingdan.domain.events import Actor, EventType
from dingdan.domain.lifecycle import Action, Status
from dingdan.domain.orders import normalize_phone
from dingdan.domain.permissions import ACTION_PERMISSION, Permission, can, may_touch_warehouse
from dingdan.domain.privacy import mask_fields
from dingdan.services._access import require
from dingdan.services.orders import ChangeStatus, change_status
from dingdan.store.backoffice import BackofficeRepo
from dingdan.store.uow import UnitOfWork

S = Status
# Paid or cash-on-delivery orders the warehouse still has to get out of the door.
TO_SHIP: tuple[Status, ...] = (S.APPROVED, S.ALLOCATED, S.PICKING, S.PACKED)
# An order is overdue when its promised ship-by time has passed and it has not shipped.
NOT_SHIPPED: tuple[Status, ...] = tuple(s for s in Status if s in lifecycle.RESERVING)
# Paid orders not yet reviewed wait for a person too (when no rule set runs, or it failed).
REVIEW_STATUSES: tuple[Status, ...] = (S.PENDING_REVIEW, S.ON_HOLD, S.PAID)
# Events whose reason says why an order is in the queue (later rules add their own).
QUEUE_REASON_EVENTS: tuple[str, ...] = (EventType.SUBMITTED_FOR_REVIEW.value,
                                        EventType.HELD.value, EventType.RELEASED.value)
BULK_ACTIONS: tuple[Action, ...] = (Action.APPROVE, Action.HOLD, Action.CANCEL)
MAX_BULK = 200
MAX_VIEW_NAME = 80


ORDER_NUMBER = re.compile(r"^DD\d{6}[0-9A-Z]{7}$")


async def classify_search(text: str, uow: UnitOfWork) -> dict[str, str]:
    """What a search box's text is — an order number, a phone, a SKU, a phone's last digits or
    a name — as the one list filter that finds it with an index (free text over all of them
    at once would scan every order)."""
    async with uow:
        return await _classify(text, uow)


async def _classify(text: str, uow: UnitOfWork) -> dict[str, str]:
    t = text.strip()
    if not t:
        return {}
    if ORDER_NUMBER.match(t.upper()):
        return {"number": t.upper()}
    if sum(ch.isdigit() for ch in t) >= 7:
        phone = normalize_phone(t)
        if phone:
            return {"phone": phone}
    if await uow.catalogue.items({t}):
        return {"sku": t}
    if t.isdigit():
        return {"q": t}  # the last digits of a phone ("尾号"): matched by suffix
    return {"name": t}


@dataclass(frozen=True)
class ListSetting:
    """What the order list needs besides its rows, read in one transaction."""

    warehouses: list[dict[str, Any]]
    search: dict[str, str]
    views: list[dict[str, Any]]
    last_event_id: int


async def list_setting(text: str, actor: Actor, uow: UnitOfWork) -> ListSetting:
    require(actor, Permission.ORDER_READ)
    async with uow:
        repo = BackofficeRepo(uow.conn)
        return ListSetting(await uow.catalogue.list_warehouses(), await _classify(text, uow),
                           await repo.views(actor_key(actor)), await repo.last_event_id())


def actor_key(actor: Actor) -> str:
    """The stable key of a person or token, for what the back office keeps per person."""
    return f"{actor.kind.value}:{actor.id}"


def day_start(now: datetime, tz: ZoneInfo) -> datetime:
    """Midnight of ``now``'s day in the merchant's time zone (what "today" means)."""
    return datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz)


@dataclass(frozen=True)
class Dashboard:
    new_today: int
    awaiting_payment: int
    in_review: int
    on_hold: int
    to_ship: int
    overdue: int
    since: datetime


async def dashboard(uow: UnitOfWork, actor: Actor, tz: ZoneInfo) -> Dashboard:
    require(actor, Permission.ORDER_READ)
    async with uow:
        now = uow.now()
        since = day_start(now, tz)
        repo = BackofficeRepo(uow.conn)
        by_status = await repo.count_by_status(
            [S.PENDING_PAYMENT, S.PENDING_REVIEW, S.ON_HOLD, *TO_SHIP])
        return Dashboard(
            new_today=await repo.count_placed_since(since),
            awaiting_payment=by_status.get(S.PENDING_PAYMENT, 0),
            in_review=by_status.get(S.PENDING_REVIEW, 0),
            on_hold=by_status.get(S.ON_HOLD, 0),
            to_ship=sum(by_status.get(s, 0) for s in TO_SHIP),
            overdue=await repo.count_overdue(now, NOT_SHIPPED), since=since)


def _visible(actor: Actor, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows this person may see, personal data masked unless they hold ``pii.read``."""
    mask = not can(actor, Permission.PII_READ)
    return [mask_fields(r) if mask else r for r in rows
            if may_touch_warehouse(actor, r["warehouse_id"])]


async def overdue_orders(uow: UnitOfWork, actor: Actor, limit: int = 20) -> list[dict[str, Any]]:
    require(actor, Permission.ORDER_READ)
    async with uow:
        return _visible(actor, await BackofficeRepo(uow.conn).overdue(uow.now(), NOT_SHIPPED,
                                                                      limit))


# -- the review queue --------------------------------------------------------------------

async def review_queue(uow: UnitOfWork, actor: Actor, status: Status = S.PENDING_REVIEW,
                       mine: bool = False, limit: int = 50) -> list[dict[str, Any]]:
    """The oldest ``limit`` orders waiting (a reviewer works the queue from the top)."""
    require(actor, Permission.ORDER_READ)
    if status not in REVIEW_STATUSES:
        raise ValidationFailed(details=[FieldError(
            "status", "out_of_range", "the queue shows pending_review, on_hold or paid")])
    async with uow:
        return _visible(actor, await BackofficeRepo(uow.conn).review_queue(
            [status], QUEUE_REASON_EVENTS, actor_key(actor) if mine else None, limit))


async def assign_review(number: str, actor: Actor, uow: UnitOfWork, take: bool = True) -> None:
    """Take an order in the queue ("assign to me"), or give it back (``take=False``)."""
    require(actor, Permission.ORDER_REVIEW, "order", number)
    async with uow:
        repo = BackofficeRepo(uow.conn)
        order_id = await repo.order_id(number)
        if order_id is None:
            raise NotFound({"kind": "order", "key": number})
        before = await repo.assignment(order_id)
        if take:
            await repo.assign(order_id, actor_key(actor), actor.name, uow.now())
        else:
            await repo.unassign(order_id)
        await uow.audit.record(
            actor, "order.review_assign" if take else "order.review_unassign", "order", number,
            {"assignee": before["assignee"]} if before else None,
            {"assignee": actor_key(actor)} if take else None)
        await uow.commit()


# -- bulk actions ------------------------------------------------------------------------

@dataclass(frozen=True)
class BulkResult:
    number: str
    ok: bool
    code: str | None = None  # the error's stable code when not ok
    params: dict[str, Any] | None = None


async def bulk_change_status(numbers: Sequence[str], action: Action, actor: Actor,
                             reason: str | None,
                             uows: Callable[[], UnitOfWork]) -> list[BulkResult]:
    """Apply one action to many orders, each in its own unit of work; one result per order.

    A refusal of one order (wrong status, someone else changed it) does not stop the others.
    """
    if action not in BULK_ACTIONS:
        raise ValidationFailed(details=[FieldError("action", "out_of_range",
                                                   "bulk actions are approve, hold and cancel")])
    require(actor, ACTION_PERMISSION[action])
    unique = list(dict.fromkeys(n.strip() for n in numbers if n.strip()))
    if not unique:
        raise ValidationFailed(details=[FieldError("numbers", "required", "choose orders")])
    if len(unique) > MAX_BULK:
        raise ValidationFailed(details=[FieldError("numbers", "too_many",
                                                   f"at most {MAX_BULK} orders at once")])
    results: list[BulkResult] = []
    for number in unique:
        try:
            await change_status(ChangeStatus(number, action, actor, reason), uows())
        except DomainError as exc:
            results.append(BulkResult(number, False, exc.code, exc.params))
        else:
            results.append(BulkResult(number, True))
    return results


# -- saved views ---------------------------------------------------------------------------

async def saved_views(uow: UnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    async with uow:
        return await BackofficeRepo(uow.conn).views(actor_key(actor))


async def save_view(name: str, query: str, actor: Actor, uow: UnitOfWork) -> int:
    """Keep the list's filters under a name, for this person only (same name: replaced)."""
    require(actor, Permission.ORDER_READ)
    name = name.strip()
    if not name:
        raise ValidationFailed(details=[FieldError("name", "required", "name the view")])
    if len(name) > MAX_VIEW_NAME:
        raise ValidationFailed(details=[FieldError("name", "too_large", "name is too long")])
    async with uow:
        view_id = await BackofficeRepo(uow.conn).save_view(actor_key(actor), name,
                                                           query[:2000], uow.now())
        await uow.commit()
    return view_id


async def delete_view(view_id: int, actor: Actor, uow: UnitOfWork) -> None:
    async with uow:
        if not await BackofficeRepo(uow.conn).delete_view(actor_key(actor), view_id):
            raise NotFound({"kind": "view", "key": view_id})
        await uow.commit()


# -- the event feed --------------------------------------------------------------------------

async def last_event_id(uow: UnitOfWork) -> int:
    async with uow:
        return await BackofficeRepo(uow.conn).last_event_id()


async def events_after(last_id: int, uow: UnitOfWork, limit: int = 500) -> list[dict[str, Any]]:
    """Timeline events newer than ``last_id`` (id, number, type, to_status), oldest first."""
    async with uow:
        return await BackofficeRepo(uow.conn).events_after(last_id, limit)


def overdue_since(order: dict[str, Any], now: datetime) -> timedelta | None:
    """How long past its ship-by time an unshipped order is, or None if it is not late."""
    ship_by = order.get("ship_by")
    if ship_by is None or Status(order["status"]) not in NOT_SHIPPED or ship_by >= now:
        return None
    late: timedelta = now - ship_by
    return late
