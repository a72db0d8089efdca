"""The delivery log takes rows planned by different channels in one batch."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from dingdan.store.deliveries import DeliveryRepo
from dingdan.store.tables_delivery import deliveries
from dingdan.store.uow import UnitOfWorkFactory


def row(channel: str, recipient: str, event_id: str, now: Any, **extra: Any) -> dict[str, Any]:
    return {"event_id": event_id, "channel": channel, "recipient": recipient, "kind": "event",
            "audience": "customer", "event_type": "order.paid", "order_number": "DD1",
            "language": "en", "status": "pending", "attempts": 0, "next_attempt_at": now,
            "payload": {}, "fallback": [], "created_at": now, "updated_at": now, **extra}


async def test_email_and_webhook_rows_with_different_columns_queue_together(
        uows: UnitOfWorkFactory) -> None:
    """An email row names fallback_of, a webhook row does not: one fan-out batch holds both
    (this failed with 'A value is required for bind parameter fallback_of')."""
    event_id = str(uuid.uuid4())
    async with uows() as uow:
        now = uow.now()
        added = await DeliveryRepo(uow.conn).add([
            row("email", "a@example.com", event_id, now, fallback_of=None),
            row("webhook", "7", event_id, now),
        ])
        await uow.commit()
    assert added == 2
    async with uows(read_only=True) as uow:
        channels = sorted((await uow.conn.execute(
            select(deliveries.c.channel).where(deliveries.c.event_id == event_id))).scalars())
    assert channels == ["email", "webhook"]
