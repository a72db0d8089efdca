"""Order use cases: place, change status, note, change contact or address.

Each runs in one unit of work: the state change, its timeline event and its outbox row
commit together or not at all.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.exc import IntegrityError

from dingdan.domain import lifecycle
from dingdan.domain.errors import (
    ErrorCollector,
    FieldError,
    IdempotencyConflict,
    IllegalTransition,
    NotFound,
    ValidationFailed,
    VersionConflict,
)
from dingdan.domain.events import EVENT_FOR_ACTION, Actor, EventType
from dingdan.domain.inventory import MovementKind, choose_warehouses, insufficient, lock_order
from dingdan.domain.lifecycle import Action, FulfillmentStatus, PaymentStatus, Status, StockEffect
from dingdan.domain.machine import missing
from dingdan.domain.orders import (
    Address,
    Customer,
    OrderDraft,
    normalize_phone,
    order_number,
    validate_address,
)
from dingdan.domain.orders import validate_draft as check_draft
from dingdan.domain.outbox import envelope
from dingdan.domain.permissions import Permission, permission_for
from dingdan.services._access import require, require_warehouse
from dingdan.store.orders import OrderState
from dingdan.store.uow import UnitOfWork


@dataclass(frozen=True)
class PlaceOrder:
    draft: OrderDraft
    actor: Actor
    idempotency_key: str | None = None
    request_hash: str | None = None  # digest of the request body, to spot key reuse
    # Read the new order back (as ``uow.orders.get`` gives it) before committing, for a
    # caller that answers with it: spares it a second transaction.
    read_back: bool = False


@dataclass(frozen=True)
class Placed:
    number: str
    created: bool  # False: an earlier request already made this order
    order: dict[str, Any] | None = None  # the new order, if read back


async def place_order(cmd: PlaceOrder, uow: UnitOfWork) -> Placed:
    """Check the order, reserve every line in one warehouse, store it with its first event."""
    require(cmd.actor, Permission.ORDER_CREATE, "order", cmd.draft.external_id)
    draft = cmd.draft
    async with uow:
        existing = await uow.orders.find_existing(cmd.idempotency_key, draft.channel,
                                                  draft.external_id)
        if existing is not None:
            return _repeat(cmd, *existing)
        now = uow.now()
        catalogue = await uow.catalogue.items({line.sku for line in draft.lines})
        draft, lines, amounts = check_draft(draft, catalogue)
        needs = {line.sku: line.quantity for line in lines}
        candidates = choose_warehouses(needs,
                                       *await uow.stock.active_warehouses_and_available(needs))
        warehouse = None
        for candidate in candidates:
            # Stock may have moved since it was read: the conditional update is the truth.
            if await _reserve_all(uow, needs, candidate.id):
                warehouse = candidate
                break
        if warehouse is None:
            raise insufficient(needs, candidates, await uow.stock.available(needs))
        number = order_number(now, secrets.randbits(35))
        a, c = draft.shipping_address, draft.customer
        values: dict[str, Any] = dict(
            number=number, channel=draft.channel, external_id=draft.external_id,
            idempotency_key=cmd.idempotency_key, request_hash=cmd.request_hash,
            status=Status.PENDING_PAYMENT.value, payment_status=PaymentStatus.UNPAID.value,
            fulfillment_status=FulfillmentStatus.UNFULFILLED.value,
            customer_name=c.name, customer_company=c.company, customer_phone=c.phone,
            customer_email=c.email, ship_recipient=a.recipient, ship_phone=a.phone,
            ship_country=a.country, ship_province=a.province, ship_city=a.city,
            ship_district=a.district, ship_street=a.street, ship_postcode=a.postcode,
            warehouse_id=warehouse.id, currency=draft.currency, subtotal=amounts.subtotal,
            shipping_fee=amounts.shipping_fee, discount=amounts.discount, tax=amounts.tax,
            total=amounts.total, payment_method=draft.payment_method,
            promo_code=draft.promo_code, placed_at=draft.placed_at or now,
            ship_by=draft.ship_by, deliver_by=draft.deliver_by, notes=draft.notes,
            tags=sorted(set(draft.tags)), custom_fields=draft.custom_fields, version=1,
            created_at=now, updated_at=now)
        rows = [dict(line_no=i, sku=ln.sku, name=ln.name, model=ln.model,
                     quantity=ln.quantity, unit_price=ln.unit_price, warehouse_id=warehouse.id)
                for i, ln in enumerate(lines, start=1)]
        try:
            order_id = await uow.orders.insert(values, rows, values["tags"])
        except IntegrityError:
            # A concurrent request with the same key or channel id won the race.
            await uow.conn.rollback()
            existing = await uow.orders.find_existing(cmd.idempotency_key, draft.channel,
                                                      draft.external_id)
            if existing is None:
                raise
            return _repeat(cmd, *existing)
        state = OrderState(order_id, number, values["status"], values["payment_status"],
                           values["fulfillment_status"], None, draft.payment_method,
                           warehouse.id, 1, draft.currency, amounts.total, c.name, c.phone,
                           c.email, draft.channel, draft.external_id, None, None)
        await _record(uow, state, EventType.PLACED, None, Status.PENDING_PAYMENT, cmd.actor,
                      None, {"warehouse": warehouse.code,
                             "lines": [{"sku": r["sku"], "quantity": r["quantity"]}
                                       for r in rows]})
        await uow.audit.record(cmd.actor, "order.place", "order", number, None, {
            "status": values["status"], "channel": draft.channel,
            "external_id": draft.external_id, "warehouse": warehouse.code,
            "currency": draft.currency, "total": amounts.total,
            "lines": [{"sku": r["sku"], "quantity": r["quantity"],
                       "unit_price": r["unit_price"]} for r in rows]})
        from dingdan.services.review import on_intake  # it steps orders too

        await on_intake(uow, state, c, a.phone)
        order = await uow.orders.get(number) if cmd.read_back else None
        await uow.commit()
        return Placed(number, True, order)


def _repeat(cmd: PlaceOrder, number: str, request_hash: str | None) -> Placed:
    if cmd.idempotency_key and request_hash and cmd.request_hash != request_hash:
        raise IdempotencyConflict({"number": number})
    return Placed(number, False)


async def _reserve_all(uow: UnitOfWork, needs: dict[str, int], warehouse_id: int) -> bool:
    now = uow.now()
    done: list[tuple[str, int]] = []
    for sku, qty in lock_order(needs):
        if not await uow.stock.reserve(sku, warehouse_id, qty, now):
            for sku_done, qty_done in done:  # give back what this attempt took
                await uow.stock.release(sku_done, warehouse_id, qty_done, now)
            return False
        done.append((sku, qty))
    return True


@dataclass(frozen=True)
class ChangeStatus:
    number: str
    action: Action
    actor: Actor
    reason: str | None = None
    expected_version: int | None = None
    payment_reference: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


async def change_status(cmd: ChangeStatus, uow: UnitOfWork) -> int:
    """Take one lifecycle action on an order. Returns the order's new version.

    Paying an order (or placing a cash-on-delivery one) runs the review rules in the same
    unit of work (``services.review.review_if_due``): a clean order moves on by itself.
    """
    async with uow:
        state = await _load(uow, cmd.number, cmd.expected_version)
        permission = permission_for(cmd.action, state.status)
        require(cmd.actor, permission, "order", cmd.number)
        require_warehouse(cmd.actor, state.warehouse_id, permission, "order", cmd.number)
        given = _action_input(cmd)
        _check_action_input(cmd, Status(state.status), given)
        new_state = await step(uow, state, cmd.action, cmd.actor, cmd.reason, given,
                               dict(cmd.data))
        if cmd.action is Action.PAY:
            from dingdan.services.review import review_if_due  # it steps orders too

            new_state = await review_if_due(uow, new_state)
        await uow.commit()
        return new_state.version


async def step(uow: UnitOfWork, state: OrderState, action: Action, actor: Actor,
               reason: str | None, given: dict[str, str | None],
               data: dict[str, Any]) -> OrderState:
    """Apply one row of the table to a loaded order inside an open unit of work: the new
    facts, the stock effect, the event (with its outbox row) and the audit row. The caller
    has checked permissions and input, and commits."""
    facts = lifecycle.OrderFacts(Status(state.status), PaymentStatus(state.payment_status),
                                 state.payment_method,
                                 Status(state.held_from) if state.held_from else None)
    outcome = lifecycle.apply(facts, action)
    row = outcome.transition
    now = uow.now()
    values: dict[str, Any] = {"status": outcome.status.value,
                              "payment_status": outcome.payment_status.value,
                              "held_from": outcome.held_from.value if outcome.held_from
                              else None, "updated_at": now}
    if outcome.fulfillment_status is not None:
        values["fulfillment_status"] = outcome.fulfillment_status.value
    for required in row.requires:
        if required.record:  # on the order and on the timeline
            values[required.field] = data[required.field] = given[required.field]
    values.update(dict.fromkeys(outcome.stamps, now))
    if not await uow.orders.update(state.id, state.version, values):
        raise VersionConflict({"number": state.number})
    await _apply_stock(uow, state, outcome.transition.stock, actor)
    new_state = replace(state, status=values["status"],
                        payment_status=values["payment_status"],
                        fulfillment_status=values.get("fulfillment_status",
                                                      state.fulfillment_status),
                        held_from=values["held_from"],
                        version=state.version + 1,
                        carrier=values.get("carrier", state.carrier),
                        tracking_number=values.get("tracking_number",
                                                   state.tracking_number))
    await _record(uow, new_state, EVENT_FOR_ACTION[action], Status(state.status),
                  outcome.status, actor, reason, data)
    await uow.audit.record(actor, f"order.{action.value}", "order", state.number,
                           _facts(state), {**_facts(new_state), "reason": reason, **data})
    return new_state


def _facts(state: OrderState) -> dict[str, Any]:
    return {"status": state.status, "payment_status": state.payment_status,
            "fulfillment_status": state.fulfillment_status, "version": state.version}


def _action_input(cmd: ChangeStatus) -> dict[str, str | None]:
    """What the caller gave that a row of the table may require, by field name."""
    return {"reason": cmd.reason, "payment_reference": cmd.payment_reference,
            "carrier": cmd.carrier, "tracking_number": cmd.tracking_number}


def _check_action_input(cmd: ChangeStatus, status: Status,
                        given: dict[str, str | None]) -> None:
    """Refuse, before anything else, an action missing what the table says it needs."""
    errors = ErrorCollector()
    for required in missing(lifecycle.requirements(status, cmd.action), given):
        errors.add(required.field, "required", required.message)
    errors.raise_if_any()


async def _apply_stock(uow: UnitOfWork, state: OrderState, effect: StockEffect,
                       actor: Actor) -> None:
    if effect is StockEffect.NONE:
        return
    now = uow.now()
    lines = sorted(await uow.orders.lines(state.id), key=lambda ln: (ln["sku"],
                                                                     ln["warehouse_id"]))
    for line in lines:
        if effect is StockEffect.RELEASE:
            await uow.stock.release(line["sku"], line["warehouse_id"], line["quantity"], now)
        else:
            after = await uow.stock.consume(line["sku"], line["warehouse_id"], line["quantity"],
                                            now)
            await uow.stock.record_movement(
                sku=line["sku"], warehouse_id=line["warehouse_id"],
                kind=MovementKind.SHIPMENT.value, quantity=-line["quantity"],
                on_hand_after=after, reason="shipped", reference=state.number,
                actor=actor.label, created_at=now)


async def _load(uow: UnitOfWork, number: str, expected_version: int | None) -> OrderState:
    state = await uow.orders.get_state(number)
    if state is None:
        raise NotFound({"kind": "order", "key": number})
    if expected_version is not None and expected_version != state.version:
        raise VersionConflict({"number": number, "expected": expected_version,
                               "actual": state.version})
    return state


async def _record(uow: UnitOfWork, state: OrderState, type: EventType,
                  from_status: Status | None, to_status: Status | None, actor: Actor,
                  reason: str | None, data: dict[str, Any]) -> None:
    now = uow.now()
    event_id = str(uuid.uuid4())
    payload = envelope(
        event_id=event_id, type=type.value, occurred_at=now, order_number=state.number,
        transition=(from_status.value if from_status else None,
                    to_status.value if to_status else None),
        actor=actor.label, reason=reason, data=data,
        order={"number": state.number, "status": state.status,
                  "payment_status": state.payment_status,
                  "fulfillment_status": state.fulfillment_status,
                  "channel": state.channel, "external_id": state.external_id,
                  "total": state.total, "currency": state.currency,
                  "customer": {"name": state.customer_name, "phone": state.customer_phone,
                               "email": state.customer_email},
                  "carrier": state.carrier, "tracking_number": state.tracking_number,
                  "version": state.version})
    await uow.events.record(event_id=event_id, order_id=state.id, order_number=state.number,
                            type=type.value,
                            from_status=from_status.value if from_status else None,
                            to_status=to_status.value if to_status else None,
                            actor=actor.label, source=actor.source, reason=reason, data=data,
                            now=now, payload=payload)


async def record_event(uow: UnitOfWork, state: OrderState, type: EventType, actor: Actor,
                       reason: str | None, data: dict[str, Any]) -> None:
    """A timeline event that changes no status (and its outbox row), for use cases of other
    capabilities: they record on the order's timeline the same way."""
    await _record(uow, state, type, None, None, actor, reason, data)


