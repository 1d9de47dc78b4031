"""installment open covering index: the daily job's overdue and due-soon periods read from
a partial index of unpaid periods that holds every column it needs

Revision ID: c41d2b7e9a05
Revises: a7c3e91f0b42
Create Date: 2026-11-29 11:05:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c41d2b7e9a05'
down_revision = 'a7c3e91f0b42'
branch_labels = None
depends_on = None

COLUMNS = ['due_date', 'loan_id', 'principal_due', 'principal_paid', 'interest_due', 'interest_paid',
           'penalty_paid', 'penalty_accrued', 'penalty_accrued_to']
UNPAID = sa.text('paid_off_date IS NULL')


def upgrade():
    op.create_index('ix_installment_open', 'installment', COLUMNS, unique=False,
                    sqlite_where=UNPAID, postgresql_where=UNPAID)
    op.drop_index('ix_installment_unpaid_due', table_name='installment')


def downgrade():
    op.create_index('ix_installment_unpaid_due', 'installment', ['paid_off_date', 'due_date'], unique=False)
    op.drop_index('ix_installment_open', table_name='installment')
