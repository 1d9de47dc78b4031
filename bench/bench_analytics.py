"""Benchmark of the portfolio analytics (not a test): seeds a demo book of N loans (seed-demo
writes the last 12 month-ends), then times

- writing one month-end: rebuilt from history (admin / CLI / seeding) and live (the daily
  job's step on the last day of a month, from the loans' current figures);
- the report pages for the newest month-end through the app (median of 5 requests):
  五级分类统计 (with and without a breakdown), 五级分类迁徙 (matrix + 12-month trend),
  逾期账龄, 放款批次分析 (vintage over 24 disbursement months), and 「今日」.

    python bench/bench_analytics.py --loans 100000            # SQLite file in bench/out
    python bench/bench_analytics.py --loans 100000 --reuse    # time again on the seeded book
    python bench/bench_analytics.py --db postgresql://postgres@127.0.0.1:5432/bench_analytics
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

from bench.bench import OUT, logged_in_client, make_app, median_ms, seed  # noqa: E402

PAGES = (
    ("五级分类统计", "/classification_stats/"),
    ("五级分类统计 按贷款产品", "/classification_stats/?by=product"),
    ("五级分类统计 今日 按客户经理", "/classification_stats/?as_of=today&by=officer"),
    ("五级分类迁徙(矩阵+12个月趋势)", "/classification_migration/"),
    ("逾期账龄", "/overdue_ageing/"),
    ("放款批次分析(24个批次)", "/vintage/"),
    ("核销与收回", "/writeoff_recovery/"),
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--db", default=None)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    url = args.db or "sqlite:///" + os.path.join(OUT, f"analytics_{args.loans}.db")
    app = make_app(url)
    as_of = date.today()
    if not args.reuse:
        print(f"seeding {args.loans:,} loans (with 12 month-ends) ...", flush=True)
        print(f"  seed-demo: {seed(app, args.loans, args.seed, as_of):.1f} s")
    from admin_app.extensions import db
    from jobs.steps.snapshot import record_month, write_live
    from jobs.steps.sql import Sql
    from services import snapshots

    with app.app_context():
        months = [m.month_end for m in snapshots.months()]
        rows = db.session.execute(db.text("SELECT COUNT(*) FROM portfolio_snapshot")).scalar()
        print(f"book: {args.loans:,} loans, {len(months)} month-ends, {rows:,} snapshot rows")
        newest = max(months)
        result = snapshots.rebuild(newest, "bench", as_of=as_of)
        print(f"| 写入一个月末快照(按历史重算) | {result.rows:,} 行 | {result.seconds:.2f} s |")
        with db.engine.connect() as conn:
            sql = Sql.for_connection(conn)
            started = time.perf_counter()
            n = write_live(conn, sql, newest)
            record_month(conn, sql, newest, "job", "bench", time.perf_counter() - started)
            conn.commit()
        print(f"| 写入一个月末快照(日终任务,实时) | {n:,} 行 | {time.perf_counter() - started:.2f} s |")
        client = logged_in_client(app, "admin")
        for label, path in PAGES:
            def get():
                r = client.get(path)
                assert r.status_code == 200, (path, r.status_code)
            print(f"| {label} | {path} | {median_ms(get):.0f} ms |", flush=True)


if __name__ == "__main__":
    main()
