"""warning list order index: (kind, as_of, days, id), so a warning list sorted by days and
then id (newest first) reads its first page from the index on PostgreSQL too

Revision ID: a7c3e91f0b42
Revises: 5dfb06223a83
Create Date: 2026-11-29 10:40:00

"""
from alembic import op


revision = 'a7c3e91f0b42'
down_revision = '5dfb06223a83'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_warning_kind_asof', table_name='warning')
    op.create_index('ix_warning_kind_asof', 'warning', ['kind', 'as_of', 'days', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_warning_kind_asof', table_name='warning')
    op.create_index('ix_warning_kind_asof', 'warning', ['kind', 'as_of', 'days'], unique=False)
