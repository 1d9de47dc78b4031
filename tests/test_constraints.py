"""Database constraints back the rules (issue 7): every CHECK and UNIQUE constraint the models
declare refuses bad rows by itself, with the services out of the way.

One table, CASES: for each constraint, a builder of valid rows (`build(ctx, n)`, n making
unique keys distinct), values that must be accepted (edge values, or keys that only look
alike) and values that must be refused. Each case, written with SQLAlchemy Core straight
into the table:
  1. two valid rows A = build(1) and B = build(2) are inserted and kept;
  2. each accepted override is inserted as a new row, and written onto B by UPDATE;
  3. each refused override raises IntegrityError on INSERT of a new row and on UPDATE of B,
     and the error names the constraint (CHECK) or its columns (UNIQUE), so a refusal for
     another reason does not pass for this one.
Every probe runs in a savepoint that is rolled back. Overrides are plain dicts, or callables
`(ctx, a) -> dict` when they depend on parent rows or on row A."""
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Callable

import os

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from admin_app.extensions import db as _db
from models import (BankCard, ClassificationChange, Collateral, Collection, CreditLine, Customer, ExtensionApplication, Guarantor, Installment,
                    Loan, LoanEntry, LoanProduct, PortfolioSnapshot, RateChange, Receipt, Repayment,
                    RepaymentReversal, User, Warning, WriteOff)
from tests import book_factory as book

D = Decimal
TODAY = date(2025, 3, 1)
OVER = D("1000000000000.01")  # 10^12 and a cent
# PostgreSQL's NUMERIC(18, 2) rounds a third decimal away before any CHECK sees it; SQLite
# keeps it, and the bounds CHECK refuses it.
SQLITE = not os.environ.get("TEST_DATABASE_URL")


def cents(column: str) -> list:
    return [{column: D("100.005")}] if SQLITE else []


class Ctx:
    """Parent rows, made once per test on demand through the test factories. Rows are
    built (and parents flushed) before any probing savepoint opens, so a rolled-back probe
    never takes a cached parent with it."""

    def __init__(self):
        self._loans = {}
        self._repayments = {}
        self._collection_id = None
        self._customer = None
        self._product = None

    @property
    def officer_id(self) -> int:
        return _db.session.execute(select(User.id).where(User.username == "officer")).scalar_one()

    @property
    def customer(self):
        if self._customer is None:
            self._customer = book.customer("约束测试客户")
        return self._customer

    @property
    def product(self):
        if self._product is None:
            self._product = book.product()
        return self._product

    def loan_id(self, n: int = 1) -> int:
        """The n-th parent loan, opened through services.loans.open_loan."""
        if n not in self._loans:
            self._loans[n] = book.active_loan(self.customer, self.product, principal="12000.00", term=6).id
        return self._loans[n]

    def repayment_id(self, n: int = 1) -> int:
        """A repayment row on the n-th parent loan (for reversal proposals)."""
        if n not in self._repayments:
            self._repayments[n] = _db.session.execute(insert(Repayment.__table__).values(
                loan_id=self.loan_id(n), paid_on=TODAY, amount=D("100.00"),
                principal_part=D("100.00"))).inserted_primary_key[0]
        return self._repayments[n]

    def collection_id(self) -> int:
        if self._collection_id is None:
            self._collection_id = _db.session.execute(insert(Collection.__table__).values(
                _collection(self, 999))).inserted_primary_key[0]
        return self._collection_id


# ---- valid row builders: column values of the n-th valid row of each table -------------------

def _loan(ctx, n):
    return dict(loan_no=f"CK-L{n}", contract_no=f"CK-C{n}", customer_id=ctx.customer.id,
                customer_name=ctx.customer.name, product_id=ctx.product.id, principal=D("10000.00"),
                rate=D("12"), term_months=12, start_date=TODAY, maturity_date=date(2026, 3, 1),
                repayment_method="equal_installment", outstanding_principal=D("10000.00"))


def _customer(ctx, n):
    return dict(kind="person", name=f"约束客户{n}", id_number=f"CK-ID-{n}", phone=f"1390000{n:04d}")


