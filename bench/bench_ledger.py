"""Ledger benchmark on a big book (not a test): the money commands and pages of issue 12.

On an already seeded book (copy it first; this writes one loan into it) it books, through
the services, a 60-period 等额本息 loan with about 100 ledger entries (disbursement, 58 months
of repayments, 40 of them paid in two parts, a rate change), unless an earlier run left it,
then measures, each the median of --runs after one warm-up:

- posting a repayment to that loan: the service alone (services.ledger.post_repayment +
  flush, rolled back, so the loan keeps its entries) and the whole form (POST /repayments/new/:
  form, CSRF, service, audit, commit; each run adds one entry);
- 提前结清试算: the quote service, and 贷款详情 with ?quote_date= (the page that shows it);
- 贷款详情 of that loan and of the seeded loan with the most installments.

    python bench/bench_ledger.py --db sqlite:////work/books/bench1m-ledger.db
    python bench/bench_ledger.py --db postgresql://postgres@127.0.0.1:5432/bench1m_ledger
    python bench/bench_ledger.py --db ... --profile post      # cProfile of one measure

Targets (issue 12): 贷款详情 <= 15 ms, posting a repayment <= 50 ms, 提前结清试算 <= 20 ms.
The daily job: bench/bench_jobs.py --reuse --db ...
"""
import argparse
import cProfile
import os
import pstats
import re
import statistics
import sys
import time
from datetime import date
from decimal import Decimal

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

from bench.bench import logged_in_client, make_app  # noqa: E402

CUSTOMER = "账务基准客户"
PRODUCT_CODE = "BENCHLEDGER"
TERM = 60
TARGETS = {"post": 50, "quote": 20, "detail": 15}


def load() -> str:
    return open("/proc/loadavg").read().split()[0]


def timed(fn, runs: int, before=None) -> tuple[float, float, list[float]]:
    """Medians of `fn` over `runs` (one warm-up first): wall ms, CPU ms of this process (the
    app and, on SQLite, the database; a shared machine's load inflates wall time, not CPU),
    and the wall times. `before` runs untimed before each run."""
    if before:
        before()
    fn()
    walls, cpus = [], []
    for _ in range(runs):
        if before:
            before()
        t, c = time.perf_counter(), time.process_time()
        fn()
        walls.append((time.perf_counter() - t) * 1000)
        cpus.append((time.process_time() - c) * 1000)
    return statistics.median(walls), statistics.median(cpus), walls


def months_back(today: date, n: int) -> date:
    y, m = divmod(today.month - 1 - n, 12)
    return date(today.year + y, m + 1, min(today.day, 28))


def owed_on(loan, day: date) -> Decimal:
    """What is due on `day` and not paid: due periods' principal and interest, 罚息, 复利."""
    from services import ledger

    b = ledger.book(loan, day)
    pos = b.position()
    due = sum((p.principal_unpaid + p.interest_unpaid for p in b.periods if p.due <= day and p.cleared_on is None),
              Decimal(0))
    return due + pos["penalty"] + pos["compound"]


def bench_loan(today: date):
    """The 60-period loan with about 100 entries, booked through the services (or found)."""
    from sqlalchemy import func, select

    from admin_app.extensions import db
    from models import Customer, Loan, LoanEntry, LoanProduct, User
    from models.identity import id_check_char
    from services import ledger
    from services.loans import change_rate, current_period_start, open_loan

    officer = db.session.scalar(select(User).where(User.username == "officer"))
    loan = db.session.scalar(select(Loan).where(Loan.customer_name == CUSTOMER).order_by(Loan.id.desc()))
    if loan is None:
        t = time.perf_counter()
        product = db.session.scalar(select(LoanProduct).where(LoanProduct.code == PRODUCT_CODE))
        if product is None:
            product = LoanProduct(code=PRODUCT_CODE, name="账务基准产品", repayment_method="equal_installment",
                                  min_rate=Decimal("4"), max_rate=Decimal("24"), default_rate=Decimal("12"),
                                  min_term=1, max_term=TERM, penalty_markup=Decimal("50"), grace_days=3,
                                  inspection_interval_days=90, active=True)
            db.session.add(product)
        first17 = "11010119700101" + f"{os.getpid() % 1000:03d}"
        customer = Customer(kind="person", name=CUSTOMER, id_number=first17 + id_check_char(first17),
                            phone="13912345678", officer_id=officer.id)
        db.session.add(customer)
        db.session.flush()
        start = months_back(today, TERM - 2)  # 58 periods due by today, 2 to come
        loan = open_loan(customer=customer, product=product, principal=Decimal("600000"), term_months=TERM,
                         start_date=start, officer=officer)
        dues = [p.due for p in ledger.book(loan, start).periods]
        for k, due in enumerate(d for d in dues if d <= today):
            if k < 40:  # half on the due date, the rest three days later (within the grace)
                ledger.post_repayment(loan, Decimal("5000.00"), due, officer, today=today)
                later = min(date.fromordinal(due.toordinal() + 3), today)
                rest = owed_on(loan, later)
                if rest > 0:
                    ledger.post_repayment(loan, rest, later, officer, today=today)
            else:
                ledger.post_repayment(loan, owed_on(loan, due), due, officer, today=today)
        floor = current_period_start(loan, today)
        change_rate(loan, Decimal("10.5"), max(floor, date.fromordinal(today.toordinal() - 1)), "基准测试调息", officer)
        db.session.commit()
        print(f"booked the bench loan {loan.loan_no} in {time.perf_counter() - t:.1f} s", flush=True)
    entries = db.session.scalar(select(func.count()).select_from(LoanEntry).where(LoanEntry.loan_id == loan.id))
    periods = len(ledger.book(loan, today).periods)
    return loan.id, loan.loan_no, entries, periods