@dataclass(frozen=True)
class AddNote:
    number: str
    note: str
    actor: Actor


async def add_note(cmd: AddNote, uow: UnitOfWork) -> None:
    require(cmd.actor, Permission.ORDER_NOTE, "order", cmd.number)
    if not cmd.note.strip():
        raise ValidationFailed(details=[FieldError("note", "required", "a note cannot be empty")])
    async with uow:
        state = await _load(uow, cmd.number, None)
        require_warehouse(cmd.actor, state.warehouse_id, Permission.ORDER_NOTE, "order",
                          cmd.number)
        await _record(uow, state, EventType.NOTE_ADDED, None, None, cmd.actor, cmd.note.strip(),
                      {})
        await uow.audit.record(cmd.actor, "order.note", "order", cmd.number, None,
                               {"note": cmd.note.strip()})
        await uow.commit()


@dataclass(frozen=True)
class ChangeContact:
    number: str
    customer: Customer
    actor: Actor
    reason: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class ChangeAddress:
    number: str
    address: Address
    actor: Actor
    reason: str | None = None
    expected_version: int | None = None


async def change_contact(cmd: ChangeContact, uow: UnitOfWork) -> int:
    """Change the customer's contact before picking; the event records before and after."""
    require(cmd.actor, Permission.ORDER_EDIT, "order", cmd.number)
    errors = ErrorCollector()
    c = cmd.customer
    if not c.name.strip():
        errors.add("customer.name", "required", "customer name is required")
    phone = None
    if c.phone:
        phone = normalize_phone(c.phone)
        if phone is None:
            errors.add("customer.phone", "invalid_phone", "not a valid phone number")
    errors.raise_if_any()
    after = {"customer_name": c.name.strip(), "customer_company": c.company,
             "customer_phone": phone, "customer_email": c.email.lower() if c.email else None}
    return await _edit_before_picking(uow, cmd.number, cmd.expected_version, after,
                                      EventType.CONTACT_CHANGED, cmd.actor, cmd.reason)


