"""warning moves without index writes: no index of warning holds as_of any more, so the daily
job's move of the current rows to the next day (as_of, days, amounts, level) changes no
indexed column — on PostgreSQL a HOT update, given room on the page: the table keeps half of
each page free (fillfactor 50). ix_warning_history (as_of, history rows) becomes
ix_warning_prunable (id, unhandled history rows: what the job prunes), ix_warning_handled
loses as_of (a subject has a few handled rows; their dates are read from the rows). On a
1,000,000-loan book the move wrote 1,400,000 new entries into each of the eleven indexes
(three trigram GIN) every night: over 5 minutes on PostgreSQL. The rows already stored move
to pages with room on the first run after the upgrade (that run is as slow as before).

Revision ID: c7e9a1b3d5f2
Revises: c6e8a0b2d4f1
Create Date: 2026-12-01 07:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c7e9a1b3d5f2'
down_revision = 'c6e8a0b2d4f1'
branch_labels = None
depends_on = None

HANDLED = "handling_state <> 'open'"


def upgrade():
    pg = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table('warning', schema=None) as batch_op:
        batch_op.drop_index('ix_warning_history')
        batch_op.drop_index('ix_warning_handled')
        batch_op.create_index('ix_warning_prunable', ['id'], unique=False,
                              sqlite_where=sa.text("is_current = 0 AND handling_state = 'open'"),
                              postgresql_where=sa.text("NOT is_current AND handling_state = 'open'"))
        batch_op.create_index('ix_warning_handled', ['kind', 'subject_key'], unique=False,
                              sqlite_where=sa.text(HANDLED), postgresql_where=sa.text(HANDLED))
    if pg:
        from models.warning import WARNING_FILLFACTOR

        op.execute(f"ALTER TABLE warning SET (fillfactor = {WARNING_FILLFACTOR})")


def downgrade():
    pg = op.get_bind().dialect.name == "postgresql"
    if pg:
        op.execute("ALTER TABLE warning RESET (fillfactor)")
    with op.batch_alter_table('warning', schema=None) as batch_op:
        batch_op.drop_index('ix_warning_handled')
        batch_op.drop_index('ix_warning_prunable')
        batch_op.create_index('ix_warning_handled', ['kind', 'subject_key', 'as_of'], unique=False,
                              sqlite_where=sa.text(HANDLED), postgresql_where=sa.text(HANDLED))
        batch_op.create_index('ix_warning_history', ['as_of'], unique=False,
                              sqlite_where=sa.text("is_current = 0"), postgresql_where=sa.text("NOT is_current"))
