"""notifications and the worker

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

The delivery log, customer notification preferences, template overrides, SLA policies, the
holiday calendar, alerts and scheduler ticks (``dingdan.store.tables_delivery``).

On PostgreSQL a statement-level AFTER INSERT trigger on ``outbox`` sends ``NOTIFY
dingdan_outbox`` so idle workers wake at once (delivered at commit, never for a rollback;
identical notifications of one transaction collapse into one). Workers poll as well, so a
missed notification only costs one poll interval; SQLite has no NOTIFY and polls.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')

NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION dingdan_notify_outbox() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('dingdan_outbox', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""
NOTIFY_TRIGGER = """
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
FOR EACH STATEMENT EXECUTE FUNCTION dingdan_notify_outbox()
"""


def upgrade() -> None:
    op.create_table('deliveries',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('recipient', sa.String(length=1000), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('audience', sa.String(length=16), nullable=False),
    sa.Column('event_type', sa.String(length=48), nullable=False),
    sa.Column('order_number', sa.String(length=32), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('response_code', sa.Integer(), nullable=True),
    sa.Column('payload', Json, nullable=False),
    sa.Column('fallback', Json, nullable=False),
    sa.Column('fallback_of', Id, nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dead_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('event_id', 'recipient', 'channel', name='uq_deliveries_event_recipient_channel')
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_dead', ['dead_at'], unique=False, sqlite_where=sa.text("status = 'dead'"), postgresql_where=sa.text("status = 'dead'"))
        batch_op.create_index('ix_deliveries_due', ['next_attempt_at', 'id'], unique=False, sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
        batch_op.create_index('ix_deliveries_order', ['order_number', 'id'], unique=False)

    op.create_table('notification_preferences',
    sa.Column('contact', sa.String(length=254), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('tier', sa.String(length=32), nullable=False),
    sa.Column('channels', Json, nullable=False),
    sa.Column('opt_outs', Json, nullable=False),
    sa.Column('quiet_hours', sa.String(length=11), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('contact', name=op.f('pk_notification_preferences'))
    )
    op.create_table('notification_templates',
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('subject', sa.Text(), nullable=True),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'channel', 'language', name=op.f('pk_notification_templates'))
    )
    op.create_table('sla_policies',
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('working_time', sa.Boolean(), nullable=False),
    sa.Column('warn_minutes', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('stage', name=op.f('pk_sla_policies'))
    )
    op.create_table('holidays',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_holidays'))
    )
    op.create_table('alerts',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('order_number', sa.String(length=32), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=120), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    sa.UniqueConstraint('order_number', 'stage', 'kind', name='uq_alerts_order_stage_kind')
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_open', ['created_at'], unique=False, sqlite_where=sa.text('resolved_at IS NULL'), postgresql_where=sa.text('resolved_at IS NULL'))

    op.create_table('scheduler_ticks',
    sa.Column('job', sa.String(length=32), nullable=False),
    sa.Column('tick', sa.String(length=32), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('job', 'tick', name=op.f('pk_scheduler_ticks'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(NOTIFY_FUNCTION)
        op.execute(NOTIFY_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS outbox_notify ON outbox')
        op.execute('DROP FUNCTION IF EXISTS dingdan_notify_outbox()')
    op.drop_table('scheduler_ticks')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_open', sqlite_where=sa.text('resolved_at IS NULL'), postgresql_where=sa.text('resolved_at IS NULL'))

    op.drop_table('alerts')
    op.drop_table('holidays')
    op.drop_table('sla_policies')
    op.drop_table('notification_templates')
    op.drop_table('notification_preferences')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_order')
        batch_op.drop_index('ix_deliveries_due', sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
        batch_op.drop_index('ix_deliveries_dead', sqlite_where=sa.text("status = 'dead'"), postgresql_where=sa.text("status = 'dead'"))

    op.drop_table('deliveries')