def _product(ctx, n):
    return dict(code=f"CK-P{n}", name=f"约束产品{n}", repayment_method="equal_installment",
                min_rate=D("4"), max_rate=D("24"), default_rate=D("12"))


def _credit_line(ctx, n):
    return dict(customer_id=ctx.customer.id, amount=D("200000.00"), start_date=TODAY,
                expiry_date=date(2026, 3, 1))


def _user(ctx, n):
    return dict(username=f"ck_user{n}", password_hash="x")


def _guarantor(ctx, n):
    return dict(loan_id=ctx.loan_id(), name=f"担保人{n}", id_number=f"G{n}", phone="13900000000",
                guaranteed_amount=D("5000.00"))


def _collateral(ctx, n):
    return dict(loan_id=ctx.loan_id(), kind="mortgage", description=f"房产{n}", value=D("80000.00"),
                start_date=TODAY, expiry_date=date(2026, 3, 1))


def _rate_change(ctx, n):
    return dict(loan_id=ctx.loan_id(), old_rate=D("12"), new_rate=D("10"), effective_date=TODAY,
                reason="约束测试")


def _loan_entry(ctx, n):
    return dict(loan_id=ctx.loan_id(), kind="fee", value_date=TODAY, amount=D("10.00"))


def _reversal(ctx, n):
    targets = ctx.__dict__.setdefault("_reversed", {})
    if n not in targets:  # one reversed entry per row number, made once
        targets[n] = _db.session.execute(insert(LoanEntry).values(**_loan_entry(ctx, n))).inserted_primary_key[0]
    return dict(loan_id=ctx.loan_id(), kind="reversal", value_date=TODAY, reverses_id=targets[n])


def _repayment(ctx, n):
    return dict(loan_id=ctx.loan_id(), paid_on=TODAY, amount=D("100.00"), principal_part=D("100.00"))


def _installment(ctx, n):
    # Periods from 100 on: the parent loan's own schedule holds periods 1..6.
    return dict(loan_id=ctx.loan_id(), period=100 + n, due_date=TODAY, principal_due=D("1000.00"),
                interest_due=D("50.00"), principal_paid=D("0"), interest_paid=D("0"), penalty_paid=D("0"))


def _review(ctx, n, stage):
    # One parent loan per row, so rows are valid beside each other under the open-item indexes.
    return dict(loan_id=ctx.loan_id(n), proposer_id=ctx.officer_id, review_status="pending",
                review_stage=stage)


def _class_change(ctx, n):
    return dict(_review(ctx, n, "risk_review"), from_class=1, to_class=2, suggested_class=1,
                reason="约束测试")


def _reversal_item(ctx, n, status="pending"):
    return dict(_review(ctx, n, "risk_approve"), repayment_id=ctx.repayment_id(n), reason="约束测试",
                review_status=status)


def _write_off(ctx, n):
    return dict(_review(ctx, n, "risk_apply"), principal_amount=D("12000.00"),
                interest_amount=D("300.00"), reason="约束测试")


def _bank_card(ctx, n):
    return dict(customer_id=ctx.customer.id, bank_name="工商银行", branch="朝阳支行", account_name="约束测试客户",
                card_number=f"62220202001122{n:05d}", is_default=n == 1)


def _extension_application(ctx, n):
    return dict(_review(ctx, n, "risk_check"), old_maturity_date=date(2025, 9, 1),
                new_maturity_date=date(2026, 3, 1), reason="约束测试")


def _collection(ctx, n):
    return dict(collection_no=f"CK-CS{n}", loan_id=ctx.loan_id(), method="phone",
                contacted_at=datetime(2025, 3, 1, 10, 0), content="电话催收", promised_amount=D("500.00"))


def _receipt(ctx, n):
    return dict(collection_id=ctx.collection_id(), stored_name=f"ck-{n}.pdf", original_name="回执.pdf",
                content_type="application/pdf", size=10, sha256="0" * 64)


def _snapshot(ctx, n):
    return dict(month_end=date(2025, 1, 31), loan_id=n, product_id=ctx.product.id, start_month="2024-12",
                principal=D("10000.00"), status="active", five_class=1, suggested_class=1, days_overdue=0,
                bucket=0, max_days_overdue=0, outstanding_principal=D("10000.00"), overdue_principal=D("0"))


