"""Tracking: a carrier's scans recorded, normalised, and moving the order by themselves.

:func:`receive_update` takes one parcel's scans from a push (Kuaidi100, SF Express) or a
query, in one unit of work: each new scan is stored once (a repeated push records nothing
twice), normalised (``domain.tracking``), and — in time order — asked what it does to the
order; the order's own use case (``services.orders.change_status``) takes that action in the
same transaction, so the scan, the status change, its timeline event, its outbox row (the
customer's notification) and its audit row commit together. A scan the domain does not know,
a failed delivery, a return or an exception raises an alert for customer service, once.

:func:`scan_silent_parcels` is the timed job: a parcel with no scan for 48 hours raises an
alert. Reads (:func:`parcel_history`, :func:`tracking_exceptions`) check and scope like
every read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx
import structlog

from dingdan.adapters.carriers import kuaidi100, sf
from dingdan.adapters.carriers.port import CarrierProtocolError, ParcelUpdate, Scan
from dingdan.domain import tracking
from dingdan.domain.errors import (
    FieldError,
    IllegalTransition,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from dingdan.domain.events import Actor, ActorKind
from dingdan.domain.lifecycle import Status
from dingdan.domain.outbox import envelope
from dingdan.domain.permissions import Permission
from dingdan.domain.tracking import AlertKind, Normalised, Provider
from dingdan.services._access import require, visible_order
from dingdan.services.orders import ChangeStatus, change_status
from dingdan.services.sla import order_snapshot
from dingdan.store.deliveries import DeliveryRepo
from dingdan.store.orders import OrderState
from dingdan.store.uow import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger("dingdan.tracking")


def carrier_actor(provider: Provider) -> Actor:
    """Who moves an order when a carrier's scan does: the provider, as the system."""
    return Actor(ActorKind.SYSTEM, provider.value, provider.value, source="carrier",
                 roles=frozenset({"integration"}))


class _Lent(UnitOfWork):
    """The caller's open unit of work, lent to a use case that opens and commits its own
    (``change_status``): entering it and committing it are left to the lender, so the order's
    status change commits with the scans that caused it — or not at all."""

    def __init__(self, outer: UnitOfWork) -> None:
        self.__dict__.update(outer.__dict__)

    async def __aenter__(self) -> UnitOfWork:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        return None

    async def commit(self) -> None:
        return None


@dataclass(frozen=True)
class Received:
    order_number: str
    new_scans: int
    duplicates: int
    moved: tuple[str, ...]  # the lifecycle actions taken, in order
    alerts: tuple[str, ...]  # the alert kinds raised


async def receive_update(update: ParcelUpdate, provider: Provider,
                         uows: UnitOfWorkFactory) -> Received:
    """Record one parcel's scans and let them move its order. ``NotFound`` for a tracking
    number no order was shipped with (nothing is written)."""
    actor = carrier_actor(provider)
    async with uows() as uow:
        number = await uow.tracking.order_number_for(update.tracking_number)
        state = await uow.orders.get_state(number) if number else None
        if state is None:
            raise NotFound({"kind": "tracking_number", "key": update.tracking_number})
        now = uow.now()
        new: list[tuple[int, Scan, Normalised]] = []
        for scan in update.scans:
            n = tracking.normalise(provider, scan.code)
            event_id = await uow.tracking.add_event({
                "order_id": state.id, "tracking_number": update.tracking_number,
                "provider": provider.value, "code": scan.code[:32], "status": n.status.value,
                "known": n.known, "text": scan.text, "place": scan.place,
                "occurred_at": scan.occurred_at, "received_at": now})
            if event_id is not None:
                new.append((event_id, scan, n))
        new.sort(key=lambda item: item[1].occurred_at)
        moved: list[str] = []
        alerts: list[str] = []
        status = Status(state.status)
        for event_id, scan, n in new:
            action = tracking.order_action(status, n.status)
            if action is not None:
                await change_status(ChangeStatus(
                    state.number, action, actor, reason=scan.text[:400] or None,
                    data={"tracking_number": update.tracking_number, "carrier_code": scan.code,
                          "tracking_status": n.status.value, "place": scan.place,
                          "scanned_at": scan.occurred_at.isoformat()}), _Lent(uow))
                await uow.tracking.set_event_action(event_id, action.value)
                moved.append(action.value)
                status = tracking.status_after(action)
            kind = tracking.alert_for(n)
            if kind is not None and await _raise_alert(uow, state, kind, now, {
                    "tracking_number": update.tracking_number, "carrier_code": scan.code,
                    "carrier_text": scan.text, "place": scan.place,
                    "tracking_status": n.status.value,
                    "scanned_at": scan.occurred_at.isoformat()}):
                alerts.append(kind.value)
        if new:  # the parcel spoke: it is not silent any more
            await uow.tracking.resolve_alerts(state.number, tracking.ALERT_STAGE,
                                              [AlertKind.SILENT.value], now)
            await uow.audit.record(actor, "tracking.scans", "order", state.number, None, {
                "tracking_number": update.tracking_number, "provider": provider.value,
                "scans": [{"code": s.code, "status": n.status.value,
                           "at": s.occurred_at.isoformat()} for _, s, n in new],
                "moved": moved})
        if update.finished:
            await uow.tracking.finish_subscription(provider.value, update.tracking_number,
                                                   now)
        await uow.commit()
    return Received(state.number, len(new), len(update.scans) - len(new), tuple(moved),
                    tuple(alerts))


