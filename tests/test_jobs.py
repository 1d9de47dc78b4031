"""The daily job: loan positions and states, suggested classes, next inspection dates,
atomic and idempotent refresh, preserved handling, the run lock, failure rollback, the
job_run record, parity with the per-loan Python rule, and the scheduler's configuration."""
import json
import random
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from admin_app import settings
from admin_app.extensions import db as _db
from jobs import daily, scheduler
from jobs.daily import run_daily
from jobs.lock import exclusive_run
from models import CreditLine, Customer, JobRun, Loan, LoanProduct, Warning
from services import BusinessError
from services.warnings import handle_warning
from tests.warning_book import AS_OF, Book, book, run  # noqa: F401 (book is a fixture)



def warning_rows(db, as_of=AS_OF):
    return db.session.execute(select(Warning.id, Warning.kind, Warning.subject_key, Warning.days, Warning.amount,
                                     Warning.handling_state, Warning.note)
                              .where(Warning.as_of == as_of).order_by(Warning.id)).all()


def overdue_loan(book, *, days, status="active", principal=1000):
    p = book.product(grace_days=0)
    return book.loan(book.customer(f"逾期{days}天"), p, status=status,
                     installments=[(book.day(-days), principal, 10), (book.day(30), principal, 10)])


# ---- positions ------------------------------------------------------------------------
def test_positions_of_an_overdue_loan(db, book):
    p = book.product(grace_days=3, markup=50, interval=60)
    loan = book.loan(book.customer(), p, rate=12, start=book.day(-100), last_inspection=book.day(-20), installments=[
        {"due": book.day(-70), "principal": 1000, "interest": 50, "principal_paid": 1000, "interest_paid": 50,
         "paid_off": book.day(-70)},
        {"due": book.day(-40), "principal": 1000, "interest": 50, "interest_paid": 20},
        (book.day(-10), 1000, 50),
        (book.day(20), 1000, 50),
    ])
    run(db)
    db.session.refresh(loan)
    # penalty from the due dates once beyond the 3 grace days (grace mode from_due):
    # 1000×12×150×40/3.6M = 20.00 and 1000×12×150×10/3.6M = 5.00
    assert (loan.status, loan.days_overdue, loan.overdue_principal, loan.overdue_interest,
            loan.penalty_interest, loan.suggested_class, loan.next_inspection_date) == \
        ("overdue", 40, Decimal("2000.00"), Decimal("80.00"), Decimal("25.00"), 2, book.day(40))


def test_a_loan_paid_up_returns_to_active_or_extended(db, book):
    p = book.product()
    plain = book.loan(book.customer("按时"), p, status="overdue", start=book.day(-10),
                      installments=[(book.day(20), 1000, 10)])
    extended = book.loan(book.customer("展期"), p, status="overdue", start=book.day(-10),
                         installments=[(book.day(20), 1000, 10)])
    book.extend(extended)
    plain.days_overdue = 12
    plain.overdue_principal = Decimal("5")
    run(db)
    db.session.refresh(plain)
    db.session.refresh(extended)
    assert (plain.status, plain.days_overdue, plain.overdue_principal, plain.suggested_class) == \
        ("active", 0, Decimal("0.00"), 1)
    assert extended.status == "extended"
    assert plain.next_inspection_date == book.day(80)  # start date + 90 when never inspected


def test_settled_and_written_off_loans_are_not_touched(db, book):
    settled = overdue_loan(book, days=50, status="settled")
    written_off = overdue_loan(book, days=400, status="written_off")
    run(db)
    for loan in (settled, written_off):
        db.session.refresh(loan)
        assert (loan.days_overdue, loan.overdue_principal, loan.suggested_class, loan.next_inspection_date) == \
            (0, Decimal("0.00"), 1, None)
    assert (settled.status, written_off.status) == ("settled", "written_off")


@pytest.mark.parametrize("days,expected", [(0, 1), (1, 2), (90, 2), (91, 3), (270, 3), (271, 4), (360, 4), (361, 5)])
def test_suggested_class_at_the_thresholds(db, book, days, expected):
    loan = overdue_loan(book, days=days) if days else book.loan(
        book.customer(), book.product(), installments=[(book.day(1), 100, 1)])
    run(db)
    db.session.refresh(loan)
    assert (loan.days_overdue, loan.suggested_class) == (days, expected)


def test_suggested_class_follows_changed_thresholds(db, book):
    settings.set_value("class.substandard_days", "30")
    loan = overdue_loan(book, days=31)
    run(db)
    db.session.refresh(loan)
    assert loan.suggested_class == 3


