"""gram search: contains search of 1 or 2 characters (「华信」, 「华」) on 客户名称, 贷款编号, 联系人,
担保人名称, 催收编号 through an index of each value's one- and two-character pieces
(models.search): PostgreSQL a GIN index per column on search_grams(column), SQLite a
contentless FTS5 table per table kept in step by triggers, both built from the existing rows
(trigrams serve 3 characters and more; shorter text was a scan)

Revision ID: c5e7a9b1d3f8
Revises: f1b3d5a7c9e2
Create Date: 2026-12-01 07:00:00

"""
from alembic import op

from models.search import GRAMS_FUNCTION, SEARCHED, gram_create_statements, gram_drop_statements


revision = 'c5e7a9b1d3f8'
down_revision = 'f1b3d5a7c9e2'
branch_labels = None
depends_on = None


def upgrade():
    dialect = op.get_bind().dialect.name
    for table in SEARCHED:
        for statement in gram_drop_statements(dialect, table) + gram_create_statements(dialect, table):
            op.execute(statement)
        if dialect == 'postgresql':
            # statistics of the new indexed expressions: without them the planner takes every
            # gram as rare and reads a common one (「有限」) through the index, then sorts
            op.execute(f"ANALYZE {table}")


def downgrade():
    dialect = op.get_bind().dialect.name
    for table in SEARCHED:
        for statement in gram_drop_statements(dialect, table):
            op.execute(statement)
    if dialect == 'postgresql':
        op.execute(f"DROP FUNCTION IF EXISTS {GRAMS_FUNCTION}(text)")
