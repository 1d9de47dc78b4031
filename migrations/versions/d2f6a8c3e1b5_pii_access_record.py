"""敏感信息查看记录 (pii_access): an append-only record of reveals of personal data and of
exports of it; the database refuses UPDATE and DELETE on it (triggers on SQLite and
PostgreSQL, models.privacy.APPEND_ONLY_DDL)

Revision ID: d2f6a8c3e1b5
Revises: b9d1e3f5a7c2
Create Date: 2026-12-01 00:30:00

"""
import sqlalchemy as sa
from alembic import op

from models.privacy import set_append_only_guard

revision = 'd2f6a8c3e1b5'
down_revision = 'b9d1e3f5a7c2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'pii_access',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('table_name', sa.String(length=48), nullable=False),
        sa.Column('record_id', sa.String(length=48), nullable=True),
        sa.Column('field', sa.String(length=48), nullable=True),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.Column('reason_text', sa.String(length=256), nullable=True),
        sa.Column('client_ip', sa.String(length=64), nullable=True),
        sa.Column('row_count', sa.Integer(), nullable=True),
        sa.Column('filters', sa.Text(), nullable=True),
        sa.Column('file_name', sa.String(length=256), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_pii_access_at', 'pii_access', ['at'], unique=False)
    op.create_index('ix_pii_access_user', 'pii_access', ['username', 'id'], unique=False)
    op.create_index('ix_pii_access_record', 'pii_access', ['table_name', 'record_id'], unique=False)
    set_append_only_guard(op.get_bind(), True)


def downgrade():
    set_append_only_guard(op.get_bind(), False)
    op.drop_index('ix_pii_access_record', table_name='pii_access')
    op.drop_index('ix_pii_access_user', table_name='pii_access')
    op.drop_index('ix_pii_access_at', table_name='pii_access')
    op.drop_table('pii_access')
