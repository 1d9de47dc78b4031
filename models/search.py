"""Contains search that uses an index, declared once.

The columns staff search by a part of the text (客户名称, 贷款编号, 联系人, 担保人名称, 催收编号)
are listed in SEARCHED. Each database gets a trigram index over them:

- PostgreSQL: a pg_trgm GIN index per column (`ix_<table>_<column>_trgm`, extension pg_trgm);
  ILIKE '%x%' uses it when x has at least 3 characters.
- SQLite: an FTS5 table with the trigram tokenizer per table (`<table>_search`), external
  content (the table itself), kept in step by triggers on insert, delete and update of those
  columns; a search of at least 3 characters is a MATCH on it.

Shorter text (「华信」 is two characters, 「华」 one) has no trigram: a second index holds each
value's grams, the text's pieces of one and two characters (`grams()` in Python, the rule
both databases' objects are built from), over the SEARCHED columns of GRAMMED (all but the
warning table's, which the daily job rewrites every day):

- PostgreSQL: a GIN index per column on the array `search_grams(<column>)` (a SQL function
  created beside it: the one- and two-character substrings, lowercased as ILIKE compares); a search of 1 or 2 characters is `search_grams(<column>) @> ARRAY[<text>]`.
- SQLite: an FTS5 table per table (`<table>_grams`, contentless, tokenizer unicode61) whose
  document for each column is the value's two-character pieces and its last character,
  separated by spaces, written by triggers on insert, delete and update of those columns; a
  2-character search is that piece as a phrase, a 1-character search a prefix query (served
  by the table's prefix index of one character): every place the character stands is the
  start of a piece.

Text the gram index cannot look up (a character FTS5's unicode61 takes as a separator, such
as punctuation), a gram held by many rows (`_gram_worth_it`) and warning's columns are a
scan, stopped early by the page and count limits (on PostgreSQL by strpos: `_short_scan`).
The trigram index is a pre-filter LIKE confirms; the gram index's hits are the answer where
its piece is the text itself (PostgreSQL always, lowercased as ILIKE compares; SQLite for text
without letter case), else LIKE confirms. `contains()` builds the clause;
admin_app.screens.SearchField (mode "contains") is its one caller.

The trigram objects are created by migration a8c2e4f6b1d3, the gram objects by migration
c5e7a9b1d3f8 (warning's dropped by e9b1d3f5a7c8) and, for a database built by create_all
(tests), both by the table events below."""
from __future__ import annotations

import sqlite3

from sqlalchemy import Text, and_, bindparam, column, event, func, literal, literal_column, select, table, text, true
from sqlalchemy.dialects.postgresql import ARRAY, array

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


# ---- grams: the index of text shorter than a trigram -------------------------------------
GRAM = 2  # characters: searches of 1..GRAM characters are looked up in the gram index
# The SEARCHED tables with a gram index: all but warning. The daily job moves every current
# warning to the next day (an UPDATE of as_of, which an index holds: on PostgreSQL a new row
# version with new entries in every index), and a value's grams are about twice its length in
# GIN keys: 100,000 warnings moved 2.5 s with the trigram indexes, 10.3 s with grams as well.
# A warning list's 1- or 2-character search is a scan of that list's current rows.
GRAMMED: dict[str, tuple[str, ...]] = {t: cols for t, cols in SEARCHED.items() if t != "warning"}
GRAMS_FUNCTION = "search_grams"


def grams(value: str | None) -> set[str]:
    """The pieces of `value` a gram index holds (PostgreSQL's rule; SQLite holds the pieces of
    two characters and the last character, and finds one character by prefix)."""
    if not value:
        return set()
    low = value.lower()
    return {low[i:i + n] for n in (1, 2) for i in range(len(low) - n + 1)}


def gram_table(table: str) -> str:
    return f"{table}_grams"


def gram_index(table: str, column: str) -> str:
    return f"ix_{table}_{column}_grams"


def _sqlite_pieces(row: str, column: str) -> str:
    """SQL: the value's two-character pieces and its last character, space-separated (the
    document FTS5 tokenizes; a value of one character is its own piece, NULL stays NULL)."""
    return (f"(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < length({row}.{column})) "
            f"SELECT group_concat(substr({row}.{column}, i, {GRAM}), ' ') FROM n)")


