"""The database tables, as SQLAlchemy Core metadata. Migrations in ``migrations/`` create them.

Same schema on SQLite (embedded default) and PostgreSQL. Money is integer minor units plus
a currency code; tables that people edit carry a ``version`` for optimistic concurrency.
Append-only tables (order events, stock movements, outbox) are never updated by services,
except the outbox's delivery bookkeeping.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a bigint identity.
Id = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite stores them as naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def ts(name: str, nullable: bool = True) -> Column[datetime]:
    return Column(name, UTCDateTime(), nullable=nullable)


products = Table(
    "products", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sku", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("barcode", String(64), unique=True),
    Column("price", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("weight_g", Integer),
    Column("length_mm", Integer),
    Column("width_mm", Integer),
    Column("height_mm", Integer),
    Column("active", Boolean, nullable=False, default=True),
    Column("version", Integer, nullable=False, default=1),
    ts("created_at", False),
    ts("updated_at", False),
)

warehouses = Table(
    "warehouses", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("region", String(64), nullable=False),  # province, e.g. 上海
    Column("city", String(64)),
    Column("address", String(400)),
    Column("priority", Integer, nullable=False, default=0),
    Column("active", Boolean, nullable=False, default=True),
    Column("version", Integer, nullable=False, default=1),
    ts("created_at", False),
    ts("updated_at", False),
)

stock = Table(
    "stock", metadata,
    Column("sku", String(64), ForeignKey("products.sku"), nullable=False),
    Column("warehouse_id", Id, ForeignKey("warehouses.id"), nullable=False),
    Column("on_hand", Integer, nullable=False, default=0),
    Column("reserved", Integer, nullable=False, default=0),
    ts("updated_at", False),
    PrimaryKeyConstraint("sku", "warehouse_id"),
)

stock_movements = Table(
    "stock_movements", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sku", String(64), nullable=False),
    Column("warehouse_id", Id, ForeignKey("warehouses.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("quantity", Integer, nullable=False),  # signed change of on hand
    Column("on_hand_after", Integer, nullable=False),
    Column("reason", String(400), nullable=False),
    Column("reference", String(64)),
    Column("actor", String(120), nullable=False),
    ts("created_at", False),
    Index("ix_stock_movements_sku_wh", "sku", "warehouse_id", "id"),
)

orders = Table(
    "orders", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("channel", String(32), nullable=False),
    Column("external_id", String(128)),
    Column("idempotency_key", String(128), unique=True),
    Column("request_hash", String(64)),
    Column("status", String(24), nullable=False),
    Column("payment_status", String(24), nullable=False),
    Column("fulfillment_status", String(24), nullable=False),
    Column("held_from", String(24)),
    Column("customer_name", String(200), nullable=False),
    Column("customer_company", String(200)),
    Column("customer_phone", String(20)),
    Column("customer_email", String(254)),
    Column("ship_recipient", String(200), nullable=False),
    Column("ship_phone", String(20), nullable=False),
    Column("ship_country", String(2), nullable=False),
    Column("ship_province", String(64), nullable=False),
    Column("ship_city", String(64), nullable=False),
    Column("ship_district", String(64), nullable=False),
    Column("ship_street", String(400), nullable=False),
    Column("ship_postcode", String(16)),
    Column("warehouse_id", Id, ForeignKey("warehouses.id")),
    Column("currency", String(3), nullable=False),
    Column("subtotal", BigInteger, nullable=False),
    Column("shipping_fee", BigInteger, nullable=False),
    Column("discount", BigInteger, nullable=False),
    Column("tax", BigInteger, nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("payment_method", String(32)),
    Column("payment_reference", String(128)),
    Column("promo_code", String(64)),
    Column("carrier", String(64)),
    Column("tracking_number", String(64)),
    ts("placed_at", False),
    ts("ship_by"),
    ts("deliver_by"),
    ts("paid_at"),
    ts("shipped_at"),
    ts("delivered_at"),
    ts("closed_at"),
    Column("notes", Text),
    Column("tags", Json, nullable=False),
    Column("custom_fields", Json, nullable=False),
    Column("version", Integer, nullable=False),
    ts("created_at", False),
    ts("updated_at", False),
    UniqueConstraint("channel", "external_id", name="uq_orders_channel_external_id"),
    CheckConstraint("total = subtotal + shipping_fee - discount + tax", name="amounts_add_up"),
    Index("ix_orders_status_placed", "status", "placed_at"),
    Index("ix_orders_placed", "placed_at"),
    Index("ix_orders_customer_phone", "customer_phone"),
    Index("ix_orders_customer_email", "customer_email"),
    Index("ix_orders_customer_name", "customer_name"),
    Index("ix_orders_ship_province", "ship_province", "placed_at"),
    Index("ix_orders_channel_placed", "channel", "placed_at"),
)

order_lines = Table(
    "order_lines", metadata,
    Column("order_id", Id, ForeignKey("orders.id"), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("sku", String(64), ForeignKey("products.sku"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("model", String(200)),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", BigInteger, nullable=False),
    Column("warehouse_id", Id, ForeignKey("warehouses.id"), nullable=False),
    PrimaryKeyConstraint("order_id", "line_no"),
    Index("ix_order_lines_sku", "sku", "order_id"),
)

order_tags = Table(
    "order_tags", metadata,
    Column("order_id", Id, ForeignKey("orders.id"), nullable=False),
    Column("tag", String(40), nullable=False),
    PrimaryKeyConstraint("order_id", "tag"),
    Index("ix_order_tags_tag", "tag", "order_id"),
)

order_events = Table(
    "order_events", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("order_id", Id, ForeignKey("orders.id"), nullable=False),
    Column("type", String(48), nullable=False),
    Column("from_status", String(24)),
    Column("to_status", String(24)),
    Column("actor", String(120), nullable=False),
    Column("source", String(32), nullable=False),
    Column("reason", Text),
    Column("data", Json, nullable=False),
    ts("created_at", False),
    Index("ix_order_events_order", "order_id", "id"),
)

outbox = Table(
    "outbox", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("type", String(48), nullable=False),
    Column("order_number", String(32)),
    Column("payload", Json, nullable=False),
    ts("created_at", False),
    ts("published_at"),
    Index("ix_outbox_unpublished", "id", sqlite_where=text("published_at IS NULL"),
          postgresql_where=text("published_at IS NULL")),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(120), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    ts("created_at", False),
    ts("expires_at"),
    ts("revoked_at"),
    # Issue 3 (migration 0003): a personal token acts for its owner, within the owner's roles;
    # an integration token (no owner) has exactly its roles.
    Column("user_id", Id, ForeignKey("users.id")),
    Column("roles", Json, nullable=False, default=list),
    Column("created_by", String(120)),
)
