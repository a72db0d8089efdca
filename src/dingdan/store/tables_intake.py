"""Tables of the intake channels (issue 10): shop connections, the channel version applied to
each channel order, and sheet import batches. They share :data:`dingdan.store.tables.metadata`;
migration 0009 creates them.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
)

from dingdan.store.tables import Id, Json, metadata, ts

# A shop that sends its orders by webhook (``kind``: shopify, woocommerce). ``secret`` is the
# key the shop signs with (Shopify: the app's client secret; WooCommerce: the webhook's
# secret), kept because verifying needs it; shown to nobody after it is saved.
channel_sources = Table(
    "channel_sources", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(32), nullable=False, unique=True),  # the orders' ``channel``
    Column("kind", String(16), nullable=False),
    Column("name", String(200), nullable=False),
    Column("secret", String(256), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_by", String(120), nullable=False),
    ts("created_at", False),
    ts("updated_at", False),
)

# The channel's own version of each of its orders that was last applied (Shopify
# ``updated_at``, WooCommerce ``date_modified_gmt``): an older message is ignored.
channel_orders = Table(
    "channel_orders", metadata,
    Column("channel", String(32), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("order_number", String(32), nullable=False),
    ts("channel_version"),
    ts("updated_at", False),
    PrimaryKeyConstraint("channel", "external_id"),
)

import_batches = Table(
    "import_batches", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("channel", String(32), nullable=False),
    Column("filename", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("partial", Boolean, nullable=False),
    Column("row_count", Integer, nullable=False),  # data rows of the file
    Column("order_count", Integer, nullable=False),  # orders they make
    Column("bad_rows", Integer, nullable=False),  # rows the check found bad
    Column("done", Integer, nullable=False),  # orders tried by the import so far
    Column("created", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_by", String(120), nullable=False),
    ts("created_at", False),
    ts("started_at"),
    ts("closed_at"),
    ts("updated_at", False),
    Index("ix_import_batches_created", "created_at"),
)

# One order of a batch: its sheet rows (``sheet_rows``: ``[{"row": 2, "values": {...}}]``),
# what the check found (``errors``: row, column, code, message) and what the import made of it.
import_orders = Table(
    "import_orders", metadata,
    Column("batch_id", Id, ForeignKey("import_batches.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("first_row", Integer, nullable=False),
    Column("sheet_rows", Json, nullable=False),
    Column("outcome", String(24), nullable=False),  # bad, pending, created, …
    Column("order_number", String(32)),
    Column("errors", Json, nullable=False),
    PrimaryKeyConstraint("batch_id", "seq"),
)

# The column mapping last used for a channel's sheets (column -> the file's header), so the
# next file from the same source is read the same way without giving it again.
import_mappings = Table(
    "import_mappings", metadata,
    Column("channel", String(32), primary_key=True),
    Column("mapping", Json, nullable=False),
    Column("updated_by", String(120), nullable=False),
    ts("updated_at", False),
)
