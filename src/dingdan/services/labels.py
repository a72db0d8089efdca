"""Waybill numbers and labels: a number from the carrier's pool, a label for the order's
chosen service, the PDF to print, and voiding it.

Issuing takes the service rate shopping chose (``services.carriers.shop_rates``) and the
next free number of its carrier's pool in one transaction, with its audit row; a label's
lifecycle is ``domain.labels.LABEL``. The PDF is made when asked for (``adapters.label_pdf``),
from what is stored: reprinting gives the same label.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from dingdan.adapters import label_pdf
from dingdan.domain.errors import (
    Conflict,
    ErrorCollector,
    FieldError,
    IllegalTransition,
    NotFound,
    ValidationFailed,
    VersionConflict,
)
from dingdan.domain.events import Actor
from dingdan.domain.labels import (
    LABEL,
    LabelAction,
    LabelContent,
    LabelSize,
    LabelStatus,
    mask_phone,
)
from dingdan.domain.lifecycle import Action, Status
from dingdan.domain.machine import missing
from dingdan.domain.permissions import Permission
from dingdan.domain.waybills import CheckDigit, number_range
from dingdan.services._access import require, require_warehouse, visible_order
from dingdan.services.orders import ChangeStatus, change_status
from dingdan.store.uow import UnitOfWork, UnitOfWorkFactory

# A label is printed while the order is being picked or packed, before hand-over.
LABELLABLE = frozenset({Status.ALLOCATED, Status.PICKING, Status.PACKED})


@dataclass(frozen=True)
class AddWaybillNumbers:
    carrier: str
    first: int  # the first serial of the range
    count: int
    actor: Actor
    prefix: str = ""
    suffix: str = ""
    width: int = 8


async def add_waybill_numbers(cmd: AddWaybillNumbers, uow: UnitOfWork) -> dict[str, Any]:
    """Add a range the carrier issued to its pool, each number with the carrier's check
    digit. Numbers already in the pool are kept as they are."""
    require(cmd.actor, Permission.SETTINGS_WRITE, "carrier", cmd.carrier)
    errors = ErrorCollector()
    if not 1 <= cmd.width <= 15 or cmd.first < 0 or len(str(cmd.first)) > cmd.width:
        errors.add("first", "out_of_range", "the first serial must fit the width (1-15)")
    affixes = cmd.prefix + cmd.suffix
    if affixes and not (affixes.isascii() and affixes.isalnum()):
        errors.add("prefix", "invalid", "prefix and suffix: letters and digits")
    errors.raise_if_any()
    async with uow:
        carrier = await uow.carriers.carrier(cmd.carrier.upper())
        if carrier is None:
            raise NotFound({"kind": "carrier", "key": cmd.carrier})
        scheme = CheckDigit(carrier["check_digit"])
        try:
            numbers = number_range(scheme, cmd.first, cmd.count, prefix=cmd.prefix,
                                   suffix=cmd.suffix, width=cmd.width)
        except ValueError as exc:
            raise ValidationFailed(details=[FieldError("count", "out_of_range", str(exc))]
                                   ) from exc
        if scheme is CheckDigit.S10 and len(numbers[0]) != 13:
            raise ValidationFailed(details=[FieldError(
                "prefix", "invalid", "S10 numbers: two letters, 8 digits, check, country")])
        now = uow.now()
        added = await uow.carriers.add_numbers(int(carrier["id"]), numbers, now)
        free = await uow.carriers.free_numbers(int(carrier["id"]))
        await uow.audit.record(cmd.actor, "waybill_numbers.add", "carrier", carrier["code"],
                               None, {"first": numbers[0], "last": numbers[-1],
                                      "count": cmd.count, "added": added})
        await uow.commit()
    return {"carrier": carrier["code"], "first": numbers[0], "last": numbers[-1],
            "added": added, "free": free}


@dataclass(frozen=True)
class IssueLabel:
    number: str
    actor: Actor
    size: LabelSize = LabelSize.LARGE


async def issue_label(cmd: IssueLabel, uow: UnitOfWork) -> dict[str, Any]:
    """A label for the service rate shopping chose, with the next number of its carrier's
    pool. Refused before rate shopping, for a parcel with no weight, or an empty pool."""
    require(cmd.actor, Permission.ORDER_FULFIL, "order", cmd.number)
    async with uow:
        state = await visible_order(uow, cmd.number, cmd.actor)
        require_warehouse(cmd.actor, state.warehouse_id, Permission.ORDER_FULFIL, "order",
                          cmd.number)
        if Status(state.status) not in LABELLABLE:
            raise IllegalTransition({"action": "label", "status": state.status,
                                     "reason": "labels are printed while picking or packing"})
        choices = await uow.carriers.choices(state.id)
        choice = choices[0] if choices else None
        if choice is None or choice["service_id"] is None:
            raise IllegalTransition({"action": "label", "status": state.status,
                                     "reason": "no service chosen: shop rates first"})
        if not choice["weight_g"]:
            raise ValidationFailed(details=[FieldError("weight_g", "required",
                                                       "the parcel has no weight")])
        service = await uow.carriers.service(int(choice["service_id"]))
        assert service is not None  # a foreign key
        now = uow.now()
        tracking_number = await uow.carriers.take_number(int(service["carrier_id"]), state.id,
                                                         now)
        if tracking_number is None:
            raise Conflict({"reason": "waybill_pool_empty", "carrier": service["carrier"]})
        label_id = await uow.carriers.insert_label({
            "order_id": state.id, "carrier_id": service["carrier_id"],
            "service_id": service["id"], "tracking_number": tracking_number,
            "size": cmd.size.value, "weight_g": choice["weight_g"],
            "status": LabelStatus.ISSUED.value, "version": 1,
            "created_by": cmd.actor.label[:120], "created_at": now})
        await uow.audit.record(cmd.actor, "label.issue", "order", cmd.number, None, {
            "label_id": label_id, "carrier": service["carrier"], "service": service["code"],
            "tracking_number": tracking_number, "size": cmd.size.value})
        await uow.commit()
    return {"id": label_id, "number": cmd.number, "carrier": service["carrier"],
            "service": service["code"], "tracking_number": tracking_number,
            "size": cmd.size.value, "weight_g": choice["weight_g"],
            "status": LabelStatus.ISSUED.value, "created_at": now, "voided_at": None,
            "void_reason": None}


def _public(row: dict[str, Any], number: str) -> dict[str, Any]:
    return {"id": row["id"], "number": number, "carrier": row["carrier"],
            "service": row["service"], "tracking_number": row["tracking_number"],
            "size": row["size"], "weight_g": row["weight_g"], "status": row["status"],
            "created_at": row["created_at"], "voided_at": row["voided_at"],
            "void_reason": row["void_reason"]}


async def list_labels(number: str, uow: UnitOfWork, *, actor: Actor) -> list[dict[str, Any]]:
    require(actor, Permission.ORDER_READ, "order", number)
    async with uow:
        state = await visible_order(uow, number, actor)
        rows = await uow.carriers.labels(state.id)
    return [_public(r, number) for r in rows]


async def label_pdf_of(number: str, label_id: int, uow: UnitOfWork, *, actor: Actor,
                       font_path: str | None = None) -> bytes:
    """The label's PDF (the recipient's address and masked phone are on it: it needs the
    fulfilment permission, like printing it at the packing bench)."""
    require(actor, Permission.ORDER_FULFIL, "label", label_id)
    async with uow:
        state = await visible_order(uow, number, actor)
        row = next((r for r in await uow.carriers.labels(state.id) if r["id"] == label_id),
                   None)
        if row is None:
            raise NotFound({"kind": "label", "key": label_id})
        order = await uow.orders.get(number)
        warehouse = await uow.carriers.warehouse(state.warehouse_id)
    assert order is not None
    sender = f"{warehouse['name']} {warehouse.get('city') or warehouse['region']}" \
        if warehouse else ""
    content = LabelContent(
        tracking_number=row["tracking_number"], carrier=row["carrier_name_zh"],
        service=row["service_name_zh"] or "", order_number=number, sender=sender,
        recipient=order["ship_recipient"], phone=mask_phone(order["ship_phone"]),
        address="".join(order[k] or "" for k in ("ship_province", "ship_city",
                                                  "ship_district", "ship_street")),
        weight_g=row["weight_g"], issued_at=row["created_at"])
    # Off the event loop: drawing and subsetting the font take some milliseconds.
    return await asyncio.to_thread(label_pdf.render_label, content, LabelSize(row["size"]),
                                   font_path)


async def void_label(number: str, label_id: int, reason: str | None, uow: UnitOfWork, *,
                     actor: Actor) -> dict[str, Any]:
    """Void a label (its number is not reused): through the label's transition table."""
    require(actor, Permission.ORDER_FULFIL, "label", label_id)
    errors = ErrorCollector()
    for r in missing(LABEL.requirements(LabelStatus.ISSUED, LabelAction.VOID),
                     {"reason": reason}):
        errors.add(r.field, "required", r.message)
    errors.raise_if_any()
    async with uow:
        state = await visible_order(uow, number, actor)
        require_warehouse(actor, state.warehouse_id, Permission.ORDER_FULFIL, "label",
                          label_id)
        row = next((r for r in await uow.carriers.labels(state.id) if r["id"] == label_id),
                   None)
        if row is None:
            raise NotFound({"kind": "label", "key": label_id})
        transition, target = LABEL.step(LabelStatus(row["status"]), LabelAction.VOID, None)
        now = uow.now()
        values = {"status": target.value, "void_reason": (reason or "").strip()[:400],
                  **dict.fromkeys(transition.stamps, now)}
        if not await uow.carriers.update_label(label_id, row["version"], values):
            raise VersionConflict({"label": label_id})
        await uow.audit.record(actor, "label.void", "order", number,
                               {"label_id": label_id, "status": row["status"]},
                               {"label_id": label_id, **values})
        await uow.commit()
    return _public({**row, **values}, number)


async def ship_with_label(number: str, label_id: int, uows: UnitOfWorkFactory, *,
                          actor: Actor) -> int:
    """Hand the parcel over with its label: the order's ship action, with the label's carrier
    and number — nobody types them. Returns the order's new version."""
    require(actor, Permission.ORDER_FULFIL, "label", label_id)
    async with uows(read_only=True) as uow:
        state = await visible_order(uow, number, actor)
        row = next((r for r in await uow.carriers.labels(state.id) if r["id"] == label_id),
                   None)
    if row is None:
        raise NotFound({"kind": "label", "key": label_id})
    if row["status"] != LabelStatus.ISSUED.value:
        raise IllegalTransition({"action": "ship", "status": row["status"],
                                 "reason": "the label is voided"})
    return await change_status(ChangeStatus(number, Action.SHIP, actor,
                                            carrier=str(row["carrier"]),
                                            tracking_number=str(row["tracking_number"]),
                                            data={"label_id": label_id}), uows())
