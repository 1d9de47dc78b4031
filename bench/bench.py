"""Benchmark on a big book (not a test). Seeds N loans through the project's own seeding,
then measures list screens, searches, deep paging, 贷款详情, exports, the daily job and
throughput under gunicorn — each beside its bare SQL (the floor) and a plain Flask-Admin
ModelView with default settings (the scaffold) — and prints one markdown table.

    python bench/bench.py --loans 1000000                 # SQLite file bench/out/bench.db
    python bench/bench.py --loans 200000 --db postgresql://postgres@127.0.0.1:5432/bench
    python bench/bench.py --reuse                          # measure an already seeded book
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from datetime import date, timedelta
from http.cookiejar import CookieJar

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)
OUT = os.path.join(ROOT, "bench", "out")


def median_ms(fn, runs=5):
    fn()  # warm the caches once
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def make_app(db_url):
    from admin_app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": db_url, "RATELIMIT_ENABLED": False,
                       "SECRET_KEY": "bench"})


def fresh_database(db, url: str) -> None:
    """An empty database at the newest migration: a SQLite file is deleted (faster than
    dropping a 4 GB book table by table); on PostgreSQL every table goes, Alembic's too."""
    from sqlalchemy import text

    from admin_app.cli import init_schema

    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        db.engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    else:
        db.drop_all()
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
    init_schema()


def seed(app, loans, seed_value, as_of):
    from admin_app.extensions import db
    from admin_app.seed import seed_demo

    with app.app_context():
        fresh_database(db, app.config["SQLALCHEMY_DATABASE_URI"])
        t = time.perf_counter()
        seed_demo(loans=loans, seed=seed_value, as_of=as_of)
        return time.perf_counter() - t


def logged_in_client(app, username="admin"):
    c = app.test_client()
    page = c.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    r = c.post("/login", data={"username": username, "password": "demo12345", "csrf_token": token})
    assert r.status_code == 302, "login failed"
    return c


def scaffold_app(db_url):
    """The same tables served by plain Flask-Admin ModelViews with default settings, plus the
    least a team must declare for the benchmark's searches and filters to exist at all."""
    from flask import Flask
    from flask_admin import Admin
    from flask_admin.contrib.sqla import ModelView
    from flask_admin.contrib.sqla.filters import FilterEqual, FilterInList, FilterNotInList

    from admin_app.extensions import db
    from models import Collection, Installment, Loan, Repayment, Warning

    app = Flask("scaffold")
    app.config.update(SQLALCHEMY_DATABASE_URI=db_url, SECRET_KEY="bench")
    db.init_app(app)
    from flask_babel import Babel

    Babel(app)  # Flask-Admin templates call gettext

    class LoanScaffold(ModelView):
        column_searchable_list = ("customer_name", "loan_no")
        column_filters = ("product_id", "status")
        can_export = True
        can_view_details = True
        export_types = ["csv", "xlsx"]

    class ByLoanScaffold(ModelView):
        column_filters = ("loan_id",)

    class WarningScaffold(ModelView):
        column_filters = ("kind", "is_current")

    admin = Admin(app, url="/scaffold")
    views = [LoanScaffold(Loan, db, endpoint="s_loans"), WarningScaffold(Warning, db, endpoint="s_warnings")]
    views += [ByLoanScaffold(m, db, endpoint=e) for m, e in
              ((Installment, "s_installments"), (Repayment, "s_repayments"), (Collection, "s_collections"))]
    for view in views:
        admin.add_view(view)

    def flt(endpoint: str, column: str, value, pos: int = 0, op=FilterEqual) -> str:
        """The query argument of a scaffold view's filter on `column` (Flask-Admin numbers
        its filters in the URL: flt<pos>_<index>)."""
        view = next(v for v in views if v.endpoint == endpoint)
        for key, (_, f) in view._filter_args.items():
            if isinstance(f, op) and not isinstance(f, FilterNotInList) and f.column.key == column:
                return f"flt{pos}_{key}={urllib.parse.quote(str(value))}"
        raise KeyError((endpoint, column))

    app.flt = flt
    return app


