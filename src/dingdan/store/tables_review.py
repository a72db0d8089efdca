"""Tables of customers and of the auto-review (issue 9). They share
:data:`dingdan.store.tables.metadata`; migration 0008 creates them.

A customer is a record of its own that orders link to (``customer_orders``): the order keeps
the contact it was placed with, the record gathers the person's orders, phones and emails.
``customer_contacts`` is what intake matches on (normalised: E.164 phones, lower-case emails).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from dingdan.store.tables import Id, Json, metadata, ts

customers = Table(
    "customers", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # person or company
    Column("name", String(200), nullable=False),
    Column("company", String(200)),
    Column("phone", String(20)),  # the main contact, E.164
    Column("email", String(254)),
    Column("tier", String(16), nullable=False),  # standard, trusted, vip
    Column("credit_limit", BigInteger),  # minor units; NULL: no credit terms
    Column("blocked", Boolean, nullable=False),
    Column("blocked_reason", String(400)),
    Column("notes", Text),
    Column("merged_into", Id, ForeignKey("customers.id")),  # merged away: look there
    Column("version", Integer, nullable=False),
    ts("created_at", False),
    ts("updated_at", False),
    Index("ix_customers_name", "name"),
)

customer_contacts = Table(
    "customer_contacts", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    Column("kind", String(8), nullable=False),  # phone, email
    Column("value", String(254), nullable=False),
    UniqueConstraint("kind", "value", name="uq_customer_contacts_kind_value"),
    Index("ix_customer_contacts_customer", "customer_id"),
)

customer_orders = Table(
    "customer_orders", metadata,
    Column("order_id", Id, ForeignKey("orders.id"), primary_key=True),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    Index("ix_customer_orders_customer", "customer_id", "order_id"),
)

# Every version of the review rule set ever published; the highest is in force.
review_rule_sets = Table(
    "review_rule_sets", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("version", Integer, nullable=False, unique=True),
    Column("enabled", Boolean, nullable=False),  # False: paid orders wait for a person
    Column("rules", Json, nullable=False),
    Column("created_by", String(120), nullable=False),
    ts("created_at", False),
)

# Each run of the rules over an order: the decision and its trace, shown to the reviewer.
order_reviews = Table(
    "order_reviews", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_id", Id, ForeignKey("orders.id"), nullable=False),
    Column("rule_set_version", Integer, nullable=False),
    Column("approved", Boolean, nullable=False),
    Column("summary", Text, nullable=False),
    Column("trace", Json, nullable=False),
    Column("findings", Json, nullable=False),
    Column("facts", Json, nullable=False),
    ts("created_at", False),
    Index("ix_order_reviews_order", "order_id", "id"),
)

# Phones, emails and addresses that hold an order for review whoever places it (normalised:
# E.164, lower-case, an address's parts joined without spaces).
review_blocklist = Table(
    "review_blocklist", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(8), nullable=False),  # phone, email, address
    Column("value", String(600), nullable=False),
    Column("reason", String(400), nullable=False),
    Column("created_by", String(120), nullable=False),
    ts("created_at", False),
    UniqueConstraint("kind", "value", name="uq_review_blocklist_kind_value"),
)
