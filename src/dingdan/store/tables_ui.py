"""Tables the back office keeps for its own working state: saved views and review assignments.

They share :data:`dingdan.store.tables.metadata`, so one Alembic history (migration 0005)
creates them. Neither holds order facts: an order's status lives only in ``orders``.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, UniqueConstraint

from dingdan.store.tables import Id, metadata, orders, ts

# A named set of order-list filters, per person ("my overdue Tmall orders").
saved_views = Table(
    "saved_views", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("owner", String(120), nullable=False),  # the actor's key, e.g. user:42
    Column("name", String(80), nullable=False),
    Column("query", Text, nullable=False),  # the list's query string, without cursor
    ts("created_at", False),
    UniqueConstraint("owner", "name", name="uq_saved_views_owner_name"),
)

# Who on the review team has taken an order in the queue. One row per order at most.
review_assignments = Table(
    "review_assignments", metadata,
    Column("order_id", Id, ForeignKey("orders.id"), primary_key=True),
    Column("assignee", String(120), nullable=False),  # actor key
    Column("assignee_name", String(200), nullable=False),
    ts("assigned_at", False),
    Index("ix_review_assignments_assignee", "assignee"),
)

# Indexes the order list and home page need on a big order book (bench/pages measured them on
# 1,000,000 orders): a phone search also matches the recipient's phone; sorting by total or
# by last change; the overdue count and list (not shipped, ship-by passed).
Index("ix_orders_ship_phone", orders.c.ship_phone)
Index("ix_orders_total", orders.c.total)
Index("ix_orders_updated", orders.c.updated_at)
Index("ix_orders_status_ship_by", orders.c.status, orders.c.ship_by)
