"""Loans for the review tests (inspections, classification, write-offs), booked through
services.loans.open_loan so tests follow the app's real path."""
from datetime import date
from decimal import Decimal
from itertools import count

from admin_app.extensions import db
from models import Customer, Loan, LoanProduct

_seq = count(1)


def product(interval_days: int = 90) -> LoanProduct:
    n = next(_seq)
    p = LoanProduct(code=f"P{n:04d}", name=f"经营贷{n}", repayment_method="equal_installment",
                    min_rate=Decimal("6"), max_rate=Decimal("24"), default_rate=Decimal("12"),
                    min_term=1, max_term=36, penalty_markup=Decimal("50"), grace_days=3,
                    inspection_interval_days=interval_days, active=True)
    db.session.add(p)
    db.session.flush()
    return p


def customer(name: str | None = None, phone: str | None = None) -> Customer:
    n = next(_seq)
    c = Customer(kind="person", name=name or f"客户{n}", id_number=f"11010119900101{n:04d}",
                 phone=phone or f"138{n:08d}")
    db.session.add(c)
    db.session.flush()
    return c


def loan(*, prod=None, cust=None, principal="100000.00", days_overdue=0, five_class=1,
         status=None, overdue_interest="0.00", penalty_interest="0.00", officer=None,
         start=date(2024, 1, 15)) -> Loan:
    """A loan booked through services.loans.open_loan, then put in the overdue position the
    daily job would have computed (the review rules read only these columns)."""
    from services.loans import open_loan

    ln = open_loan(customer=cust or customer(), product=prod or product(), principal=Decimal(principal),
                   term_months=24, start_date=start, officer=officer or demo_officer())
    ln.days_overdue = days_overdue
    ln.five_class = five_class
    ln.status = status or ("overdue" if days_overdue else "active")
    ln.overdue_interest = Decimal(overdue_interest)
    ln.penalty_interest = Decimal(penalty_interest)
    db.session.flush()
    return ln


def demo_officer():
    """The demo 客户经理 `officer`: the default 客户经理 of factory loans (officers see only
    their own book by default, see admin_app.data_scope)."""
    from sqlalchemy import select

    from models import User

    return db.session.execute(select(User).where(User.username == "officer")).scalar_one_or_none()
