"""after-sales cases, refunds and complaints

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

Issue 13 (``dingdan.store.tables_aftersales``): after-sales cases and their lines, refunds
of an order's payment, return rules (eligibility as data), complaints and their messages,
and ``case_events``, the timeline of every case. New tables only: nothing existing changes.
The order's ``payment_status`` gains two values (``partially_refunded``, ``refund_due``),
which fit its column.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('case_events',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('case_id', Id, nullable=False),
    sa.Column('case_number', sa.String(length=32), nullable=False),
    sa.Column('order_number', sa.String(length=32), nullable=False),
    sa.Column('type', sa.String(length=48), nullable=False),
    sa.Column('from_status', sa.String(length=24), nullable=True),
    sa.Column('to_status', sa.String(length=24), nullable=True),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('data', Json, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_events')),
    sa.UniqueConstraint('event_id', name=op.f('uq_case_events_event_id'))
    )
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.create_index('ix_case_events_case', ['kind', 'case_id', 'id'], unique=False)

    op.create_table('return_rules',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('sku_prefix', sa.String(length=64), nullable=False),
    sa.Column('window_days', sa.Integer(), nullable=False),
    sa.Column('returnable', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_rules')),
    sa.UniqueConstraint('sku_prefix', name=op.f('uq_return_rules_sku_prefix'))
    )
    op.create_table('aftersales_cases',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('order_id', Id, nullable=False),
    sa.Column('order_number', sa.String(length=32), nullable=False),
    sa.Column('warehouse_id', Id, nullable=True),
    sa.Column('type', sa.String(length=24), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('opened_by', sa.String(length=16), nullable=False),
    sa.Column('return_waybill', sa.String(length=64), nullable=True),
    sa.Column('include_shipping', sa.Boolean(), nullable=False),
    sa.Column('refund_amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('inspected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_aftersales_cases_order_id_orders')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_aftersales_cases_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aftersales_cases')),
    sa.UniqueConstraint('number', name=op.f('uq_aftersales_cases_number'))
    )
    with op.batch_alter_table('aftersales_cases', schema=None) as batch_op:
        batch_op.create_index('ix_aftersales_cases_order', ['order_id'], unique=False)
        batch_op.create_index('ix_aftersales_cases_status', ['status', 'created_at'], unique=False)
        batch_op.create_index('ix_aftersales_cases_created', ['created_at', 'id'], unique=False)

    op.create_table('complaints',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('order_id', Id, nullable=False),
    sa.Column('order_number', sa.String(length=32), nullable=False),
    sa.Column('warehouse_id', Id, nullable=True),
    sa.Column('line_nos', Json, nullable=False),
    sa.Column('category', sa.String(length=24), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('summary', sa.String(length=400), nullable=False),
    sa.Column('owner_role', sa.String(length=32), nullable=False),
    sa.Column('owner_id', Id, nullable=True),
    sa.Column('owner_name', sa.String(length=200), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('breaches', Json, nullable=False),
    sa.Column('repeat', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('first_response_due', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolution_due', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_complaints_order_id_orders')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_complaints_owner_id_users')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_complaints_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints')),
    sa.UniqueConstraint('number', name=op.f('uq_complaints_number'))
    )
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.create_index('ix_complaints_order', ['order_id'], unique=False)
        batch_op.create_index('ix_complaints_owner', ['owner_id', 'status'], unique=False)
        batch_op.create_index('ix_complaints_status', ['status', 'resolution_due'], unique=False)
        batch_op.create_index('ix_complaints_created', ['created_at', 'id'], unique=False)

    op.create_table('aftersales_case_lines',
    sa.Column('case_id', Id, nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.BigInteger(), nullable=False),
    sa.Column('condition', sa.String(length=16), nullable=True),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_aftersales_case_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['case_id'], ['aftersales_cases.id'], name=op.f('fk_aftersales_case_lines_case_id_aftersales_cases')),
    sa.PrimaryKeyConstraint('case_id', 'line_no', name=op.f('pk_aftersales_case_lines'))
    )
    op.create_table('complaint_messages',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('complaint_id', Id, nullable=False),
    sa.Column('direction', sa.String(length=16), nullable=False),
    sa.Column('author', sa.String(length=120), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_complaint_messages_complaint_id_complaints')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_messages'))
    )
    with op.batch_alter_table('complaint_messages', schema=None) as batch_op:
        batch_op.create_index('ix_complaint_messages_complaint', ['complaint_id', 'id'], unique=False)

    op.create_table('refunds',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('request_no', sa.String(length=64), nullable=False),
    sa.Column('order_id', Id, nullable=False),
    sa.Column('order_number', sa.String(length=32), nullable=False),
    sa.Column('case_id', Id, nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=400), nullable=True),
    sa.Column('gateway_reference', sa.String(length=128), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=400), nullable=True),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('succeeded_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_refunds_amount_positive')),
    sa.ForeignKeyConstraint(['case_id'], ['aftersales_cases.id'], name=op.f('fk_refunds_case_id_aftersales_cases')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_refunds_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds')),
    sa.UniqueConstraint('request_no', name=op.f('uq_refunds_request_no'))
    )
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.create_index('ix_refunds_order', ['order_id'], unique=False)
        batch_op.create_index('ix_refunds_status', ['status', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_index('ix_refunds_status')
        batch_op.drop_index('ix_refunds_order')

    op.drop_table('refunds')
    with op.batch_alter_table('complaint_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_messages_complaint')

    op.drop_table('complaint_messages')
    op.drop_table('aftersales_case_lines')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index('ix_complaints_status')
        batch_op.drop_index('ix_complaints_created')
        batch_op.drop_index('ix_complaints_owner')
        batch_op.drop_index('ix_complaints_order')

    op.drop_table('complaints')
    with op.batch_alter_table('aftersales_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_aftersales_cases_status')
        batch_op.drop_index('ix_aftersales_cases_created')
        batch_op.drop_index('ix_aftersales_cases_order')

    op.drop_table('aftersales_cases')
    op.drop_table('return_rules')
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_index('ix_case_events_case')

    op.drop_table('case_events')
