"""trigram search: contains search on 客户名称, 贷款编号, 联系人, 担保人名称, 催收编号 through an
index (models.search): PostgreSQL pg_trgm GIN indexes, SQLite FTS5 trigram tables kept in
step by triggers and built from the existing rows

PostgreSQL: `CREATE EXTENSION pg_trgm` needs a role allowed to create it (pg_trgm is a trusted
extension from PostgreSQL 13: the database owner may; before 13 a superuser must run it once).

Revision ID: a8c2e4f6b1d3
Revises: a6d8c0e2f4b7
Create Date: 2026-12-01 04:00:00

"""
from alembic import op

from models.search import EXTENSION, SEARCHED, create_statements, drop_statements, trgm_opclass


revision = 'a8c2e4f6b1d3'
down_revision = 'a6d8c0e2f4b7'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    dialect, opclass = bind.dialect.name, 'gin_trgm_ops'
    if dialect == 'postgresql':
        op.execute(EXTENSION)
        opclass = trgm_opclass(bind)
    for table in SEARCHED:
        for statement in drop_statements(dialect, table) + create_statements(dialect, table, opclass):
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for table in SEARCHED:
        for statement in drop_statements(dialect, table):
            op.execute(statement)
