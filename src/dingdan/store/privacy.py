"""Erasure of a customer's personal data from their orders and every copy of it: the
orders' columns, the timeline's events, the outbox, the delivery log, push subscriptions and
notification preferences (``services/privacy.py`` says when; ``domain/privacy.py`` what).

The audit log is not rewritten: it is append-only by trigger (migration 0003), and holds
only what staff changed (``docs/security.md#erasure`` says so)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from dingdan.domain.privacy import ANONYMISED, ERASED_COLUMNS, scrub
from dingdan.store.tables import order_events, orders, outbox
from dingdan.store.tables_delivery import deliveries, notification_preferences
from dingdan.store.tables_intake import import_orders
from dingdan.store.tables_portal import order_ratings
from dingdan.store.tables_review import (
    customer_contacts,
    customer_orders,
    customers,
    order_reviews,
)
from dingdan.store.tables_webhooks import push_subscriptions

ORDER_COLUMNS = ("id", "number", "status", "notes", "custom_fields", *ERASED_COLUMNS)


class PrivacyRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def orders_of(self, phone: str | None, email: str | None) -> list[dict[str, Any]]:
        """Every order whose customer or recipient is reached by this phone or email."""
        match = []
        if phone:
            match += [orders.c.customer_phone == phone, orders.c.ship_phone == phone]
        if email:
            match.append(orders.c.customer_email == email)
        if not match:
            return []
        rows = await self.conn.execute(
            select(*(orders.c[c] for c in ORDER_COLUMNS)).where(or_(*match))
            .order_by(orders.c.id).with_for_update())
        return [dict(r._mapping) for r in rows]

    async def erase(self, rows: Sequence[dict[str, Any]], personal: set[str],
                    contacts: Sequence[str]) -> None:
        ids = [r["id"] for r in rows]
        numbers = [r["number"] for r in rows]
        for r in rows:
            await self.conn.execute(update(orders).where(orders.c.id == r["id"]).values(
                **ERASED_COLUMNS, notes=scrub(r["notes"], personal),
                custom_fields=scrub(r["custom_fields"], personal)))
        await self._rewrite(order_events, order_events.c.order_id.in_(ids),
                            ("data", "reason"), personal)
        # What the customer wrote themselves may name anyone: erased whole.
        await self.conn.execute(update(order_events).where(
            order_events.c.order_id.in_(ids), order_events.c.type == "order.help_requested",
            order_events.c.reason.is_not(None)).values(reason=ANONYMISED))
        for table, kind in ((outbox, outbox.c.type), (deliveries, deliveries.c.event_type)):
            rows_help = await self.conn.execute(select(table.c.id, table.c.payload).where(
                table.c.order_number.in_(numbers), kind == "order.help_requested"))
            for row_id, payload in rows_help.all():
                await self.conn.execute(update(table).where(table.c.id == row_id).values(
                    payload={**payload, "reason": ANONYMISED}))
        # The rows of an imported sheet that made these orders.
        sheets = await self.conn.execute(
            select(import_orders.c.batch_id, import_orders.c.seq, import_orders.c.sheet_rows)
            .where(import_orders.c.order_number.in_(numbers)))
        for batch_id, seq, sheet_rows in sheets.all():
            await self.conn.execute(update(import_orders).where(
                import_orders.c.batch_id == batch_id, import_orders.c.seq == seq)
                .values(sheet_rows=scrub(sheet_rows, personal)))
        await self.conn.execute(update(order_ratings).where(
            order_ratings.c.order_id.in_(ids), order_ratings.c.comment.is_not(None))
            .values(comment=ANONYMISED))
        await self._rewrite(outbox, outbox.c.order_number.in_(numbers), ("payload",), personal)
        await self._rewrite(deliveries, deliveries.c.order_number.in_(numbers),
                            ("payload", "last_error", "fallback"), personal)
        # The address a message went to: the customer's own become a placeholder (unique per
        # row, as the log's key requires); staff and webhook recipients stay.
        rows_to = await self.conn.execute(
            select(deliveries.c.id, deliveries.c.recipient).where(
                deliveries.c.order_number.in_(numbers), deliveries.c.audience == "customer"))
        for did, _recipient in rows_to:
            await self.conn.execute(update(deliveries).where(deliveries.c.id == did)
                                    .values(recipient=f"anonymised:{did}"))
        await self._rewrite(order_reviews, order_reviews.c.order_id.in_(ids),
                            ("summary", "trace", "findings", "facts"), personal)
        # The customer record these orders belong to: its contacts go, its name is erased
        # (its tier and history of orders stay, with the orders).
        owners = select(customer_orders.c.customer_id).where(customer_orders.c.order_id.in_(ids))
        await self._rewrite(customers, customers.c.id.in_(owners), ("notes",), personal)
        await self.conn.execute(update(customers).where(customers.c.id.in_(owners)).values(
            name=ERASED_COLUMNS["customer_name"], company=None, phone=None, email=None))
        await self.conn.execute(delete(customer_contacts)
                                .where(customer_contacts.c.customer_id.in_(owners)))
        await self.conn.execute(delete(push_subscriptions)
                                .where(push_subscriptions.c.order_number.in_(numbers)))
        if contacts:
            await self.conn.execute(delete(push_subscriptions)
                                    .where(push_subscriptions.c.customer_key.in_(contacts)))
            await self.conn.execute(delete(notification_preferences)
                                    .where(notification_preferences.c.contact.in_(contacts)))

    async def _rewrite(self, table: Table, where: Any, columns: Sequence[str],
                       personal: set[str]) -> None:
        rows = await self.conn.execute(select(table.c.id, *(table.c[c] for c in columns))
                                       .where(where))
        for row in rows.all():
            values = {c: scrub(row._mapping[c], personal) for c in columns}
            if any(values[c] != row._mapping[c] for c in columns):
                await self.conn.execute(update(table).where(table.c.id == row.id).values(**values))