# ---- parity with the per-loan rule of services.loans -------------------------------------
def test_job_positions_equal_the_python_rule_on_real_schedules(db):
    from services.loans import amount_owed, open_loan, post_repayment

    rng = random.Random(7)
    today = date.today()
    customer = Customer(kind="person", name="对账客户", id_number="PARITY0000000001", phone="13800000000")
    db.session.add(customer)
    loans = []
    for n, method in enumerate(["equal_installment", "equal_principal", "interest_first", "bullet"] * 4):
        product = LoanProduct(code=f"PAR{n}", name=f"对账产品{n}", repayment_method=method, min_rate=Decimal(1),
                              max_rate=Decimal(36), default_rate=Decimal(12), min_term=1, max_term=36,
                              penalty_markup=Decimal(rng.choice(["0", "30", "50", "33.3333"])),
                              grace_days=rng.choice([0, 3, 7]), inspection_interval_days=90)
        db.session.add(product)
        db.session.flush()
        start = today - timedelta(days=rng.randint(60, 500))
        loan = open_loan(customer=customer, product=product, principal=Decimal(rng.randint(5000, 900000)),
                         rate=Decimal(rng.choice(["7.2", "12", "15.1234", "23.9"])),
                         term_months=rng.choice([3, 6, 12, 24]), start_date=start)
        for k in range(rng.randint(0, 3)):
            paid_on = start + timedelta(days=rng.randint(20, (today - start).days))
            owed = amount_owed(loan, paid_on)["due_now"]
            if owed > 1 and loan.status != "settled":
                post_repayment(loan, (owed * Decimal(rng.choice(["0.3", "0.7", "1"]))).quantize(Decimal("0.01")),
                               max(paid_on, _last_paid(db, loan)))
        loans.append(loan)
    run(db, today)
    checked = 0
    for loan in loans:
        db.session.refresh(loan)
        if loan.status == "settled":
            continue
        owed = amount_owed(loan, today)
        assert (loan.overdue_principal, loan.overdue_interest, loan.penalty_interest) == \
            (owed["overdue_principal"], owed["overdue_interest"], owed["penalty"]), loan.loan_no
        assert loan.status == ("overdue" if owed["overdue_principal"] + owed["overdue_interest"] > 0 else "active")
        checked += 1
    assert checked >= 10


def _last_paid(db, loan):
    from models import Repayment

    return db.session.scalar(select(func.max(Repayment.paid_on)).where(Repayment.loan_id == loan.id)) or loan.start_date


# ---- refresh: idempotent, atomic, handling preserved -----------------------------------------
def _small_book(book):
    p = book.product()
    c = book.customer("刷新客户")
    loan = book.loan(c, p, start=book.day(-100), installments=[(book.day(-5), 1000, 10), (book.day(3), 1000, 10)])
    book.collateral(loan, "mortgage", book.day(5))
    book.credit_line(c, book.day(-2))
    return loan


def test_second_run_for_the_same_date_changes_nothing(db, book):
    loan = _small_book(book)
    first = run(db)
    before_rows = warning_rows(db)
    db.session.refresh(loan)
    version = loan.version
    second = run(db)
    assert (second.loans_updated, second.changes) == \
        (0, {"inserted": 0, "moved": 0, "updated": 0, "removed": 0, "pruned": 0})
    assert warning_rows(db) == before_rows and len(before_rows) == sum(first.rows.values())
    db.session.refresh(loan)
    assert loan.version == version


def test_a_rerun_applies_changes_in_place(db, book):
    loan = _small_book(book)
    run(db)
    ids = {r.kind: r.id for r in warning_rows(db)}
    inst = loan.installments[0]
    inst.principal_paid, inst.interest_paid, inst.paid_off_date = inst.principal_due, inst.interest_due, book.day(-1)
    db.session.add(loan.collaterals[0])
    loan.collaterals[0].value = Decimal("123456")
    second = run(db)
    assert second.changes["removed"] == 1  # the overdue installment is paid
    assert second.changes["updated"] >= 1
    now = {r.kind: r for r in warning_rows(db)}
    assert "repayment_overdue" not in now
    assert now["mortgage_expiry"].id == ids["mortgage_expiry"]
    assert now["mortgage_expiry"].amount == Decimal("123456.00")