async def _state(uow: UnitOfWork, number: str) -> OrderState:
    state = await uow.orders.get_state(number)
    assert state is not None  # read in this transaction a moment ago
    return state


async def _raise_alert(uow: UnitOfWork, state: OrderState, kind: AlertKind, now: datetime,
                       data: dict[str, Any]) -> bool:
    """An alert for the parcel's owner (customer service) and its outbox row, once per
    (order, kind)."""
    alert_id = await uow.tracking.add_alert({
        "order_number": state.number, "stage": tracking.ALERT_STAGE, "kind": kind.value,
        "role": tracking.ALERT_ROLE, "deadline": now, "created_at": now})
    if alert_id is None:
        return False
    row = await uow.orders.get(state.number)
    assert row is not None
    event_id = str(uuid.uuid4())
    type_ = f"alert.tracking_{kind.value}"
    await DeliveryRepo(uow.conn).add_outbox(
        event_id=event_id, type=type_, order_number=state.number, now=now,
        payload=envelope(event_id=event_id, type=type_, occurred_at=now,
                         order_number=state.number, actor="system:tracking", reason=None,
                         data={"alert_id": alert_id, "stage": tracking.ALERT_STAGE,
                               "kind": kind.value, "role": tracking.ALERT_ROLE, **data},
                         order=order_snapshot(row)))
    return True


@dataclass(frozen=True)
class SilenceReport:
    checked: int
    alerted: int


async def scan_silent_parcels(uows: UnitOfWorkFactory, limit: int = 500) -> SilenceReport:
    """Raise an alert, once, for every parcel on the road with no scan for 48 hours."""
    async with uows() as uow:
        now = uow.now()
        rows = await uow.tracking.silent_parcels(
            sorted(s.value for s in tracking.ON_THE_ROAD), now - tracking.SILENCE, limit)
        alerted = 0
        for row in rows:
            state = await _state(uow, row["number"])
            alerted += await _raise_alert(uow, state, AlertKind.SILENT, now, {
                "tracking_number": row["tracking_number"], "carrier": row["carrier"],
                "last_seen": row["last_seen"].isoformat()
                if isinstance(row["last_seen"], datetime) else str(row["last_seen"])})
        await uow.commit()
    return SilenceReport(len(rows), alerted)


def _national(phone: str | None) -> str | None:
    """A mainland number as Kuaidi100 wants it (SF checks its last four digits)."""
    return phone[3:] if phone and phone.startswith("+86") else phone


# -- reads ---------------------------------------------------------------------------------


async def parcel_history(number: str, uow: UnitOfWork, *, actor: Actor) -> dict[str, Any]:
    """An order's parcel: its tracking number, subscriptions and every scan, newest first."""
    require(actor, Permission.ORDER_READ, "order", number)
    async with uow:
        state = await visible_order(uow, number, actor)
        events = await uow.tracking.events(state.id)
        subscriptions = await uow.tracking.subscriptions(state.id)
    return {"number": state.number, "status": state.status, "carrier": state.carrier,
            "tracking_number": state.tracking_number,
            "subscriptions": [{k: s[k] for k in ("provider", "carrier_code",
                                                 "tracking_number", "status", "created_at")}
                              for s in subscriptions],
            "events": [{k: e[k] for k in ("tracking_number", "provider", "code", "status",
                                          "known", "text", "place", "occurred_at",
                                          "received_at", "order_action")} for e in events]}


async def tracking_exceptions(uow: UnitOfWork, *, actor: Actor,
                              limit: int = 200) -> list[dict[str, Any]]:
    """Parcels in trouble (open tracking alerts), newest first, within the person's
    warehouses."""
    require(actor, Permission.ORDER_READ, "alert", None)
    scope = sorted(actor.warehouse_ids) if actor.warehouse_ids is not None else None
    async with uow:
        return await uow.tracking.open_alerts(tracking.ALERT_STAGE, limit, scope)


# -- pushes, as the providers send them ----------------------------------------------------


