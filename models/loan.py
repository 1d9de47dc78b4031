"""Loans (contracts) and what hangs on them: guarantors, collateral, rate changes,
extensions and repayments."""
from datetime import date, datetime

from sqlalchemy import (CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String,
                        Text, func, select)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from admin_app.extensions import db
from models.clock import UTC_NOW, utc_now
from .enums import FIVE_CLASSES, LOAN_STATUSES, REPAYMENT_METHODS
from .bounds import bound_check
from .privacy import personal
from .types import Money, Rate


class Loan(db.Model):
    __tablename__ = "loan"
    __table_args__ = (
        CheckConstraint("principal > 0", name="ck_loan_principal_positive"),
        bound_check("loan"),
        CheckConstraint("outstanding_principal >= 0", name="ck_loan_outstanding_nonneg"),
        CheckConstraint("rate > 0 AND rate < 100", name="ck_loan_rate_range"),
        CheckConstraint("five_class BETWEEN 1 AND 5", name="ck_loan_five_class"),
        CheckConstraint("term_months > 0", name="ck_loan_term_positive"),
        CheckConstraint("maturity_date > start_date", name="ck_loan_dates"),
        CheckConstraint("days_overdue >= 0 AND overdue_principal >= 0 AND overdue_interest >= 0 "
                        "AND penalty_interest >= 0", name="ck_loan_overdue_nonneg"),
        Index("ix_loan_status_id", "status", "id"),
        Index("ix_loan_customer_name", "customer_name", "id"),
        # Screens search a name / loan-number prefix within a status: without these the planner
        # walks ix_loan_status_id over the whole status and filters row by row.
        Index("ix_loan_status_name", "status", "customer_name", "id"),
        Index("ix_loan_status_loan_no", "status", "loan_no"),
        Index("ix_loan_product_status", "product_id", "status", "id"),
        Index("ix_loan_five_class", "five_class", "id"),
        # 我的待办 近期应做贷后检查 counts open loans due for inspection (an officer's: 本人 scope)
        # from this index alone; on next_inspection_date only, each of the 10,001 counted
        # entries was a table lookup (1,000,000 loans, SQLite: 196 ms -> 13 ms).
        Index("ix_loan_next_inspection", "next_inspection_date", "status", "officer_id"),
        # 还款催收 lists overdue loans most overdue first, and 首页's aging table counts open
        # loans by overdue days: both read this index alone (officer_id: also under 数据权限 本人).
        Index("ix_loan_status_days", "status", "days_overdue", "id", "officer_id"),
        # the daily job's advances step reads the few loans holding a 预收余额
        Index("ix_loan_advance", "id", sqlite_where=db.text("advance_balance > 0"),
              postgresql_where=db.text("advance_balance > 0")),
        # 首页's portfolio tables (loans and balance by status, by class of open loans) sum
        # this index instead of reading a million loans; officer_id lets an officer's scoped
        # 首页 (officer_id = me OR IS NULL) read it alone too (200,000 loans: 1,390 ms -> 60 ms).
        Index("ix_loan_portfolio", "status", "five_class", "outstanding_principal", "officer_id"),
        # 我的待办 系统建议分类待处理: the few open loans whose suggested class is worse.
        Index("ix_loan_suggested", "status", "id", sqlite_where=db.text("suggested_class > five_class"),
              postgresql_where=db.text("suggested_class > five_class")),
        # 数据权限 本人: an officer's own loans of some statuses, newest first (and their count).
        Index("ix_loan_officer_status", "officer_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_no: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    contract_no: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False, index=True)
    # Copy of the borrower's name: lists search and sort by it without a join.
    customer_name: Mapped[str] = mapped_column(String(128), nullable=False, info=personal("name"))
    product_id: Mapped[int] = mapped_column(ForeignKey("loan_product.id"), nullable=False)
    principal = mapped_column(Money, nullable=False)
    rate = mapped_column(Rate, nullable=False)  # current annual rate, percent
    term_months: Mapped[int] = mapped_column(Integer, nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    maturity_date: Mapped[date] = mapped_column(Date, nullable=False)
    repayment_method: Mapped[str] = mapped_column(String(32), nullable=False)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    five_class: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    suggested_class: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    outstanding_principal = mapped_column(Money, nullable=False)
    days_overdue: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    overdue_principal = mapped_column(Money, nullable=False, default=0)
    overdue_interest = mapped_column(Money, nullable=False, default=0)
    penalty_interest = mapped_column(Money, nullable=False, default=0)
    # 复利 owed (interest on overdue interest), as of today like the figures above
    compound_interest = mapped_column(Money, nullable=False, default=0, server_default="0")
    # 预收余额: money paid ahead of its due date (按期还款), applied on each due date
    advance_balance = mapped_column(Money, nullable=False, default=0, server_default="0")
    last_inspection_date: Mapped[date | None] = mapped_column(Date)
    next_inspection_date: Mapped[date | None] = mapped_column(Date)
    settled_date: Mapped[date | None] = mapped_column(Date)
    written_off_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now, server_default=UTC_NOW())
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    # LEFT OUTER joins on purpose (the foreign keys are NOT NULL, so the rows are the same):
    # the planner must walk loans first — by primary key or a loan index, stopping after a
    # page — and never start from the six products and sort a million loans.
    customer = relationship("Customer", lazy="joined")
    product = relationship("LoanProduct", lazy="joined")
    officer = relationship("User", lazy="joined")
    installments = relationship("Installment", back_populates="loan", lazy="select",
                                order_by="Installment.period")
    guarantors = relationship("Guarantor", back_populates="loan", lazy="select")
    collaterals = relationship("Collateral", back_populates="loan", lazy="select")

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        return LOAN_STATUSES.get(self.status, self.status)

    @property
    def five_class_label(self) -> str:
        return FIVE_CLASSES.get(self.five_class, "")

    @property
    def method_label(self) -> str:
        return REPAYMENT_METHODS.get(self.repayment_method, self.repayment_method)

    def __str__(self) -> str:
        return f"{self.loan_no} {self.customer_name}"


class Guarantor(db.Model):
    __tablename__ = "guarantor"
    __table_args__ = (CheckConstraint("guaranteed_amount >= 0", name="ck_guarantor_amount"),
                      bound_check("guarantor"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="person")
    name: Mapped[str] = mapped_column(String(128), nullable=False, index=True, info=personal("name"))
    id_number: Mapped[str] = mapped_column(String(32), nullable=False, info=personal("id_number"))
    phone: Mapped[str] = mapped_column(String(20), nullable=False, info=personal("phone"))
    guaranteed_amount = mapped_column(Money, nullable=False)

    loan = relationship("Loan", back_populates="guarantors", lazy="joined")

    def __str__(self) -> str:
        return self.name


class Collateral(db.Model):
    __tablename__ = "collateral"
    __table_args__ = (
        CheckConstraint("value >= 0", name="ck_collateral_value"),
        bound_check("collateral"),
        Index("ix_collateral_kind_expiry", "kind", "expiry_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # mortgage / pledge
    description: Mapped[str] = mapped_column(String(256), nullable=False)
    value = mapped_column(Money, nullable=False)
    registration_no: Mapped[str | None] = mapped_column(String(64))
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    expiry_date: Mapped[date] = mapped_column(Date, nullable=False)

    loan = relationship("Loan", back_populates="collaterals", lazy="joined")

    def __str__(self) -> str:
        return self.description


class RateChange(db.Model):
    """A posted rate change: never edited, a correction is a new record."""

    __tablename__ = "rate_change"
    __table_args__ = (CheckConstraint("new_rate > 0 AND new_rate < 100", name="ck_rate_change_range"),
                      bound_check("rate_change"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), nullable=False, index=True)
    old_rate = mapped_column(Rate, nullable=False)
    new_rate = mapped_column(Rate, nullable=False)
    effective_date: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now, server_default=UTC_NOW())

    loan = relationship("Loan", lazy="joined")
    operator = relationship("User", lazy="joined")


class Extension(db.Model):
    """A posted extension (展期) of a loan's maturity."""

    __tablename__ = "extension"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), nullable=False, index=True)
    old_maturity_date: Mapped[date] = mapped_column(Date, nullable=False)
    new_maturity_date: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now, server_default=UTC_NOW())

    loan = relationship("Loan", lazy="joined")
    operator = relationship("User", lazy="joined")


class Repayment(db.Model):
    """A posted repayment with its allocation; never edited."""

    __tablename__ = "repayment"
    __table_args__ = (
        CheckConstraint("amount > 0", name="ck_repayment_amount_positive"),
        bound_check("repayment"),
        CheckConstraint("penalty_part >= 0 AND interest_part >= 0 AND principal_part >= 0",
                        name="ck_repayment_parts_nonneg"),
        # The parts (and what went to or came from the 预收余额) add up to the amount, to the
        # cent (SQLite keeps NUMERIC as floating point).
        CheckConstraint("ABS(amount - penalty_part - interest_part - principal_part - advance_part) < 0.005",
                        name="ck_repayment_parts_sum"),
        Index("ix_repayment_loan_date", "loan_id", "paid_on"),
        Index("ix_repayment_loan_serial", "loan_id", "serial_no"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), nullable=False)
    paid_on: Mapped[date] = mapped_column(Date, nullable=False)
    amount = mapped_column(Money, nullable=False)
    penalty_part = mapped_column(Money, nullable=False, default=0)
    interest_part = mapped_column(Money, nullable=False, default=0)
    principal_part = mapped_column(Money, nullable=False, default=0)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now, server_default=UTC_NOW())
    # The bank's or the old system's transaction number (流水号), when known (imports match on it).
    serial_no: Mapped[str | None] = mapped_column(String(64))

    # The parts above are the current allocation (a back-dated entry replays the loan and may
    # move them). penalty_part holds 罚息 + 复利 + 违约金; these say how much of it is which.
    compound_part = mapped_column(Money, nullable=False, default=0, server_default="0")
    fee_part = mapped_column(Money, nullable=False, default=0, server_default="0")
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="repayment",
                                      server_default="repayment")  # repayment | recovery
    prepay_mode: Mapped[str | None] = mapped_column(String(16))  # reduce | shorten; None: 按期还款
    # what this repayment added to the loan's 预收余额 (negative: a prepayment or settlement
    # that spent it); penalty + interest + principal parts + advance_part = amount
    advance_part = mapped_column(Money, nullable=False, default=0, server_default="0")
    reversed_on: Mapped[date | None] = mapped_column(Date)  # set when a 冲正 was approved

    loan = relationship("Loan", lazy="joined")
    operator = relationship("User", lazy="joined")

    @property
    def penalty_only(self):
        return self.penalty_part - self.compound_part - self.fee_part