def sample_values(app):
    from sqlalchemy import func, select

    from admin_app.extensions import db
    from models import Installment, Loan

    with app.app_context():
        # The newest open loan: the 还款中 searches below find it.
        loan = db.session.execute(select(Loan).where(Loan.status == "active").order_by(Loan.id.desc()).limit(1)).scalar()
        busy = db.session.execute(
            select(Installment.loan_id, func.count()).group_by(Installment.loan_id)
            .order_by(func.count().desc()).limit(1)).first()
        product_id, n = db.session.execute(
            select(Loan.product_id, func.count()).where(Loan.status == "active")
            .group_by(Loan.product_id).order_by(func.count().desc()).limit(1)).first()
        return {"name": loan.customer_name[:1], "loan_no": loan.loan_no, "product": product_id,
                "detail_loan": busy[0], "product_rows": n}


def bare(app, sql, params=None):
    from sqlalchemy import text

    from admin_app.extensions import db

    def run():
        with app.app_context():
            for stmt in sql:
                db.session.execute(text(stmt), params or {}).fetchall()
            db.session.remove()
    return run


LOAN_ROWS = ("SELECT l.*, c.*, p.* FROM loan l LEFT JOIN customer c ON c.id = l.customer_id "
             "LEFT JOIN loan_product p ON p.id = l.product_id")
LOAN_PAGE = LOAN_ROWS + " WHERE {where} ORDER BY l.id DESC LIMIT 20 OFFSET {offset}"
# A deep page (ScreenView.DEFERRED_JOIN_OFFSET) takes its ids from the index, then joins them.
DEEP_LOAN_PAGE = (LOAN_ROWS + " WHERE l.id IN (SELECT l.id FROM loan l WHERE {where} "
                  "ORDER BY l.id DESC LIMIT 20 OFFSET {offset}) ORDER BY l.id DESC")


def capped_count(table, where):
    """The list total as the screens count it: at most ScreenView.COUNT_CAP + 1 rows."""
    from admin_app.screens import ScreenView

    return f"SELECT count(*) FROM (SELECT id FROM {table} WHERE {where} LIMIT {ScreenView.COUNT_CAP + 1}) t"


def loan_sql(where, offset=0, count_where=None):
    """The two statements a loan list page needs: its count and its page of rows."""
    from admin_app.screens import ScreenView

    page = DEEP_LOAN_PAGE if offset >= ScreenView.DEFERRED_JOIN_OFFSET else LOAN_PAGE
    return [capped_count("loan l", count_where or where), page.format(where=where, offset=offset)]