def _warning(ctx, n):
    return dict(kind="repayment_overdue", as_of=TODAY, is_current=True, subject_key=f"inst:{n}",
                customer_name="约束客户")


# ---- the table ------------------------------------------------------------------------------

def same(*columns, **extra):
    """Override copying `columns` from row A (a duplicate key), plus fixed values."""
    return lambda ctx, a: {**{c: a[c] for c in columns}, **extra}


@dataclass
class Case:
    constraint: str  # the name the database reports, or a description for unnamed ones
    model: type
    build: Callable
    refused: list
    accepted: list = field(default_factory=list)
    unique: tuple = ()  # columns of a UNIQUE constraint / index: the error names them

    @property
    def table(self):
        return self.model.__table__


def check(name, model, build, refused, accepted=()):
    return Case(name, model, build, list(refused), list(accepted))


def unique(name, model, build, columns, refused=None, accepted=()):
    return Case(name, model, build, refused or [same(*columns)], list(accepted), tuple(columns))


CASES = [
    # Loans: money and rate in range, class 1..5, unique numbers.
    check("ck_loan_principal_positive", Loan, _loan,
          refused=[{"principal": D("0")}, {"principal": D("-0.01")}],
          accepted=[{"principal": D("0.01")}]),
    check("ck_loan_outstanding_nonneg", Loan, _loan,
          refused=[{"outstanding_principal": D("-0.01")}],
          accepted=[{"outstanding_principal": D("0")}]),
    check("ck_loan_rate_range", Loan, _loan,
          refused=[{"rate": D("0")}, {"rate": D("-1")}, {"rate": D("100")}, {"rate": D("150")}],
          accepted=[{"rate": D("0.0001")}, {"rate": D("99.9999")}]),
    check("ck_loan_five_class", Loan, _loan,
          refused=[{"five_class": 0}, {"five_class": 6}, {"five_class": -1}],
          accepted=[{"five_class": 1}, {"five_class": 5}]),
    check("ck_loan_term_positive", Loan, _loan,
          refused=[{"term_months": 0}, {"term_months": -12}], accepted=[{"term_months": 1}]),
    check("ck_loan_dates", Loan, _loan,
          refused=[{"maturity_date": TODAY}, {"maturity_date": date(2025, 2, 28)}],
          accepted=[{"maturity_date": date(2025, 3, 2)}]),
    check("ck_loan_overdue_nonneg", Loan, _loan,
          refused=[{"days_overdue": -1}, {"overdue_principal": D("-0.01")},
                   {"overdue_interest": D("-0.01")}, {"penalty_interest": D("-0.01")}],
          accepted=[{"days_overdue": 0, "overdue_principal": D("0"), "overdue_interest": D("0"),
                     "penalty_interest": D("0")}, {"days_overdue": 400, "penalty_interest": D("0.01")}]),
    unique("loan.loan_no", Loan, _loan, ["loan_no"]),
    unique("loan.contract_no", Loan, _loan, ["contract_no"]),
    # What hangs on a loan.
    check("ck_guarantor_amount", Guarantor, _guarantor,
          refused=[{"guaranteed_amount": D("-0.01")}], accepted=[{"guaranteed_amount": D("0")}]),
    check("ck_collateral_value", Collateral, _collateral,
          refused=[{"value": D("-0.01")}], accepted=[{"value": D("0")}]),
    check("ck_rate_change_range", RateChange, _rate_change,
          refused=[{"new_rate": D("0")}, {"new_rate": D("-3")}, {"new_rate": D("100")}],
          accepted=[{"new_rate": D("0.0001")}, {"new_rate": D("99.9999")}]),
    check("ck_repayment_amount_positive", Repayment, _repayment,
          refused=[{"amount": D("0"), "principal_part": D("0")},
                   {"amount": D("-0.01"), "principal_part": D("-0.01")}],
          accepted=[{"amount": D("0.01"), "principal_part": D("0.01")}]),
    check("ck_repayment_parts_nonneg", Repayment, _repayment,
          # each with the parts still adding up to the amount, so only this rule is broken
          refused=[{"penalty_part": D("-0.01"), "principal_part": D("100.01")},
                   {"interest_part": D("-0.01"), "principal_part": D("100.01")},
                   {"principal_part": D("-0.01"), "interest_part": D("100.01")}],
          accepted=[{"penalty_part": D("0"), "interest_part": D("0"), "principal_part": D("100.00")}]),
    check("ck_repayment_parts_sum", Repayment, _repayment,
          refused=[{"principal_part": D("99.99")}, {"principal_part": D("100.01")}, {"advance_part": D("0.01")},
                   {"penalty_part": D("0.01")}, {"amount": D("100.10")}],
          accepted=[{"amount": D("0.30"), "penalty_part": D("0.10"), "interest_part": D("0.20"),
                     "principal_part": D("0")},
                    {"amount": D("1234567.89"), "penalty_part": D("0.01"), "interest_part": D("34567.88"),
                     "principal_part": D("1200000.00")},
                    # held as 预收款, or a prepayment that spent an advance held before
                    {"principal_part": D("40.00"), "advance_part": D("60.00")},
                    {"principal_part": D("160.00"), "advance_part": D("-60.00")}]),
    # The ledger: known kinds, positive amounts, a repayment reversed once.
    check("ck_loan_entry_kind", LoanEntry, _loan_entry,
          refused=[{"kind": "gift"}, {"kind": ""}],
          accepted=[{"kind": k} for k in ("repayment", "recovery", "write_off")]),
    check("ck_loan_entry_amount", LoanEntry, _loan_entry,
          refused=[{"amount": D("0")}, {"amount": D("-0.01")}],
          accepted=[{"amount": None}, {"amount": D("0.01")}]),
    unique("loan_entry.reverses_id", LoanEntry, _reversal, ["reverses_id"]),
    # The schedule.
    check("ck_installment_due_nonneg", Installment, _installment,
          refused=[{"principal_due": D("-0.01")}, {"interest_due": D("-0.01")}],
          accepted=[{"principal_due": D("0"), "interest_due": D("0")}]),
    check("ck_installment_paid_nonneg", Installment, _installment,
          refused=[{"principal_paid": D("-0.01")}, {"interest_paid": D("-0.01")},
                   {"penalty_paid": D("-0.01")}],
          accepted=[{"principal_paid": D("0"), "interest_paid": D("0"), "penalty_paid": D("0")}]),
    check("ck_installment_principal_le_due", Installment, _installment,
          refused=[{"principal_paid": D("1000.01")}, {"principal_due": D("0"), "principal_paid": D("0.01")}],
          accepted=[{"principal_paid": D("1000.00")}]),
    unique("uq_installment_loan_period", Installment, _installment, ["loan_id", "period"],
           # same loan, other period (B itself) and same period, other loan are both fine
           accepted=[lambda ctx, a: {"loan_id": ctx.loan_id(2), "period": a["period"]}]),
    # Reviews: classes 1..5, non-negative write-off amounts, one open item per loan.
    check("ck_class_change_range", ClassificationChange, _class_change,
          refused=[{"from_class": 0}, {"from_class": 6}, {"to_class": 0}, {"to_class": 6}],
          accepted=[{"from_class": 5, "to_class": 1}, {"from_class": 1, "to_class": 5}]),
    unique("uq_class_change_open", ClassificationChange, _class_change, ["loan_id"],
           # open = anything but approved or withdrawn: pending, sent back, draft
           refused=[same("loan_id", review_status=s) for s in ("pending", "rejected", "draft")],
           accepted=[same("loan_id", review_status=s) for s in ("approved", "withdrawn")]),
    check("ck_write_off_amounts", WriteOff, _write_off,
          refused=[{"principal_amount": D("-0.01")}, {"interest_amount": D("-0.01")}],
          accepted=[{"principal_amount": D("0"), "interest_amount": D("0")}]),
    unique("uq_write_off_open", WriteOff, _write_off, ["loan_id"],
           # a loan is written off once: only a withdrawn application leaves room for another
           refused=[same("loan_id", review_status=s) for s in ("pending", "rejected", "draft", "approved")],
           accepted=[same("loan_id", review_status="withdrawn")]),
    # 冲正: one open reversal per loan; a repayment reversed once.
    unique("uq_repayment_reversal_open", RepaymentReversal, _reversal_item, ["loan_id"],
           refused=[same("loan_id", "repayment_id", review_status=s) for s in ("pending", "rejected", "draft")],
           accepted=[same("loan_id", review_status=s) for s in ("approved", "withdrawn")]),
    unique("uq_repayment_reversal_done", RepaymentReversal, lambda ctx, n: _reversal_item(ctx, n, "approved"),
           ["repayment_id"],
           refused=[same("repayment_id", review_status="approved")],
           accepted=[same("repayment_id", review_status="withdrawn")]),
    unique("uq_extension_application_open", ExtensionApplication, _extension_application, ["loan_id"],
           # open = anything but approved or withdrawn
           refused=[same("loan_id", review_status=s) for s in ("pending", "rejected")],
           accepted=[same("loan_id", review_status=s) for s in ("approved", "withdrawn")]),
    # Bank cards: one default per customer, a number once per customer.
    unique("uq_bank_card_default", BankCard, _bank_card, ["customer_id"],
           refused=[lambda ctx, a: {"is_default": True}],
           accepted=[lambda ctx, a: {"is_default": False}]),
    unique("uq_bank_card_number", BankCard, _bank_card, ["customer_id", "card_number"]),
    # Collection.
    check("ck_collection_promise", Collection, _collection,
          refused=[{"promised_amount": D("-0.01")}],
          accepted=[{"promised_amount": None}, {"promised_amount": D("0")}]),
    unique("collection.collection_no", Collection, _collection, ["collection_no"]),
    unique("receipt.stored_name", Receipt, _receipt, ["stored_name"]),
    # Warnings: one current row per subject and kind; history rows may repeat a subject.
    unique("uq_warning_current_subject", Warning, _warning, ["kind", "subject_key"],
           refused=[same("kind", "subject_key", as_of=date(2025, 3, 2))],
           accepted=[same("kind", "subject_key", is_current=False),
                     same("subject_key", kind="repayment_due")]),
    # Master data: a product's rates and terms stay in order.
    check("ck_product_rate_range", LoanProduct, _product,
          refused=[{"min_rate": D("0")}, {"min_rate": D("13")}, {"max_rate": D("11")},
                   {"max_rate": D("100")}, {"default_rate": D("3")}, {"default_rate": D("25")}],
          accepted=[{"min_rate": D("12"), "max_rate": D("12")}, {"min_rate": D("0.0001")},
                    {"max_rate": D("99.9999")}]),
    check("ck_product_term_range", LoanProduct, _product,
          refused=[{"min_term": 0}, {"min_term": 37}, {"max_term": 0}],
          accepted=[{"min_term": 36}, {"min_term": 1, "max_term": 1}]),
    check("ck_product_terms_nonneg", LoanProduct, _product,
          refused=[{"penalty_markup": D("-1")}, {"grace_days": -1}, {"inspection_interval_days": 0}],
          accepted=[{"penalty_markup": D("0"), "grace_days": 0, "inspection_interval_days": 1}]),
    # Bounds (models.bounds): money within 10^12 and two decimals, rates four decimals, dates
    # from 2000-01-01.
    check("ck_loan_bounds", Loan, _loan,
          refused=[{"principal": OVER}, {"outstanding_principal": OVER}, {"rate": D("12.12345")},
                   {"start_date": date(1999, 12, 31)}] + cents("principal"),
          accepted=[{"principal": D("1000000000000.00"), "outstanding_principal": D("1000000000000.00")},
                    {"rate": D("12.1234")}, {"start_date": date(2000, 1, 1)}]),
    check("ck_repayment_bounds", Repayment, _repayment,
          refused=[{"amount": OVER, "principal_part": OVER}]
          + ([{"amount": D("100.005"), "principal_part": D("100.005")}] if SQLITE else []),
          accepted=[{"amount": D("1000000000000.00"), "principal_part": D("1000000000000.00")}]),
    check("ck_rate_change_bounds", RateChange, _rate_change,
          refused=[{"new_rate": D("10.00001")}, {"effective_date": date(1999, 12, 31)}],
          accepted=[{"new_rate": D("10.0001")}, {"effective_date": date(2000, 1, 1)}]),
    check("ck_product_bounds", LoanProduct, _product,
          refused=[{"min_rate": D("4.00001")}, {"default_rate": D("12.00001")},
                   {"max_rate": D("23.99999")}, {"penalty_markup": D("50.00001")}],
          accepted=[{"min_rate": D("4.0001"), "default_rate": D("12.0001"), "max_rate": D("23.9999"),
                     "penalty_markup": D("50.0001")}]),
    check("ck_guarantor_bounds", Guarantor, _guarantor,
          refused=[{"guaranteed_amount": OVER}] + cents("guaranteed_amount"),
          accepted=[{"guaranteed_amount": D("1000000000000.00")}]),
    check("ck_collateral_bounds", Collateral, _collateral,
          refused=[{"value": OVER}, {"start_date": date(1999, 12, 31)}] + cents("value"),
          accepted=[{"value": D("1000000000000.00")}, {"start_date": date(2000, 1, 1)}]),
    check("ck_credit_line_bounds", CreditLine, _credit_line,
          refused=[{"amount": OVER}, {"start_date": date(1999, 12, 31)},
                   {"expiry_date": date(1999, 12, 31)}] + cents("amount"),
          accepted=[{"amount": D("1000000000000.00")}, {"start_date": date(2000, 1, 1)}]),
    check("ck_write_off_bounds", WriteOff, _write_off,
          refused=[{"principal_amount": OVER}, {"interest_amount": OVER}] + cents("interest_amount"),
          accepted=[{"principal_amount": D("1000000000000.00")}]),
    check("ck_collection_bounds", Collection, _collection,
          refused=[{"promised_amount": OVER}] + cents("promised_amount"),
          accepted=[{"promised_amount": D("1000000000000.00")}]),
    check("ck_product_money_rules", LoanProduct, _product,
          refused=[{"grace_mode": "never"}, {"settle_interest": "month"}, {"prepay_fee_pct": D("-0.01")},
                   {"prepay_fee_pct": D("100")}],
          accepted=[{"grace_mode": "deduct", "settle_interest": "period", "prepay_fee_pct": D("99.99")},
                    {"prepay_fee_pct": D("0")}]),
    unique("customer.id_number", Customer, _customer, ["id_number"]),
    unique("loan_product.code", LoanProduct, _product, ["code"]),
    unique("loan_product.name", LoanProduct, _product, ["name"]),
    # usernames, also those differing only in case (issue 15)
    unique("uq_user_account_username_ci", User, _user, ["username"],
           refused=[same("username"), lambda ctx, a: {"username": a["username"].upper()},
                    lambda ctx, a: {"username": a["username"].title()}],
           accepted=[{"username": "ck_user_other"}]),
    # Month-end snapshots: one row per loan and month-end, a class 1..5, no negative money.
    check("ck_snapshot_five_class", PortfolioSnapshot, _snapshot,
          refused=[{"five_class": 0}, {"five_class": 6}], accepted=[{"five_class": 5}]),
    check("ck_snapshot_money", PortfolioSnapshot, _snapshot,
          refused=[{"outstanding_principal": D("-0.01")}, {"overdue_principal": D("-0.01")}],
          accepted=[{"outstanding_principal": D("0"), "overdue_principal": D("0")}]),
    unique("uq_snapshot_month_loan", PortfolioSnapshot, _snapshot, ["month_end", "loan_id"]),
]


