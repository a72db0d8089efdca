"""the analytics read model

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

``analytics_orders`` (each order's measures from its timeline), ``analytics_daily`` and
``analytics_stages`` (their sums, read by the dashboard) and ``analytics_cursor`` (how far
into ``order_events`` the model has read); see ``dingdan.store.tables_analytics``. Derived
data only: the worker fills them from the timeline on its next run, so existing databases
need no backfill step (``dingdan analytics rebuild`` rebuilds them at once).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
COUNTS = ("orders", "revenue", "cancelled", "shipped", "ship_promised", "shipped_on_time",
          "delivered", "deliver_promised", "delivered_on_time", "lead_n", "lead_seconds")


def upgrade() -> None:
    op.create_table('analytics_orders',
    sa.Column('order_id', Id, nullable=False),
    sa.Column('measures', Json, nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'],
                            name=op.f('fk_analytics_orders_order_id_orders')),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_analytics_orders'))
    )
    op.create_table('analytics_daily',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('warehouse_id', Id, nullable=False),
    sa.Column('province', sa.String(length=2), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('carrier', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    *(sa.Column(name, sa.BigInteger(), nullable=False) for name in COUNTS),
    sa.PrimaryKeyConstraint('day', 'warehouse_id', 'province', 'channel', 'carrier',
                            'currency', name=op.f('pk_analytics_daily'))
    )
    with op.batch_alter_table('analytics_daily', schema=None) as batch_op:
        batch_op.create_index('ix_analytics_daily_warehouse_day', ['warehouse_id', 'day'],
                              unique=False)
    op.create_table('analytics_stages',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('warehouse_id', Id, nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('bucket', sa.Integer(), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.Column('seconds', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'warehouse_id', 'status', 'bucket',
                            name=op.f('pk_analytics_stages'))
    )
    op.create_table('analytics_cursor',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('last_event_id', sa.BigInteger(), nullable=False),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_analytics_cursor'))
    )


def downgrade() -> None:
    op.drop_table('analytics_cursor')
    op.drop_table('analytics_stages')
    with op.batch_alter_table('analytics_daily', schema=None) as batch_op:
        batch_op.drop_index('ix_analytics_daily_warehouse_day')
    op.drop_table('analytics_daily')
    op.drop_table('analytics_orders')
