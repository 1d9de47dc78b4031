"""The demo book exported and imported into an empty database: the same 首页 figures?

Seeds the demo book, exports every importable screen as the admin by the app's own
完整信息导出 (identifiers in full, recorded) and the loans' history (利率调整记录, 展期记录,
核销记录) through its import kind's export, imports the files in dependency order into an empty
database (same products and staff), runs the daily job for the same date in both and
compares 首页 (loans and balance by status and by class, the aging table) and every loan's
figures. tests/test_import_demo_round_trip.py runs it on a small book.

    python bench/import_round_trip.py --loans 2000

Prints each kind's outcome, refusal reasons by count, and 首页 side by side."""
from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from datetime import date
from decimal import Decimal

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

from bench.bench import OUT, fresh_database, make_app  # noqa: E402

# Dependency order: a loan's history before its repayments (the replay starts from the
# contract's terms), its write-off after them.
SCREENS = ("customers", "bank_cards", "credit_lines", "loans", "guarantors", "collaterals", "repayments")
ORDER = ("customers", "bank_cards", "credit_lines", "loans", "rate_changes", "extensions", "guarantors",
         "collaterals", "repayments", "write_offs")


def loan_figures() -> dict:
    """Every loan's stored figures by 贷款编号 (ids differ between the databases)."""
    from sqlalchemy import select

    from admin_app.extensions import db
    from models import Loan

    cols = (Loan.loan_no, Loan.status, Loan.five_class, Loan.suggested_class, Loan.rate, Loan.term_months,
            Loan.maturity_date, Loan.outstanding_principal, Loan.overdue_principal, Loan.overdue_interest,
            Loan.penalty_interest, Loan.compound_interest, Loan.days_overdue, Loan.settled_date)
    money = lambda v: v if not isinstance(v, Decimal) else v.quantize(Decimal("0.01"))  # noqa: E731
    return {row[0]: tuple(money(v) for v in row[1:]) for row in db.session.execute(select(*cols))}


def export_book(app) -> dict[str, bytes]:
    from admin_app.extensions import db
    from services.importing import export_csv
    from services.importing.kinds import KINDS

    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    client.post("/login", data={"username": "admin", "password": "demo12345"})
    files = {}
    for kind in SCREENS:
        response = client.post(f"/{kind}/export_full/csv/", data={"reason": "other", "reason_text": "导入往返"})
        assert response.status_code == 200, (kind, response.status_code)
        files[kind] = response.data
    for kind in ORDER:
        if kind not in files:
            files[kind] = export_csv(KINDS[kind])
    db.session.remove()
    return files


def round_trip(loans: int, source_url: str, target_url: str, as_of: date, say=print, seed: int = 42) -> dict:
    source = make_app(source_url)
    with source.app_context():
        from admin_app.extensions import db
        from admin_app.seed import seed_demo
        from jobs.daily import run_daily
        from models import LoanProduct
        from views.home import portfolio

        fresh_database(db, source_url)
        seed_demo(loans=loans, seed=seed, as_of=as_of)
        run_daily(as_of)
        before, loans_before = portfolio(), loan_figures()
        products = [{c.key: getattr(p, c.key) for c in LoanProduct.__table__.columns}
                    for p in db.session.query(LoanProduct)]
        files = export_book(source)
        db.session.remove()
        db.engine.dispose()

    target = make_app(target_url)
    outcomes = {}
    with target.app_context():
        from admin_app.extensions import db
        from admin_app.seed.accounts import ensure_demo_users
        from jobs.daily import run_daily
        from models import LoanProduct
        from services.importing import import_file
        from views.home import portfolio

        fresh_database(db, target_url)
        users = ensure_demo_users()
        db.session.add_all(LoanProduct(**p) for p in products)
        db.session.commit()
        for kind in ORDER:
            out = import_file(kind, files[kind], f"{kind}.csv", user=users["admin"], mode="valid", as_of=as_of)
            outcomes[kind] = out
            say(f"{kind:<13} {out.message}")
            reasons = Counter(msg.split(":")[0][:40] for r in out.result.error_rows for _c, msg in r.errors)
            example = {}
            for r in out.result.error_rows:
                for _c, msg in r.errors:
                    example.setdefault(msg.split(":")[0][:40], f"第 {r.number} 行:{msg}")
            for reason, n in reasons.most_common(5):
                say(f"      {n:>5} × {reason}    例:{example[reason][:160]}")
        run_daily(as_of)
        after, loans_after = portfolio(), loan_figures()
        db.session.remove()
        db.engine.dispose()
    return {"before": before, "after": after, "loans_before": loans_before, "loans_after": loans_after,
            "outcomes": outcomes}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--loans", type=int, default=2000)
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    out = round_trip(args.loans, "sqlite:///" + os.path.join(OUT, "round_trip_source.db"),
                     "sqlite:///" + os.path.join(OUT, "round_trip_target.db"), date.today())
    before, after = out["before"], out["after"]
    print("\n首页            source                     imported")
    for table in ("status", "classes", "aging"):
        for a, b in zip(before[table], after[table]):
            mark = "" if a == b else "   ≠"
            print(f"  {str(a[0]):<8} {str(a[1:]):<26} {str(b[1:]):<26}{mark}")
    differ = [no for no, figures in out["loans_before"].items() if out["loans_after"].get(no) != figures]
    print(f"\nloans with a differing figure: {len(differ)} of {len(out['loans_before'])}")
    for no in differ[:10]:
        print(f"  {no}\n    source   {out['loans_before'][no]}\n    imported {out['loans_after'].get(no)}")


if __name__ == "__main__":
    main()