def sqlite_gram_create(table: str) -> list[str]:
    cols = GRAMMED[table]
    fts = gram_table(table)
    names = ", ".join(cols)
    new = ", ".join(_sqlite_pieces("new", c) for c in cols)
    old = ", ".join(_sqlite_pieces("old", c) for c in cols)
    # contentless: a delete gives the document as it was indexed, from the old row
    delete = f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old});"
    insert = f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new});"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='', "
        "tokenize='unicode61 remove_diacritics 0', prefix='1', detail='column', columnsize=0)",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN {insert} END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN {delete} END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {names} ON {table} BEGIN {delete} {insert} END",
        f"INSERT INTO {fts}(rowid, {names}) SELECT t.id, {', '.join(_sqlite_pieces('t', c) for c in cols)} "
        f"FROM {table} t",
    ]


def sqlite_gram_drop(table: str) -> list[str]:
    fts = gram_table(table)
    return [f"DROP TRIGGER IF EXISTS {fts}_{k}" for k in ("ai", "ad", "au")] + [f"DROP TABLE IF EXISTS {fts}"]


# One pass over the lowercased value: each place gives its character and the two from it (the
# last place's two are its one; GIN keeps each key once, so repeats cost nothing). 10 us a
# value of 12 characters; with DISTINCT and a series per length it took 28 us.
POSTGRESQL_GRAMS_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {GRAMS_FUNCTION}(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(substr(v, i, 1)) || array_agg(substr(v, i, {GRAM})), '{{}}')
  FROM lower(value) v, generate_series(1, length(v)) i
