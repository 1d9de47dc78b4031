"""A small loan book for the screen tests, built through the app's own services
(open_loan, post_repayment, extend_loan, refresh_position) so screens see real rows."""
from datetime import date, timedelta
from decimal import Decimal
from itertools import count

from admin_app.extensions import db
from models import Customer, LoanProduct
from models.identity import id_check_char
from models.money import add_months
from services.loans import amount_owed, extend_loan, open_loan, post_repayment, refresh_position

_seq = count(1)


def resident_id(n: int) -> str:
    first17 = f"11010119850101{n % 1000:03d}"
    return first17 + id_check_char(first17)


def product(name: str | None = None, method: str = "equal_installment") -> LoanProduct:
    n = next(_seq)
    p = LoanProduct(code=f"T{n:04d}", name=name or f"测试产品{n}", repayment_method=method,
                    min_rate=Decimal("4"), max_rate=Decimal("24"), default_rate=Decimal("12"),
                    min_term=1, max_term=60, penalty_markup=Decimal("50"), grace_days=3,
                    inspection_interval_days=90, active=True)
    db.session.add(p)
    db.session.flush()
    return p


def customer(name: str | None = None) -> Customer:
    n = next(_seq)
    c = Customer(kind="person", name=name or f"客户{n}", id_number=resident_id(n), phone=f"139{n:08d}")
    db.session.add(c)
    db.session.flush()
    return c


def months_ago(n: int) -> date:
    today = date.today()
    y, m = divmod(today.month - 1 - n, 12)
    return date(today.year + y, m + 1, min(today.day, 28))


def active_loan(cust=None, prod=None, principal="120000.00", term=12, start=None, officer=None):
    """A loan opened last week: nothing due yet, 还款中."""
    loan = open_loan(customer=cust or customer(), product=prod or product(), principal=Decimal(principal),
                     term_months=term, start_date=start or date.today() - timedelta(days=7), officer=officer or demo_officer())
    refresh_position(loan, date.today())
    return loan


def overdue_loan(cust=None, prod=None, principal="60000.00"):
    """Opened four months ago, never paid: 逾期."""
    loan = open_loan(customer=cust or customer(), product=prod or product(), principal=Decimal(principal),
                     term_months=12, start_date=months_ago(4), officer=demo_officer())
    refresh_position(loan, date.today())
    return loan


def settled_loan(cust=None, prod=None, principal="10000.00"):
    """Opened two months ago and paid off in full today: 已结清."""
    loan = open_loan(customer=cust or customer(), product=prod or product(), principal=Decimal(principal),
                     term_months=6, start_date=months_ago(2))
    post_repayment(loan, amount_owed(loan, date.today())["total"], date.today())
    return loan


def extended_loan(cust=None, prod=None, operator=None):
    """Opened last week and extended by three months: 已展期."""
    loan = active_loan(cust, prod)
    extend_loan(loan, add_months(loan.maturity_date, 3), "经营周转困难,申请展期", operator)
    return loan


def book() -> dict:
    """One loan in each state, with distinct borrower names and products."""
    p1, p2 = product("经营贷"), product("消费贷")
    loans = {
        "active": active_loan(customer("张三"), p1),
        "active2": active_loan(customer("李四"), p2),
        "overdue": overdue_loan(customer("王五"), p1),
        "settled": settled_loan(customer("赵六"), p2),
        "extended": extended_loan(customer("钱七"), p1),
    }
    db.session.commit()
    return {"products": (p1, p2), **loans}


def demo_officer():
    """The demo 客户经理 `officer`: the default 客户经理 of factory loans (officers see only
    their own book by default, see admin_app.data_scope)."""
    from sqlalchemy import select

    from models import User

    return db.session.execute(select(User).where(User.username == "officer")).scalar_one_or_none()
