"""Order event types (past tense) and who caused them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dingdan.domain.lifecycle import TRANSITIONS, Action


class EventType(StrEnum):
    PLACED = "order.placed"
    PAID = "order.paid"
    SUBMITTED_FOR_REVIEW = "order.submitted_for_review"
    APPROVED = "order.approved"
    HELD = "order.held"
    RELEASED = "order.released"
    CANCELLED = "order.cancelled"
    PAYMENT_TIMED_OUT = "order.payment_timed_out"
    ALLOCATED = "order.allocated"
    PICKING_STARTED = "order.picking_started"
    PACKED = "order.packed"
    SHIPPED = "order.shipped"
    IN_TRANSIT = "order.in_transit"
    OUT_FOR_DELIVERY = "order.out_for_delivery"
    DELIVERED = "order.delivered"
    COMPLETED = "order.completed"
    NOTE_ADDED = "order.note_added"
    CONTACT_CHANGED = "order.contact_changed"
    ADDRESS_CHANGED = "order.address_changed"
    ANONYMISED = "order.anonymised"  # the customer's personal data erased on request (PIPL)
    HELP_REQUESTED = "order.help_requested"  # the customer asked for help on their page
    RATED = "order.rated"  # the customer rated the delivery and the service
    # The channel changed the order it sent (contents, lines); the differences in the data.
    CHANNEL_UPDATED = "order.channel_updated"
    # After-sales (issue 13): money went back; the order's payment status follows.
    REFUNDED = "order.refunded"


EVENT_FOR_ACTION: dict[Action, EventType] = {
    Action.PAY: EventType.PAID,
    Action.SUBMIT_REVIEW: EventType.SUBMITTED_FOR_REVIEW,
    Action.APPROVE: EventType.APPROVED,
    Action.HOLD: EventType.HELD,
    Action.RELEASE: EventType.RELEASED,
    Action.CANCEL: EventType.CANCELLED,
    Action.TIMEOUT: EventType.PAYMENT_TIMED_OUT,
    Action.ALLOCATE: EventType.ALLOCATED,
    Action.PICK: EventType.PICKING_STARTED,
    Action.PACK: EventType.PACKED,
    Action.SHIP: EventType.SHIPPED,
    Action.IN_TRANSIT: EventType.IN_TRANSIT,
    Action.OUT_FOR_DELIVERY: EventType.OUT_FOR_DELIVERY,
    Action.DELIVER: EventType.DELIVERED,
    Action.COMPLETE: EventType.COMPLETED,
}

# Actions that must say why (a person reading the timeline later needs the reason): the
# transition table's rows that require a reason.
REASON_REQUIRED: frozenset[Action] = frozenset(
    t.action for t in TRANSITIONS if any(r.field == "reason" for r in t.requires))


class ActorKind(StrEnum):
    TOKEN = "token"
    USER = "user"
    SYSTEM = "system"
    CUSTOMER = "customer"  # a visitor of the customer's page who proved they own the order
    CHANNEL = "channel"  # a shop's signed message (the signature is its credential)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something: an API token, a signed-in person, or the system itself."""

    kind: ActorKind
    id: str
    name: str
    source: str = "api"  # api, web, cli, worker, demo
    roles: frozenset[str] = frozenset()
    warehouse_ids: frozenset[int] | None = None  # None: every warehouse
    ip: str | None = None  # where the request came from, for the audit trail
    client: str | None = None  # user agent or integration name
    order_numbers: frozenset[str] | None = None  # None: any order; a customer: only theirs

    @property
    def label(self) -> str:
        return f"{self.kind.value}:{self.name}"


SYSTEM = Actor(ActorKind.SYSTEM, "system", "system", "worker", frozenset({"admin"}))
