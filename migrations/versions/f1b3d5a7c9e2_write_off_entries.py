"""write-off entries: 核销台账 lists the ledger's write-off entries (a small partial index on
them, newest first), and a loan written off before the ledger existed gets its write-off entry
(dated its 核销日期), so it is listed and a replay keeps it written off. Figures unchanged.

Revision ID: f1b3d5a7c9e2
Revises: b3d5f7a9c1e2
Create Date: 2026-12-01 03:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f1b3d5a7c9e2'
down_revision = 'b3d5f7a9c1e2'
branch_labels = None
depends_on = None

WRITE_OFF = "kind = 'write_off'"


def upgrade():
    from services.ledger_backfill import backfill_write_offs

    backfill_write_offs(op.get_bind())
    op.create_index('ix_loan_entry_write_off', 'loan_entry', ['id'], unique=False,
                    sqlite_where=sa.text(WRITE_OFF), postgresql_where=sa.text(WRITE_OFF))


def downgrade():
    op.drop_index('ix_loan_entry_write_off', table_name='loan_entry')