$$"""


def postgresql_gram_create(table: str) -> list[str]:
    return [POSTGRESQL_GRAMS_FUNCTION] + [
        f"CREATE INDEX IF NOT EXISTS {gram_index(table, c)} ON {table} USING gin ({GRAMS_FUNCTION}({c}))"
        for c in GRAMMED[table]]


def postgresql_gram_drop(table: str) -> list[str]:
    return [f"DROP INDEX IF EXISTS {gram_index(table, c)}" for c in SEARCHED[table]]


def gram_create_statements(dialect: str, table: str) -> list[str]:
    if table not in GRAMMED:
        return []
    if dialect == "sqlite":
        return sqlite_gram_create(table) if SQLITE_TRIGRAM else []
    return postgresql_gram_create(table) if dialect == "postgresql" else []


def gram_drop_statements(dialect: str, table: str) -> list[str]:
    return {"sqlite": sqlite_gram_drop, "postgresql": postgresql_gram_drop}.get(dialect, lambda t: [])(table)


def _gram_lookup(raw: str) -> bool:
    """Text the gram index finds: 1..GRAM characters, each one unicode61 keeps in a token
    (letters and digits; punctuation would leave an empty phrase on SQLite)."""
    return 0 < len(raw) <= GRAM and raw.isalnum()


EXTENSION = "CREATE EXTENSION IF NOT EXISTS pg_trgm"
EXTENSION_LOCK = 7_310_422  # pg_advisory_xact_lock key around EXTENSION


def is_search_object(name: str | None) -> bool:
    """Tables, shadow tables and indexes of this module (not declared in the models'
    metadata: Alembic's comparison leaves them out)."""
    if not name:
        return False
    if name.startswith("ix_") and (name.endswith("_trgm") or name.endswith("_grams")):
        return True
    return any(name == f or name.startswith(f + "_") for t in SEARCHED for f in (fts_table(t), gram_table(t)))


def missing_objects(conn) -> list[str]:
    """The search objects this database lacks (a table rebuilt by a later migration loses its
    triggers on SQLite: tests/test_migrations.py checks the migrated schema has them all)."""
    dialect = conn.dialect.name
    if dialect == "sqlite" and SQLITE_TRIGRAM:
        present = set(conn.execute(text("SELECT name FROM sqlite_master")).scalars())
        wanted = [n for t in SEARCHED for f in [fts_table(t)] + ([gram_table(t)] if t in GRAMMED else [])
                  for n in [f] + [f"{f}_{k}" for k in ("ai", "ad", "au")]]
    elif dialect == "postgresql":
        present = set(conn.execute(text("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"))
                      .scalars())
        wanted = ([trgm_index(t, c) for t, cols in SEARCHED.items() for c in cols]
                  + [gram_index(t, c) for t, cols in GRAMMED.items() for c in cols])
    else:
        return []
    return [n for n in wanted if n not in present]


def _like_pattern(raw: str) -> str:
    return "%" + raw.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def contains(column, raw: str, dialect: str, session=None, count_cap: int = 10_000, counting: bool = False):
    """Where `column` (a mapped column) contains `raw`, through the trigram index when there
    is one for it and `raw` is long enough, through the gram index when `raw` is shorter.

    With a `session`, a gram held by many rows is left to the scan (see `_gram_worth_it`;
    `count_cap` is the list's count limit). `counting`: the clause is for
    a capped count, which on SQLite reads the gram index as a join in index order, stopped
    by the count's LIMIT (no list of every row holding the gram)."""
    raw = raw.strip()
    if not raw:
        return true()
    expr = getattr(column, "expression", column)
    table = getattr(getattr(expr, "table", None), "name", None)
    name = getattr(expr, "name", None)
    searched = table in SEARCHED and name in SEARCHED[table]
    indexed = searched and len(raw) >= MIN_INDEXED
    gram = table in GRAMMED and name in GRAMMED[table] and _gram_lookup(raw)
    if gram and (dialect == "postgresql" or dialect == "sqlite" and SQLITE_TRIGRAM):
        if session is not None and not _gram_worth_it(session, expr, raw, dialect, count_cap):
            return _short_scan(column, raw, dialect)
        found = _gram_join(expr, raw) if counting and dialect == "sqlite" else _gram_clause(expr, raw, dialect)
        if dialect == "postgresql" or raw.lower() == raw.upper():
            # The index's piece is the text (PostgreSQL: lowercased, as ILIKE compares; SQLite:
            # as it is, when it has no letter case): its hits are the answer, no row is read to
            # confirm them.
            return found
        return and_(found, _like(column, raw, dialect))
    if dialect == "sqlite" and indexed and SQLITE_TRIGRAM:
        fts = fts_table(table)
        phrase = '"' + raw.replace('"', '""') + '"'
        hits = (select(literal_column("rowid")).select_from(text(fts))
                .where(text(f"{fts} MATCH :q").bindparams(q=f"{name} : {phrase}")))
        key = expr.table.c.id
        # FTS5 has matched the trigrams; LIKE confirms (and keeps NULL and case rules as LIKE's).
        return and_(key.in_(hits), column.like(_like_pattern(raw), escape="\\"))
    if len(raw) < MIN_INDEXED:
        return _short_scan(column, raw, dialect)
    return _like(column, raw, dialect)


def _short_scan(column, raw: str, dialect: str):
    """Text shorter than a trigram, found by reading rows. On PostgreSQL not as LIKE: the
    planner takes pg_trgm's index for LIKE '%85%' though it holds no trigram of it, and reads
    every entry (1,000,000 loans: 614 ms); strpos reads the rows, or a covering index."""
    if dialect != "postgresql":
        return _like(column, raw, dialect)
    if raw.lower() == raw.upper():
        return func.strpos(column, raw) > 0
    return func.strpos(func.lower(column), func.lower(raw)) > 0


def _like(column, raw: str, dialect: str):
    if dialect == "postgresql":
        # Text without letter case (Chinese, digits) needs no ILIKE: LIKE matches the same rows,
        # uses the same index and scans faster where there is none.
        caseless = raw.lower() == raw.upper()
        return (column.like if caseless else column.ilike)(_like_pattern(raw), escape="\\")
    return column.like(_like_pattern(raw), escape="\\")


GRAM_SAMPLE = 1000  # index entries read to estimate how many rows hold a gram
# A row reached through the gram index costs about as much as this many rows read in order
# by the scan (1,000,000 loans, PostgreSQL: 2.5 us a row from a bitmap, 0.3 us from an
# index-only scan; SQLite alike): the index pays below M = sqrt(cap * N / GRAM_ROW_COST).
GRAM_ROW_COST = 9


def _gram_worth_it(session, expr, raw: str, dialect: str, count_cap: int) -> bool:
    """Whether the gram index is the cheaper way to a first page and its capped count.

    Through the index a database reads every row holding the gram, M of them (SQLite builds
    the list of their ids first, PostgreSQL a bitmap, then each reads the rows); a scan
    stopped by the count cap reads about cap * N / M rows of the N in the table, each
    GRAM_ROW_COST times cheaper. The two are equal where M = sqrt(cap * N / GRAM_ROW_COST):
    a gram held by more rows than that is found by the scan (「有限」, in most company names;
    at 1,000,000 loans from 33,000 rows on). M is estimated on SQLite from the newest
    GRAM_SAMPLE ids holding the gram (FTS5 reads them newest first): the ids they span,
    scaled to the table's; on PostgreSQL from the indexed expression's statistics."""
    # A list asks twice per request (its page and its count): the answer is kept for the
    # session's life (a request's; the choice only weighs cost, never which rows match).
    known = session.info.setdefault("search_gram_choice", {})
    key = (expr.table.name, expr.name, raw.lower(), count_cap)
    if key not in known:
        top = session.execute(select(func.max(expr.table.c.id))).scalar() or 0
        if dialect == "sqlite":
            sample = gram_hits(expr, raw).order_by(literal_column("rowid").desc()).limit(GRAM_SAMPLE).subquery()
            held, oldest = session.execute(select(func.count(), func.min(sample.c.rowid))).one()
            estimate = held if held < GRAM_SAMPLE else held * top / max(top - oldest + 1, 1)
        else:
            estimate = _pg_share(session, expr, raw.lower()) * top
        known[key] = estimate < max((count_cap * top / GRAM_ROW_COST) ** 0.5, count_cap)
    return known[key]


def _pg_share(session, expr, piece: str) -> float:
    """PostgreSQL: the share of rows holding `piece`, from the statistics ANALYZE keeps on the
    indexed expression (its most common elements; one not among them is rarer than all of
    them: 0). Its planner weighs the same figures, but misjudges a LIMITed count on them."""
    row = session.execute(text(
        "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
        "WHERE schemaname = current_schema() AND tablename = :index AND attname = :function"),
        {"index": gram_index(expr.table.name, expr.name), "function": GRAMS_FUNCTION}).first()
    if row is None or row[0] is None:
        return 0.0
    elems, freqs = row
    return freqs[elems.index(piece)] if piece in elems else 0.0


def gram_hits(expr, raw: str):
    """SQLite: the ids of the rows whose `expr` holds the gram `raw` (a superset: FTS5 folds
    case and splits as unicode61 does)."""
    fts = gram_table(expr.table.name)
    return select(literal_column("rowid")).select_from(text(fts)).where(_gram_match(expr, raw, fts))


def _gram_match(expr, raw: str, name: str):
    query = f'{expr.name} : "{raw}"' + ("*" if len(raw) < GRAM else "")
    return text(f"{name} MATCH :q").bindparams(bindparam("q", query, unique=True))


def _gram_join(expr, raw: str):
    """SQLite: the rows holding `raw`, as a join with the gram table (an alias per column,
    so two searched columns of one table each get theirs)."""
    fts = gram_table(expr.table.name)
    hits = table(fts, column("rowid")).alias(f"{fts}_{expr.name}")
    return and_(expr.table.c.id == hits.c.rowid, _gram_match(expr, raw, f"{hits.name}.{fts}"))


def _gram_clause(expr, raw: str, dialect: str):
    """The rows whose value holds `raw` (1..GRAM letters or digits) by the gram index: a
    superset LIKE narrows."""
    if dialect == "postgresql":
        pieces = array([func.lower(literal(raw, Text))], type_=ARRAY(Text))
        return getattr(func, GRAMS_FUNCTION)(expr, type_=ARRAY(Text)).contains(pieces)
    return expr.table.c.id.in_(gram_hits(expr, raw))


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
    for statement in (gram_drop_statements(connection.dialect.name, target.name)
                      + gram_create_statements(connection.dialect.name, target.name)):
        connection.exec_driver_sql(statement)


def _remove(target, connection, **kw):
    for statement in (drop_statements(connection.dialect.name, target.name)
                      + gram_drop_statements(connection.dialect.name, target.name)):
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
