"""Ledger entries for books written before the ledger existed (migration 9c1e5a7d3b20) and
for the demo seeder, which writes loans, rate changes, extensions and repayments as bulk
rows: one set-based INSERT ... SELECT per kind, in the order the replay needs (per loan,
entries sort by value date, then id: disbursement, rate changes, extensions, repayments).
Plain SQL on the columns of that revision, so the migration stays valid as models grow."""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection


def _day(conn: Connection, column: str) -> str:
    return f"date({column})" if conn.dialect.name == "sqlite" else f"CAST({column} AS DATE)"


def backfill_entries(conn: Connection, *, loans_from: int = 0) -> None:
    """Entries for every loan with id > `loans_from` (loans that have none yet: the
    migration's new table, the seeder's new loans). The disbursement's first rate and
    maturity come from each loan's first rate change and extension by joins, not correlated
    subqueries: inside the seeding transaction PostgreSQL has no statistics of the rows just
    written and ran the subqueries as scans, one per loan (1,000,000 loans: over half an hour
    on that statement; 20,000 loans 2.9 s)."""
    params = {"lo": loans_from}
    conn.execute(text(f"""
        INSERT INTO loan_entry (loan_id, kind, value_date, amount, rate, new_maturity, operator_id, created_at)
        SELECT l.id, 'disbursement', l.start_date, l.principal,
               COALESCE(rc.old_rate, l.rate), COALESCE(e.old_maturity_date, l.maturity_date),
               l.officer_id, l.created_at
        FROM loan l
        LEFT JOIN (SELECT loan_id, old_rate,
                          ROW_NUMBER() OVER (PARTITION BY loan_id ORDER BY effective_date, id) AS n
                   FROM rate_change WHERE loan_id > :lo) rc ON rc.loan_id = l.id AND rc.n = 1
        LEFT JOIN (SELECT loan_id, old_maturity_date,
                          ROW_NUMBER() OVER (PARTITION BY loan_id ORDER BY id) AS n
                   FROM extension WHERE loan_id > :lo) e ON e.loan_id = l.id AND e.n = 1
        WHERE l.id > :lo ORDER BY l.id"""), params)
    conn.execute(text("""
        INSERT INTO loan_entry (loan_id, kind, value_date, rate, rate_change_id, note, operator_id, created_at)
        SELECT rc.loan_id, 'rate_change', rc.effective_date, rc.new_rate, rc.id, rc.reason, rc.operator_id,
               rc.created_at
        FROM rate_change rc
        WHERE rc.loan_id > :lo
        ORDER BY rc.id"""), params)
    conn.execute(text(f"""
        INSERT INTO loan_entry (loan_id, kind, value_date, new_maturity, extension_id, note, operator_id, created_at)
        SELECT e.loan_id, 'extension', {_day(conn, 'e.created_at')}, e.new_maturity_date, e.id, e.reason,
               e.operator_id, e.created_at
        FROM extension e
        WHERE e.loan_id > :lo
        ORDER BY e.id"""), params)
    conn.execute(text("""
        INSERT INTO loan_entry (loan_id, kind, value_date, amount, repayment_id, operator_id, created_at)
        SELECT r.loan_id, r.kind, r.paid_on, r.amount, r.id, r.operator_id, r.created_at
        FROM repayment r
        WHERE r.loan_id > :lo
        ORDER BY r.paid_on, r.id"""), params)


LEGACY_WRITE_OFF_NOTE = "核销(启用账务分录前核销,迁移补记)"


def backfill_write_offs(conn: Connection) -> None:
    """A write-off entry, dated the loan's 核销日期, for every loan written off before the
    ledger existed (status 已核销, no write-off entry): 核销台账 lists it and a replay keeps it
    written off (migration f1b3d5a7c9e2)."""
    conn.execute(text("""
        INSERT INTO loan_entry (loan_id, kind, value_date, note, created_at)
        SELECT l.id, 'write_off', COALESCE(l.written_off_date, CURRENT_DATE), :note, CURRENT_TIMESTAMP
        FROM loan l
        WHERE l.status = 'written_off'
          AND NOT EXISTS (SELECT 1 FROM loan_entry e WHERE e.loan_id = l.id AND e.kind = 'write_off')
        ORDER BY l.id"""), {"note": LEGACY_WRITE_OFF_NOTE})