def test_handling_survives_a_rerun_and_moves_forward_to_the_next_day(db, book, users):
    _small_book(book)
    run(db)
    w = db.session.scalars(select(Warning).where(Warning.kind == "repayment_overdue")).one()
    handle_warning(db.session, w, state="following", note="已电话联系,承诺周五还款", user=users["officer"])
    db.session.commit()
    run(db)
    same = db.session.get(Warning, w.id)
    assert (same.handling_state, same.handled_by_id) == ("following", users["officer"].id)
    handled_at, days = same.handled_at, same.days
    nxt_day = run(db, AS_OF + timedelta(days=1))
    assert nxt_day.changes["moved"] == sum(nxt_day.rows.values())
    nxt = db.session.get(Warning, w.id)  # the same row, now of the next day
    assert (nxt.as_of, nxt.days, nxt.handling_state, nxt.handled_by_id, nxt.handled_at) == \
        (AS_OF + timedelta(days=1), days + 1, "following", users["officer"].id, handled_at)
    assert "已电话联系" in nxt.note
    credit = db.session.scalars(select(Warning).where(Warning.kind == "credit_expiry")).one()
    assert credit.handling_state == "open"


def test_a_subject_warned_again_takes_the_handling_of_its_last_handled_row(db, book, users):
    p = book.product()
    c = book.customer()
    book.loan(c, p, start=book.day(-10), installments=[(book.day(7), 1000, 10)])
    book.credit_line(c, book.day(3))  # keeps every day's run non-empty
    run(db)
    w = db.session.scalars(select(Warning).where(Warning.kind == "repayment_due")).one()
    handle_warning(db.session, w, state="done", note="已提醒客户按时还款", user=users["collector"])
    settings.set_value("lead_days.repayment_due", "5")  # no longer warned the next day
    day1 = run(db, AS_OF + timedelta(days=1))
    assert day1.rows["repayment_due"] == 0
    settings.set_value("lead_days.repayment_due", "7")
    run(db, AS_OF + timedelta(days=2))
    again = db.session.scalars(select(Warning).where(Warning.kind == "repayment_due",
                                                     Warning.as_of == AS_OF + timedelta(days=2))).one()
    assert again.id != w.id
    assert (again.handling_state, again.note, again.handled_by_id) == ("done", w.note, users["collector"].id)


def test_a_renamed_customer_gets_a_new_row_that_keeps_the_handling(db, book, users):
    loan = _small_book(book)
    run(db)
    w = db.session.scalars(select(Warning).where(Warning.kind == "repayment_overdue")).one()
    handle_warning(db.session, w, state="following", note="已上门", user=users["officer"])
    loan.customer_name = "刷新客户(更名)"
    run(db, AS_OF + timedelta(days=1))
    new = db.session.scalars(select(Warning).where(Warning.kind == "repayment_overdue",
                                                   Warning.as_of == AS_OF + timedelta(days=1))).one()
    assert new.id != w.id and new.customer_name == "刷新客户(更名)"
    assert (new.handling_state, new.note) == ("following", db.session.get(Warning, w.id).note)


def current_rows(db):
    return db.session.execute(select(Warning.kind, Warning.subject_key, Warning.as_of)
                              .where(Warning.is_current).order_by(Warning.kind, Warning.subject_key)).all()


def test_rows_no_longer_warned_about_stay_as_history_and_cannot_be_handled(db, book, users):
    loan = _small_book(book)
    run(db)
    old = db.session.scalars(select(Warning).where(Warning.kind == "repayment_overdue")).one()
    inst = loan.installments[0]
    inst.principal_paid, inst.interest_paid, inst.paid_off_date = inst.principal_due, inst.interest_due, book.day(0)
    db.session.commit()
    result = run(db, AS_OF + timedelta(days=1))
    assert result.changes["removed"] == 1
    db.session.refresh(old)
    assert (old.as_of, old.is_current) == (AS_OF, False)
    rows = current_rows(db)
    assert len(rows) == sum(result.rows.values()) and {r.as_of for r in rows} == {AS_OF + timedelta(days=1)}
    with pytest.raises(BusinessError, match="不是最新一期"):
        handle_warning(db.session, old, state="done", note="已还清", user=users["officer"])


def test_a_run_for_an_earlier_date_makes_that_dates_rows_current(db, book):
    _small_book(book)
    first = run(db)
    run(db, AS_OF + timedelta(days=3))
    again = run(db, AS_OF)  # an operator re-runs a past business date
    assert again.ok and again.rows == first.rows
    rows = current_rows(db)
    assert {r.as_of for r in rows} == {AS_OF}
    assert len({(r.kind, r.subject_key) for r in rows}) == len(rows) == sum(first.rows.values())