class LoanEntry(db.Model):
    """The loan's ledger: one dated money event a row, append-only (models.ledger replays
    them; services.ledger writes them). A correction is a reversal entry, never an edit."""

    __tablename__ = "loan_entry"
    __table_args__ = (
        CheckConstraint("kind IN ('disbursement', 'rate_change', 'extension', 'repayment', 'reversal', "
                        "'write_off', 'recovery', 'fee')", name="ck_loan_entry_kind"),
        CheckConstraint("amount IS NULL OR amount > 0", name="ck_loan_entry_amount"),
        Index("ix_loan_entry_loan", "loan_id", "id"),
        # 核销台账 lists the write-off entries newest first: a small partial index, not a scan
        # of every loan's entries.
        Index("ix_loan_entry_write_off", "id", sqlite_where=db.text("kind = 'write_off'"),
              postgresql_where=db.text("kind = 'write_off'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    value_date: Mapped[date] = mapped_column(Date, nullable=False)  # value / effective date
    amount = mapped_column(Money)
    rate = mapped_column(Rate)
    new_maturity: Mapped[date | None] = mapped_column(Date)
    prepay_mode: Mapped[str | None] = mapped_column(String(16))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("loan_entry.id"), unique=True)
    repayment_id: Mapped[int | None] = mapped_column(ForeignKey("repayment.id"), index=True)
    rate_change_id: Mapped[int | None] = mapped_column(ForeignKey("rate_change.id"))
    extension_id: Mapped[int | None] = mapped_column(ForeignKey("extension.id"))
    note: Mapped[str | None] = mapped_column(Text)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utc_now, server_default=UTC_NOW())

    operator = relationship("User", lazy="joined")
    loan = relationship("Loan", lazy="select", viewonly=True)

    @property
    def kind_label(self) -> str:
        from .ledger import ENTRY_KINDS

        return ENTRY_KINDS.get(self.kind, self.kind)

# 原到期日: the maturity before the loan's first extension (已展期贷款查询 shows it beside the
# current, extended maturity). Deferred: only the screens that show it load it.
Loan.original_maturity_date = column_property(
    select(func.min(Extension.old_maturity_date)).where(Extension.loan_id == Loan.id)
    .correlate_except(Extension).scalar_subquery(), deferred=True)
