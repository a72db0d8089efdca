"""Tables for people and the audit trail: users, their roles and warehouses, the audit log.

They share :data:`dingdan.store.tables.metadata`; migration 0003 creates them (and gives
``api_tokens`` its owner and roles). ``audit_log`` is append-only: no repository method
updates or deletes it, and database triggers refuse it on both SQLite and PostgreSQL.
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

users = Table(
    "users", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("email", String(254), unique=True),  # stored lower-case
    Column("phone", String(20), unique=True),  # E.164
    Column("language", String(8)),  # zh-CN or en; None: the browser's choice
    Column("active", Boolean, nullable=False),
    Column("password_hash", String(255)),  # None: cannot sign in with a password
    Column("failed_attempts", Integer, nullable=False),
    ts("locked_until"),
    # Bumped by "sign out everywhere" and by a password change: older sessions stop working.
    Column("session_epoch", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    ts("last_sign_in_at"),
    ts("created_at", False),
    ts("updated_at", False),
)

user_roles = Table(
    "user_roles", metadata,
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("role", String(32), nullable=False),
    PrimaryKeyConstraint("user_id", "role"),
)

# Staff with rows here see and work only these warehouses' orders and stock; none: all.
user_warehouses = Table(
    "user_warehouses", metadata,
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("warehouse_id", Id, ForeignKey("warehouses.id"), nullable=False),
    PrimaryKeyConstraint("user_id", "warehouse_id"),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    ts("at", False),
    Column("actor", String(120), nullable=False),  # label, e.g. user:张伟 or token:shop
    Column("actor_kind", String(16), nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("user_id", Id),  # the person: the signed-in user or the owner of the token
    Column("roles", Json, nullable=False),
    Column("source", String(32), nullable=False),  # api, web, cli, worker
    Column("ip", String(64)),
    Column("client", String(400)),  # user agent
    Column("action", String(64), nullable=False),  # e.g. order.approve, user.create
    Column("object_type", String(32), nullable=False),
    Column("object_id", String(128), nullable=False),
    Column("before", Json),
    Column("after", Json),
    Index("ix_audit_log_at", "at", "id"),
    Index("ix_audit_log_object", "object_type", "object_id", "id"),
    Index("ix_audit_log_user", "user_id", "id"),
    Index("ix_audit_log_actor", "actor", "id"),
    Index("ix_audit_log_action", "action", "id"),
)

# Back-office sign-ins, one row each (migration 0006). The cookie carries a random id; only
# its SHA-256 digest is stored, so a copy of the table signs nobody in. Signing out stamps
# ``revoked_at``; a session is good while not revoked, not expired, and its epoch is still the
# person's ``session_epoch`` (sign out everywhere, password change, deactivation bump it).
user_sessions = Table(
    "user_sessions", metadata,
    Column("id", String(64), primary_key=True),  # hex SHA-256 of the cookie's session id
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("session_epoch", Integer, nullable=False),
    ts("created_at", False),
    ts("last_seen_at", False),
    ts("expires_at", False),
    ts("revoked_at"),
    Column("ip", String(64)),
    Column("user_agent", String(400)),
    Index("ix_user_sessions_user", "user_id", "expires_at"),
)