def test_readers_see_the_old_rows_while_a_run_is_refreshing(db, book, monkeypatch):
    loan = _small_book(book)
    run(db)
    old = warning_rows(db)
    loan.installments[0].paid_off_date = book.day(-1)
    book.credit_line(loan.customer, book.day(1))
    seen = {}
    real_steps = daily.steps

    def observe(ctx):
        # Another connection, while the job's transaction has written but not committed.
        with _db.engine.connect() as other:
            seen["rows"] = other.execute(select(Warning.id, Warning.kind, Warning.subject_key, Warning.days,
                                                Warning.amount, Warning.handling_state, Warning.note)
                                         .where(Warning.as_of == AS_OF).order_by(Warning.id)).all()
            seen["status"] = other.execute(select(Loan.status).where(Loan.id == loan.id)).scalar()

    monkeypatch.setattr(daily, "steps", lambda: real_steps() + (observe,))
    result = run(db)
    assert result.changes["inserted"] == 1 and result.changes["removed"] == 1
    assert seen["rows"] == old and seen["status"] == "overdue"
    assert warning_rows(db) != old


def test_old_unhandled_rows_are_pruned_and_handled_rows_kept(db, book, users):
    loan = _small_book(book)
    book.credit_line(loan.customer, book.day(-2))
    run(db, AS_OF - timedelta(days=32))  # KEEP_DAYS = 31
    w = db.session.scalars(select(Warning).where(Warning.kind == "credit_expiry")).first()
    handle_warning(db.session, w, state="done", note="已续授信", user=users["officer"])
    for line in db.session.scalars(select(CreditLine)):  # renewed: no longer warned
        line.expiry_date = book.day(400)
    result = run(db)
    assert result.changes["pruned"] > 0
    left = db.session.scalars(select(Warning).where(Warning.as_of < AS_OF)).all()
    assert [x.id for x in left] == [w.id]


# ---- failure, lock, records ---------------------------------------------------------------
def test_a_failed_run_rolls_back_everything_and_records_the_error(db, book, monkeypatch):
    loan = overdue_loan(book, days=10)
    real_steps = daily.steps

    def explode(ctx):
        raise RuntimeError("模拟故障")

    monkeypatch.setattr(daily, "steps", lambda: real_steps() + (explode,))
    db.session.commit()
    result = run_daily(AS_OF)
    db.session.expire_all()
    assert result.outcome == "failed" and "模拟故障" in result.describe() and "回滚" in result.describe()
    db.session.refresh(loan)
    assert (loan.status, loan.days_overdue) == ("active", 0)
    assert db.session.scalar(select(func.count()).select_from(Warning)) == 0
    record = db.session.get(JobRun, result.run_id)
    assert (record.outcome, record.as_of) == ("failed", AS_OF) and "模拟故障" in record.error
    assert record.finished_at is not None
    monkeypatch.setattr(daily, "steps", real_steps)
    assert run(db).ok  # no leftovers (temp tables, locks) block the next run


def test_a_run_is_recorded_with_rows_per_kind(db, book):
    _small_book(book)
    result = run(db)
    record = db.session.get(JobRun, result.run_id)
    summary = json.loads(record.summary)
    assert (record.outcome, record.as_of, record.job) == ("ok", AS_OF, "daily")
    assert record.started_at <= record.finished_at
    assert summary["rows"] == result.rows and summary["rows"]["repayment_overdue"] == 1
    assert summary["loans_updated"] == 1


def test_a_run_left_running_by_a_dead_process_is_marked_failed(db, book):
    from datetime import datetime

    stale = JobRun(job="daily", as_of=AS_OF, started_at=datetime(2025, 6, 30, 1, 30), outcome="running")
    db.session.add(stale)
    run(db)
    assert (db.session.get(JobRun, stale.id).outcome, db.session.get(JobRun, stale.id).error) == \
        ("failed", "运行进程意外中断")


def test_a_second_run_while_one_holds_the_lock_exits_with_a_message(db):
    db.session.commit()
    with exclusive_run(_db.engine):
        result = run_daily(AS_OF)
    assert result.outcome == "locked" and "正在运行" in result.describe()
    assert db.session.scalar(select(func.count()).select_from(JobRun)) == 0
    assert run_daily(AS_OF).ok  # released


