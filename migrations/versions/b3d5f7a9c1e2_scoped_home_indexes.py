"""indexes for 数据权限 本人 on 首页 and the 系统建议分类待处理 card: ix_loan_portfolio and
ix_loan_status_days gain officer_id (an officer's scoped 首页 reads them alone instead of looking
up every loan: 200,000 loans 1,390 ms -> 60 ms on SQLite); partial ix_loan_suggested on the
loans whose suggested class is above their class

Revision ID: b3d5f7a9c1e2
Revises: a8c2e4f6b1d3
Create Date: 2026-12-01 04:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b3d5f7a9c1e2'
down_revision = 'a8c2e4f6b1d3'
branch_labels = None
depends_on = None

SUGGESTED = "suggested_class > five_class"


def upgrade():
    op.drop_index('ix_loan_portfolio', table_name='loan')
    op.create_index('ix_loan_portfolio', 'loan', ['status', 'five_class', 'outstanding_principal', 'officer_id'])
    op.drop_index('ix_loan_status_days', table_name='loan')
    op.create_index('ix_loan_status_days', 'loan', ['status', 'days_overdue', 'id', 'officer_id'])
    op.create_index('ix_loan_suggested', 'loan', ['status', 'id'], sqlite_where=sa.text(SUGGESTED),
                    postgresql_where=sa.text(SUGGESTED))


def downgrade():
    op.drop_index('ix_loan_suggested', table_name='loan')
    op.drop_index('ix_loan_status_days', table_name='loan')
    op.create_index('ix_loan_status_days', 'loan', ['status', 'days_overdue', 'id'])
    op.drop_index('ix_loan_portfolio', table_name='loan')
    op.create_index('ix_loan_portfolio', 'loan', ['status', 'five_class', 'outstanding_principal'])
