"""首页's portfolio summary (models.portfolio_summary) equals the live aggregate of the loans —
count and outstanding principal per (status, class, ageing bucket, product, 客户经理) — on
random books, after random changes of every figure it keys on, after each kind of business
change (new loan, repayment, settlement, extension, classification approval, write-off,
reversal, import by both paths, the daily job), after a rollback; and 首页 shows each user
the part of it their 数据权限 reaches."""
import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db as _db
from models import Loan, LoanProduct, PortfolioSummary, Repayment, User
from models.enums import FIVE_CLASSES, LOAN_STATUSES, OPEN_LOAN_STATUSES
from models.snapshot import ageing_bucket
from services import approvals
from services.portfolio_summary import cents


def live(officers=None) -> dict:
    """The figures added up loan by loan in Python (no SQL aggregate), optionally only the
    loans of `officers` (ids, None for no 客户经理)."""
    out = defaultdict(lambda: [0, 0])
    for loan in _db.session.execute(select(Loan).execution_options(populate_existing=True)).scalars():
        if officers is not None and loan.officer_id not in officers:
            continue
        key = (loan.status, loan.five_class, ageing_bucket(loan.days_overdue), loan.product_id, loan.officer_id)
        out[key][0] += 1
        out[key][1] += cents(loan.outstanding_principal)
    return {k: tuple(v) for k, v in out.items()}


def stored() -> dict:
    S = PortfolioSummary
    rows = _db.session.execute(select(S.status, S.five_class, S.bucket, S.product_id, S.officer_id,
                                      func.sum(S.loans), func.sum(S.balance_cents))
                               .group_by(S.status, S.five_class, S.bucket, S.product_id, S.officer_id)).all()
    return {tuple(r[:5]): (int(r[5]), int(r[6])) for r in rows if int(r[5]) or int(r[6])}


def assert_in_step(note=""):
    want = live()
    assert want, "an empty book proves nothing"
    assert stored() == want, note


def approve_all(key, item_id, users):
    wf = approvals.workflow(key)
    for _ in range(6):
        item = _db.session.get(wf.model, item_id)
        _db.session.refresh(item)
        if item.review_status != "pending":
            break
        role = wf.stage(item.review_stage).role
        approvals.approve(key, item_id, users[role], "同意")
    assert item.review_status == "approved"


@pytest.mark.parametrize("seed", [5, 23])
def test_random_books_and_random_changes_keep_the_summary_equal_to_the_loans(db, seed):
    from admin_app.seed import seed_demo
    from services.loans import open_loan
    from tests.book_factory import customer

    seed_demo(loans=60, seed=seed, as_of=date(2025, 6, 30))
    db.session.commit()
    assert_in_step("after seeding")
    rnd = random.Random(seed)
    products = list(db.session.scalars(select(LoanProduct.id)))
    officers = list(db.session.scalars(select(User.id).where(User.username.in_(("officer", "officer2"))))) + [None]
    for round_no in range(8):
        loans = list(db.session.scalars(select(Loan).order_by(Loan.id)))
        principal = {loan.id: loan.principal for loan in loans}
        for loan in rnd.sample(loans, 12):
            if rnd.random() < 0.5:
                db.session.expire(loan)  # set without the value it replaces being loaded
            for name in rnd.sample(["status", "five_class", "days_overdue", "outstanding_principal",
                                    "product_id", "officer_id"], rnd.randint(1, 3)):
                value = {"status": lambda: rnd.choice(list(LOAN_STATUSES)),
                         "five_class": lambda: rnd.choice(list(FIVE_CLASSES)),
                         "days_overdue": lambda: rnd.choice([0, 1, 30, 31, 60, 61, 90, 91, 180, 181, 400]),
                         "outstanding_principal": lambda: (Decimal(principal[loan.id]) * Decimal(rnd.random()))
                         .quantize(Decimal("0.01")),
                         "product_id": lambda: rnd.choice(products),
                         "officer_id": lambda: rnd.choice(officers)}[name]()
                setattr(loan, name, value)
            if rnd.random() < 0.3:
                db.session.flush()  # several flushes in one transaction
        if rnd.random() < 0.3:
            open_loan(customer=customer(), product=db.session.get(LoanProduct, rnd.choice(products)),
                      principal=Decimal(rnd.randint(10, 500) * 1000), term_months=12,
                      start_date=date(2025, 6, 1))
        if round_no % 3 == 2:
            db.session.flush()
            db.session.rollback()  # the changes and their summary rows go together
        else:
            db.session.commit()
        assert_in_step(f"round {round_no}")
    # The daily job rewrites it: one row per key, still equal.
    from jobs.daily import run_daily

    assert run_daily(date(2025, 7, 1)).ok
    db.session.expire_all()
    assert_in_step("after the daily job")
    assert db.session.scalar(select(func.count()).select_from(PortfolioSummary)) == len(live())


