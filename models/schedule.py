"""Installments: the repayment schedule of a loan, one row a period."""
from datetime import date

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.extensions import db
from .types import Money


OPEN_INDEX_COLUMNS = ("due_date", "loan_id", "principal_due", "principal_paid", "interest_due",
                      "interest_paid", "penalty_paid", "compound_paid", "penalty_basis",
                      "compound_basis", "penalty_accrued_to")


class Installment(db.Model):
    __tablename__ = "installment"
    __table_args__ = (
        UniqueConstraint("loan_id", "period", name="uq_installment_loan_period"),
        CheckConstraint("principal_due >= 0 AND interest_due >= 0", name="ck_installment_due_nonneg"),
        CheckConstraint("principal_paid >= 0 AND interest_paid >= 0 AND penalty_paid >= 0",
                        name="ck_installment_paid_nonneg"),
        CheckConstraint("principal_paid <= principal_due", name="ck_installment_principal_le_due"),
        # The daily job reads unpaid periods by due date, from this index alone (partial:
        # unpaid periods only; covering: no lookups into a 14,000,000-row table — at
        # 1,000,000 loans collecting the overdue periods fell from 41 s to 6 s).
        Index("ix_installment_open", *OPEN_INDEX_COLUMNS,
              sqlite_where=text("paid_off_date IS NULL"), postgresql_where=text("paid_off_date IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), nullable=False)
    period: Mapped[int] = mapped_column(Integer, nullable=False)
    due_date: Mapped[date] = mapped_column(Date, nullable=False)
    principal_due = mapped_column(Money, nullable=False)
    interest_due = mapped_column(Money, nullable=False)
    principal_paid = mapped_column(Money, nullable=False, default=0)
    interest_paid = mapped_column(Money, nullable=False, default=0)
    penalty_paid = mapped_column(Money, nullable=False, default=0)
    compound_paid = mapped_column(Money, nullable=False, default=0, server_default="0")
    # The penalty (罚息) and 复利 bases accumulated up to penalty_accrued_to, the last day a
    # payment changed this period's unpaid amounts (models.ledger): sum of unpaid × rate(%) ×
    # days, in units of 10^-6 (an integer); after that day the unpaid amounts are constant,
    # so the daily job adds the rest in SQL. penalty_accrued is the penalty then (display).
    penalty_basis = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    compound_basis = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    penalty_accrued = mapped_column(Money, nullable=False, default=0, server_default="0")
    penalty_accrued_to: Mapped[date | None] = mapped_column(Date)
    paid_off_date: Mapped[date | None] = mapped_column(Date)

    loan = relationship("Loan", back_populates="installments")

    @property
    def is_paid(self) -> bool:
        return self.paid_off_date is not None
