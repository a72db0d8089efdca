"""Tables of the customer's page (migration 0007): the customer's rating of a delivered
order. One per order; the order's facts stay in ``orders``."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, String, Table, Text

from dingdan.store.tables import Id, metadata, ts

# How the customer rated the delivery and the service, 1–5 each (the KPIs read it later).
order_ratings = Table(
    "order_ratings", metadata,
    Column("order_id", Id, ForeignKey("orders.id"), primary_key=True),
    Column("delivery", Integer, nullable=False),
    Column("service", Integer, nullable=False),
    Column("comment", Text),
    Column("source", String(32), nullable=False),  # portal (later: a shop's review import)
    ts("created_at", False),
    CheckConstraint("delivery BETWEEN 1 AND 5", name="delivery_1_to_5"),
    CheckConstraint("service BETWEEN 1 AND 5", name="service_1_to_5"),
)
