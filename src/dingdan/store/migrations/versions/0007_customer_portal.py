"""the customer's page: ratings of delivered orders

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

``order_ratings``: the customer's rating of the delivery and the service (1–5 each, and a
comment), one per order, given on their own page after delivery
(``dingdan.store.tables_portal``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('order_ratings',
    sa.Column('order_id', Id, nullable=False),
    sa.Column('delivery', sa.Integer(), nullable=False),
    sa.Column('service', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('delivery BETWEEN 1 AND 5',
                       name=op.f('ck_order_ratings_delivery_1_to_5')),
    sa.CheckConstraint('service BETWEEN 1 AND 5', name=op.f('ck_order_ratings_service_1_to_5')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'],
                            name=op.f('fk_order_ratings_order_id_orders')),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_order_ratings'))
    )


def downgrade() -> None:
    op.drop_table('order_ratings')
