"""user_session (server-side sessions), user_account.must_change_password, usernames unique
without regard to case; the per-row login failure columns go (issue 15)

Revision ID: 9c2e4f7a1b35
Revises: d8f1a6c3e27b
Create Date: 2026-12-01 01:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = '9c2e4f7a1b35'
down_revision = 'd8f1a6c3e27b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'user_session',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('token_hash'),
    )
    op.create_index('ix_user_session_user_id', 'user_session', ['user_id'])
    # Login failures are counted in the shared throttle store now, not per account row; the
    # case-insensitive unique index replaces the plain UNIQUE(username).
    if op.get_bind().dialect.name == "sqlite":
        # SQLite's UNIQUE(username) has no name to drop: rebuild from the table without it.
        with op.batch_alter_table('user_account', copy_from=_old_user_account(), recreate='always') as batch:
            _new_columns(batch)
    else:
        with op.batch_alter_table('user_account') as batch:
            batch.drop_constraint('user_account_username_key', type_='unique')
            _new_columns(batch)
    # Fails (changing nothing) if two accounts differ only in case: rename one first.
    op.create_index('uq_user_account_username_ci', 'user_account', [sa.text('lower(username)')],
                    unique=True)


def _new_columns(batch):
    batch.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                               server_default=sa.false()))
    batch.drop_column('failed_logins')
    batch.drop_column('locked_until')


def _old_user_account():
    return sa.Table(
        'user_account', sa.MetaData(),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('display_name', sa.String(length=64), nullable=False),
        sa.Column('password_hash', sa.String(length=256), nullable=False),
        sa.Column('roles_csv', sa.String(length=256), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('failed_logins', sa.Integer(), nullable=False),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_index('uq_user_account_username_ci', table_name='user_account')
    with op.batch_alter_table('user_account') as batch:
        batch.create_unique_constraint('user_account_username_key', ['username'])
        batch.drop_column('must_change_password')
        batch.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))
    op.drop_index('ix_user_session_user_id', table_name='user_session')
    op.drop_table('user_session')
