"""The daily job's set-based SQL (jobs/steps/positions.py) computes the ledger's rule: on
random ledgers — all four methods, both grace modes, 复利 on and off, markups with decimals,
rate changes (future-dated, same-day, mid-period), repayments (back-dated, partial, early
settlements, 缩短期限 / 减少月供, instalments paid a few days before their due date with each
choice — 按期还款 holds a 预收款 the job's advances step applies on the due date), reversals
and extensions, all posted through the services — every open loan's days overdue, overdue
principal and interest, 罚息, 复利, outstanding principal and 预收余额 after the job equal
models.ledger's position for the job's date, today and weeks later. Runs on SQLite and,
with TEST_DATABASE_URL, on PostgreSQL."""
import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from models import Customer, Loan, LoanProduct, Repayment
from services import BusinessError

METHODS = ("equal_installment", "equal_principal", "interest_first", "bullet")
MODES = (None, "advance", "reduce", "shorten")  # None and "advance": 按期还款 (预收款)


def _products(db, rng):
    products = []
    for n in range(12):
        p = LoanProduct(code=f"JOB{n}", name=f"日终对账产品{n}", repayment_method=METHODS[n % 4],
                        min_rate=Decimal("1"), max_rate=Decimal("36"), default_rate=Decimal("12"), min_term=1,
                        max_term=36, penalty_markup=Decimal(rng.choice(["0", "30", "50", "33.3333"])),
                        grace_days=rng.choice([0, 3, 7]), inspection_interval_days=90,
                        grace_mode=rng.choice(["from_due", "deduct"]), compound_interest=rng.random() < 0.7,
                        settle_interest=rng.choice(["to_date", "period"]),
                        prepay_fee_pct=Decimal(rng.choice(["0", "0", "1.5"])))
        db.session.add(p)
        products.append(p)
    db.session.flush()
    return products


def _random_ledger(db, rng, loan, today, users):
    from services import ledger
    from services.loans import change_rate, extend_loan, post_repayment

    for _ in range(rng.randint(0, 6)):
        roll = rng.random()
        try:
            with db.session.begin_nested():
                if roll < 0.3:
                    _early_instalment(db, rng, loan, today, users)
                elif roll < 0.5:
                    day = loan.start_date + timedelta(days=rng.randint(0, (today - loan.start_date).days))
                    quote = ledger.settlement_quote(loan, day)["total"]
                    share = rng.choice(["0.05", "0.3", "0.7", "1"])
                    amount = (quote * Decimal(share)).quantize(Decimal("0.01"))
                    if amount > 0:
                        post_repayment(loan, amount, day, users["officer"], today=today,
                                       prepay_mode=rng.choice(MODES))
                elif roll < 0.8:
                    floor = max(loan.start_date, today - timedelta(days=200))
                    eff = floor + timedelta(days=rng.randint(0, 400))
                    change_rate(loan, Decimal(rng.choice(["6", "9.5", "15", "18.25", "24"])), eff, "对账", users["officer"])
                    if rng.random() < 0.3:  # a second change the same day
                        change_rate(loan, Decimal(rng.choice(["7", "21"])), eff, "对账", users["officer"])
                elif roll < 0.9:
                    reps = db.session.scalars(select(Repayment).where(Repayment.loan_id == loan.id,
                                                                      Repayment.reversed_on.is_(None))).all()
                    if reps:
                        ledger.reverse_repayment(rng.choice(reps), "对账冲正", users["risk_approver"], today=today)
                else:
                    extend_loan(loan, loan.maturity_date + timedelta(days=rng.choice([31, 92, 180])), "对账展期",
                                users["officer"], as_of=today)
        except BusinessError:
            db.session.refresh(loan)


def _early_instalment(db, rng, loan, today, users):
    """An instalment (or about one and a half, or part of one) paid 1-6 days before its due
    date, the due date within the last 40 days or the next 40 (the job applies it later)."""
    from models import Installment
    from services.loans import post_repayment

    rows = db.session.scalars(select(Installment).where(
        Installment.loan_id == loan.id, Installment.paid_off_date.is_(None),
        Installment.due_date > today - timedelta(days=40), Installment.due_date <= today + timedelta(days=40))).all()
    if not rows:
        return
    inst = rng.choice(rows)
    day = min(inst.due_date - timedelta(days=rng.randint(1, 6)), today)
    if day < loan.start_date:
        return
    share = Decimal(rng.choice(["1", "1", "1.6", "0.4"]))
    amount = ((inst.principal_due - inst.principal_paid + inst.interest_due - inst.interest_paid) * share
              ).quantize(Decimal("0.01"))
    if amount > 0:
        post_repayment(loan, amount, day, users["officer"], today=today, prepay_mode=rng.choice(MODES))