async def change_address(cmd: ChangeAddress, uow: UnitOfWork) -> int:
    """Change the shipping address before picking, re-validated; before/after recorded."""
    require(cmd.actor, Permission.ORDER_EDIT, "order", cmd.number)
    errors = ErrorCollector()
    a = validate_address(cmd.address, errors, "shipping_address")
    errors.raise_if_any()
    after = {"ship_recipient": a.recipient, "ship_phone": a.phone, "ship_country": a.country,
             "ship_province": a.province, "ship_city": a.city, "ship_district": a.district,
             "ship_street": a.street, "ship_postcode": a.postcode}
    return await _edit_before_picking(uow, cmd.number, cmd.expected_version, after,
                                      EventType.ADDRESS_CHANGED, cmd.actor, cmd.reason)


async def _edit_before_picking(uow: UnitOfWork, number: str, expected_version: int | None,
                               after: dict[str, Any], type: EventType, actor: Actor,
                               reason: str | None) -> int:
    async with uow:
        state = await _load(uow, number, expected_version)
        require_warehouse(actor, state.warehouse_id, Permission.ORDER_EDIT, "order", number)
        if Status(state.status) not in lifecycle.EDITABLE_ADDRESS:
            raise IllegalTransition({"action": type.value, "status": state.status})
        full = await uow.orders.get(number)
        assert full is not None
        before = {k: full[k] for k in after}
        changed = {k: v for k, v in after.items() if before[k] != v}
        if not changed:
            return state.version
        if not await uow.orders.update(state.id, state.version, {**changed,
                                                                 "updated_at": uow.now()}):
            raise VersionConflict({"number": number})
        new_state = replace(
            state, version=state.version + 1,
            customer_name=after.get("customer_name", state.customer_name),
            customer_phone=after.get("customer_phone", state.customer_phone),
            customer_email=after.get("customer_email", state.customer_email))
        await _record(uow, new_state, type, None, None, actor, reason,
                      {"before": {k: before[k] for k in changed}, "after": changed})
        await uow.audit.record(actor, "order.contact" if type is EventType.CONTACT_CHANGED
                               else "order.address", "order", number,
                               {k: before[k] for k in changed}, {**changed, "reason": reason})
        await uow.commit()
        return new_state.version


