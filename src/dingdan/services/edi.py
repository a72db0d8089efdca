"""EDI partners' purchase orders: an EDIFACT ORDERS or X12 850 interchange in, each order
received once through ``services.channel_orders`` (channel ``edi-<sender id>``), and the
acknowledgement out — ORDRSP / 855 saying, per order, accepted or not and why. An
interchange that does not parse writes nothing and is answered with CONTRL / 997
(``EdiRejected``: a 422 whose ``params.acknowledgement`` is the message to send back).
Once such an order ships, :func:`ship_notice` gives its DESADV / 856.
"""

from __future__ import annotations

from dataclasses import dataclass

from dingdan.adapters.channels import edi
from dingdan.domain.errors import DomainError, EdiRejected, IllegalTransition, NotFound
from dingdan.domain.events import Actor
from dingdan.domain.permissions import Permission
from dingdan.services._access import require, visible_order
from dingdan.services.channel_orders import ChannelOrder, receive_channel_order
from dingdan.store.uow import UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True)
class EdiOutcome:
    external_id: str
    outcome: str  # created, updated, unchanged, stale, refused
    number: str | None
    reason: str = ""


@dataclass(frozen=True)
class EdiAnswer:
    format: str
    acknowledgements: list[str]
    orders: list[EdiOutcome]


async def receive_edi(text: str, actor: Actor, uows: UnitOfWorkFactory) -> EdiAnswer:
    require(actor, Permission.ORDER_CREATE, "edi", None)
    kind = edi.detect(text)
    if kind is None:
        raise EdiRejected({"reason": "neither an EDIFACT (UNA/UNB) nor an X12 (ISA) "
                                     "interchange", "acknowledgement": ""})
    try:
        interchange = edi.parse_edifact(text) if kind == "edifact" else edi.parse_x12(text)
    except edi.EdiSyntaxError as exc:
        raise EdiRejected({"reason": exc.reason, "acknowledgement": exc.acknowledgement},
                          ) from None
    outcomes, acks = [], []
    now = uows.clock()
    for order in interchange.orders:
        number, outcome, reason = None, "refused", order.problem
        if order.draft is not None:
            try:
                received = await receive_channel_order(ChannelOrder(order.draft, actor), uows)
                number, outcome = received.number, received.arrival.value
            except DomainError as exc:
                reason = "; ".join(f"{d.loc}: {d.message}" for d in exc.details) or str(
                    exc.params.get("reason") or exc.code)
        accepted = outcome != "refused"
        outcomes.append(EdiOutcome(order.external_id, outcome, number, reason))
        acks.append(edi.ordrsp(interchange.envelope, order.external_id, accepted, reason, now)
                    if kind == "edifact" else
                    edi.x12_855(interchange.envelope, order.external_id, accepted, reason, now))
    return EdiAnswer(kind, acks, outcomes)


async def ship_notice(number: str, uow: UnitOfWork, *, actor: Actor) -> dict[str, str]:
    """The advance ship notice of a shipped EDI order, in the syntax its partner ordered in:
    DESADV (EDIFACT) or 856 (X12). For the partner's gateway to send, e.g. on the
    ``order.shipped`` webhook."""
    require(actor, Permission.ORDER_READ, "order", number)
    async with uow:
        state = await visible_order(uow, number, actor)
        order = await uow.orders.get(number)
        now = uow.now()
    assert order is not None
    custom = order.get("custom_fields") or {}
    syntax, partner = custom.get("edi_syntax"), custom.get("edi_partner")
    if syntax not in ("edifact", "x12") or not partner:
        raise NotFound({"kind": "ship_notice", "key": number})  # not an EDI partner's order
    if state.fulfillment_status == "unfulfilled" or not order.get("shipped_at"):
        raise IllegalTransition({"action": "ship_notice", "status": state.status,
                                 "reason": "the order has not shipped"})
    shipped = edi.Shipped(str(partner), order["external_id"] or number, number,
                          order["carrier"] or "", order["tracking_number"] or "",
                          order["shipped_at"], [(ln["sku"], ln["quantity"])
                                                for ln in order["lines"]])
    message = edi.desadv(shipped, now) if syntax == "edifact" else edi.x12_856(shipped, now)
    return {"format": syntax, "message": message}