def test_job_positions_equal_the_ledger_on_random_ledgers(db, users):
    from jobs.daily import run_daily
    from services import ledger
    from services.loans import open_loan

    rng = random.Random(20261201)
    today = date.today()
    products = _products(db, rng)
    customer = Customer(kind="person", name="日终对账客户", id_number="JOBPARITY0000001", phone="13800000001")
    db.session.add(customer)
    db.session.flush()
    loans = []
    for n in range(48):
        product = products[n % len(products)]
        loan = open_loan(customer=customer, product=product, principal=Decimal(rng.randint(2_000, 900_000)),
                         rate=Decimal(rng.choice(["7.2", "12", "15.1234", "23.9"])), term_months=rng.choice([3, 6, 12, 24]),
                         start_date=today - timedelta(days=rng.randint(20, 700)), officer=users["officer"])
        ledger.sync(loan, today)
        _random_ledger(db, rng, loan, today, users)
        loans.append(loan.id)
    for n in range(16):  # new loans, their first instalment paid early (due after today)
        loan = open_loan(customer=customer, product=products[n % len(products)],
                         principal=Decimal(rng.randint(2_000, 900_000)), rate=Decimal(rng.choice(["7.2", "12", "23.9"])),
                         term_months=rng.choice([3, 6, 12]), start_date=today - timedelta(days=rng.randint(7, 27)),
                         officer=users["officer"])
        ledger.sync(loan, today)
        with db.session.begin_nested():
            _early_instalment(db, rng, loan, today, users)
        loans.append(loan.id)
    db.session.commit()

    compared = overdue = advanced = 0
    for as_of in (today, today + timedelta(days=9), today + timedelta(days=61)):
        result = run_daily(as_of)
        assert result.ok, result.error
        db.session.expire_all()
        for loan in db.session.scalars(select(Loan).where(Loan.id.in_(loans))):
            if loan.status not in ("active", "extended", "overdue"):
                continue
            pos = ledger.position(loan, as_of)
            assert (loan.days_overdue, loan.overdue_principal, loan.overdue_interest, loan.penalty_interest,
                    loan.compound_interest, loan.outstanding_principal, loan.advance_balance) == \
                (pos["days_overdue"], pos["overdue_principal"], pos["overdue_interest"], pos["penalty"],
                 pos["compound"], pos["outstanding_principal"], pos["advance"]), (loan.loan_no, as_of)
            _same_schedule(db, loan, ledger.book(loan, as_of))
            advanced += as_of > today and ledger.book(loan, today).advance > pos["advance"]
            assert (loan.status == "overdue") == (pos["status"] == "overdue")
            compared += 1
            overdue += pos["penalty"] > 0
    assert compared >= 60 and overdue >= 20 and advanced >= 5, (compared, overdue, advanced)


def _same_schedule(db, loan, book):
    """The installments the job left equal the replay's (paid columns, paid-off dates)."""
    from models import Installment

    rows = db.session.scalars(select(Installment).where(Installment.loan_id == loan.id)
                              .order_by(Installment.period)).all()
    stored = [(i.due_date, i.principal_paid, i.interest_paid, i.paid_off_date) for i in rows]
    replayed = [(p.due, p.paid_principal + p.prepaid, p.paid_interest, p.cleared_on) for p in book.periods]
    assert stored == replayed, loan.loan_no


def test_a_basis_carried_over_from_the_previous_release_starts_after_the_grace_days(db, users):
    """The previous release crystallised a period's penalty when it was partly paid and kept
    the date (penalty_accrued_to) even when that was the due date itself, inside the grace
    days. Carried over by migration 9c1e5a7d3b20 onto a product whose grace days are deducted,
    the job counted the penalty from that date: 26 days instead of 23 on the demo book's loan
    60 (202.39 instead of 179.04; found by bench/bench_migrate.py --job). The ledger counts
    from the due date plus the grace days; so must the job."""
    from jobs.daily import run_daily
    from models import Installment
    from services import ledger
    from services.loans import open_loan, post_repayment

    product = LoanProduct(code="CARRY", name="迁移宽限产品", repayment_method="equal_installment",
                          min_rate=Decimal("1"), max_rate=Decimal("36"), default_rate=Decimal("8.1"), min_term=1,
                          max_term=36, penalty_markup=Decimal("50"), grace_days=3, inspection_interval_days=90,
                          grace_mode="deduct", compound_interest=False)
    customer = Customer(kind="person", name="迁移客户", id_number="CARRYOVER0000001", phone="13800000002")
    db.session.add_all([product, customer])
    db.session.flush()
    today = date(2026, 12, 1)
    loan = open_loan(customer=customer, product=product, principal=Decimal("480000"), rate=Decimal("8.1"),
                     term_months=12, start_date=date(2026, 6, 5), officer=users["officer"])
    periods = sorted(loan.installments, key=lambda i: i.period)
    for p in periods[:4]:
        post_repayment(loan, p.principal_due + p.interest_due, p.due_date, users["officer"], today=today)
    fifth = periods[4]
    post_repayment(loan, fifth.interest_due + Decimal("18000"), fifth.due_date, users["officer"], today=today)
    db.session.flush()
    # as the previous release stored it: crystallised on the due date, nothing accrued yet
    db.session.get(Installment, fifth.id).penalty_accrued_to = fifth.due_date
    db.session.commit()

    assert run_daily(today).ok
    db.session.expire_all()
    loan = db.session.get(Loan, loan.id)
    pos = ledger.position(loan, today)
    days = (today - fifth.due_date).days
    assert loan.days_overdue == pos["days_overdue"] == days
    expected = (pos["overdue_principal"] * Decimal("8.1") * Decimal("1.5") / 100 / 360 * (days - 3)
                ).quantize(Decimal("0.01"))
    assert loan.penalty_interest == pos["penalty"] == expected