def _declared():
    """Every CHECK, UNIQUE constraint and unique index the models declare, as CASES names it."""
    from sqlalchemy import CheckConstraint, UniqueConstraint

    found = set()
    for table in _db.metadata.sorted_tables:
        for c in table.constraints:
            if isinstance(c, CheckConstraint) and c.name:
                found.add(c.name)
            elif isinstance(c, UniqueConstraint):
                found.add(c.name or f"{table.name}." + ",".join(col.name for col in c.columns))
        for ix in table.indexes:
            if ix.unique:
                found.add(ix.name if ix.name.startswith("uq_") else
                          f"{table.name}." + ",".join(col.name for col in ix.columns))
    return found


def test_every_declared_constraint_has_a_case():
    """A constraint added to the models without a row here fails this test."""
    assert _declared() == {c.constraint for c in CASES}


# ---- the probes ----------------------------------------------------------------------------

def _rows_in_case_tables() -> dict:
    return {t.name: _db.session.execute(select(func.count()).select_from(t)).scalar()
            for t in {c.table for c in CASES} - {User.__table__}}


@pytest.fixture(autouse=True)
def db(app):
    """Overrides conftest's `db` for this module. The tables are emptied and the demo users
    made only when a test finds them otherwise (their password hashing dominated the run);
    each test's rows are thrown away by rolling its transaction back, since nothing here
    commits. Under pytest-xdist another module's test may run in between: then the state is
    no longer clean and is prepared again."""
    from admin_app.seed.accounts import DEMO_USERS, ensure_demo_users
    from tests.conftest import _truncate_all

    with app.app_context():
        users = _db.session.execute(select(func.count()).select_from(User)).scalar()
        if users != len(DEMO_USERS) or any(_rows_in_case_tables().values()):
            _truncate_all()
            ensure_demo_users()
            _db.session.commit()
        yield _db
        _db.session.rollback()
        # Nothing a test wrote survived its rollback (so no test sees another's rows).
        left = _rows_in_case_tables()
        assert not any(left.values()), f"rows committed by a test: {left}"
        assert _db.session.execute(select(func.count()).select_from(User)).scalar() == len(DEMO_USERS)
        _db.session.remove()


