"""The analytics read model: each order's measures and the sums the dashboard reads.

Derived data only, rebuilt from the order-event timeline at will (``dingdan analytics
rebuild``): nothing here is a fact of its own. ``analytics_orders`` keeps each order's last
measures, so a refresh knows what to take back out of the sums when an order moves on;
``analytics_daily`` and ``analytics_stages`` are those sums (``domain.analytics``);
``analytics_cursor`` says how far into the timeline the model has read. Migration 0013.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, ForeignKey, Index, Integer, String, Table

from dingdan.store.tables import Id, Json, metadata, ts

analytics_orders = Table(
    "analytics_orders", metadata,
    Column("order_id", Id, ForeignKey("orders.id"), primary_key=True),
    Column("measures", Json, nullable=False),  # domain.analytics.Measures, as JSON
    ts("updated_at", False),
)

_COUNTS = ("orders", "revenue", "cancelled", "shipped", "ship_promised", "shipped_on_time",
           "delivered", "deliver_promised", "delivered_on_time", "lead_n", "lead_seconds")

analytics_daily = Table(
    "analytics_daily", metadata,
    Column("day", Date, primary_key=True),  # the day the orders were placed (business time)
    Column("warehouse_id", Id, primary_key=True),
    Column("province", String(2), primary_key=True),  # GB/T 2260; "00" unknown
    Column("channel", String(32), primary_key=True),
    Column("carrier", String(64), primary_key=True),  # "" until shipped
    Column("currency", String(3), primary_key=True),
    *(Column(name, BigInteger, nullable=False, default=0) for name in _COUNTS),
    Index("ix_analytics_daily_warehouse_day", "warehouse_id", "day"),
)

analytics_stages = Table(
    "analytics_stages", metadata,
    Column("day", Date, primary_key=True),
    Column("warehouse_id", Id, primary_key=True),
    Column("status", String(24), primary_key=True),
    Column("bucket", Integer, primary_key=True),  # domain.analytics.BUCKET_EDGES index
    Column("n", BigInteger, nullable=False, default=0),
    Column("seconds", BigInteger, nullable=False, default=0),
)

analytics_cursor = Table(
    "analytics_cursor", metadata,
    Column("name", String(32), primary_key=True),
    Column("last_event_id", BigInteger, nullable=False),
    ts("refreshed_at", False),
)
