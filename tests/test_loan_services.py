"""Loan commands against the database: opening, repayments, settlement, position refresh,
rate changes and extensions."""
from datetime import date, timedelta
from decimal import Decimal as D
from itertools import count

import pytest

from models import Customer, Extension, Installment, LoanProduct, RateChange, Repayment
from services import BusinessError
from services.loans import (amount_owed, change_rate, extend_loan, open_loan, post_repayment,
                            preview_extension, preview_rate_change, refresh_position)

START = date(2024, 1, 15)
_seq = count(1)


@pytest.fixture
def make_product(db):
    def make(method="equal_installment", **kw):
        n = next(_seq)
        values = dict(code=f"LP{n:04d}", name=f"测试产品{n}", repayment_method=method,
                      min_rate=D("6"), max_rate=D("24"), default_rate=D("12"), min_term=1, max_term=36,
                      penalty_markup=D("50"), grace_days=3, inspection_interval_days=90, active=True)
        values.update(kw)
        product = LoanProduct(**values)
        db.session.add(product)
        db.session.flush()
        return product
    return make


@pytest.fixture
def customer(db):
    c = Customer(kind="person", name="张三", id_number="110101199001011237", phone="13800138000")
    db.session.add(c)
    db.session.flush()
    return c


@pytest.fixture
def new_loan(make_product, customer, users):
    def make(method="equal_installment", principal="120000", term=12, rate=None, **product_kw):
        return open_loan(customer=customer, product=make_product(method, **product_kw), principal=D(principal),
                         rate=rate, term_months=term, start_date=START, officer=users["officer"])
    return make


def installments(db, loan):
    return db.session.query(Installment).filter_by(loan_id=loan.id).order_by(Installment.period).all()


def snapshot(rows):
    return [(i.period, i.due_date, i.principal_due, i.interest_due, i.principal_paid, i.interest_paid)
            for i in rows]


# ------------------------------------------------------------------ opening

def test_open_loan_books_the_schedule_and_the_loan_figures(db, new_loan, users):
    loan = new_loan()
    rows = installments(db, loan)
    assert len(rows) == 12 and rows[0].principal_due + rows[0].interest_due == D("10661.85")
    assert sum(i.principal_due for i in rows) == D("120000.00")
    assert loan.loan_no == "DK20240115000001" and loan.contract_no == "HT20240115000001"
    assert loan.rate == D("12") and loan.repayment_method == "equal_installment"
    assert loan.maturity_date == date(2025, 1, 15) and loan.outstanding_principal == D("120000.00")
    assert loan.customer_name == "张三" and loan.officer_id == users["officer"].id
    assert loan.next_inspection_date == START + timedelta(days=90)
    assert loan.status == "active"


def test_loan_numbers_count_up_per_day(new_loan):
    assert [new_loan().loan_no for _ in range(3)] == [f"DK20240115{n:06d}" for n in (1, 2, 3)]


@pytest.mark.parametrize("kwargs, message", [
    ({"rate": D("30")}, "利率范围"),
    ({"rate": D("5.99")}, "利率范围"),
    ({"term_months": 48}, "贷款期限"),
    ({"principal": D("0")}, "大于0"),
    ({"principal": D("100.001")}, "两位小数"),
])
def test_open_loan_refuses_terms_outside_the_product(make_product, customer, kwargs, message):
    args = dict(customer=customer, product=make_product(), principal=D("1000"), term_months=12,
                start_date=START)
    args.update(kwargs)
    with pytest.raises(BusinessError, match=message):
        open_loan(**args)


def test_open_loan_refuses_an_inactive_product(make_product, customer):
    with pytest.raises(BusinessError, match="已停用"):
        open_loan(customer=customer, product=make_product(active=False), principal=D("1000"),
                  term_months=12, start_date=START)


# ------------------------------------------------------------------ repayments

def test_repayment_on_time_pays_the_first_period(db, new_loan):
    loan = new_loan()
    repayment = post_repayment(loan, D("10661.85"), date(2024, 2, 15), today=date(2024, 2, 15))
    assert (repayment.penalty_part, repayment.interest_part, repayment.principal_part) == \
        (D("0.00"), D("1200.00"), D("9461.85"))
    first = installments(db, loan)[0]
    assert first.paid_off_date == date(2024, 2, 15)
    assert loan.outstanding_principal == D("110538.15") and loan.status == "active"


DEDUCT = dict(grace_mode="deduct", compound_interest=False)  # grace days never charged, no 复利


