"""ix_loan_next_inspection covers status and officer_id: 我的待办 近期应做贷后检查 (an
officer's open loans due for inspection, counted up to the cap) reads the index alone.

Revision ID: d5f7b9c1e3a4
Revises: c7e9a1b3d5f2
Create Date: 2026-12-01 07:20:00

"""
from alembic import op


revision = 'd5f7b9c1e3a4'
down_revision = 'c7e9a1b3d5f2'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_loan_next_inspection', table_name='loan')
    op.create_index('ix_loan_next_inspection', 'loan', ['next_inspection_date', 'status', 'officer_id'], unique=False)


def downgrade():
    op.drop_index('ix_loan_next_inspection', table_name='loan')
    op.create_index('ix_loan_next_inspection', 'loan', ['next_inspection_date'], unique=False)
