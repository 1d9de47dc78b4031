"""A small loan book built row by row for the daily-job and warning tests: every due date
and amount is set explicitly, so each rule can be tested exactly at its boundaries."""
from __future__ import annotations

import pytest

import itertools
from datetime import date, timedelta
from decimal import Decimal

from admin_app.extensions import db
from models import Collateral, CreditLine, Customer, Extension, Installment, Loan, LoanProduct

_seq = itertools.count(1)


def D(value) -> Decimal:
    return Decimal(str(value))


class Book:
    def __init__(self, as_of: date):
        self.as_of = as_of

    def day(self, offset: int) -> date:
        """The date `offset` days after the as-of date (negative: before)."""
        return self.as_of + timedelta(days=offset)

    def product(self, *, grace_days=3, markup=50, interval=90, code=None) -> LoanProduct:
        n = next(_seq)
        p = LoanProduct(code=code or f"P{n}", name=f"测试产品{n}", repayment_method="equal_principal",
                        min_rate=D(1), max_rate=D(36), default_rate=D(12), min_term=1, max_term=36,
                        penalty_markup=D(markup), grace_days=grace_days, inspection_interval_days=interval)
        db.session.add(p)
        db.session.flush()
        return p

    def customer(self, name="张三", *, phone=None, contact=None, kind="person") -> Customer:
        n = next(_seq)
        c = Customer(kind=kind, name=name, id_number=f"TEST{n:014d}", phone=phone or f"138{n:08d}",
                     contact_person=contact)
        db.session.add(c)
        db.session.flush()
        return c

    def loan(self, customer, product, *, principal=12000, rate=12, start=None, status="active",
             installments=(), last_inspection=None) -> Loan:
        """installments: (due_date, principal_due, interest_due) or dicts with paid parts."""
        n = next(_seq)
        start = start or self.day(-200)
        loan = Loan(loan_no=f"DK{n:08d}", contract_no=f"HT{n:08d}", customer_id=customer.id,
                    customer_name=customer.name, product_id=product.id, principal=D(principal),
                    rate=D(rate), term_months=max(len(installments), 1), start_date=start,
                    maturity_date=max([i[0] if isinstance(i, tuple) else i["due"] for i in installments],
                                      default=start + timedelta(days=365)),
                    repayment_method="equal_principal", status=status,
                    outstanding_principal=D(principal), last_inspection_date=last_inspection)
        db.session.add(loan)
        db.session.flush()
        for period, item in enumerate(installments, start=1):
            if isinstance(item, tuple):
                item = {"due": item[0], "principal": item[1], "interest": item[2]}
            db.session.add(Installment(
                loan_id=loan.id, period=period, due_date=item["due"], principal_due=D(item["principal"]),
                interest_due=D(item["interest"]), principal_paid=D(item.get("principal_paid", 0)),
                interest_paid=D(item.get("interest_paid", 0)), penalty_paid=D(item.get("penalty_paid", 0)),
                paid_off_date=item.get("paid_off")))
        db.session.flush()
        return loan

    def extend(self, loan) -> None:
        db.session.add(Extension(loan_id=loan.id, old_maturity_date=loan.maturity_date,
                                 new_maturity_date=loan.maturity_date + timedelta(days=180), reason="测试展期"))
        db.session.flush()

    def collateral(self, loan, kind, expiry, value=50000) -> Collateral:
        c = Collateral(loan_id=loan.id, kind=kind, description=f"{'房产' if kind == 'mortgage' else '存单'}{next(_seq)}",
                       value=D(value), registration_no="REG1", start_date=self.day(-400), expiry_date=expiry)
        db.session.add(c)
        db.session.flush()
        return c

    def credit_line(self, customer, expiry, amount=100000) -> CreditLine:
        c = CreditLine(customer_id=customer.id, amount=D(amount), start_date=self.day(-365), expiry_date=expiry)
        db.session.add(c)
        db.session.flush()
        return c


# Shared by the job and warning-rule tests.
AS_OF = date(2025, 6, 30)


@pytest.fixture
def book(db):
    return Book(AS_OF)


def run(db, as_of=AS_OF):
    """Commit what the test built, run the daily job for `as_of`, and reload."""
    from jobs.daily import run_daily

    db.session.commit()
    result = run_daily(as_of)
    assert result.ok, result.describe()
    db.session.expire_all()
    return result
