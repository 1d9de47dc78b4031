"""预收款 (advance): loan.advance_balance (预收余额, money paid ahead of its due date and
applied on each due date, by the ledger and the daily job's advances step; a partial
index on the loans holding one) and
repayment.advance_part (what a repayment added to it, negative when a prepayment spent it;
the parts-sum check counts it).
Both 0 for existing rows: the previous release applied an early payment to its installment
at once, so nothing is held.

Revision ID: a6d8c0e2f4b7
Revises: f4b8d2e6a1c9
Create Date: 2026-12-01 04:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'a6d8c0e2f4b7'
down_revision = 'f4b8d2e6a1c9'
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=18, scale=2)
SUM = 'amount - penalty_part - interest_part - principal_part'


def upgrade():
    op.add_column('loan', sa.Column('advance_balance', MONEY, server_default='0', nullable=False))
    # one rebuild of the repayment table on SQLite: the column, and the parts-sum check with it
    with op.batch_alter_table('repayment') as batch:
        batch.add_column(sa.Column('advance_part', MONEY, server_default='0', nullable=False))
        batch.drop_constraint('ck_repayment_parts_sum', type_='check')
        batch.create_check_constraint('ck_repayment_parts_sum', f'ABS({SUM} - advance_part) < 0.005')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ANALYZE repayment')  # a rebuilt table has lost its planner statistics
    op.create_index('ix_loan_advance', 'loan', ['id'], sqlite_where=sa.text('advance_balance > 0'),
                    postgresql_where=sa.text('advance_balance > 0'))


def downgrade():
    op.drop_index('ix_loan_advance', table_name='loan')
    with op.batch_alter_table('repayment') as batch:
        batch.drop_constraint('ck_repayment_parts_sum', type_='check')
        batch.create_check_constraint('ck_repayment_parts_sum', f'ABS({SUM}) < 0.005')
        batch.drop_column('advance_part')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ANALYZE repayment')
    with op.batch_alter_table('loan') as batch:
        batch.drop_column('advance_balance')