def test_concurrent_runs_one_runs_the_other_is_refused(db, book, monkeypatch):
    _small_book(book)
    db.session.commit()
    inside, release = threading.Event(), threading.Event()
    real_steps = daily.steps

    def hold(ctx):
        inside.set()
        assert release.wait(20)

    monkeypatch.setattr(daily, "steps", lambda: real_steps() + (hold,))
    engine = _db.engine
    results = {}
    first = threading.Thread(target=lambda: results.setdefault("first", run_daily(AS_OF, engine=engine)))
    first.start()
    try:
        assert inside.wait(20)
        results["second"] = run_daily(AS_OF, engine=engine)
    finally:
        release.set()
        first.join(30)
    assert results["first"].ok and results["second"].outcome == "locked"


# ---- scheduler --------------------------------------------------------------------------------
def test_scheduler_runs_daily_at_the_configured_time(app):
    from apscheduler.schedulers.background import BackgroundScheduler

    s = BackgroundScheduler()
    app.config["JOB_DAILY_AT"] = "02:45"
    try:
        scheduler._add_daily(s, app)
        trigger = s.get_job(scheduler.JOB_ID).trigger
        assert (str(trigger.fields[5]), str(trigger.fields[6])) == ("2", "45")  # hour, minute
        app.config["JOB_DAILY_AT"] = "25:00"
        with pytest.raises(ValueError, match="JOB_DAILY_AT"):
            scheduler.daily_at(app)
    finally:
        app.config["JOB_DAILY_AT"] = "01:30"


def test_web_workers_never_start_a_background_scheduler(app, monkeypatch):
    monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/23.0.0")
    assert scheduler.start_background_scheduler(app) is None


def test_development_scheduler_runs_the_job_at_start(app, db, monkeypatch):
    db.session.commit()
    monkeypatch.delenv("SERVER_SOFTWARE", raising=False)
    ran = threading.Event()
    monkeypatch.setattr(scheduler, "run_job_for_today", lambda app: ran.set())
    s = scheduler.start_background_scheduler(app)
    try:
        assert s is not None and scheduler.start_background_scheduler(app) is s  # once per process
        assert ran.wait(10)
        assert s.get_job(scheduler.JOB_ID) is not None
    finally:
        scheduler.stop_background_scheduler(app)


# ---- the SQLite penalty function is models.money.penalty_for ---------------------------------
from hypothesis import example, given, settings as hsettings, strategies as st  # noqa: E402


@hsettings(max_examples=400, deadline=None)
@given(principal=st.decimals(min_value=0, max_value=10**10, places=2),
       rate=st.decimals(min_value="0.000001", max_value="99.999999", places=6),
       markup=st.decimals(min_value=0, max_value=200, places=6),
       grace=st.integers(0, 30), days=st.integers(-5, 4000))
@example(principal=Decimal("1"), rate=Decimal("18"), markup=Decimal("0"), grace=0, days=10)  # 0.005 -> 0.01
def test_sqlite_penalty_function_equals_penalty_for(principal, rate, markup, grace, days):
    from jobs.steps.sql import _sqlite_penalty
    from models.money import penalty_for

    expected = penalty_for(principal, rate, markup, days, grace)
    assert Decimal(str(_sqlite_penalty(float(principal), float(rate), float(markup), grace, days))) \
        .quantize(Decimal("0.01")) == expected


@hsettings(max_examples=400, deadline=None)
@given(basis=st.integers(0, 10**16), unpaid=st.decimals(min_value=0, max_value=10**10, places=2),
       rate_days=st.integers(0, 10**11), markup=st.decimals(min_value=0, max_value=200, places=6))
@example(basis=1_800 * 10**6, unpaid=Decimal("0"), rate_days=0, markup=Decimal("30"))  # 0.065 -> 0.07
def test_sqlite_basis_penalty_function_equals_the_ledger(basis, unpaid, rate_days, markup):
    """job_basis_penalty (SQLite, integer arithmetic on the floats SQLite hands over) is
    models.ledger.penalty_of of the stored basis plus unpaid × Σ rate×10^6 over the days."""
    from jobs.steps.sql import _sqlite_basis_penalty
    from models.ledger import penalty_of

    expected = penalty_of(Decimal(basis) / 10**6 + unpaid * rate_days / 10**6, markup)
    got = _sqlite_basis_penalty(basis, float(unpaid), rate_days, float(markup))
    assert Decimal(str(got)).quantize(Decimal("0.01")) == max(expected, Decimal("0.00"))