def test_late_repayment_pays_penalty_first(db, new_loan):
    loan = new_loan(method="equal_principal", **DEDUCT)  # period 1: 10000 principal + 1200 interest
    # 13 days late, 3 grace deducted: 10 days × 10000 × 12% × 1.5 / 360 = 50.00
    assert amount_owed(loan, date(2024, 2, 28))["penalty"] == D("50.00")
    repayment = post_repayment(loan, D("1000"), date(2024, 2, 28), today=date(2024, 2, 28))
    assert (repayment.penalty_part, repayment.interest_part, repayment.principal_part) == \
        (D("50.00"), D("950.00"), D("0.00"))
    assert loan.status == "overdue" and loan.days_overdue == 13
    assert loan.overdue_principal == D("10000.00") and loan.overdue_interest == D("250.00")
    assert loan.penalty_interest == D("0.00")


def test_partial_principal_keeps_the_penalty_already_accrued(db, new_loan):
    loan = new_loan(method="equal_principal", **DEDUCT)
    post_repayment(loan, D("6250"), date(2024, 2, 28), today=date(2024, 2, 28))  # 50 penalty, 1200 interest, 5000 principal
    # 4 more days on the 5000 left: 4 × 2.50 = 10.00 (not recomputed from the due date on 5000)
    owed = amount_owed(loan, date(2024, 3, 3))
    assert owed["penalty"] == D("10.00")
    assert owed["overdue_principal"] == D("5000.00")


def test_paying_the_last_cent_settles_the_loan(db, new_loan):
    loan = new_loan(method="bullet", principal="10000", term=3)  # 10000 + 300 at 15 April
    post_repayment(loan, D("10299.99"), date(2024, 4, 15), today=date(2024, 4, 15))
    assert loan.status == "active" and loan.outstanding_principal == D("0.01")
    post_repayment(loan, D("0.01"), date(2024, 4, 15), today=date(2024, 4, 15))
    assert loan.status == "settled" and loan.settled_date == date(2024, 4, 15)
    assert loan.outstanding_principal == 0 and installments(db, loan)[0].paid_off_date == date(2024, 4, 15)
    with pytest.raises(BusinessError, match="已结清"):
        post_repayment(loan, D("1"), date(2024, 4, 16), today=date(2024, 4, 16))


def test_early_full_repayment_settles_with_interest_to_the_settlement_date(db, new_loan):
    loan = new_loan(method="equal_principal", principal="3000", term=3)
    total = amount_owed(loan, date(2024, 1, 20))["total"]
    # 5 days of the first period: 3000 × 12% × 5 / 360 = 5.00; no later period's interest
    assert total == D("3000.00") + D("5.00")
    post_repayment(loan, total, date(2024, 1, 20), today=date(2024, 1, 20))
    assert loan.status == "settled"
    assert db.session.query(Repayment).filter_by(loan_id=loan.id).count() == 1


@pytest.mark.parametrize("amount, message", [(D("0"), "大于0"), (D("-5"), "大于0"), (D("200000"), "超过")])
def test_repayment_refuses_bad_amounts(new_loan, amount, message):
    with pytest.raises(BusinessError, match=message):
        post_repayment(new_loan(), amount, date(2024, 2, 15))


def test_repayment_refuses_dates_before_start_or_after_today_and_replays_a_back_dated_one(new_loan):
    loan = new_loan()
    with pytest.raises(BusinessError, match="起始日"):
        post_repayment(loan, D("100"), date(2024, 1, 1))
    with pytest.raises(BusinessError, match="晚于今天"):
        post_repayment(loan, D("100"), date(2024, 3, 1), today=date(2024, 2, 29))
    later = post_repayment(loan, D("100"), date(2024, 2, 16), today=date(2024, 2, 29))
    # back-dated before the last repayment: accepted, the loan replays from its date
    earlier = post_repayment(loan, D("10661.85"), date(2024, 2, 15), today=date(2024, 2, 29))
    assert (earlier.interest_part, earlier.principal_part) == (D("1200.00"), D("9461.85"))
    # period 1 was paid the day before: the 100.00 is held as 预收款 for period 2 (按期还款)
    assert (later.principal_part, later.advance_part, loan.advance_balance) == (D("0.00"), D("100.00"), D("100.00"))


def test_refresh_position_marks_overdue_then_active_again(db, new_loan):
    loan = new_loan(method="interest_first", principal="12000")  # 120.00 interest a month
    refresh_position(loan, date(2024, 2, 16))
    assert (loan.status, loan.days_overdue, loan.overdue_interest) == ("overdue", 1, D("120.00"))
    assert loan.penalty_interest == D("0.00")  # interest only: no overdue principal
    # 5 days overdue (beyond the 3 grace days): 复利 on the 120 interest from the due date,
    # 120 × 12% × 1.5 × 5 / 360 = 0.30, paid before the interest
    assert amount_owed(loan, date(2024, 2, 20))["compound"] == D("0.30")
    post_repayment(loan, D("120.30"), date(2024, 2, 20), today=date(2024, 2, 20))
    assert (loan.status, loan.days_overdue, loan.overdue_interest) == ("active", 0, D("0.00"))


