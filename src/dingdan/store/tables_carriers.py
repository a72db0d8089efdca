"""Tables of carriers (issue 12): the catalogue of carriers and services, zone rate tables and
remote-area surcharges, waybill number pools, labels, rate-shopping choices, tracking
subscriptions and tracking events. They share :data:`dingdan.store.tables.metadata`;
migration 0011 creates them.

Records of a parcel are keyed to the order (``order_id``) and the tracking number: a
shipment (issue 11) is one order's parcel, and these rows move to it when both land.

Unique keys carry the guarantees:

- ``tracking_events`` (provider, tracking number, code, time): a push sent twice records
  its scans once;
- ``waybill_numbers`` (carrier, number): a number is issued once — taking one is a
  conditional update of a free row;
- ``rate_rows`` are checked for gaps and overlaps when imported (``domain.rating``).
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
    text,
)

from dingdan.store.tables import Id, Json, metadata, orders, ts

# A push finds its order by tracking number.
Index("ix_orders_tracking_number", orders.c.tracking_number)

carriers = Table(
    "carriers", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(16), nullable=False, unique=True),  # SF, ZTO, EMS, DHL…
    Column("name_zh", String(100), nullable=False),
    Column("name_en", String(100), nullable=False),
    Column("kuaidi100_code", String(32)),  # shunfeng, zhongtong…: its code at Kuaidi100
    Column("international", Boolean, nullable=False),
    # Volumetric weight (kg) = length × width × height (cm) / divisor, as the carrier says.
    Column("volumetric_divisor", Integer, nullable=False),
    # How its waybill numbers end (``domain.waybills.CheckDigit``).
    Column("check_digit", String(16), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    ts("created_at", False),
    ts("updated_at", False),
)

carrier_services = Table(
    "carrier_services", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("carrier_id", Id, ForeignKey("carriers.id"), nullable=False),
    Column("code", String(32), nullable=False),  # standard, express, economy…
    Column("name_zh", String(100), nullable=False),
    Column("name_en", String(100), nullable=False),
    Column("transit_days", Integer, nullable=False),  # the promise: days from hand-over
    Column("cod", Boolean, nullable=False),
    Column("insured", Boolean, nullable=False),
    Column("cold_chain", Boolean, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    ts("created_at", False),
    ts("updated_at", False),
    UniqueConstraint("carrier_id", "code", name="uq_carrier_services_carrier_code"),
)

# One weight band of one (service, origin province, destination province): 首重 (the first
# ``first_weight_g`` for ``first_price``) and 续重 (each further ``step_g`` or part of it for
# ``step_price``); bands [min, max) of one lane neither overlap nor leave gaps.
rate_rows = Table(
    "rate_rows", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("service_id", Id, ForeignKey("carrier_services.id"), nullable=False),
    Column("origin", String(64), nullable=False),
    Column("destination", String(64), nullable=False),
    Column("min_weight_g", Integer, nullable=False),
    Column("max_weight_g", Integer, nullable=False),
    Column("first_weight_g", Integer, nullable=False),
    Column("first_price", BigInteger, nullable=False),
    Column("step_g", Integer, nullable=False),
    Column("step_price", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("transit_days", Integer),  # this lane's promise, if not the service's
    ts("created_at", False),
    Index("ix_rate_rows_lane", "service_id", "origin", "destination", "min_weight_g"),
)

# A carrier's surcharge for a remote destination (偏远地区附加费): a whole province, or one
# city of it.
remote_surcharges = Table(
    "remote_surcharges", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("carrier_id", Id, ForeignKey("carriers.id"), nullable=False),
    Column("province", String(64), nullable=False),
    Column("city", String(64)),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Index("ix_remote_surcharges_carrier", "carrier_id", "province"),
)

# The numbers a carrier issued to us (面单号段), each with its check digit.
waybill_numbers = Table(
    "waybill_numbers", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("carrier_id", Id, ForeignKey("carriers.id"), nullable=False),
    Column("number", String(32), nullable=False),
    Column("order_id", Id, ForeignKey("orders.id")),
    ts("issued_at"),
    ts("created_at", False),
    UniqueConstraint("carrier_id", "number", name="uq_waybill_numbers_carrier_number"),
    Index("ix_waybill_numbers_free", "carrier_id", "id",
          sqlite_where=text("order_id IS NULL"), postgresql_where=text("order_id IS NULL")),
)

# The service chosen for an order by rate shopping, with the alternatives it was chosen from.
rate_choices = Table(
    "rate_choices", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_id", Id, ForeignKey("orders.id"), nullable=False),
    Column("service_id", Id, ForeignKey("carrier_services.id")),
    Column("price", BigInteger),
    Column("currency", String(3)),
    ts("promised_at"),
    Column("keeps_promise", Boolean, nullable=False),
    Column("weight_g", Integer, nullable=False),  # chargeable weight
    Column("alternatives", Json, nullable=False),
    Column("reason", String(200), nullable=False),
    Column("actor", String(120), nullable=False),
    ts("created_at", False),
    Index("ix_rate_choices_order", "order_id", "id"),
)

labels = Table(
    "labels", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_id", Id, ForeignKey("orders.id"), nullable=False),
    Column("carrier_id", Id, ForeignKey("carriers.id"), nullable=False),
    Column("service_id", Id, ForeignKey("carrier_services.id")),
    Column("tracking_number", String(64), nullable=False),
    Column("size", String(16), nullable=False),  # 100x150 | 76x130
    Column("weight_g", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # issued | voided
    Column("void_reason", String(400)),
    Column("version", Integer, nullable=False),
    Column("created_by", String(120), nullable=False),
    ts("created_at", False),
    ts("voided_at"),
    Index("ix_labels_order", "order_id", "id"),
    Index("ix_labels_tracking", "tracking_number"),
)

tracking_subscriptions = Table(
    "tracking_subscriptions", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_id", Id, ForeignKey("orders.id"), nullable=False),
    Column("provider", String(16), nullable=False),
    Column("carrier_code", String(32), nullable=False),
    Column("tracking_number", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # active | finished
    ts("created_at", False),
    ts("updated_at", False),
    UniqueConstraint("provider", "tracking_number", name="uq_tracking_subscriptions_number"),
)

# Every scan a carrier reported, as it said it (code, text, place) and normalised.
tracking_events = Table(
    "tracking_events", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_id", Id, ForeignKey("orders.id"), nullable=False),
    Column("tracking_number", String(64), nullable=False),
    Column("provider", String(16), nullable=False),
    Column("code", String(32), nullable=False),
    Column("status", String(24), nullable=False),  # domain.tracking.TrackingStatus
    Column("known", Boolean, nullable=False),  # False: a code we had never seen
    Column("text", Text, nullable=False),
    Column("place", String(200)),
    ts("occurred_at", False),
    ts("received_at", False),
    Column("order_action", String(24)),  # the lifecycle action it took, if any
    UniqueConstraint("provider", "tracking_number", "code", "occurred_at",
                     name="uq_tracking_events_scan"),
    Index("ix_tracking_events_order", "order_id", "occurred_at"),
    Index("ix_tracking_events_unknown", "id", sqlite_where=text("known = 0"),
          postgresql_where=text("known = false")),
)
