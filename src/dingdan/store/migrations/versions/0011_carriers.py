"""carriers, rates, labels, tracking

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-02

Issue 12 (``dingdan.store.tables_carriers``): the carrier and service catalogue, zone rate
rows and remote-area surcharges, waybill number pools, rate-shopping choices, labels,
tracking subscriptions and tracking events, all keyed to the order and the tracking number;
and an index on ``orders.tracking_number``, by which a carrier's push finds its order.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0011'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('carriers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('kuaidi100_code', sa.String(length=32), nullable=True),
    sa.Column('international', sa.Boolean(), nullable=False),
    sa.Column('volumetric_divisor', sa.Integer(), nullable=False),
    sa.Column('check_digit', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carriers')),
    sa.UniqueConstraint('code', name=op.f('uq_carriers_code'))
    )
    op.create_table('carrier_services',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('carrier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('transit_days', sa.Integer(), nullable=False),
    sa.Column('cod', sa.Boolean(), nullable=False),
    sa.Column('insured', sa.Boolean(), nullable=False),
    sa.Column('cold_chain', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['carrier_id'], ['carriers.id'], name=op.f('fk_carrier_services_carrier_id_carriers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carrier_services')),
    sa.UniqueConstraint('carrier_id', 'code', name='uq_carrier_services_carrier_code')
    )
    op.create_table('remote_surcharges',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('carrier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('province', sa.String(length=64), nullable=False),
    sa.Column('city', sa.String(length=64), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.ForeignKeyConstraint(['carrier_id'], ['carriers.id'], name=op.f('fk_remote_surcharges_carrier_id_carriers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remote_surcharges'))
    )
    with op.batch_alter_table('remote_surcharges', schema=None) as batch_op:
        batch_op.create_index('ix_remote_surcharges_carrier', ['carrier_id', 'province'], unique=False)

    op.create_table('labels',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('carrier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('service_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('tracking_number', sa.String(length=64), nullable=False),
    sa.Column('size', sa.String(length=16), nullable=False),
    sa.Column('weight_g', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('void_reason', sa.String(length=400), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['carrier_id'], ['carriers.id'], name=op.f('fk_labels_carrier_id_carriers')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_labels_order_id_orders')),
    sa.ForeignKeyConstraint(['service_id'], ['carrier_services.id'], name=op.f('fk_labels_service_id_carrier_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_labels'))
    )
    with op.batch_alter_table('labels', schema=None) as batch_op:
        batch_op.create_index('ix_labels_order', ['order_id', 'id'], unique=False)
        batch_op.create_index('ix_labels_tracking', ['tracking_number'], unique=False)

    op.create_table('rate_choices',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('service_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('price', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('promised_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('keeps_promise', sa.Boolean(), nullable=False),
    sa.Column('weight_g', sa.Integer(), nullable=False),
    sa.Column('alternatives', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_rate_choices_order_id_orders')),
    sa.ForeignKeyConstraint(['service_id'], ['carrier_services.id'], name=op.f('fk_rate_choices_service_id_carrier_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_choices'))
    )
    with op.batch_alter_table('rate_choices', schema=None) as batch_op:
        batch_op.create_index('ix_rate_choices_order', ['order_id', 'id'], unique=False)

    op.create_table('rate_rows',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('service_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('origin', sa.String(length=64), nullable=False),
    sa.Column('destination', sa.String(length=64), nullable=False),
    sa.Column('min_weight_g', sa.Integer(), nullable=False),
    sa.Column('max_weight_g', sa.Integer(), nullable=False),
    sa.Column('first_weight_g', sa.Integer(), nullable=False),
    sa.Column('first_price', sa.BigInteger(), nullable=False),
    sa.Column('step_g', sa.Integer(), nullable=False),
    sa.Column('step_price', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('transit_days', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['carrier_services.id'], name=op.f('fk_rate_rows_service_id_carrier_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_rows'))
    )
    with op.batch_alter_table('rate_rows', schema=None) as batch_op:
        batch_op.create_index('ix_rate_rows_lane', ['service_id', 'origin', 'destination', 'min_weight_g'], unique=False)

    op.create_table('tracking_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tracking_number', sa.String(length=64), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('known', sa.Boolean(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('order_action', sa.String(length=24), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_tracking_events_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_events')),
    sa.UniqueConstraint('provider', 'tracking_number', 'code', 'occurred_at', name='uq_tracking_events_scan')
    )
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.create_index('ix_tracking_events_order', ['order_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_tracking_events_unknown', ['id'], unique=False, sqlite_where=sa.text('known = 0'), postgresql_where=sa.text('known = false'))

    op.create_table('tracking_subscriptions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('carrier_code', sa.String(length=32), nullable=False),
    sa.Column('tracking_number', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_tracking_subscriptions_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_subscriptions')),
    sa.UniqueConstraint('provider', 'tracking_number', name='uq_tracking_subscriptions_number')
    )
    op.create_table('waybill_numbers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('carrier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['carrier_id'], ['carriers.id'], name=op.f('fk_waybill_numbers_carrier_id_carriers')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_waybill_numbers_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waybill_numbers')),
    sa.UniqueConstraint('carrier_id', 'number', name='uq_waybill_numbers_carrier_number')
    )
    with op.batch_alter_table('waybill_numbers', schema=None) as batch_op:
        batch_op.create_index('ix_waybill_numbers_free', ['carrier_id', 'id'], unique=False, sqlite_where=sa.text('order_id IS NULL'), postgresql_where=sa.text('order_id IS NULL'))

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_tracking_number', ['tracking_number'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_tracking_number')

    with op.batch_alter_table('waybill_numbers', schema=None) as batch_op:
        batch_op.drop_index('ix_waybill_numbers_free', sqlite_where=sa.text('order_id IS NULL'), postgresql_where=sa.text('order_id IS NULL'))

    op.drop_table('waybill_numbers')
    op.drop_table('tracking_subscriptions')
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.drop_index('ix_tracking_events_unknown', sqlite_where=sa.text('known = 0'), postgresql_where=sa.text('known = false'))
        batch_op.drop_index('ix_tracking_events_order')

    op.drop_table('tracking_events')
    with op.batch_alter_table('rate_rows', schema=None) as batch_op:
        batch_op.drop_index('ix_rate_rows_lane')

    op.drop_table('rate_rows')
    with op.batch_alter_table('rate_choices', schema=None) as batch_op:
        batch_op.drop_index('ix_rate_choices_order')

    op.drop_table('rate_choices')
    with op.batch_alter_table('labels', schema=None) as batch_op:
        batch_op.drop_index('ix_labels_tracking')
        batch_op.drop_index('ix_labels_order')

    op.drop_table('labels')
    with op.batch_alter_table('remote_surcharges', schema=None) as batch_op:
        batch_op.drop_index('ix_remote_surcharges_carrier')

    op.drop_table('remote_surcharges')
    op.drop_table('carrier_services')
    op.drop_table('carriers')