# ------------------------------------------------------------------ rate change

def test_rate_change_preview_writes_nothing_and_change_applies_it(db, new_loan, users):
    loan = new_loan()
    post_repayment(loan, D("10661.85"), date(2024, 2, 15))
    before = snapshot(installments(db, loan))
    preview = preview_rate_change(loan, D("6"), date(2024, 2, 20))
    assert snapshot(installments(db, loan)) == before and loan.rate == D("12")
    # period 2 (2024-02-15..03-15) split by days: 110,538.15 × (5 × 12% + 24 × 6%) / 360 = 626.38;
    # its principal re-amortised at 6% over the 11 periods left: 10,352.90 − 552.69 = 9,800.21
    assert not preview[0].recomputed and (preview[1].principal, preview[1].interest) == (D("9800.21"), D("626.38"))
    assert preview[2].total == D("10352.90")
    change = change_rate(loan, D("6"), date(2024, 2, 20), "市场利率下调", users["officer"])
    rows = installments(db, loan)
    assert snapshot(rows)[0] == before[0]
    assert [(i.principal_due, i.interest_due) for i in rows] == [(r.principal, r.interest) for r in preview]
    assert loan.rate == D("6") and change.old_rate == D("12") and change.new_rate == D("6")
    assert db.session.query(RateChange).filter_by(loan_id=loan.id).count() == 1


@pytest.mark.parametrize("rate, effective, reason, message", [
    (D("30"), date(2024, 3, 1), "原因", "利率范围"),
    (D("12"), date(2024, 3, 1), "原因", "相同"),
    (D("10"), date(2023, 12, 1), "原因", "生效日期"),
    (D("10"), date(2025, 2, 1), "原因", "生效日期"),
    (D("10"), date(2024, 3, 1), "  ", "原因"),
])
def test_rate_change_is_validated(new_loan, users, rate, effective, reason, message):
    with pytest.raises(BusinessError, match=message):
        change_rate(new_loan(), rate, effective, reason, users["officer"])


def test_rate_change_on_a_settled_loan_is_refused(new_loan, users):
    loan = new_loan(method="bullet", principal="1000", term=1)
    post_repayment(loan, D("1010"), date(2024, 2, 15))
    with pytest.raises(BusinessError, match="已结清"):
        change_rate(loan, D("10"), date(2024, 2, 1), "原因", users["officer"])


# ------------------------------------------------------------------ extension

def test_extension_reschedules_and_marks_the_loan_extended(db, new_loan, users):
    loan = new_loan(method="equal_principal")
    post_repayment(loan, D("11200"), date(2024, 2, 15), today=date(2024, 2, 15))
    paid_before = snapshot(installments(db, loan))[0]
    preview = preview_extension(loan, date(2025, 7, 15), as_of=date(2024, 3, 1))
    assert len(installments(db, loan)) == 12
    extension = extend_loan(loan, date(2025, 7, 15), "经营周转困难", users["officer"], as_of=date(2024, 3, 1))
    rows = installments(db, loan)
    assert snapshot(rows)[0] == paid_before
    assert [(i.due_date, i.principal_due, i.interest_due) for i in rows] == \
        [(r.due_date, r.principal, r.interest) for r in preview]
    assert len(rows) == 18 and rows[-1].due_date == date(2025, 7, 15)
    assert sum(i.principal_due for i in rows) == D("120000.00")
    # stored as of today (2024's loan is long overdue by now); as of 2024-03-10 it is 已展期
    assert (loan.maturity_date, loan.term_months) == (date(2025, 7, 15), 18)
    assert extension.old_maturity_date == date(2025, 1, 15)
    assert db.session.query(Extension).filter_by(loan_id=loan.id).count() == 1
    refresh_position(loan, date(2024, 3, 10))
    assert loan.status == "extended"


@pytest.mark.parametrize("new_maturity, as_of, message", [
    (date(2025, 1, 15), date(2024, 3, 1), "晚于当前到期日"),
    (date(2026, 2, 15), date(2024, 3, 1), "展期期限超过规定"),
    (date(2025, 6, 15), date(2025, 2, 1), "已到期"),
])
def test_extension_is_validated(new_loan, users, new_maturity, as_of, message):
    with pytest.raises(BusinessError, match=message):
        extend_loan(new_loan(), new_maturity, "原因", users["officer"], as_of=as_of)


def test_a_loan_is_extended_only_once(new_loan, users):
    loan = new_loan()
    extend_loan(loan, date(2025, 4, 15), "原因", users["officer"], as_of=date(2024, 3, 1))
    with pytest.raises(BusinessError, match="再次展期"):
        extend_loan(loan, date(2025, 6, 15), "原因", users["officer"], as_of=date(2024, 3, 1))
