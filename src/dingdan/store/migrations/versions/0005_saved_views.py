"""back office: saved views, review assignments, list indexes, live-update notifications

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22

On PostgreSQL an AFTER INSERT trigger on ``order_events`` sends ``NOTIFY dingdan_orders``
with the event id and order number, so every server process can push live page updates
(``web/live.py`` LISTENs). The notification is delivered at commit, never for a rollback.
SQLite has no NOTIFY; there each process polls the newest event id instead.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION dingdan_notify_order_event() RETURNS trigger AS $$
DECLARE
    n text;
BEGIN
    SELECT number INTO n FROM orders WHERE id = NEW.order_id;
    PERFORM pg_notify('dingdan_orders', json_build_object(
        'id', NEW.id, 'number', n, 'type', NEW.type, 'to_status', NEW.to_status)::text);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""

NOTIFY_TRIGGER = """
CREATE TRIGGER order_events_notify AFTER INSERT ON order_events
FOR EACH ROW EXECUTE FUNCTION dingdan_notify_order_event()
"""


def upgrade() -> None:
    op.create_table(
        'saved_views',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('owner', sa.String(length=120), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('query', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_views')),
        sa.UniqueConstraint('owner', 'name', name='uq_saved_views_owner_name'),
    )
    op.create_table(
        'review_assignments',
        sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('assignee', sa.String(length=120), nullable=False),
        sa.Column('assignee_name', sa.String(length=200), nullable=False),
        sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_review_assignments_order_id_orders')),
        sa.PrimaryKeyConstraint('order_id', name=op.f('pk_review_assignments')),
    )
    op.create_index('ix_review_assignments_assignee', 'review_assignments', ['assignee'])
    op.create_index('ix_orders_ship_phone', 'orders', ['ship_phone'])
    op.create_index('ix_orders_total', 'orders', ['total'])
    op.create_index('ix_orders_updated', 'orders', ['updated_at'])
    op.create_index('ix_orders_status_ship_by', 'orders', ['status', 'ship_by'])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(NOTIFY_FUNCTION)
        op.execute(NOTIFY_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS order_events_notify ON order_events')
        op.execute('DROP FUNCTION IF EXISTS dingdan_notify_order_event()')
    for name in ('ix_orders_status_ship_by', 'ix_orders_updated', 'ix_orders_total',
                 'ix_orders_ship_phone'):
        op.drop_index(name, table_name='orders')
    op.drop_index('ix_review_assignments_assignee', table_name='review_assignments')
    op.drop_table('review_assignments')
    op.drop_table('saved_views')
