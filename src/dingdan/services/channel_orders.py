"""Receiving an order from a channel: placed once, and the channel's later word applied or
refused out loud — never dropped.

A channel (a sheet import, a shop webhook, an EDI partner) sends its order with its own id.
The first time, :func:`receive_channel_order` places it with ``services.orders.place_order``
(so every rule that checks new orders checks these too). Later messages about the same
(channel, external id) are compared with the order: changed contents are applied in one
transaction with their timeline event (``order.channel_updated``, with the differences),
their audit row and, for lines, the stock reserved again; a payment or a cancellation goes
through the order's transition table. What the order's stage does not allow is refused with
``CHANNEL_ORDER_LOCKED`` and changes nothing. A message older than the one applied (by the
channel's own version) is ignored, so out-of-order deliveries never undo a newer change.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from dingdan.domain import channel_orders as rules
from dingdan.domain import lifecycle
from dingdan.domain.channel_orders import Arrival
from dingdan.domain.errors import (
    ChannelOrderLocked,
    FieldError,
    NotFound,
    ValidationFailed,
    VersionConflict,
)
from dingdan.domain.events import EVENT_FOR_ACTION, Actor, EventType
from dingdan.domain.inventory import insufficient
from dingdan.domain.lifecycle import Action, PaymentStatus, Status
from dingdan.domain.orders import OrderDraft
from dingdan.domain.orders import validate_draft as check_draft
from dingdan.domain.permissions import Permission
from dingdan.services._access import require, require_warehouse
from dingdan.services.orders import PlaceOrder, _apply_stock, _record, _reserve_all, place_order
from dingdan.store.orders import OrderState
from dingdan.store.uow import UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True)
class ChannelOrder:
    """A channel's current word on one of its orders."""

    draft: OrderDraft  # ``channel`` and ``external_id`` say which order
    actor: Actor
    version: datetime | None = None  # the channel's own version (its updated_at), if any
    paid: bool = False
    payment_reference: str | None = None
    cancelled: bool = False
    cancel_reason: str | None = None


@dataclass(frozen=True)
class Received:
    arrival: Arrival
    number: str | None
    changed: tuple[str, ...] = ()  # the fields a change touched (``lines`` for the lines)


async def receive_channel_order(cmd: ChannelOrder, uows: UnitOfWorkFactory) -> Received:
    draft = cmd.draft
    if not draft.external_id:
        raise ValidationFailed(details=[FieldError("external_id", "required",
                                                   "a channel's order needs its id")])
    require(cmd.actor, Permission.ORDER_CREATE, "order", draft.external_id)
    async with uows(read_only=True) as uow:
        found = await uow.orders.find_existing(None, draft.channel, draft.external_id)
    if found is None:
        if cmd.cancelled:
            return Received(Arrival.UNKNOWN_CANCELLED, None)
        placed = await place_order(PlaceOrder(draft, cmd.actor), uows())
        if placed.created:
            if not cmd.paid:  # placed from this very message: only its version to remember
                if cmd.version is not None:
                    async with uows() as uow:
                        await uow.channels.record_version(
                            draft.channel, draft.external_id, placed.number, cmd.version,
                            uow.now(), known=False)
                        await uow.commit()
                return Received(Arrival.CREATED, placed.number)
            synced = await _sync(cmd, placed.number, uows())
            return Received(Arrival.CREATED, placed.number, synced.changed)
        number = placed.number  # another message of the same order was quicker
    else:
        number = found[0]
    return await _sync(cmd, number, uows())


async def _sync(cmd: ChannelOrder, number: str, uow: UnitOfWork) -> Received:
    draft = cmd.draft
    channel, external_id = draft.channel, draft.external_id or ""
    async with uow:
        state = await uow.orders.get_state(number)
        order = await uow.orders.get(number)
        if state is None or order is None:
            raise NotFound({"kind": "order", "key": number})
        known, applied = await uow.channels.applied_version(channel, external_id)
        if rules.is_stale(cmd.version, applied):
            return Received(Arrival.STALE, number)
        if rules.is_repeat(cmd.version, applied):
            return Received(Arrival.UNCHANGED, number)
        status = Status(state.status)
        changes: dict[str, dict[str, Any]] = {}
        actions: list[Action] = []
        lines: list[Any] = []
        if cmd.cancelled:  # the rest of the message no longer matters (it may be empty)
            if status is not Status.CANCELLED:
                _refuse_if(number, rules.cancel_refusal(status))
                actions.append(Action.CANCEL)
        else:
            checked, lines, amounts = check_draft(
                draft, await uow.catalogue.items({ln.sku for ln in draft.lines}))
            changes = rules.differences(order, order["lines"], checked, lines, amounts)
            if changes:
                _refuse_if(number, rules.refusal(status, changes))
            if cmd.paid and state.payment_status == PaymentStatus.UNPAID.value \
                    and lifecycle.find(status, Action.PAY) is not None:
                actions.append(Action.PAY)
        now = uow.now()
        if not changes and not actions:
            if cmd.version is not None and cmd.version != applied:
                await uow.channels.record_version(channel, external_id, number, cmd.version,
                                                  now, known)
                await uow.commit()
            return Received(Arrival.UNCHANGED, number)
        require(cmd.actor, Permission.ORDER_CHANNEL_SYNC, "order", number)
        require_warehouse(cmd.actor, state.warehouse_id, Permission.ORDER_CHANNEL_SYNC,
                          "order", number)
        before = _facts(state)
        if changes:
            state = await _change_contents(uow, state, order, changes, lines, cmd.actor)
        for action in actions:
            state = await _take(uow, state, action, cmd)
        await uow.channels.record_version(channel, external_id, number, cmd.version, now,
                                          known)
        await uow.audit.record(cmd.actor, "order.channel_sync", "order", number, before, {
            **_facts(state), "changes": changes, "actions": [a.value for a in actions]})
        await uow.commit()
        return Received(Arrival.UPDATED, number,
                        tuple(changes) + tuple(a.value for a in actions))


