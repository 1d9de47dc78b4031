"""portfolio_summary: 首页's portfolio figures per (status, class, ageing bucket, product,
客户经理), filled from the loans of the book being upgraded (the daily job rewrites it and
every change to a loan keeps it in step: services.portfolio_summary).

Revision ID: c6e8a0b2d4f1
Revises: c5e7a9b1d3f8
Create Date: 2026-12-01 06:50:00

"""
import sqlalchemy as sa
from alembic import op


revision = 'c6e8a0b2d4f1'
down_revision = 'c5e7a9b1d3f8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'portfolio_summary',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('five_class', sa.Integer(), nullable=False),
        sa.Column('bucket', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('officer_id', sa.Integer(), nullable=True),
        sa.Column('loans', sa.Integer(), nullable=False),
        sa.Column('balance_cents', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    from services.portfolio_summary import rebuild

    rebuild(op.get_bind())


def downgrade():
    op.drop_table('portfolio_summary')