def measure_pages(app, scaffold, v):
    c = logged_in_client(app)
    s = scaffold.test_client()
    from flask_admin.contrib.sqla.filters import FilterInList

    f = scaffold.flt
    # The scaffold lists the same rows as each screen: the same filters, declared the
    # scaffold's way (its search is a LIKE '%…%' over the searchable columns).
    active = f"/scaffold/s_loans/?{f('s_loans', 'status', 'active')}"
    open_loans = f"/scaffold/s_loans/?{f('s_loans', 'status', 'active,extended,overdue', op=FilterInList)}"
    overdue_warnings = (f"/scaffold/s_warnings/?{f('s_warnings', 'kind', 'repayment_overdue')}"
                        f"&{f('s_warnings', 'is_current', 1, pos=1)}")
    open_ = "l.status = 'active'"
    cases = [
        ("还款中贷款查询 首页", "/query_active/", loan_sql(open_), active),
        ("合同变更 首页", "/contract_change/",
         loan_sql("l.status NOT IN ('settled','written_off')", count_where="l.status IN ('active','extended','overdue')"),
         open_loans),
        ("还款逾期预警 首页", "/warn_repayment_overdue/",
         [capped_count("warning", "kind='repayment_overdue' AND is_current = true"),
          "SELECT * FROM warning WHERE kind='repayment_overdue' AND is_current = true ORDER BY due_date, id LIMIT 20"],
         overdue_warnings),
        ("按客户名称查询", f"/query_active/?q_customer={urllib.parse.quote(v['name'])}",
         loan_sql(f"{open_} AND l.customer_name >= :n AND l.customer_name < :n || '\U0010ffff'"),
         f"{active}&search={urllib.parse.quote(v['name'])}"),
        ("按贷款编号查询", f"/query_active/?q_loan_no={v['loan_no']}",
         loan_sql(f"{open_} AND l.loan_no >= :no AND l.loan_no < :no || 'z'"), f"{active}&search={v['loan_no']}"),
        ("按贷款产品筛选", f"/query_active/?q_product={v['product']}",
         loan_sql(f"{open_} AND l.product_id = {v['product']}"),
         f"{active}&{f('s_loans', 'product_id', v['product'], pos=1)}"),
        ("贷款列表第1000页", "/query_active/?page=999", loan_sql(open_, 999 * 20), f"{active}&page=999"),
        ("贷款详情", f"/loan_detail/{v['detail_loan']}/",
         ["SELECT * FROM loan WHERE id = :id", "SELECT * FROM installment WHERE loan_id = :id",
          "SELECT * FROM repayment WHERE loan_id = :id", "SELECT * FROM collection WHERE loan_id = :id"],
         # The scaffold has no such screen: the loan's details page, then one filtered list
         # per history table the bare SQL reads (what a user of the scaffold would open).
         [scaffold_details_url(v)] +
         [f"/scaffold/{e}/?{f(e, 'loan_id', v['detail_loan'])}" for e in ("s_installments", "s_repayments", "s_collections")]),
    ]
    rows = []
    for label, url, sql, scaffold_url in cases:
        def ours():
            r = c.get(url)
            assert r.status_code == 200, (url, r.status_code)
        def scaff():
            for one in [scaffold_url] if isinstance(scaffold_url, str) else scaffold_url:
                r = s.get(one)
                assert r.status_code == 200, (one, r.status_code)
        params = {"n": v["name"], "no": v["loan_no"], "id": v["detail_loan"]}
        rows.append((label, median_ms(ours, runs=15), median_ms(bare(app, sql, params), runs=15),
                     median_ms(scaff, runs=3)))
    return rows


# Screens the scaffold has no counterpart for (its index page is empty; it has no joined
# or computed lists): ours beside the bare SQL only.
OTHER_SCREENS = [
    # 首页's portfolio tables read the summary the daily job and every loan change keep
    # (models.portfolio_summary); the page also counts the admin's 我的待办 cards.
    ("首页 (portfolio)", "/", [
        "SELECT status, five_class, bucket, sum(loans), sum(balance_cents) FROM portfolio_summary "
        "GROUP BY status, five_class, bucket"]),
    ("还款催收 首页", "/collection_overdue/", [
        capped_count("loan l", "l.status = 'overdue'"),
        LOAN_ROWS + " WHERE l.status = 'overdue' ORDER BY l.days_overdue DESC, l.id DESC LIMIT 20"]),
    ("担保人催收 首页", "/collection_guarantor/", [
        capped_count("guarantor g", "EXISTS (SELECT 1 FROM loan l WHERE l.id = g.loan_id AND l.status = 'overdue')"),
        "SELECT g.*, l.* FROM guarantor g JOIN loan l ON l.id = g.loan_id WHERE l.status = 'overdue' "
        "ORDER BY g.id DESC LIMIT 20"]),
]


def measure_other_screens(app):
    c = logged_in_client(app)
    rows = []
    for label, url, sql in OTHER_SCREENS:
        def ours():
            r = c.get(url)
            assert r.status_code == 200, (url, r.status_code)
        rows.append((label, median_ms(ours, runs=15), median_ms(bare(app, sql), runs=15)))
    return rows


