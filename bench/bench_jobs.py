"""Benchmark of the daily job (not a test): seeds a book of N loans, then times run_daily.

    python bench/bench_jobs.py                         # 1,000,000 loans × 12 installments, SQLite
    python bench/bench_jobs.py --loans 100000
    python bench/bench_jobs.py --reuse                 # time the job on the book already seeded
    python bench/bench_jobs.py --generator minimal     # bare book written by SQL (no demo seed)
    python bench/bench_jobs.py --db postgresql://postgres@127.0.0.1:5432/bench_jobs

The book comes from the demo seeder's `book` step (admin_app.seed.book) unless it is not
available or --generator minimal is given; then a minimal book (products, customers,
credit lines, loans with 12 monthly installments each, collateral, repayment states) is
written by a few INSERT ... SELECT statements. Three runs are timed: the first run for the
as-of date, a rerun of the same date (idempotent: writes nothing) and the next day's run
(carries handling)."""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

from bench.bench import OUT, fresh_database, make_app  # noqa: E402


def seed_with_demo_book(loans: int, seed: int, as_of: date) -> dict:
    from admin_app.extensions import db
    from admin_app.seed import book
    from admin_app.seed.accounts import ensure_demo_users

    ensure_demo_users()
    db.session.commit()
    summary = book.run(loans=loans, seed=seed, as_of=as_of)
    db.session.commit()
    return summary


