"""loan officer scope index: a 客户经理 confined to their own book (数据权限 本人) lists
their loans of some statuses newest first; (officer_id, status, id) serves that page and its
count from the index alone, and replaces the index on officer_id alone

Revision ID: c9d4e2a1f7b3
Revises: c3e5a7b9d1f2
Create Date: 2026-12-01 00:40:00

"""
from alembic import op


revision = 'c9d4e2a1f7b3'
down_revision = 'c3e5a7b9d1f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_loan_officer_status', 'loan', ['officer_id', 'status', 'id'], unique=False)
    op.drop_index('ix_loan_officer_id', table_name='loan')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ANALYZE loan')


def downgrade():
    op.create_index('ix_loan_officer_id', 'loan', ['officer_id'], unique=False)
    op.drop_index('ix_loan_officer_status', table_name='loan')
