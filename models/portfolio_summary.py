"""首页's portfolio figures kept small: loans counted and their outstanding principal summed
(whole cents) per (status, five-level class, ageing bucket, product, 客户经理).

Rows are additive, several rows may carry the same key and readers SUM per key:
- the daily job rewrites the table from the loans, one row per key (jobs.steps.summary);
- during the day every change to a loan's key or balance appends the difference, a row of
  -1 / -old cents under the old key and one of +1 / +new cents under the new key
  (services.portfolio_summary: the ORM flush of any loan change, and the importer's bulk
  statements), in the same transaction as the change itself.
So the sums per key always equal the live aggregate over the loans (tests/test_portfolio_summary)."""
from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from admin_app.extensions import db


class PortfolioSummary(db.Model):
    __tablename__ = "portfolio_summary"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    five_class: Mapped[int] = mapped_column(Integer, nullable=False)
    bucket: Mapped[int] = mapped_column(Integer, nullable=False)  # models.snapshot.AGEING_BUCKETS code
    product_id: Mapped[int] = mapped_column(Integer, nullable=False)
    officer_id: Mapped[int | None] = mapped_column(Integer)
    loans: Mapped[int] = mapped_column(Integer, nullable=False)
    balance_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
