"""repayment reversal: 冲正 proposals (officer -> 风控主管) through the approval mechanism;
approval appends a reversal entry to the loan's ledger

Revision ID: c3e5a7b9d1f2
Revises: 9c1e5a7d3b20
Create Date: 2026-12-01 01:05:00

"""
import sqlalchemy as sa
from alembic import op


revision = 'c3e5a7b9d1f2'
down_revision = '9c1e5a7d3b20'
branch_labels = None
depends_on = None

OPEN = "review_status != 'approved' AND review_status != 'withdrawn'"


def upgrade():
    op.create_table(
        'repayment_reversal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('repayment_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.Column('review_status', sa.String(length=16), nullable=False),
        sa.Column('review_stage', sa.String(length=32), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('submitted_at', sa.DateTime(), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('proposer_id', sa.Integer(), nullable=False),
        sa.Column('loan_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['loan_id'], ['loan.id']),
        sa.ForeignKeyConstraint(['proposer_id'], ['user_account.id']),
        sa.ForeignKeyConstraint(['repayment_id'], ['repayment.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_repayment_reversal_loan_id', 'repayment_reversal', ['loan_id'], unique=False)
    op.create_index('ix_repayment_reversal_repayment_id', 'repayment_reversal', ['repayment_id'], unique=False)
    op.create_index('ix_repayment_reversal_stage', 'repayment_reversal', ['review_status', 'review_stage', 'id'],
                    unique=False)
    op.create_index('uq_repayment_reversal_open', 'repayment_reversal', ['loan_id'], unique=True,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    op.create_index('uq_repayment_reversal_done', 'repayment_reversal', ['repayment_id'], unique=True,
                    sqlite_where=sa.text("review_status = 'approved'"),
                    postgresql_where=sa.text("review_status = 'approved'"))


def downgrade():
    op.drop_table('repayment_reversal')
