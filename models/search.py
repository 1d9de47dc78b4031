"""Contains search that uses an index, declared once.

The columns staff search by a part of the text (客户名称, 贷款编号, 联系人, 担保人名称, 催收编号)
are listed in SEARCHED. Each database gets a trigram index over them:

- PostgreSQL: a pg_trgm GIN index per column (`ix_<table>_<column>_trgm`, extension pg_trgm);
  ILIKE '%x%' uses it when x has at least 3 characters.
- SQLite: an FTS5 table with the trigram tokenizer per table (`<table>_search`), external
  content (the table itself), kept in step by triggers on insert, delete and update of those
  columns; a search of at least 3 characters is a MATCH on it.

Shorter text (「华信」 is two characters) has no trigram to look up: it is a LIKE / ILIKE scan
on both databases, stopped early by the page and count limits. `contains()` builds the clause;
admin_app.screens.SearchField (mode "contains") is its one caller.

The objects are created by migration a8c2e4f6b1d3 and, for a database built by create_all
(tests), by the table events below."""
from __future__ import annotations

import sqlite3

from sqlalchemy import and_, event, literal_column, select, text, true

SEARCHED: dict[str, tuple[str, ...]] = {
    "customer": ("name", "contact_person"),
    "loan": ("customer_name", "loan_no"),
    "guarantor": ("name",),
    "collection": ("collection_no",),
    "warning": ("customer_name", "contact_person", "loan_no"),
}
MIN_INDEXED = 3  # characters: a trigram
# FTS5's trigram tokenizer came with SQLite 3.34; an older library searches by LIKE alone.
SQLITE_TRIGRAM = sqlite3.sqlite_version_info >= (3, 34)


def fts_table(table: str) -> str:
    return f"{table}_search"


def trgm_index(table: str, column: str) -> str:
    return f"ix_{table}_{column}_trgm"


def sqlite_create(table: str) -> list[str]:
    cols = SEARCHED[table]
    fts = fts_table(table)
    names = ", ".join(cols)
    new = ", ".join(f"new.{c}" for c in cols)
    old = ", ".join(f"old.{c}" for c in cols)
    delete = f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old});"
    insert = f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new});"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='{table}', content_rowid='id', "
        "tokenize='trigram')",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN {insert} END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN {delete} END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {names} ON {table} BEGIN {delete} {insert} END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]


def sqlite_drop(table: str) -> list[str]:
    fts = fts_table(table)
    return [f"DROP TRIGGER IF EXISTS {fts}_{k}" for k in ("ai", "ad", "au")] + [f"DROP TABLE IF EXISTS {fts}"]


def postgresql_create(table: str, opclass: str = "gin_trgm_ops") -> list[str]:
    return [f"CREATE INDEX IF NOT EXISTS {trgm_index(table, c)} ON {table} USING gin ({c} {opclass})"
            for c in SEARCHED[table]]


def trgm_opclass(conn) -> str:
    """gin_trgm_ops qualified by the schema pg_trgm lives in (which may be off the search path)."""
    schema = conn.exec_driver_sql("SELECT extnamespace::regnamespace::text FROM pg_extension "
                                  "WHERE extname = 'pg_trgm'").scalar()
    return f"{schema}.gin_trgm_ops" if schema else "gin_trgm_ops"


def postgresql_drop(table: str) -> list[str]:
    return [f"DROP INDEX IF EXISTS {trgm_index(table, c)}" for c in SEARCHED[table]]


def create_statements(dialect: str, table: str, opclass: str = "gin_trgm_ops") -> list[str]:
    if dialect == "sqlite":
        return sqlite_create(table) if SQLITE_TRIGRAM else []
    return postgresql_create(table, opclass) if dialect == "postgresql" else []


def drop_statements(dialect: str, table: str) -> list[str]:
    return {"sqlite": sqlite_drop, "postgresql": postgresql_drop}.get(dialect, lambda t: [])(table)