# ---- the minimal book: set-based SQL, SQLite and PostgreSQL ------------------------------------
def seed_minimal(loans: int, as_of: date) -> dict:
    """Products, customers (one per loan), a credit line per 5th customer, loans started over
    the last two years with 12 monthly installments each: periods due before the as-of date
    are paid except for ~8% of loans (overdue, by 1 to 500 days); collateral on every 4th
    loan; ~3% settled. Deterministic (arithmetic on ids)."""
    from sqlalchemy import text

    from admin_app.extensions import db
    from admin_app.seed.accounts import ensure_demo_users

    ensure_demo_users()
    db.session.commit()
    conn = db.session.connection()
    pg = conn.dialect.name == "postgresql"
    day = (lambda d, n: f"({d} + ({n}))") if pg else (lambda d, n: f"date({d}, ({n}) || ' days')")
    mon = (lambda d, n: f"CAST({d} + ({n}) * INTERVAL '1 month' AS DATE)") if pg else \
        (lambda d, n: f"date({d}, ({n}) || ' months')")
    as_of_sql = "CAST(:as_of AS DATE)" if pg else ":as_of"
    p = {"as_of": as_of if pg else as_of.isoformat(), "n": loans}
    seq = "generate_series(1, :n) AS s(id)" if pg else \
        "(WITH RECURSIVE s(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM s WHERE id < :n) SELECT id FROM s) s"
    started = time.perf_counter()
    statements = [
        "INSERT INTO loan_product (id, code, name, repayment_method, min_rate, max_rate, default_rate, min_term,"
        " max_term, penalty_markup, grace_days, inspection_interval_days, active) VALUES"
        " (1, 'B1', '经营贷', 'equal_principal', 6, 24, 12, 1, 36, 50, 3, 90, TRUE),"
        " (2, 'B2', '消费贷', 'equal_installment', 6, 24, 15.6, 1, 36, 50, 3, 180, TRUE)",
        f"INSERT INTO customer (id, kind, name, id_number, phone, contact_person) SELECT s.id, 'person',"
        f" '客户' || CAST(s.id AS VARCHAR), 'B' || CAST(100000000000 + s.id AS VARCHAR),"
        f" CAST(13000000000 + s.id AS VARCHAR), NULL FROM {seq}",
        f"INSERT INTO credit_line (customer_id, amount, start_date, expiry_date) SELECT id, 500000,"
        f" {day(as_of_sql, '-700')}, {day(as_of_sql, '(id * 37) % 400 - 60')} FROM customer WHERE id % 5 = 0",
        f"INSERT INTO loan (id, loan_no, contract_no, customer_id, customer_name, product_id, principal, rate,"
        f" term_months, start_date, maturity_date, repayment_method, status, five_class, suggested_class,"
        f" outstanding_principal, days_overdue, overdue_principal, overdue_interest, penalty_interest, version)"
        f" SELECT s.id, 'DK' || CAST(s.id AS VARCHAR), 'HT' || CAST(s.id AS VARCHAR), s.id,"
        f" '客户' || CAST(s.id AS VARCHAR), 1 + s.id % 2, 12000, 12 + s.id % 7, 12,"
        f" {day(as_of_sql, '-((s.id * 7919) % 720)')}, {day(as_of_sql, '360 - (s.id * 7919) % 720')},"
        f" 'equal_principal', CASE WHEN s.id % 33 = 0 THEN 'settled' ELSE 'active' END, 1, 1, 12000, 0, 0, 0, 0, 1"
        f" FROM {seq}",
        # Inspections as services.loans keeps them: next = last (or start) + the product's
        # interval; loans older than 90 days were inspected 0..99 days ago.
        f"UPDATE loan SET last_inspection_date = CASE WHEN start_date < {day(as_of_sql, '-90')}"
        f" THEN {day(as_of_sql, '-((id * 31) % 100)')} END",
        "UPDATE loan SET next_inspection_date = "
        + day("COALESCE(last_inspection_date, start_date)", "CASE WHEN product_id = 1 THEN 90 ELSE 180 END"),
        f"INSERT INTO installment (loan_id, period, due_date, principal_due, interest_due, principal_paid,"
        f" interest_paid, penalty_paid, penalty_accrued, paid_off_date)"
        f" SELECT l.id, k.k, {mon('l.start_date', 'k.k')}, 1000, 120, 0, 0, 0, 0, NULL"
        f" FROM loan l CROSS JOIN (SELECT 1 AS k UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4"
        f" UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9"
        f" UNION ALL SELECT 10 UNION ALL SELECT 11 UNION ALL SELECT 12) k",
        # Paid: every period due before the as-of date, except the last 1..17 periods' worth of
        # days (by id) on ~8% of loans — those stay unpaid, so their loans are overdue.
        f"UPDATE installment SET principal_paid = principal_due, interest_paid = interest_due,"
        f" paid_off_date = due_date WHERE due_date < {as_of_sql} AND NOT (loan_id % 12 = 5 AND due_date >="
        f" {day(as_of_sql, '-(loan_id * 13) % 500')})",
        f"UPDATE installment SET principal_paid = principal_due, interest_paid = interest_due,"
        f" paid_off_date = due_date WHERE loan_id % 33 = 0",
        "INSERT INTO collateral (loan_id, kind, description, value, registration_no, start_date, expiry_date)"
        " SELECT id, CASE WHEN id % 8 = 0 THEN 'pledge' ELSE 'mortgage' END, '抵质押物' || CAST(id AS VARCHAR),"
        f" 200000, 'R' || CAST(id AS VARCHAR), start_date, {day('maturity_date', '(id % 90) - 60')}"
        " FROM loan WHERE id % 4 = 0",
    ]
    for sql in statements:
        conn.execute(text(sql), p)
    if pg:
        for table in ("loan_product", "customer", "loan"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    db.session.commit()
    counts = {t: db.session.execute(text(f"SELECT count(*) FROM {t}")).scalar()
              for t in ("loan", "installment", "collateral", "credit_line")}
    return {**counts, "seed_seconds": round(time.perf_counter() - started, 1)}


def timed_run(as_of: date, label: str):
    from jobs.daily import run_daily

    t, cpu = time.perf_counter(), time.process_time()
    result = run_daily(as_of)
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    rows = sum(result.rows.values())
    changes = " ".join(f"{k} {v:,}" for k, v in result.changes.items())
    print(f"| {label} | {seconds:.1f} s ({cpu:.1f} s CPU) | {result.loans_updated:,} loans updated |"
          f" {rows:,} warning rows ({rows / seconds:,.0f} rows/s) | {changes} |", flush=True)
    if not result.ok:
        print(result.describe())
    return result, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", default=None, help="YYYY-MM-DD (default today)")
    parser.add_argument("--db", default=None, help="SQLAlchemy URL (default SQLite bench/out/bench_jobs.db)")
    parser.add_argument("--reuse", action="store_true", help="do not seed; time the job on the existing book")
    parser.add_argument("--generator", choices=("seed", "minimal"), default="seed")
    parser.add_argument("--verbose", action="store_true", help="log each statement's time")
    args = parser.parse_args()
    if args.verbose:
        import logging

        logging.basicConfig(level=logging.WARNING, format="    %(message)s")
        logging.getLogger("jobs.steps").setLevel(logging.DEBUG)
    os.makedirs(OUT, exist_ok=True)
    url = args.db or "sqlite:///" + os.path.join(OUT, "bench_jobs.db")
    as_of = date.fromisoformat(args.as_of) if args.as_of else date.today()
    app = make_app(url)
    from admin_app.extensions import db
    from sqlalchemy import text

    with app.app_context():
        if not args.reuse:
            fresh_database(db, url)
            t = time.perf_counter()
            generator = args.generator
            if generator == "seed":
                try:
                    import admin_app.seed.book  # noqa: F401
                except ModuleNotFoundError:
                    generator = "minimal"
            summary = (seed_with_demo_book(args.loans, args.seed, as_of) if generator == "seed"
                       else seed_minimal(args.loans, as_of))
            print(f"seeded ({generator}) in {time.perf_counter() - t:.1f} s: {summary}", flush=True)
        loans = db.session.execute(text("SELECT count(*) FROM loan")).scalar()
        installments = db.session.execute(text("SELECT count(*) FROM installment")).scalar()
        db.session.commit()
        print(f"\nbook: {loans:,} loans, {installments:,} installments, {db.engine.dialect.name}, as of {as_of}\n")
        print("| run | time (wall, CPU of this process) | loans | warnings | changes |\n|---|---|---|---|---|")
        first, secs = timed_run(as_of, "first run")
        timed_run(as_of, "rerun, same date")
        timed_run(as_of + timedelta(days=1), "next day")
        verdict = "PASS" if first.ok and secs < 60 else "FAIL"
        print(f"\n{verdict}: first run {secs:.1f} s for {loans:,} loans (target < 60 s);"
              f" {loans / secs:,.0f} loans/s, {installments / secs:,.0f} installments/s")


if __name__ == "__main__":
    main()