def test_each_kind_of_business_change_keeps_the_summary_in_step(db, users):
    from services import classification, reversal, writeoff
    from services.loans import amount_owed, post_repayment
    from tests import book_factory, review_factory

    b = book_factory.book()  # new loans, repayments, a settlement, an extension
    assert_in_step("new loans, settlement, extension")
    loan = b["active"]
    post_repayment(loan, Decimal("20000.00"), date.today())  # 提前还款: the balance falls
    db.session.commit()
    assert_in_step("repayment")
    rep = db.session.scalars(select(Repayment).where(Repayment.loan_id == loan.id)).first()
    item = reversal.propose(rep.id, "金额录错", users["officer"])
    approvals.submit("reversal", item, users["officer"]) if item.review_status == "draft" else None
    db.session.commit()
    approve_all("reversal", item.id, users)
    db.session.commit()
    assert_in_step("reversal")
    change = classification.propose(b["overdue"].id, 3, "逾期严重", users["officer"], submit=True)
    db.session.commit()
    approve_all("classification", change.id, users)
    db.session.commit()
    assert db.session.get(Loan, b["overdue"].id).five_class == 3
    assert_in_step("classification approved")
    bad = review_factory.loan(days_overdue=400, five_class=5)
    db.session.commit()
    assert_in_step("a loan of the review factory")
    item = writeoff.apply(bad.id, users["officer"], reason="借款人破产清算完毕", submit=True)
    db.session.commit()
    approve_all("writeoff", item.id, users)
    db.session.commit()
    assert db.session.get(Loan, bad.id).status == "written_off"
    assert_in_step("write-off")
    settled = b["active2"]
    post_repayment(settled, amount_owed(settled, date.today())["total"], date.today())
    db.session.commit()
    assert db.session.get(Loan, settled.id).status == "settled"
    assert_in_step("paid off")


@pytest.mark.parametrize("bulk", [False, True])
def test_imports_keep_the_summary_in_step(db, users, bulk):
    from tests.test_import_bulk import book, run

    book()
    run(users, bulk=bulk, refresh=False)  # loans, rate changes, repayments
    db.session.commit()
    assert len(live()) > 1 and sum(n for n, _c in live().values()) == 21
    assert_in_step("imported")


def test_home_shows_each_user_the_portfolio_of_their_data_scope(db, users, app):
    from flask_login import login_user

    from tests import book_factory
    from views.home import AGING_BUCKETS, portfolio

    b = book_factory.book()
    b["active2"].officer_id = users["officer2"].id
    b["extended"].officer_id = None
    db.session.commit()
    everyone = live()
    assert {k[4] for k in everyone} == {users["officer"].id, users["officer2"].id, None}

    def shown(username):
        with app.test_request_context("/"):
            login_user(users[username])
            got = portfolio()
        return got

    def expected(officers):
        loans = [loan for loan in db.session.scalars(select(Loan))
                 if officers is None or loan.officer_id in officers]

        def total(rows):
            return len(rows), sum((Decimal(x.outstanding_principal) for x in rows), Decimal("0.00"))

        open_loans = [x for x in loans if x.status in OPEN_LOAN_STATUSES]
        return {"status": [(label, *total([x for x in loans if x.status == k])) for k, label in LOAN_STATUSES.items()],
                "classes": [(label, *total([x for x in open_loans if x.five_class == k]))
                            for k, label in FIVE_CLASSES.items()],
                "aging": [(label, sum(1 for x in open_loans if x.days_overdue >= lo and (hi is None or x.days_overdue <= hi)))
                          for label, lo, hi in AGING_BUCKETS]}

    assert shown("admin") == expected(None)
    mine = shown("officer")
    assert mine == expected({users["officer"].id, None})  # 本人: my loans and those of nobody
    assert mine != shown("admin") and shown("officer2") == expected({users["officer2"].id, None})


def test_a_bulk_change_outside_the_orm_is_counted_by_moving(db):
    """services.portfolio_summary.moving around a bulk UPDATE (the importer's set-based
    path) takes the loans' old figures out and puts the new ones in."""
    from sqlalchemy import update

    from services import portfolio_summary
    from tests import book_factory

    b = book_factory.book()
    ids = [b["active"].id, b["overdue"].id]
    conn = db.session.connection()
    with portfolio_summary.moving(conn, ids):
        conn.execute(update(Loan.__table__).where(Loan.__table__.c.id.in_(ids))
                     .values(five_class=4, days_overdue=95, outstanding_principal=Decimal("1234.56")))
    db.session.commit()
    assert_in_step("bulk update")
    assert stored() != {} and any(k[1] == 4 and k[2] == ageing_bucket(95) for k in stored())


def test_cents_round_half_up_like_the_sql():
    assert cents(Decimal("0.005")) == 1 and cents(Decimal("12.345")) == 1235 and cents(None) == 0
    assert cents(Decimal("100000.00")) == 10000000


def test_a_change_during_the_jobs_rewrite_waits_and_counts_on_top(db, app):
    """PostgreSQL: while the daily job's transaction rewrites the summary, a user's loan
    change cannot append its difference (it would be deleted by the rewrite or counted twice
    by it): it waits for the run to commit, then counts on top. On SQLite the run holds the
    database's write lock anyway."""
    import threading

    from services.portfolio_summary import rebuild
    from tests import book_factory

    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL: concurrent writers")
    loan_id = book_factory.book()["active"].id
    db.session.remove()
    job = db.engine.connect()
    run = job.begin()
    rebuild(job)
    done = []

    def user_change():
        with app.app_context():
            loan = db.session.get(Loan, loan_id)
            loan.five_class = 2
            db.session.commit()
            done.append(True)
            db.session.remove()

    user = threading.Thread(target=user_change)
    user.start()
    try:
        user.join(1.0)
        waited = user.is_alive() and not done  # waiting for the run's lock
        run.commit()
    finally:
        job.close()
    user.join(10)
    assert waited
    assert done
    assert_in_step("a change made while the job rewrote the summary")
