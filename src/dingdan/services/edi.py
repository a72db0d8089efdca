"""EDI partners' purchase orders: an EDIFACT ORDERS or X12 850 interchange in, each order
received once through ``services.channel_orders`` (channel ``edi-<sender id>``), and the
acknowledgement out — ORDRSP / 855 saying, per order, accepted or not and why. An
interchange that does not parse writes nothing and is answered with CONTRL / 997
(``EdiRejected``: a 422 whose ``params.acknowledgement`` is the message to send back).
"""

from __future__ import annotations

from dataclasses import dataclass

from dingdan.adapters.channels import edi
from dingdan.domain.errors import DomainError, EdiRejected
from dingdan.domain.events import Actor
from dingdan.domain.permissions import Permission
from dingdan.services._access import require
from dingdan.services.channel_orders import ChannelOrder, receive_channel_order
from dingdan.store.uow import UnitOfWorkFactory


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
