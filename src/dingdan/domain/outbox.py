"""The outbox envelope: what every outbox row carries, built in one place. Pure.

Order events, SLA alerts and the dead-letter digest all reach notifications, webhooks and
the broker as one JSON object; templates (``services.templates.render_context``) and webhook
receivers (docs/webhooks.md) read it by these keys. Keys keep this order, so the same event
makes the same bytes (a webhook's signature covers them).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any


def envelope(*, event_id: str, type: str, occurred_at: datetime, order_number: str | None,
             actor: str, reason: str | None, data: Mapping[str, Any],
             transition: tuple[str | None, str | None] | None = None,
             order: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The payload of one outbox row.

    ``transition`` (from, to status) is given for order events only, ``order`` (the order's
    snapshot) for events about an order; an envelope without them has no such keys.
    """
    out: dict[str, Any] = {"event_id": event_id, "type": type,
                           "occurred_at": occurred_at.isoformat(), "order_number": order_number}
    if transition is not None:
        out["from_status"], out["to_status"] = transition
    out.update(actor=actor, reason=reason, data=data)
    if order is not None:
        out["order"] = order
    return out
