"""form submission tokens: a create form submitted twice creates once (admin_app.once keeps
each spent one-time form token, keyed by the token)

Revision ID: d2f4a6c8e0b1
Revises: a3c5e8f1b207
Create Date: 2026-12-01 00:40:00

"""
import sqlalchemy as sa
from alembic import op


revision = 'd2f4a6c8e0b1'
down_revision = 'a3c5e8f1b207'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'form_submission',
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('endpoint', sa.String(length=128), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('location', sa.String(length=512), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id']),
        sa.PrimaryKeyConstraint('token'),
    )
    op.create_index('ix_form_submission_created', 'form_submission', ['created_at'], unique=False)


def downgrade():
    op.drop_index('ix_form_submission_created', table_name='form_submission')
    op.drop_table('form_submission')