def _refuse_if(number: str, reason: str | None) -> None:
    if reason is not None:
        raise ChannelOrderLocked({"number": number, "reason": reason})


def _facts(state: OrderState) -> dict[str, Any]:
    return {"status": state.status, "payment_status": state.payment_status,
            "total": state.total, "version": state.version}


async def _change_contents(uow: UnitOfWork, state: OrderState, order: dict[str, Any],
                           changes: dict[str, dict[str, Any]], lines: list[Any],
                           actor: Actor) -> OrderState:
    now = uow.now()
    warehouse_id = state.warehouse_id
    if "lines" in changes:
        assert warehouse_id is not None  # every placed order has its warehouse
        for old in sorted(order["lines"], key=lambda ln: ln["sku"]):
            await uow.stock.release(old["sku"], old["warehouse_id"], old["quantity"], now)
        needs = {ln.sku: ln.quantity for ln in lines}
        if not await _reserve_all(uow, needs, warehouse_id):
            # the order keeps its warehouse: only that one's stock counts
            raise insufficient(needs, [w for w in await uow.stock.active_warehouses()
                                       if w.id == warehouse_id],
                               await uow.stock.available(needs))
        await uow.channels.replace_lines(state.id, [
            dict(line_no=i, sku=ln.sku, name=ln.name, model=ln.model, quantity=ln.quantity,
                 unit_price=ln.unit_price, warehouse_id=warehouse_id)
            for i, ln in enumerate(lines, start=1)])
    values = {k: v["after"] for k, v in changes.items() if k != "lines"}
    if not await uow.orders.update(state.id, state.version, {**values, "updated_at": now}):
        raise VersionConflict({"number": state.number})
    state = replace(state, version=state.version + 1,
                    total=values.get("total", state.total),
                    currency=values.get("currency", state.currency),
                    customer_name=values.get("customer_name", state.customer_name),
                    customer_phone=values.get("customer_phone", state.customer_phone),
                    customer_email=values.get("customer_email", state.customer_email))
    await _record(uow, state, EventType.CHANNEL_UPDATED, None, None, actor, None,
                  {"changes": changes})
    return state


async def _take(uow: UnitOfWork, state: OrderState, action: Action,
                cmd: ChannelOrder) -> OrderState:
    """One lifecycle action the channel's message implies (pay, cancel), through the table."""
    facts = lifecycle.OrderFacts(Status(state.status), PaymentStatus(state.payment_status),
                                 state.payment_method,
                                 Status(state.held_from) if state.held_from else None)
    outcome = lifecycle.apply(facts, action)
    now = uow.now()
    given = {"payment_reference": cmd.payment_reference
             or f"{cmd.draft.channel}:{cmd.draft.external_id}",
             "reason": cmd.cancel_reason or "cancelled by the channel"}
    values: dict[str, Any] = {"status": outcome.status.value,
                              "payment_status": outcome.payment_status.value,
                              "held_from": outcome.held_from.value if outcome.held_from
                              else None, "updated_at": now}
    data: dict[str, Any] = {"channel": cmd.draft.channel}
    for required in outcome.transition.requires:
        if required.record:
            values[required.field] = data[required.field] = given[required.field]
    values.update(dict.fromkeys(outcome.transition.stamps, now))
    if not await uow.orders.update(state.id, state.version, values):
        raise VersionConflict({"number": state.number})
    await _apply_stock(uow, state, outcome.transition.stock, cmd.actor)
    new_state = replace(state, status=outcome.status.value,
                        payment_status=outcome.payment_status.value,
                        held_from=values["held_from"], version=state.version + 1)
    reason = given["reason"] if action is Action.CANCEL else None
    await _record(uow, new_state, EVENT_FOR_ACTION[action], Status(state.status),
                  outcome.status, cmd.actor, reason, data)
    return new_state
