"""Tables of the integrator and browser channels (issue 4): webhook subscriptions and web-push
subscriptions. They share :data:`dingdan.store.tables.metadata`; migration 0004 creates them.

Deliveries to both go through the worker's delivery log (``tables_delivery.deliveries``): a
webhook delivery's ``recipient`` is the subscription id (``"12"``, or ``"12@replay-…"`` for a
replay), a web-push delivery's is the browser's PushSubscription JSON.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Text

from dingdan.store.tables import Id, Json, metadata, ts

# An integrator's endpoint. ``secret`` signs every body (HMAC-SHA256); it is shown once, when
# the subscription is made or its secret rotated, and kept here because signing needs it.
# ``event_types``: ["order.shipped", "order.*"] or ["*"].
webhook_subscriptions = Table(
    "webhook_subscriptions", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("url", String(2000), nullable=False),
    Column("secret", String(128), nullable=False),
    Column("event_types", Json, nullable=False),
    Column("description", String(400)),
    Column("active", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_by", String(120), nullable=False),
    ts("created_at", False),
    ts("updated_at", False),
)

# A browser that asked to be told about an order (from the order page) or about everything of
# one customer (``customer_key``: the contact they are known by, lower-case email or E.164).
# The endpoint is unique: subscribing again from the same browser moves the subscription.
push_subscriptions = Table(
    "push_subscriptions", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("endpoint", String(1000), nullable=False, unique=True),
    Column("subscription", Text, nullable=False),  # the PushSubscription JSON, as sent
    Column("order_number", String(32)),
    Column("customer_key", String(254)),
    Column("user_agent", String(400)),
    ts("created_at", False),
    ts("updated_at", False),
    Index("ix_push_subscriptions_order", "order_number"),
    Index("ix_push_subscriptions_customer", "customer_key"),
)