EXTENSION = "CREATE EXTENSION IF NOT EXISTS pg_trgm"
EXTENSION_LOCK = 7_310_422  # pg_advisory_xact_lock key around EXTENSION


def is_search_object(name: str | None) -> bool:
    """Tables, shadow tables and indexes of this module (not declared in the models'
    metadata: Alembic's comparison leaves them out)."""
    if not name:
        return False
    if name.endswith("_trgm") and name.startswith("ix_"):
        return True
    return any(name == fts_table(t) or name.startswith(fts_table(t) + "_") for t in SEARCHED)


def missing_objects(conn) -> list[str]:
    """The search objects this database lacks (a table rebuilt by a later migration loses its
    triggers on SQLite: tests/test_migrations.py checks the migrated schema has them all)."""
    dialect = conn.dialect.name
    if dialect == "sqlite" and SQLITE_TRIGRAM:
        present = set(conn.execute(text("SELECT name FROM sqlite_master")).scalars())
        wanted = [n for t in SEARCHED for n in [fts_table(t)] + [f"{fts_table(t)}_{k}" for k in ("ai", "ad", "au")]]
    elif dialect == "postgresql":
        present = set(conn.execute(text("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"))
                      .scalars())
        wanted = [trgm_index(t, c) for t, cols in SEARCHED.items() for c in cols]
    else:
        return []
    return [n for n in wanted if n not in present]


def _like_pattern(raw: str) -> str:
    return "%" + raw.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def contains(column, raw: str, dialect: str):
    """Where `column` (a mapped column) contains `raw`, through the trigram index when there
    is one for it and `raw` is long enough."""
    raw = raw.strip()
    if not raw:
        return true()
    expr = getattr(column, "expression", column)
    table = getattr(getattr(expr, "table", None), "name", None)
    name = getattr(expr, "name", None)
    indexed = table in SEARCHED and name in SEARCHED[table] and len(raw) >= MIN_INDEXED
    if dialect == "sqlite" and indexed and SQLITE_TRIGRAM:
        fts = fts_table(table)
        phrase = '"' + raw.replace('"', '""') + '"'
        hits = (select(literal_column("rowid")).select_from(text(fts))
                .where(text(f"{fts} MATCH :q").bindparams(q=f"{name} : {phrase}")))
        key = expr.table.c.id
        # FTS5 has matched the trigrams; LIKE confirms (and keeps NULL and case rules as LIKE's).
        return and_(key.in_(hits), column.like(_like_pattern(raw), escape="\\"))
    if dialect == "postgresql":
        # Text without letter case (Chinese, digits) needs no ILIKE: LIKE matches the same rows,
        # uses the same index and scans faster where there is none (2 characters).
        caseless = raw.lower() == raw.upper()
        return (column.like if caseless else column.ilike)(_like_pattern(raw), escape="\\")
    return column.like(_like_pattern(raw), escape="\\")


def _install(target, connection, **kw):
    for statement in drop_statements(connection.dialect.name, target.name):
        connection.exec_driver_sql(statement)
    opclass = "gin_trgm_ops"
    if connection.dialect.name == "postgresql":
        # one CREATE EXTENSION at a time: two processes creating the schema at once (parallel
        # test workers) otherwise collide on pg_extension's unique name
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({EXTENSION_LOCK})")
        connection.exec_driver_sql(EXTENSION)
        opclass = trgm_opclass(connection)
    for statement in create_statements(connection.dialect.name, target.name, opclass):
        connection.exec_driver_sql(statement)


def _remove(target, connection, **kw):
    for statement in drop_statements(connection.dialect.name, target.name):
        connection.exec_driver_sql(statement)


def register(metadata) -> None:
    """create_all/drop_all build and remove the search objects with their tables."""
    for name in SEARCHED:
        table = metadata.tables[name]
        event.listen(table, "after_create", _install)
        event.listen(table, "before_drop", _remove)


def include_name(name, type_, parent_names) -> bool:
    """Alembic's include_name hook: leave the search objects out of autogenerate/compare."""
    return not is_search_object(name)
