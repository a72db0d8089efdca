"""people roles and audit

Users, their roles and warehouses; API tokens gain an owner, roles and their issuer; the
append-only audit log, with triggers that refuse UPDATE and DELETE on it (both databases).

Tokens issued before this revision could do everything; they keep that power (role admin)
so upgrading breaks no integration. Re-issue them with narrower roles (docs/security.md).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
Ts = sa.DateTime(timezone=True)

_PG_APPEND_ONLY = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END
$$;
CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
"""

_SQLITE_APPEND_ONLY = (
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END""",
)


def upgrade() -> None:
    op.create_table('users',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', Ts, nullable=True),
    sa.Column('session_epoch', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('last_sign_in_at', Ts, nullable=True),
    sa.Column('created_at', Ts, nullable=False),
    sa.Column('updated_at', Ts, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email')),
    sa.UniqueConstraint('phone', name=op.f('uq_users_phone')),
    )
    op.create_table('user_roles',
    sa.Column('user_id', Id, nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_roles_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'role', name=op.f('pk_user_roles')),
    )
    op.create_table('user_warehouses',
    sa.Column('user_id', Id, nullable=False),
    sa.Column('warehouse_id', Id, nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_warehouses_user_id_users')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_user_warehouses_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('user_id', 'warehouse_id', name=op.f('pk_user_warehouses')),
    )
    op.create_table('audit_log',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('at', Ts, nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', Id, nullable=True),
    sa.Column('roles', Json, nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('client', sa.String(length=400), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.String(length=128), nullable=False),
    sa.Column('before', Json, nullable=True),
    sa.Column('after', Json, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_at', ['at', 'id'], unique=False)
        batch_op.create_index('ix_audit_log_object', ['object_type', 'object_id', 'id'], unique=False)
        batch_op.create_index('ix_audit_log_user', ['user_id', 'id'], unique=False)
        batch_op.create_index('ix_audit_log_actor', ['actor', 'id'], unique=False)
        batch_op.create_index('ix_audit_log_action', ['action', 'id'], unique=False)

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', Id, nullable=True))
        batch_op.add_column(sa.Column('roles', Json, nullable=False,
                                      server_default=sa.text("'[\"admin\"]'")))
        batch_op.add_column(sa.Column('created_by', sa.String(length=120), nullable=True))
        batch_op.create_foreign_key(op.f('fk_api_tokens_user_id_users'), 'users', ['user_id'], ['id'])
    # The default only carried earlier tokens over; new tokens always say their roles.
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.alter_column('roles', server_default=None)

    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_PG_APPEND_ONLY)
    else:
        for statement in _SQLITE_APPEND_ONLY:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log')
        op.execute('DROP TRIGGER IF EXISTS audit_log_no_update_or_delete ON audit_log')
        op.execute('DROP FUNCTION IF EXISTS audit_log_append_only()')
    else:
        op.execute('DROP TRIGGER IF EXISTS audit_log_no_update')
        op.execute('DROP TRIGGER IF EXISTS audit_log_no_delete')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_api_tokens_user_id_users'), type_='foreignkey')
        batch_op.drop_column('created_by')
        batch_op.drop_column('roles')
        batch_op.drop_column('user_id')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_action')
        batch_op.drop_index('ix_audit_log_actor')
        batch_op.drop_index('ix_audit_log_user')
        batch_op.drop_index('ix_audit_log_object')
        batch_op.drop_index('ix_audit_log_at')
    op.drop_table('audit_log')
    op.drop_table('user_warehouses')
    op.drop_table('user_roles')
    op.drop_table('users')
