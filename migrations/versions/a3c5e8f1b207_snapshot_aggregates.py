"""snapshot aggregates: per month-end counts and sums (snapshot_summary), cohorts
(snapshot_cohort) and the migration matrix of consecutive month-ends (snapshot_migration),
written with each month-end so the report screens read a few hundred rows, not a million;
ix_snapshot_month_class goes (a month-end is read in loan order)

Revision ID: a3c5e8f1b207
Revises: 4e7b9d2c6a18
Create Date: 2026-12-01 01:25:00

"""
import sqlalchemy as sa
from alembic import op


revision = 'a3c5e8f1b207'
down_revision = '4e7b9d2c6a18'
branch_labels = None
depends_on = None


def upgrade():
    # The screens read the aggregates; a month-end is read in loan order (uq_snapshot_month_loan).
    op.drop_index('ix_snapshot_month_class', table_name='portfolio_snapshot')
    op.create_table(
        'snapshot_summary',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('month_end', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('five_class', sa.Integer(), nullable=False),
        sa.Column('bucket', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('officer_id', sa.Integer(), nullable=True),
        sa.Column('loans', sa.Integer(), nullable=False),
        sa.Column('balance_cents', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_snapshot_summary_month', 'snapshot_summary', ['month_end', 'status'], unique=False)
    op.create_table(
        'snapshot_cohort',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('month_end', sa.Date(), nullable=False),
        sa.Column('start_month', sa.String(length=7), nullable=False),
        sa.Column('closed', sa.Integer(), nullable=False),
        sa.Column('ever_level', sa.Integer(), nullable=False),
        sa.Column('loans', sa.Integer(), nullable=False),
        sa.Column('principal_cents', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_snapshot_cohort_month', 'snapshot_cohort', ['month_end', 'start_month'], unique=False)
    op.create_table(
        'snapshot_migration',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('start_month_end', sa.Date(), nullable=False),
        sa.Column('end_month_end', sa.Date(), nullable=False),
        sa.Column('from_class', sa.Integer(), nullable=False),
        sa.Column('to_col', sa.String(length=16), nullable=False),
        sa.Column('loans', sa.Integer(), nullable=False),
        sa.Column('start_cents', sa.BigInteger(), nullable=False),
        sa.Column('end_cents', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_snapshot_migration_pair', 'snapshot_migration', ['start_month_end', 'end_month_end'],
                    unique=False)


def downgrade():
    op.drop_index('ix_snapshot_migration_pair', table_name='snapshot_migration')
    op.drop_table('snapshot_migration')
    op.drop_index('ix_snapshot_cohort_month', table_name='snapshot_cohort')
    op.drop_table('snapshot_cohort')
    op.drop_index('ix_snapshot_summary_month', table_name='snapshot_summary')
    op.drop_table('snapshot_summary')
    op.create_index('ix_snapshot_month_class', 'portfolio_snapshot',
                    ['month_end', 'status', 'five_class', 'outstanding_principal'], unique=False)
