"""portfolio_snapshot and snapshot_month: month-end snapshots of the book (issue 16)

Revision ID: d8f1a6c3e27b
Revises: b7e2a9c4d1f6
Create Date: 2026-12-01 00:30:00

"""
import sqlalchemy as sa
from alembic import op


revision = 'd8f1a6c3e27b'
down_revision = 'b7e2a9c4d1f6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'portfolio_snapshot',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('month_end', sa.Date(), nullable=False),
        sa.Column('loan_id', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('officer_id', sa.Integer(), nullable=True),
        sa.Column('start_month', sa.String(length=7), nullable=False),
        sa.Column('principal', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('five_class', sa.Integer(), nullable=False),
        sa.Column('suggested_class', sa.Integer(), nullable=False),
        sa.Column('days_overdue', sa.Integer(), nullable=False),
        sa.Column('bucket', sa.Integer(), nullable=False),
        sa.Column('max_days_overdue', sa.Integer(), nullable=False),
        sa.Column('outstanding_principal', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('overdue_principal', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.CheckConstraint('five_class BETWEEN 1 AND 5', name='ck_snapshot_five_class'),
        sa.CheckConstraint('outstanding_principal >= 0 AND overdue_principal >= 0', name='ck_snapshot_money'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('uq_snapshot_month_loan', 'portfolio_snapshot', ['month_end', 'loan_id'], unique=True)
    op.create_index('ix_snapshot_month_class', 'portfolio_snapshot',
                    ['month_end', 'status', 'five_class', 'outstanding_principal'], unique=False)
    op.create_index('ix_snapshot_loan', 'portfolio_snapshot', ['loan_id', 'month_end'], unique=False)
    op.create_table(
        'snapshot_month',
        sa.Column('month_end', sa.Date(), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('loans', sa.Integer(), nullable=False),
        sa.Column('balance', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('written_at', sa.DateTime(), nullable=False),
        sa.Column('written_by', sa.String(length=64), nullable=True),
        sa.Column('seconds', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.PrimaryKeyConstraint('month_end'),
    )


def downgrade():
    op.drop_table('snapshot_month')
    op.drop_index('ix_snapshot_loan', table_name='portfolio_snapshot')
    op.drop_index('ix_snapshot_month_class', table_name='portfolio_snapshot')
    op.drop_index('uq_snapshot_month_loan', table_name='portfolio_snapshot')
    op.drop_table('portfolio_snapshot')
