"""Carry an existing book over (not a test): a book written by an earlier release is upgraded
by this release's migrations, and every stored figure is compared before and after.

    # seed a book with an earlier release (its own code, in a temporary git worktree), upgrade it
    python bench/bench_migrate.py --seed-from bc2bd8a --loans 2000
    python bench/bench_migrate.py --seed-from bc2bd8a --loans 1000000 --db sqlite:////path/old.db
    # a book that already exists (seeded by an earlier release, not yet upgraded)
    python bench/bench_migrate.py --db postgresql://postgres@127.0.0.1:5432/bench1m
    # then also run this release's daily job for the book's date and say what it changed
    python bench/bench_migrate.py --db ... --job

The figures are read with plain SQL that both releases' schemas answer: every loan's position
(status, class, balances, overdue figures, days overdue, maturity, rate), the sums of the
schedule and of the repayments, and row counts. The upgrade must leave all of them unchanged
(exit status 1 otherwise). With --job, what the new rules change on the same date is listed
per figure (a rule that changed changes figures there: that is reported, not refused).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from decimal import Decimal

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

LOAN_FIGURES = ("status", "five_class", "outstanding_principal", "overdue_principal", "overdue_interest",
                "penalty_interest", "days_overdue", "maturity_date", "rate")
SUMS = {
    "installment": ("principal_due", "interest_due", "principal_paid", "interest_paid", "penalty_paid"),
    "repayment": ("amount", "principal_part", "interest_part", "penalty_part"),
    "loan": ("principal", "outstanding_principal", "overdue_principal", "overdue_interest", "penalty_interest"),
}
COUNTED = ("loan", "installment", "repayment", "customer", "rate_change", "extension", "collection",
           "guarantor", "collateral", "audit_log")

SEED_SCRIPT = """
import sys, time
from datetime import date
sys.path.insert(0, '.')
from bench.bench import make_app, seed
secs = seed(make_app(sys.argv[1]), int(sys.argv[2]), 42, date.fromisoformat(sys.argv[3]))
print(f"{secs:.1f}")
"""


def seed_with_release(commit: str, url: str, loans: int, as_of: date) -> float:
    """Seed `url` with the benchmark seeder of an earlier commit, in a temporary worktree."""
    with tempfile.TemporaryDirectory(prefix="old-release-") as tmp:
        path = os.path.join(tmp, "tree")
        subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", path, commit], check=True,
                       capture_output=True)
        try:
            out = subprocess.run([sys.executable, "-c", SEED_SCRIPT, url, str(loans), as_of.isoformat()],
                                 cwd=path, check=True, capture_output=True, text=True).stdout
            return float(out.strip().splitlines()[-1])
        finally:
            subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", path], check=False)


def read_figures(conn) -> dict:
    from sqlalchemy import inspect, text

    tables = set(inspect(conn).get_table_names())
    loans = {row[0]: tuple(str(v) for v in row[1:]) for row in
             conn.execute(text(f"SELECT id, {', '.join(LOAN_FIGURES)} FROM loan"))}
    sums = {}
    for table, columns in SUMS.items():
        row = conn.execute(text("SELECT " + ", ".join(f"COALESCE(SUM({c}), 0)" for c in columns)
                                + f" FROM {table}")).one()
        # SQLite sums NUMERIC text as floating point: the cent is the figure.
        sums.update({f"{table}.{c}": str(round(Decimal(str(v)), 2)) for c, v in zip(columns, row)})
    counts = {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar() for t in COUNTED if t in tables}
    return {"loans": loans, "sums": sums, "counts": counts}


def compare(before: dict, after: dict, *, counts_may_grow=("audit_log",)) -> list[str]:
    problems = []
    missing = before["loans"].keys() - after["loans"].keys()
    if missing:
        problems.append(f"{len(missing)} loans missing after the upgrade")
    changed = Counter()
    examples = {}
    for loan_id, old in before["loans"].items():
        new = after["loans"].get(loan_id)
        if new is None:
            continue
        for name, a, b in zip(LOAN_FIGURES, old, new):
            if _norm(a) != _norm(b):
                changed[name] += 1
                examples.setdefault(name, (loan_id, a, b))
    for name, n in changed.items():
        loan_id, a, b = examples[name]
        problems.append(f"loan.{name}: {n:,} loans differ (e.g. loan {loan_id}: {a} -> {b})")
    for key, value in before["sums"].items():
        if _norm(value) != _norm(after["sums"].get(key)):
            problems.append(f"SUM({key}): {value} -> {after['sums'].get(key)}")
    for table, n in before["counts"].items():
        m = after["counts"].get(table)
        if m != n and not (table in counts_may_grow and m is not None and m >= n):
            problems.append(f"COUNT({table}): {n:,} -> {m}")
    return problems


def _norm(value):
    """'1500.00' and '1500' and '1500.000000' are one figure (the column types' text differs)."""
    if value is None or value == "None":
        return None
    try:
        return Decimal(value).normalize()
    except Exception:
        return value


def replay_check(app, as_of: date, n: int) -> list[str]:
    """The ledger's own replay (models.ledger, what every screen shows) of up to `n` open
    loans, spread over the book, against the figures the daily job stored."""
    from sqlalchemy import select

    from admin_app.extensions import db
    from models import Loan
    from services.ledger import position

    pairs = (("outstanding_principal", "outstanding_principal"), ("overdue_principal", "overdue_principal"),
             ("overdue_interest", "overdue_interest"), ("penalty_interest", "penalty"),
             ("compound_interest", "compound"), ("days_overdue", "days_overdue"))
    with app.app_context():
        total = db.session.scalar(select(db.func.count()).select_from(Loan)
                                  .where(Loan.status.in_(("active", "overdue", "extended"))))
        stride = max(1, total // max(n, 1))
        ids = db.session.scalars(select(Loan.id).where(Loan.status.in_(("active", "overdue", "extended")))
                                 .order_by(Loan.id)).all()[::stride][:n]
        differ = Counter()
        example = {}
        t = time.perf_counter()
        for loan_id in ids:
            loan = db.session.get(Loan, loan_id)
            pos = position(loan, as_of)
            for column, key in pairs:
                if _norm(str(getattr(loan, column))) != _norm(str(pos[key])):
                    differ[column] += 1
                    example.setdefault(column, (loan.loan_no, getattr(loan, column), pos[key]))
            db.session.expunge_all()
        secs = time.perf_counter() - t
    print(f"replayed {len(ids):,} open loans from their ledger ({secs / max(len(ids), 1) * 1000:.1f} ms each): "
          + ("every figure equals the job's" if not differ else "figures differ from the job's"), flush=True)
    found = [f"replay vs job, {c}: {n:,} loans (e.g. {example[c][0]}: job {example[c][1]}, replay {example[c][2]})"
             for c, n in differ.items()]
    for line in found:
        print("  " + line)
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default=None, help="SQLAlchemy URL (default: SQLite file bench/out/migrate.db)")
    ap.add_argument("--seed-from", default=None, help="seed the book first with this earlier commit")
    ap.add_argument("--loans", type=int, default=2000)
    ap.add_argument("--as-of", default=date.today().isoformat())
    ap.add_argument("--job", action="store_true", help="then run this release's daily job for --as-of")
    ap.add_argument("--replay", type=int, default=5000,
                    help="with --job: replay this many open loans from their ledger and compare")
    args = ap.parse_args()
    url = args.db or "sqlite:///" + os.path.join(ROOT, "bench", "out", "migrate.db")
    as_of = date.fromisoformat(args.as_of)
    if args.seed_from:
        os.makedirs(os.path.join(ROOT, "bench", "out"), exist_ok=True)
        secs = seed_with_release(args.seed_from, url, args.loans, as_of)
        print(f"seeded {args.loans:,} loans with {args.seed_from} in {secs:.0f} s", flush=True)

    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        start_rev = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        before = read_figures(conn)
    engine.dispose()
    print(f"book at {start_rev}: {len(before['loans']):,} loans, "
          + ", ".join(f"{t} {n:,}" for t, n in before["counts"].items()), flush=True)

    from bench.bench import make_app

    app = make_app(url)
    with app.app_context():
        from flask_migrate import upgrade

        from admin_app.extensions import db

        t = time.perf_counter()
        upgrade()
        upgrade_secs = time.perf_counter() - t
        with db.engine.connect() as conn:
            head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            after = read_figures(conn)
            entries = conn.execute(text("SELECT kind, COUNT(*) FROM loan_entry GROUP BY kind")).all()
    print(f"upgraded {start_rev} -> {head} in {upgrade_secs:.1f} s; loan_entry: "
          + ", ".join(f"{k} {n:,}" for k, n in sorted(entries)), flush=True)
    problems = compare(before, after)
    if problems:
        print("FIGURES CHANGED BY THE UPGRADE:")
        for p in problems:
            print("  " + p)
    else:
        print("every figure unchanged by the upgrade: " + ", ".join(
            f"{k} {v}" for k, v in after["sums"].items() if k.startswith("loan.")))

    if args.job:
        # First as migrated: the existing products keep the conventions their contracts were
        # made under, so no figure may move. Then as if an admin switched every product to this
        # release's defaults (penalty from the due date once the grace is exceeded, 复利 on):
        # what moves is what the changed rules change, reported per figure.
        with app.app_context():
            from admin_app.extensions import db

            with db.engine.connect() as conn:
                migrated = conn.execute(text("SELECT id, grace_mode, compound_interest FROM loan_product")).all()
        for label, switch in (("the products as migrated", None),
                              ("every product switched to this release's defaults", ("from_due", True))):
            with app.app_context():
                from admin_app.extensions import db
                from jobs.daily import run_daily

                if switch:
                    with db.engine.begin() as conn:
                        conn.execute(text("UPDATE loan_product SET grace_mode = :g, compound_interest = :c"),
                                     {"g": switch[0], "c": switch[1]})
                t = time.perf_counter()
                run_daily(as_of)
                job_secs = time.perf_counter() - t
                with db.engine.connect() as conn:
                    after_job = read_figures(conn)
            changes = compare(after, after_job)
            print(f"daily job for {as_of}, {label}: {job_secs:.1f} s; "
                  + ("figures it changes:" if changes else "no figure changes"), flush=True)
            for c in changes:
                print("  " + c)
            if switch is None:
                problems.extend(changes)
                problems.extend(replay_check(app, as_of, args.replay))
        # the book is left as migrated: products back to their conventions, figures re-run
        with app.app_context():
            from admin_app.extensions import db
            from jobs.daily import run_daily

            with db.engine.begin() as conn:
                for product_id, grace, compound in migrated:
                    conn.execute(text("UPDATE loan_product SET grace_mode = :g, compound_interest = :c "
                                      "WHERE id = :i"), {"g": grace, "c": compound, "i": product_id})
            run_daily(as_of)
    if problems:
        print(f"{len(problems)} problem(s); exit status 1")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
