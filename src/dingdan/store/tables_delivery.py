"""Tables of the delivery side (issue 4): the delivery log, customer notification preferences,
template overrides, SLA policies, the holiday calendar, alerts and scheduler ticks.

They share :data:`dingdan.store.tables.metadata`; migration 0002 creates them. Each carries the
unique key that makes its guarantee hold under any number of workers:

- ``deliveries`` (event_id, recipient, channel): a message is queued once, and once ``sent``
  it is never claimed again;
- ``alerts`` (order_number, stage, kind): an alert fires exactly once;
- ``scheduler_ticks`` (job, tick): a scheduled scan runs once per tick.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from dingdan.store.tables import Id, Json, metadata, ts

# One row per message to one recipient on one channel. ``status``: pending → sent | dead |
# failed_over (a later channel of the customer's chain took over). A worker owns a pending
# row while ``lease_until`` is in the future; a crashed worker's lease simply runs out.
deliveries = Table(
    "deliveries", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("recipient", String(1000), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("audience", String(16), nullable=False),
    Column("event_type", String(48), nullable=False),
    Column("order_number", String(32)),  # the ordering key: one order's events in order
    Column("language", String(8), nullable=False),
    Column("status", String(12), nullable=False),
    Column("attempts", Integer, nullable=False),
    ts("next_attempt_at", False),
    Column("lease_owner", String(64)),
    ts("lease_until"),
    Column("last_error", Text),
    Column("response_code", Integer),
    Column("payload", Json, nullable=False),  # the outbox payload, for rendering and bodies
    Column("fallback", Json, nullable=False),  # [[channel, recipient], …] still to try
    Column("fallback_of", Id),  # the delivery this one took over from
    ts("created_at", False),
    ts("updated_at", False),
    ts("sent_at"),
    ts("dead_at"),
    UniqueConstraint("event_id", "recipient", "channel",
                     name="uq_deliveries_event_recipient_channel"),
    Index("ix_deliveries_due", "next_attempt_at", "id",
          sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),
    Index("ix_deliveries_order", "order_number", "id"),
    Index("ix_deliveries_dead", "dead_at", sqlite_where=text("status = 'dead'"),
          postgresql_where=text("status = 'dead'")),
)

# A customer's choices, keyed by the contact they are known by (lower-case email or E.164
# phone). ``channels``: {"shipped": ["sms", "email"], "*": ["email"]}; ``opt_outs``: kinds.
notification_preferences = Table(
    "notification_preferences", metadata,
    Column("contact", String(254), primary_key=True),
    Column("language", String(8)),
    Column("tier", String(32), nullable=False),
    Column("channels", Json, nullable=False),
    Column("opt_outs", Json, nullable=False),
    Column("quiet_hours", String(11)),  # "22:00-08:00", the customer's local time
    Column("timezone", String(64)),
    Column("version", Integer, nullable=False),
    ts("updated_at", False),
)

# An operator's version of a packaged template; deleting the row restores the default.
notification_templates = Table(
    "notification_templates", metadata,
    Column("kind", String(32), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("language", String(8), nullable=False),
    Column("subject", Text),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text),
    Column("version", Integer, nullable=False),
    Column("updated_by", String(120), nullable=False),
    ts("updated_at", False),
    PrimaryKeyConstraint("kind", "channel", "language"),
)

# Overrides of the default SLA policy per stage (dingdan.domain.sla.DEFAULT_POLICIES).
sla_policies = Table(
    "sla_policies", metadata,
    Column("stage", String(16), primary_key=True),
    Column("minutes", Integer, nullable=False),
    Column("working_time", Boolean, nullable=False),
    Column("warn_minutes", Integer, nullable=False),
    Column("role", String(32), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    ts("updated_at", False),
)

# Days off on weekdays (holiday) and weekend days worked (workday, 调休).
holidays = Table(
    "holidays", metadata,
    Column("day", Date, primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("name", String(100), nullable=False),
)

alerts = Table(
    "alerts", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_number", String(32), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("kind", String(16), nullable=False),  # at_risk | breached
    Column("role", String(32), nullable=False),
    ts("deadline", False),
    ts("created_at", False),
    ts("acknowledged_at"),
    Column("acknowledged_by", String(120)),
    ts("resolved_at"),  # the order left the stage
    UniqueConstraint("order_number", "stage", "kind", name="uq_alerts_order_stage_kind"),
    Index("ix_alerts_open", "created_at", sqlite_where=text("resolved_at IS NULL"),
          postgresql_where=text("resolved_at IS NULL")),
)

scheduler_ticks = Table(
    "scheduler_ticks", metadata,
    Column("job", String(32), nullable=False),
    Column("tick", String(32), nullable=False),  # the tick's start, ISO 8601 UTC
    Column("owner", String(64), nullable=False),
    ts("created_at", False),
    PrimaryKeyConstraint("job", "tick"),
)