def scaffold_details_url(v) -> str:
    return f"/scaffold/s_loans/details/?id={v['detail_loan']}"


def scaffold_details_alone(scaffold, v):
    s = scaffold.test_client()
    return median_ms(lambda: s.get(scaffold_details_url(v)), runs=15)


def framework_floor(app, scaffold):
    """A request that renders nothing (404), logged in on ours, on the scaffold: the cost of
    the framework itself (session, user, security headers), which no page goes below."""
    c, s = logged_in_client(app), scaffold.test_client()
    return median_ms(lambda: c.get("/no-such-page"), runs=30), median_ms(lambda: s.get("/no-such-page"), runs=30)


EXPORT_SNIPPET = r"""
import sys, time, re
sys.path.insert(0, {root!r})
from bench.bench import make_app, logged_in_client
app = make_app({db!r})
c = logged_in_client(app)
t = time.perf_counter()
r = c.get({url!r})
n = sum(1 for _ in r.response) if {kind!r} == 'csv' else len(r.data)
secs = time.perf_counter() - t
# VmHWM: this process's own peak resident memory (ru_maxrss would also count the benchmark
# process this one was forked from, which holds a seeded book's caches).
hwm = int(re.search(r"VmHWM:\s+(\d+)", open("/proc/self/status").read()).group(1)) // 1024
print(secs, hwm, n)
"""


def measure_export(db_url, v, kind):
    url = f"/query_active/export/{kind}/?q_product={v['product']}"
    code = EXPORT_SNIPPET.format(root=ROOT, db=db_url, url=url, kind=kind)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    secs, peak_mb, _ = out.stdout.strip().split()[-3:]
    return float(secs), int(peak_mb)


def measure_job(app, as_of):
    from jobs.daily import run_daily

    with app.app_context():
        t = time.perf_counter()
        result = run_daily(as_of)
        secs = time.perf_counter() - t
    return secs, result


def latest_run_date(app):
    from sqlalchemy import func, select

    from admin_app.extensions import db
    from models import Warning

    with app.app_context():
        return db.session.execute(select(func.max(Warning.as_of))).scalar()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(db_url: str, port: int) -> subprocess.Popen:
    """The production server (2 sync workers, `wsgi:app`) on `db_url`, once it answers."""
    env = dict(os.environ, DATABASE_URL=db_url, SECRET_KEY="bench-load", RUN_SCHEDULER_IN_DEV="0")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
                             "--timeout", "120", "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2)
            return proc
        except OSError:  # not listening yet, or workers still loading
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("gunicorn did not start")


