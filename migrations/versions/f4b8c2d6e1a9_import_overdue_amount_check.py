"""import_balance_check.overdue_amount: the old system's 逾期金额 of an imported loan,
compared with the replay once its repayments are imported (as 剩余本金 is);
outstanding_principal may be empty (a file giving 逾期金额 only).

Revision ID: f4b8c2d6e1a9
Revises: e7a1c3d5f9b2
Create Date: 2026-12-01 03:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'f4b8c2d6e1a9'
down_revision = 'e7a1c3d5f9b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('import_balance_check') as batch:
        batch.add_column(sa.Column('overdue_amount', sa.Numeric(precision=18, scale=2), nullable=True))
        batch.alter_column('outstanding_principal', existing_type=sa.Numeric(precision=18, scale=2), nullable=True)


def downgrade():
    op.execute("DELETE FROM import_balance_check WHERE outstanding_principal IS NULL")
    with op.batch_alter_table('import_balance_check') as batch:
        batch.alter_column('outstanding_principal', existing_type=sa.Numeric(precision=18, scale=2), nullable=False)
        batch.drop_column('overdue_amount')
