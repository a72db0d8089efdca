"""webhooks

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

Webhook subscriptions for integrators and web-push subscriptions for browsers
(``dingdan.store.tables_webhooks``). Their deliveries live in the delivery log of 0002.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('webhook_subscriptions',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('secret', sa.String(length=128), nullable=False),
    sa.Column('event_types', Json, nullable=False),
    sa.Column('description', sa.String(length=400), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscriptions'))
    )
    op.create_table('push_subscriptions',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('endpoint', sa.String(length=1000), nullable=False),
    sa.Column('subscription', sa.Text(), nullable=False),
    sa.Column('order_number', sa.String(length=32), nullable=True),
    sa.Column('customer_key', sa.String(length=254), nullable=True),
    sa.Column('user_agent', sa.String(length=400), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_subscriptions')),
    sa.UniqueConstraint('endpoint', name=op.f('uq_push_subscriptions_endpoint'))
    )
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.create_index('ix_push_subscriptions_customer', ['customer_key'], unique=False)
        batch_op.create_index('ix_push_subscriptions_order', ['order_number'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_push_subscriptions_order')
        batch_op.drop_index('ix_push_subscriptions_customer')

    op.drop_table('push_subscriptions')
    op.drop_table('webhook_subscriptions')