def load_test(db_url, v, seconds=30, clients=8):
    port = free_port()
    proc = start_gunicorn(db_url, port)
    base = f"http://127.0.0.1:{port}"
    try:
        urls = ["/query_active/", f"/query_active/?q_customer={urllib.parse.quote(v['name'])}",
                f"/query_active/?q_product={v['product']}", "/contract_change/",
                f"/query_active/?q_loan_no={v['loan_no']}", "/warn_repayment_overdue/"]
        latencies, errors = [], [0]
        lock = threading.Lock()
        stop = time.time() + seconds

        def worker(i):
            jar = CookieJar()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
            page = opener.open(base + "/login").read().decode()
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
            data = urllib.parse.urlencode({"username": "admin", "password": "demo12345", "csrf_token": token}).encode()
            opener.open(base + "/login", data=data)
            k = i
            while time.time() < stop:
                url = urls[k % len(urls)]
                k += 1
                t = time.perf_counter()
                try:
                    resp = opener.open(base + url, timeout=30)
                    resp.read()
                    ok = resp.status == 200
                except Exception:
                    ok = False
                with lock:
                    latencies.append((time.perf_counter() - t) * 1000)
                    if not ok:
                        errors[0] += 1

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        latencies.sort()
        p95 = latencies[int(len(latencies) * 0.95) - 1] if latencies else 0
        return len(latencies) / seconds, p95, errors[0], len(latencies)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--loans", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--db", default=None, help="SQLAlchemy URL (default: SQLite file bench/out/bench.db)")
    ap.add_argument("--reuse", action="store_true", help="skip seeding; measure the existing book")
    ap.add_argument("--as-of", default=date.today().isoformat())
    ap.add_argument("--load-seconds", type=int, default=30)
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    db_url = args.db or "sqlite:///" + os.path.join(OUT, "bench.db")
    as_of = date.fromisoformat(args.as_of)
    app = make_app(db_url)
    seed_secs = None
    if not args.reuse:
        seed_secs = seed(app, args.loans, args.seed, as_of)
        print(f"seeded {args.loans} loans in {seed_secs:.1f} s", flush=True)
    # The daily job twice: again for the date the book was seeded for (nothing changed), then
    # for the next day (every overdue day count moves, every current warning moves forward).
    rerun_secs, _ = measure_job(app, latest_run_date(app) or as_of)
    job_secs, job = measure_job(app, (latest_run_date(app) or as_of) + timedelta(days=1))
    v = sample_values(app)
    scaffold = scaffold_app(db_url)
    pages = measure_pages(app, scaffold, v)
    others = measure_other_screens(app)
    floor_ours, floor_scaffold = framework_floor(app, scaffold)
    details_alone = scaffold_details_alone(scaffold, v)
    csv_secs, csv_mb = measure_export(db_url, v, "csv")
    xlsx_secs, xlsx_mb = measure_export(db_url, v, "xlsx")
    rps, p95, errors, total = load_test(db_url, v, seconds=args.load_seconds)

    dialect = db_url.split(":", 1)[0]
    print(f"\n### {dialect}, {args.loans:,} loans" + (f" (seeded in {seed_secs:.0f} s)" if seed_secs else ""))
    print("\n| measure | ours (ms) | bare SQL (ms) | scaffold (ms) | ours / bare | scaffold / ours |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, ours, floor, scaff in pages:
        print(f"| {label} | {ours:.1f} | {floor:.1f} | {scaff:.1f} | {ours / max(floor, 0.01):.1f}× | {scaff / max(ours, 0.01):.1f}× |")
    for label, ours, floor in others:
        print(f"| {label} | {ours:.1f} | {floor:.1f} | — | {ours / max(floor, 0.01):.1f}× | — |")
    print(f"\n贷款详情's scaffold is the loan's details page plus its installments, repayments and "
          f"collections lists (4 requests; the details page alone, one loan row: {details_alone:.1f} ms).")
    print(f"\nFramework floor (a request that renders nothing, 404): ours {floor_ours:.1f} ms "
          f"(logged in: session, user, security headers), scaffold {floor_scaffold:.1f} ms.")
    print(f"\n| export ({v['product_rows']:,} filtered rows) | seconds | peak memory (MB) |")
    print("|---|---:|---:|")
    print(f"| CSV | {csv_secs:.1f} | {csv_mb} |")
    print(f"| XLSX | {xlsx_secs:.1f} | {xlsx_mb} |")
    rows = sum(job.rows.values())
    print("\n| run-jobs | seconds | rows |\n|---|---:|---:|")
    print(f"| next day (every open loan's position, {rows:,} warnings) | {job_secs:.1f} | "
          f"{rows / job_secs:,.0f} warnings/s, {job.loans_updated:,} loans updated |")
    print(f"| same day again (nothing changed) | {rerun_secs:.1f} | |")
    print(f"\n| load: gunicorn 2 workers, 8 clients, {args.load_seconds} s | {rps:.1f} req/s | p95 {p95:.0f} ms | errors {errors} of {total} |")


if __name__ == "__main__":
    main()
