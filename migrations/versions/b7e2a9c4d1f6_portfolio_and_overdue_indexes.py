"""portfolio and overdue indexes: 首页's portfolio sums read (status, five_class,
outstanding_principal) instead of the loan table, and its aging counts and 还款催收's
most-overdue-first order read (status, days_overdue, id), which replaces the index on
days_overdue alone (the daily job still rewrites one index entry per overdue loan)
(1,000,000 loans: 首页 1.8 s, 还款催收 420 ms before)

Revision ID: b7e2a9c4d1f6
Revises: f3a8d2c6b1e4
Create Date: 2026-11-29 15:40:00

"""
from alembic import op


revision = 'b7e2a9c4d1f6'
down_revision = 'f3a8d2c6b1e4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_loan_status_days', 'loan', ['status', 'days_overdue', 'id'], unique=False)
    op.create_index('ix_loan_portfolio', 'loan', ['status', 'five_class', 'outstanding_principal'], unique=False)
    op.drop_index('ix_loan_days_overdue', table_name='loan')
    _analyze_loans()


def downgrade():
    op.create_index('ix_loan_days_overdue', 'loan', ['days_overdue'], unique=False)
    op.drop_index('ix_loan_portfolio', table_name='loan')
    op.drop_index('ix_loan_status_days', table_name='loan')
    _analyze_loans()


def _analyze_loans():
    """SQLite's planner knows a new index only once it is analysed (PostgreSQL needs no
    statistics for an index on plain columns)."""
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ANALYZE loan')
