"""Keeping 首页's portfolio summary (models.portfolio_summary) in step with the loans.

- `rebuild(conn)`: the table rewritten from the loans, one row per key, set-based (the daily
  job's last step, the migration that added the table, a seeded book);
- every ORM flush that adds, changes or deletes a loan appends, in the same transaction, the
  difference its key and balance make (a −1 row under the old key, a +1 row under the new);
  a loan's figures change through the ORM in every service (repayment posting and reversal,
  classification approval, write-off, extension, new loan, the importer's per-row path);
- `moving(ids)`: around a bulk statement that writes loans without the ORM (the importer's
  set-based paths), the same difference for those loans, set-based.
Anything else that writes loans' figures with plain SQL must do the same (or call rebuild
in its transaction, as a migration that rewrites figures must): tests/test_portfolio_summary
proves each path above against the loans added up one by one.
The key is one definition: status, five_class, product, 客户经理 and the ageing bucket of
models.snapshot.AGEING_BUCKETS (ageing_bucket in Python, bucket_case in SQL); money is whole
cents (ROUND_HALF_UP in Python, ROUND in SQL)."""
from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import bindparam, event, insert, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from models import Loan, PortfolioSummary
from jobs.steps.snapshot import bucket_case
from models.snapshot import ageing_bucket

TRACKED = ("status", "five_class", "days_overdue", "outstanding_principal", "product_id", "officer_id")
KEY_COLUMNS = ("status", "five_class", "bucket", "product_id", "officer_id")
_PENDING = "_portfolio_summary_pending"


def cents(amount) -> int:
    return int((Decimal(amount or 0) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def _key(values: dict) -> tuple:
    return (values["status"], values["five_class"], ageing_bucket(values["days_overdue"] or 0),
            values["product_id"], values["officer_id"])


# ---- the whole table, and loans changed by bulk statements ---------------------------------
def _append_grouped(conn: Connection, sign: int, ids: list | None = None) -> int:
    """Append the loans' figures grouped by key, with `sign`: every loan (ids None) or loans
    `ids`. One statement for the rebuild and for the bulk paths' differences, plain SQL on the
    columns (the migration that added the table runs it); the bucket is models.snapshot's
    AGEING_BUCKETS through jobs.steps.snapshot.bucket_case, as the month-end snapshots use."""
    where, params = "", {}
    if ids is not None:
        where, params = "WHERE id IN :ids", {"ids": ids}
    statement = text(f"""
        INSERT INTO portfolio_summary (status, five_class, bucket, product_id, officer_id, loans, balance_cents)
        SELECT status, five_class, bucket, product_id, officer_id, COUNT(*) * {int(sign)},
               CAST(SUM(ROUND(outstanding_principal * 100)) AS BIGINT) * {int(sign)}
        FROM (SELECT status, five_class, {bucket_case('days_overdue')} AS bucket, product_id, officer_id,
                     outstanding_principal FROM loan {where}) l
        GROUP BY status, five_class, bucket, product_id, officer_id""")
    if ids is not None:
        statement = statement.bindparams(bindparam("ids", expanding=True))
    return conn.execute(statement, params).rowcount


def rebuild(conn: Connection) -> int:
    """Rewrite the table from the loans (one row per key); returns the rows written.
    On PostgreSQL the table is locked against other writers until the caller commits: a
    difference another transaction appends waits, and so counts on top of the rewrite (it
    would otherwise be lost between the DELETE and the INSERT, or counted twice); one
    appended before the lock is committed first, and then deleted and read from the loans.
    On SQLite the caller holds the database's only write lock already."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE portfolio_summary IN EXCLUSIVE MODE"))
    conn.execute(text("DELETE FROM portfolio_summary"))
    return _append_grouped(conn, +1)


def add_loans(conn: Connection, ids, sign: int = 1) -> None:
    """Append the grouped figures of loans `ids` as they are now, with `sign` (+1: they are
    counted from now on; −1: they are about to change or go)."""
    ids = list(ids)
    for start in range(0, len(ids), 5000):
        _append_grouped(conn, sign, ids[start:start + 5000])


@contextmanager
def moving(conn: Connection, ids):
    """Around a bulk UPDATE of loans `ids`: their old figures out before, the new ones in after."""
    ids = list(ids)
    add_loans(conn, ids, -1)
    yield
    add_loans(conn, ids, +1)


# ---- loans changed through the ORM ----------------------------------------------------------
def _old_values(session: Session, obj) -> dict | None:
    """The tracked values as last flushed, or None when none of them changes in this flush."""
    state = inspect(obj)
    old, changed, unknown = {}, False, False
    for name in TRACKED:
        hist = state.attrs[name].history
        if hist.has_changes():
            changed = True
            if hist.deleted:
                old[name] = hist.deleted[0]
            else:  # set without its value being loaded first
                unknown = True
        else:
            old[name] = getattr(obj, name)
    if not changed:
        return None
    if unknown:  # the row as stored (this flush has not written it yet)
        old = dict(session.connection().execute(
            select(*(getattr(Loan, n) for n in TRACKED)).where(Loan.id == obj.id)).mappings().one())
    return old


def _before_flush(session: Session, flush_context, instances):
    # Start afresh each flush: a flush that failed must not leave its difference behind.
    delta, after = Counter(), []
    session.info[_PENDING] = (delta, after)
    for obj in session.dirty:
        if isinstance(obj, Loan):
            old = _old_values(session, obj)
            if old is not None:
                _count(delta, old, -1)
                after.append(obj)
    for obj in session.deleted:
        if isinstance(obj, Loan):
            _count(delta, {n: getattr(obj, n) for n in TRACKED}, -1)
    after.extend(o for o in session.new if isinstance(o, Loan))


def _count(delta: Counter, values: dict, sign: int) -> None:
    key = _key(values)
    delta[key + ("n",)] += sign
    delta[key + ("c",)] += sign * cents(values["outstanding_principal"])


def _after_flush(session: Session, flush_context):
    delta, after = session.info.pop(_PENDING, (Counter(), []))
    for obj in after:
        _count(delta, {n: getattr(obj, n) for n in TRACKED}, +1)
    rows = {}
    for (*key, kind), value in delta.items():
        rows.setdefault(tuple(key), [0, 0])[0 if kind == "n" else 1] += value
    values = [dict(zip(KEY_COLUMNS, key), loans=n, balance_cents=c) for key, (n, c) in rows.items() if n or c]
    if values:
        session.connection().execute(insert(PortfolioSummary), values)


def install(session_factory) -> None:
    event.listen(session_factory, "before_flush", _before_flush)
    event.listen(session_factory, "after_flush", _after_flush)
