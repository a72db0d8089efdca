"""customers as records, and the auto-review: rule sets and each order's rule trace

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

``customers`` with the contacts intake matches on (``customer_contacts``) and the link from
each order (``customer_orders``); ``review_rule_sets`` (every published version; none yet:
paid orders wait for a person until a manager publishes a rule set) and ``order_reviews``
(each run of the rules over an order, with its trace); ``review_blocklist`` (phones,
emails and addresses that hold an order). See ``dingdan.store.tables_review``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
Json = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    op.create_table('customers',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('tier', sa.String(length=16), nullable=False),
    sa.Column('credit_limit', sa.BigInteger(), nullable=True),
    sa.Column('blocked', sa.Boolean(), nullable=False),
    sa.Column('blocked_reason', sa.String(length=400), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('merged_into', Id, nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merged_into'], ['customers.id'],
                            name=op.f('fk_customers_merged_into_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers'))
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index('ix_customers_name', ['name'], unique=False)
    op.create_table('customer_contacts',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('customer_id', Id, nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('value', sa.String(length=254), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                            name=op.f('fk_customer_contacts_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_contacts')),
    sa.UniqueConstraint('kind', 'value', name='uq_customer_contacts_kind_value')
    )
    with op.batch_alter_table('customer_contacts', schema=None) as batch_op:
        batch_op.create_index('ix_customer_contacts_customer', ['customer_id'], unique=False)
    op.create_table('customer_orders',
    sa.Column('order_id', Id, nullable=False),
    sa.Column('customer_id', Id, nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                            name=op.f('fk_customer_orders_customer_id_customers')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'],
                            name=op.f('fk_customer_orders_order_id_orders')),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_customer_orders'))
    )
    with op.batch_alter_table('customer_orders', schema=None) as batch_op:
        batch_op.create_index('ix_customer_orders_customer', ['customer_id', 'order_id'],
                              unique=False)
    op.create_table('review_rule_sets',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('rules', Json, nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_rule_sets')),
    sa.UniqueConstraint('version', name=op.f('uq_review_rule_sets_version'))
    )
    op.create_table('order_reviews',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('order_id', Id, nullable=False),
    sa.Column('rule_set_version', sa.Integer(), nullable=False),
    sa.Column('approved', sa.Boolean(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('trace', Json, nullable=False),
    sa.Column('findings', Json, nullable=False),
    sa.Column('facts', Json, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'],
                            name=op.f('fk_order_reviews_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_reviews'))
    )
    with op.batch_alter_table('order_reviews', schema=None) as batch_op:
        batch_op.create_index('ix_order_reviews_order', ['order_id', 'id'], unique=False)


    op.create_table('review_blocklist',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('value', sa.String(length=600), nullable=False),
    sa.Column('reason', sa.String(length=400), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_blocklist')),
    sa.UniqueConstraint('kind', 'value', name='uq_review_blocklist_kind_value')
    )


def downgrade() -> None:
    op.drop_table('review_blocklist')
    with op.batch_alter_table('order_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_order_reviews_order')
    op.drop_table('order_reviews')
    op.drop_table('review_rule_sets')
    with op.batch_alter_table('customer_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_orders_customer')
    op.drop_table('customer_orders')
    with op.batch_alter_table('customer_contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_contacts_customer')
    op.drop_table('customer_contacts')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index('ix_customers_name')
    op.drop_table('customers')