def seeded_loan_id(bench_id: int):
    """A seeded loan to compare with: among the newest 20,000 open loans before the bench
    loan, the one with the most repayments (an index range, not a scan of the book)."""
    from sqlalchemy import func, select

    from admin_app.extensions import db
    from models import Loan, Repayment

    newest_open = db.session.scalar(select(func.max(Loan.id)).where(Loan.status.in_(("active", "overdue")),
                                                                   Loan.id < bench_id))
    return db.session.execute(
        select(Repayment.loan_id, func.count()).where(Repayment.loan_id > newest_open - 20000,
                                                      Repayment.loan_id <= newest_open)
        .group_by(Repayment.loan_id).order_by(func.count().desc()).limit(1)).first()[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, help="SQLAlchemy URL of a COPY of a seeded book")
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--profile", default=None, help="one measure's key (post, post_form, quote, quote_page, "
                    "quote_page_officer, detail, detail_officer, detail_other): cProfile it instead")
    args = ap.parse_args()
    app = make_app(args.db)
    from admin_app.extensions import db
    from models import Loan
    from services import ledger

    today = ledger.business_today()
    with app.app_context():
        loan_id, loan_no, entries, periods = bench_loan(today)
        other_id = seeded_loan_id(loan_id)
        db.session.commit()
    officer = logged_in_client(app, "officer")
    admin = logged_in_client(app, "admin")
    ctx = app.app_context()
    ctx.push()
    from sqlalchemy import select

    from models import User

    op = db.session.scalar(select(User).where(User.username == "officer"))

    def post_service():
        loan = db.session.get(Loan, loan_id)
        ledger.post_repayment(loan, Decimal("100.00"), today, op, today=today)
        db.session.flush()

    def rollback():
        db.session.rollback()
        db.session.expire_all()

    form = {}

    def fresh_form():
        db.session.rollback()
        fresh_user()
        page = officer.get("/repayments/new/").get_data(as_text=True)
        form.clear()
        form.update(re.findall(r'name="(csrf_token|form_once)"[^>]*value="([^"]+)"', page))

    def post_form():
        fresh_user()
        r = officer.post("/repayments/new/", data={"loan": str(loan_id), "paid_on": today.isoformat(),
                                                   "amount": "100.00", "prepay_mode": "advance", **form})
        assert r.status_code == 302, r.get_data(as_text=True)[:500]

    def quote():
        ledger.settlement_quote(db.session.get(Loan, loan_id), today)

    def fresh_user():
        # requests share the pushed app context and its `g`: drop the user (and CSRF token)
        # the other client's request cached there, as tests/conftest.py's StaffClient does
        from flask import g

        g.pop("_login_user", None)
        g.pop("csrf_token", None)

    def page(client, lid, query=""):
        def run():
            fresh_user()
            r = client.get(f"/loan_detail/{lid}/{query}")
            assert r.status_code == 200, r.status_code
        return run

    measures = {
        "post": ("还款入账(服务: post_repayment + flush, 回滚)", post_service, rollback, "post"),
        "quote": ("提前结清试算(服务 settlement_quote)", quote, rollback, "quote"),
        "quote_page": ("提前结清试算页(贷款详情 ?quote_date=,admin 全部)", page(admin, loan_id, f"?quote_date={today}"),
                       None, "quote"),
        "quote_page_officer": ("提前结清试算页(同上,officer 本人)", page(officer, loan_id, f"?quote_date={today}"),
                               None, "quote"),
        "detail": ("贷款详情(60期/约100分录,admin 全部)", page(admin, loan_id), None, "detail"),
        "detail_officer": ("贷款详情(同上,officer 本人)", page(officer, loan_id), None, "detail"),
        "detail_other": (f"贷款详情(种子贷款 #{other_id},还款笔数最多,admin)", page(admin, other_id), None, "detail"),
        "post_form": ("还款入账(表单 POST /repayments/new/,含提交)", post_form, fresh_form, "post"),
    }
    if args.profile:
        label, fn, before, _ = measures[args.profile]
        if before:
            before()
        fn()
        prof = cProfile.Profile()
        for _ in range(args.runs):
            if before:
                before()
            prof.enable()
            fn()
            prof.disable()
        pstats.Stats(prof).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(int(os.environ.get("LINES", "40")))
        return
    dialect = args.db.split(":", 1)[0]
    print(f"\n### ledger, {dialect}, loan {loan_no}: {periods} periods, {entries} entries, as of {today}\n")
    print("| measure | wall median (ms) | CPU median (ms) | wall min–max (ms) | target (ms) | load (1 min) |")
    print("|---|---:|---:|---:|---:|---:|")
    for key in ("post", "post_form", "quote", "quote_page", "quote_page_officer", "detail", "detail_officer",
                "detail_other"):
        label, fn, before, target = measures[key]
        median, cpu, times = timed(fn, args.runs, before)
        verdict = "" if median <= TARGETS[target] else " **missed**"
        print(f"| {label} | {median:.1f}{verdict} | {cpu:.1f} | {min(times):.1f}–{max(times):.1f} |"
              f" {TARGETS[target]} | {load()} |", flush=True)
    db.session.rollback()
    ctx.pop()


if __name__ == "__main__":
    main()
