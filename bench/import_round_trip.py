"""The demo book exported from each importable screen (as the admin, by the app's own
export) and imported into an empty database: does 首页 show the same figures? Prints each
kind's outcome, the refusal reasons by count, and 首页's tables side by side.

    python bench/import_round_trip.py --loans 300

Loans whose history the exports cannot carry (rate changes, extensions, write-offs) are
refused or differ; the script says how many and why."""
from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from datetime import date

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

from bench.bench import OUT, fresh_database, make_app  # noqa: E402

ORDER = ("customers", "bank_cards", "credit_lines", "loans", "guarantors", "collaterals", "repayments")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--loans", type=int, default=300)
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    as_of = date.today()
    source_url = "sqlite:///" + os.path.join(OUT, "round_trip_source.db")
    target_url = "sqlite:///" + os.path.join(OUT, "round_trip_target.db")

    source = make_app(source_url)
    with source.app_context():
        from admin_app.extensions import db
        from admin_app.seed import seed_demo
        from jobs.daily import run_daily
        from models import LoanProduct
        from views.home import portfolio

        fresh_database(db, source_url)
        seed_demo(loans=args.loans, seed=42, as_of=as_of)
        run_daily(as_of)
        before = portfolio()
        products = [{c.key: getattr(p, c.key) for c in LoanProduct.__table__.columns}
                    for p in db.session.query(LoanProduct)]
        source.config["WTF_CSRF_ENABLED"] = False
        client = source.test_client()
        client.post("/login", data={"username": "admin", "password": "demo12345"})
        exports = {kind: client.get(f"/{kind}/export/csv/").data for kind in ORDER}
        db.session.remove()

    target = make_app(target_url)
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
            out = import_file(kind, exports[kind], f"{kind}.csv", user=users["admin"], mode="valid", as_of=as_of)
            reasons = Counter(msg.split(":")[0][:40] for r in out.result.error_rows for _c, msg in r.errors)
            example = {}
            for r in out.result.error_rows:
                for _c, msg in r.errors:
                    example.setdefault(msg.split(":")[0][:40], f"第 {r.number} 行:{msg}")
            print(f"{kind:<13} {out.message}")
            for reason, n in reasons.most_common(5):
                print(f"      {n:>5} × {reason}    例:{example[reason][:120]}")
        run_daily(as_of)
        after = portfolio()
    print("\n首页            source                     imported")
    for table in ("status", "classes", "aging"):
        for a, b in zip(before[table], after[table]):
            mark = "" if a == b else "   ≠"
            print(f"  {str(a[0]):<8} {str(a[1:]):<26} {str(b[1:]):<26}{mark}")


if __name__ == "__main__":
    main()
