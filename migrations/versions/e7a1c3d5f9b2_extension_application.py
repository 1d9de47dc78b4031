"""extension applications: 展期 goes through approval (展期风控审查 → 展期风控审核); the
application waits in extension_application, at most one open per loan

Revision ID: e7a1c3d5f9b2
Revises: d2f6a8b3c5e1
Create Date: 2026-12-01 01:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e7a1c3d5f9b2'
down_revision = 'd2f6a8b3c5e1'
branch_labels = None
depends_on = None

OPEN = "review_status != 'approved' AND review_status != 'withdrawn'"


def upgrade():
    op.create_table('extension_application',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('old_maturity_date', sa.Date(), nullable=False),
    sa.Column('new_maturity_date', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('extension_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('review_status', sa.String(length=16), nullable=False),
    sa.Column('review_stage', sa.String(length=32), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('proposer_id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['extension_id'], ['extension.id'], ),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], ),
    sa.ForeignKeyConstraint(['proposer_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_extension_application_loan_id', 'extension_application', ['loan_id'], unique=False)
    op.create_index('ix_extension_application_stage', 'extension_application',
                    ['review_status', 'review_stage', 'id'], unique=False)
    op.create_index('uq_extension_application_open', 'extension_application', ['loan_id'], unique=True,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))


def downgrade():
    op.drop_table('extension_application')
