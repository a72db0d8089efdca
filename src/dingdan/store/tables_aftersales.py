"""Tables of after-sales (issue 13): cases and their lines, refunds, return rules,
complaints and their conversation, and one timeline for both kinds of case. They share
:data:`dingdan.store.tables.metadata`; migration 0012 creates them.

Every case change writes a ``case_events`` row and an outbox row with the same event id, in
the same transaction (``store.aftersales.CaseEventRepo``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from dingdan.store.tables import Id, Json, metadata, ts

aftersales_cases = Table(
    "aftersales_cases", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("order_id", Id, ForeignKey("orders.id"), nullable=False),
    Column("order_number", String(32), nullable=False),
    Column("warehouse_id", Id, ForeignKey("warehouses.id")),  # the order's: the data scope
    Column("type", String(24), nullable=False),
    Column("status", String(24), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("description", Text),
    Column("opened_by", String(16), nullable=False),  # customer or staff
    Column("return_waybill", String(64)),
    Column("include_shipping", Boolean, nullable=False),
    Column("refund_amount", BigInteger, nullable=False),  # what the case gives back
    Column("currency", String(3), nullable=False),
    Column("version", Integer, nullable=False),
    ts("created_at", False),
    ts("updated_at", False),
    ts("approved_at"),
    ts("received_at"),
    ts("inspected_at"),
    ts("refunded_at"),
    ts("closed_at"),
    Index("ix_aftersales_cases_status", "status", "created_at"),
    Index("ix_aftersales_cases_created", "created_at", "id"),  # the queue, newest first
    Index("ix_aftersales_cases_order", "order_id"),
)

aftersales_case_lines = Table(
    "aftersales_case_lines", metadata,
    Column("case_id", Id, ForeignKey("aftersales_cases.id"), nullable=False),
    Column("line_no", Integer, nullable=False),  # the order's line
    Column("sku", String(64), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", BigInteger, nullable=False),
    Column("condition", String(16)),  # set by inspection: good (restocked) or damaged
    PrimaryKeyConstraint("case_id", "line_no"),
    CheckConstraint("quantity > 0", name="quantity_positive"),
)

# A refund of an order's payment, for a case or for a cancelled paid order.
# ``request_no`` is what the gateway de-duplicates on: a retry sends the same one.
refunds = Table(
    "refunds", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("request_no", String(64), nullable=False, unique=True),
    Column("order_id", Id, ForeignKey("orders.id"), nullable=False),
    Column("order_number", String(32), nullable=False),
    Column("case_id", Id, ForeignKey("aftersales_cases.id")),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("method", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", String(400)),
    Column("gateway_reference", String(128)),
    Column("attempts", Integer, nullable=False),
    Column("last_error", String(400)),
    Column("actor", String(120), nullable=False),
    Column("version", Integer, nullable=False),
    ts("created_at", False),
    ts("updated_at", False),
    ts("succeeded_at"),
    CheckConstraint("amount > 0", name="amount_positive"),
    Index("ix_refunds_order", "order_id"),
    Index("ix_refunds_status", "status", "id"),
)

# Eligibility as data: the longest matching SKU prefix decides a line's window and whether it
# may be returned at all (``domain.aftersales.ReturnRule``).
return_rules = Table(
    "return_rules", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sku_prefix", String(64), nullable=False, unique=True),
    Column("window_days", Integer, nullable=False),
    Column("returnable", Boolean, nullable=False),
    Column("note", String(200)),
    Column("version", Integer, nullable=False),
    ts("created_at", False),
    ts("updated_at", False),
)

complaints = Table(
    "complaints", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("order_id", Id, ForeignKey("orders.id"), nullable=False),
    Column("order_number", String(32), nullable=False),
    Column("warehouse_id", Id, ForeignKey("warehouses.id")),
    Column("line_nos", Json, nullable=False),  # the order lines it is about ([] : the order)
    Column("category", String(24), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("summary", String(400), nullable=False),
    Column("owner_role", String(32), nullable=False),
    Column("owner_id", Id, ForeignKey("users.id")),
    Column("owner_name", String(200)),
    Column("resolution", Text),
    Column("breaches", Json, nullable=False),  # deadlines missed and alerted
    Column("repeat", Boolean, nullable=False),  # same customer complained before
    Column("version", Integer, nullable=False),
    ts("first_response_due", False),
    ts("resolution_due", False),
    ts("first_response_at"),
    ts("resolved_at"),
    ts("closed_at"),
    ts("escalated_at"),
    ts("created_at", False),
    ts("updated_at", False),
    Index("ix_complaints_status", "status", "resolution_due"),
    Index("ix_complaints_created", "created_at", "id"),  # the queue, newest first
    Index("ix_complaints_owner", "owner_id", "status"),
    Index("ix_complaints_order", "order_id"),
)

complaint_messages = Table(
    "complaint_messages", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("complaint_id", Id, ForeignKey("complaints.id"), nullable=False),
    Column("direction", String(16), nullable=False),  # from_customer, to_customer, internal
    Column("author", String(120), nullable=False),
    Column("body", Text, nullable=False),
    ts("created_at", False),
    Index("ix_complaint_messages_complaint", "complaint_id", "id"),
)

# The timeline of every after-sales case and complaint (``kind``), oldest first.
case_events = Table(
    "case_events", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # aftersales, refund, complaint
    Column("case_id", Id, nullable=False),
    Column("case_number", String(32), nullable=False),
    Column("order_number", String(32), nullable=False),
    Column("type", String(48), nullable=False),
    Column("from_status", String(24)),
    Column("to_status", String(24)),
    Column("actor", String(120), nullable=False),
    Column("source", String(32), nullable=False),
    Column("reason", Text),
    Column("data", Json, nullable=False),
    ts("created_at", False),
    Index("ix_case_events_case", "kind", "case_id", "id"),
)