def _override(case, ctx, override) -> dict:
    return override(ctx, case.build(ctx, 1)) if callable(override) else override


def _values(case, ctx, n, override):
    """Row n with `override` applied; parents are made here, outside any probe savepoint."""
    return {**case.build(ctx, n), **_override(case, ctx, override)}


def _accepts(stmt):
    sp = _db.session.begin_nested()
    try:
        _db.session.execute(stmt)
    finally:
        sp.rollback()


def _refuses(stmt) -> str:
    with pytest.raises(IntegrityError) as exc:
        with _db.session.begin_nested():
            _db.session.execute(stmt)
    return str(exc.value.orig)


def _names_the_constraint(case, message: str) -> bool:
    if not case.unique or case.constraint.startswith("uq_") and case.constraint in message:
        return case.constraint in message
    if _db.engine.dialect.name == "postgresql":
        return f"Key ({', '.join(case.unique)})=" in message
    return "UNIQUE constraint failed: " + ", ".join(f"{case.table.name}.{c}" for c in case.unique) in message


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.constraint)
def test_database_refuses_what_the_constraint_forbids(case):
    ctx = Ctx()
    table = case.table
    # 1. valid rows are accepted, and kept for the probes. Not in a savepoint: with pysqlite a
    # SAVEPOINT opened before any write runs outside a transaction and its RELEASE commits,
    # while these inserts open the transaction that the final rollback throws away.
    a_id = _db.session.execute(insert(table).values(case.build(ctx, 1))).inserted_primary_key[0]
    b_id = _db.session.execute(insert(table).values(case.build(ctx, 2))).inserted_primary_key[0]
    pk = list(table.primary_key.columns)[0]

    def kept_rows():
        return len(_db.session.execute(select(pk).where(pk.in_([a_id, b_id]))).scalars().all())

    assert kept_rows() == 2

    n = 3
    # 2. edge values and look-alike keys are accepted, on insert and on update
    for override in case.accepted:
        _accepts(insert(table).values(_values(case, ctx, n, override)))
        _accepts(update(table).where(pk == b_id).values(_values(case, ctx, 2, override)))
        n += 1

    # 3. each bad value is refused, on insert and on update, by this constraint
    for override in case.refused:
        bad = _override(case, ctx, override)
        message = _refuses(insert(table).values(_values(case, ctx, n, override)))
        assert _names_the_constraint(case, message), f"insert {bad}: refused for another reason: {message}"
        message = _refuses(update(table).where(pk == b_id).values(_values(case, ctx, 2, override)))
        assert _names_the_constraint(case, message), f"update {bad}: refused for another reason: {message}"
        n += 1

    # The session is still usable and rows A and B are intact after the refusals.
    assert kept_rows() == 2