def _unsigned(provider: Provider) -> Unauthenticated:
    return Unauthenticated({"provider": provider.value, "reason": "signature"})


def _malformed(exc: CarrierProtocolError) -> ValidationFailed:
    return ValidationFailed(details=[FieldError("body", "bad_push", str(exc)[:200])])


async def receive_kuaidi100_push(param: str, sign: str, salt: str | None,
                                 uows: UnitOfWorkFactory) -> Received:
    """A Kuaidi100 push (``param`` and ``sign`` as posted): verified with our salt before
    anything is read from it — a bad signature is ``Unauthenticated`` and writes nothing."""
    if not salt or not kuaidi100.verify_push(param, sign, salt):
        raise _unsigned(Provider.KUAIDI100)
    try:
        update = kuaidi100.parse_push(param)
    except CarrierProtocolError as exc:
        raise _malformed(exc) from exc
    return await receive_update(update, Provider.KUAIDI100, uows)


async def receive_sf_push(msg_data: str, timestamp: str, digest: str,
                          check_word: str | None, uows: UnitOfWorkFactory) -> list[Received]:
    """An SF Express route push, verified first. Waybills of it no order was shipped with
    are skipped (logged); ``NotFound`` if none was."""
    if not check_word or not sf.verify_push(msg_data, timestamp, digest, check_word):
        raise _unsigned(Provider.SF_EXPRESS)
    try:
        updates = sf.parse_route_push(msg_data)
    except CarrierProtocolError as exc:
        raise _malformed(exc) from exc
    received: list[Received] = []
    unknown: list[str] = []
    for update in updates:
        try:
            received.append(await receive_update(update, Provider.SF_EXPRESS, uows))
        except NotFound:
            unknown.append(update.tracking_number)
    if unknown:
        log.warning("route push for unknown waybills", provider="sf_express", waybills=unknown)
    if not received:
        raise NotFound({"kind": "tracking_number", "key": ",".join(unknown)[:200]})
    return received


async def request_subscription(number: str, uow: UnitOfWork, *, actor: Actor,
                               ) -> dict[str, Any]:
    """Ask for a shipped order's scans to be pushed to us by Kuaidi100. Recorded as pending
    here; the worker (:func:`subscribe_pending`) calls Kuaidi100, so no request waits on it
    and a refusal is retried. Asking twice changes nothing."""
    require(actor, Permission.ORDER_TRACK, "order", number)
    async with uow:
        state = await visible_order(uow, number, actor)
        if not state.tracking_number or not state.carrier:
            raise IllegalTransition({"action": "subscribe", "status": state.status,
                                     "reason": "the order has no carrier and tracking number"})
        company = tracking.kuaidi100_company(
            state.carrier, await uow.tracking.kuaidi100_code(state.carrier))
        now = uow.now()
        created = await uow.tracking.subscribe({
            "order_id": state.id, "provider": Provider.KUAIDI100.value, "carrier_code": company,
            "tracking_number": state.tracking_number, "status": "pending",
            "created_at": now, "updated_at": now})
        await uow.audit.record(actor, "tracking.subscribe", "order", number, None, {
            "provider": Provider.KUAIDI100.value, "carrier_code": company,
            "tracking_number": state.tracking_number, "created": created})
        await uow.commit()
    return {"number": number, "provider": Provider.KUAIDI100.value, "carrier_code": company,
            "tracking_number": state.tracking_number, "created": created}


@dataclass(frozen=True)
class SubscribeReport:
    subscribed: int
    failed: int


async def subscribe_pending(uows: UnitOfWorkFactory, client: kuaidi100.Kuaidi100Client,
                            callback_url: str, salt: str, limit: int = 100) -> SubscribeReport:
    """The worker's job: send the pending subscriptions to Kuaidi100, one by one, with no
    transaction open while it answers. Kuaidi100's ``501`` (already subscribed) counts as
    done; another refusal leaves the row pending for the next run, and is logged."""
    async with uows(read_only=True) as uow:
        pending = await uow.tracking.pending_subscriptions(Provider.KUAIDI100.value, limit)
    done = failed = 0
    for row in pending:
        try:
            await client.subscribe(row["carrier_code"], row["tracking_number"],
                                   callback_url=callback_url, salt=salt,
                                   phone=_national(row["ship_phone"]))
        except (kuaidi100.Kuaidi100Error, httpx.HTTPError) as exc:
            failed += 1
            log.warning("kuaidi100 subscription refused", tracking_number=row["tracking_number"],
                        error=str(exc)[:200])
            continue
        async with uows() as uow:
            await uow.tracking.set_subscription_status(row["id"], "active", uow.now())
            await uow.commit()
        done += 1
    return SubscribeReport(done, failed)
