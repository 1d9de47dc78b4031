"""warning grams off: the warning table leaves the gram index of contains search
(models.search.GRAMMED). The daily job moves every current warning to the next day, an
UPDATE of an indexed column: on PostgreSQL a new row version with new entries in every index,
and a value's grams are about twice its length in GIN keys (100,000 warnings moved 2.5 s with
the trigram indexes, 10.3 s with the gram indexes as well). A book upgraded through
c5e7a9b1d3f8 before this change loses warning's gram table and triggers (SQLite) or indexes
(PostgreSQL); a warning list's 1- or 2-character search is a scan of that list's rows.

Revision ID: e9b1d3f5a7c8
Revises: d5f7b9c1e3a4
Create Date: 2026-12-01 07:30:00

"""
from alembic import op

from models.search import gram_drop_statements


revision = 'e9b1d3f5a7c8'
down_revision = 'd5f7b9c1e3a4'
branch_labels = None
depends_on = None


def upgrade():
    for statement in gram_drop_statements(op.get_bind().dialect.name, 'warning'):
        op.execute(statement)


def downgrade():
    pass  # c5e7a9b1d3f8 as declared now builds no gram objects for warning either
