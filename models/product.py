"""Loan products configured by admins."""
from sqlalchemy import Boolean, CheckConstraint, Integer, String, true
from sqlalchemy.orm import Mapped, mapped_column

from admin_app.extensions import db
from .bounds import bound_check
from .types import Rate


class LoanProduct(db.Model):
    __tablename__ = "loan_product"
    __table_args__ = (
        bound_check("loan_product"),
        CheckConstraint("min_rate > 0 AND min_rate <= default_rate AND default_rate <= max_rate "
                        "AND max_rate < 100", name="ck_product_rate_range"),
        CheckConstraint("min_term > 0 AND min_term <= max_term", name="ck_product_term_range"),
        CheckConstraint("penalty_markup >= 0 AND grace_days >= 0 AND inspection_interval_days > 0",
                        name="ck_product_terms_nonneg"),
        CheckConstraint("grace_mode IN ('from_due', 'deduct') AND settle_interest IN ('to_date', 'period') "
                        "AND prepay_fee_pct >= 0 AND prepay_fee_pct < 100", name="ck_product_money_rules"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    repayment_method: Mapped[str] = mapped_column(String(32), nullable=False)
    min_rate = mapped_column(Rate, nullable=False)
    max_rate = mapped_column(Rate, nullable=False)
    default_rate = mapped_column(Rate, nullable=False)
    min_term: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    max_term: Mapped[int] = mapped_column(Integer, nullable=False, default=36)
    penalty_markup = mapped_column(Rate, nullable=False, default=50)  # percent, 50 = +50%
    grace_days: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    inspection_interval_days: Mapped[int] = mapped_column(Integer, nullable=False, default=90)
    # Money conventions that differ between contracts (models.ledger states each rule):
    grace_mode: Mapped[str] = mapped_column(String(16), nullable=False, default="from_due",
                                            server_default="from_due")
    compound_interest: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True,
                                                    server_default=true())
    settle_interest: Mapped[str] = mapped_column(String(16), nullable=False, default="to_date",
                                                 server_default="to_date")
    prepay_fee_pct = mapped_column(Rate, nullable=False, default=0, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    def __str__(self) -> str:
        return self.name
