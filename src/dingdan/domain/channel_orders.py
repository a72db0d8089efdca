"""A channel's later word on an order it sent before: what changed, and whether the order's
stage still allows it. Pure.

The same (channel, external id) with other contents is an update, never a silent repeat:

- contact, address and notes may change until picking starts (``EDITABLE_ADDRESS``);
- lines and amounts until the order is allocated (:data:`LINES_EDITABLE`): the stock is
  reserved again in the order's warehouse;
- a cancellation wherever the order's table has a ``cancel`` row (before shipment).

What the stage does not allow is refused with the reason (``CHANNEL_ORDER_LOCKED``); the
order is left as it was. A channel that numbers its versions (Shopify's ``updated_at``,
WooCommerce's ``date_modified_gmt``) has an older version than the one applied ignored, so
updates that arrive out of order never undo a newer one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from dingdan.domain import lifecycle
from dingdan.domain.lifecycle import Action, Status
from dingdan.domain.orders import Amounts, OrderDraft, PricedLine

S = Status
LINES_EDITABLE: frozenset[Status] = frozenset(
    {S.PENDING_PAYMENT, S.PAID, S.PENDING_REVIEW, S.ON_HOLD})
# The order's columns a channel's draft speaks for (contact, address, notes), by group.
CONTACT_FIELDS = ("customer_name", "customer_company", "customer_phone", "customer_email")
ADDRESS_FIELDS = ("ship_recipient", "ship_phone", "ship_country", "ship_province",
                  "ship_city", "ship_district", "ship_street", "ship_postcode")
AMOUNT_FIELDS = ("subtotal", "shipping_fee", "discount", "tax", "total", "currency")
OTHER_FIELDS = ("notes", "payment_method")


class Arrival(StrEnum):
    """What became of one message of a channel about one order."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"  # the same contents again (a retry): nothing to do
    STALE = "stale"  # older than the version already applied: ignored
    UNKNOWN_CANCELLED = "unknown_cancelled"  # a cancellation of an order never received


def draft_columns(draft: OrderDraft, amounts: Amounts) -> dict[str, Any]:
    """The order's columns as a checked draft gives them."""
    c, a = draft.customer, draft.shipping_address
    return {"customer_name": c.name, "customer_company": c.company, "customer_phone": c.phone,
            "customer_email": c.email, "ship_recipient": a.recipient, "ship_phone": a.phone,
            "ship_country": a.country, "ship_province": a.province, "ship_city": a.city,
            "ship_district": a.district, "ship_street": a.street,
            "ship_postcode": a.postcode, "subtotal": amounts.subtotal,
            "shipping_fee": amounts.shipping_fee, "discount": amounts.discount,
            "tax": amounts.tax, "total": amounts.total, "currency": draft.currency,
            "notes": draft.notes, "payment_method": draft.payment_method}


def line_key(sku: str, quantity: int, unit_price: int) -> tuple[str, int, int]:
    return (sku, quantity, unit_price)


def differences(order: Mapping[str, Any], order_lines: Sequence[Mapping[str, Any]],
                draft: OrderDraft, lines: Sequence[PricedLine],
                amounts: Amounts) -> dict[str, dict[str, Any]]:
    """``{field: {"before": …, "after": …}}`` for every column that differs, and ``lines``
    (as ``[sku, quantity, unit_price]``) if the lines do."""
    after = draft_columns(draft, amounts)
    out = {k: {"before": order.get(k), "after": v} for k, v in after.items()
           if order.get(k) != v}
    before_lines = sorted(line_key(ln["sku"], ln["quantity"], ln["unit_price"])
                          for ln in order_lines)
    after_lines = sorted(line_key(ln.sku, ln.quantity, ln.unit_price) for ln in lines)
    if before_lines != after_lines:
        out["lines"] = {"before": [list(x) for x in before_lines],
                        "after": [list(x) for x in after_lines]}
    return out


def refusal(status: Status, changed: Mapping[str, object]) -> str | None:
    """Why an order in ``status`` cannot take these changes (None: it can)."""
    if status in lifecycle.TERMINAL:
        return f"the order is {status.value}"
    if ("lines" in changed or any(f in changed for f in AMOUNT_FIELDS)) \
            and status not in LINES_EDITABLE:
        return "lines and amounts change only until the order is allocated"
    if any(f in changed for f in (*CONTACT_FIELDS, *ADDRESS_FIELDS, *OTHER_FIELDS)) \
            and status not in lifecycle.EDITABLE_ADDRESS:
        return "contact, address and notes change only until picking starts"
    return None


def cancel_refusal(status: Status) -> str | None:
    """Why a channel's cancellation cannot be applied (None: it can, or it already is)."""
    if status is S.CANCELLED or lifecycle.find(status, Action.CANCEL) is not None:
        return None
    return f"the order is {status.value}: it has shipped (a return, not a cancellation)"


def is_stale(incoming: datetime | None, applied: datetime | None) -> bool:
    """An incoming version older than the one applied (channels without versions never
    are: each message is their latest word)."""
    return incoming is not None and applied is not None and incoming < applied


def is_repeat(incoming: datetime | None, applied: datetime | None) -> bool:
    """The very version applied, delivered again (a retry)."""
    return incoming is not None and incoming == applied
