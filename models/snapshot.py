"""Month-end portfolio snapshots (月末快照): each open loan's position as of a month-end, plus
the loans settled or written off during that month, so reports for a past month-end can be
reproduced after the book has moved on and classes can be followed from one month-end to the
next (迁徙). Rows are only ever written by services.snapshots, a whole month at a time;
re-writing a month replaces it in one transaction (snapshot_month says which months exist)."""
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.extensions import db
from .types import Money

# Overdue ageing buckets (逾期账龄) by days overdue, inclusive: (code, label, low, high).
# One definition: the snapshot SQL (services.snapshots), the screens and the tests read it.
AGEING_BUCKETS = (
    (0, "M0(未逾期)", 0, 0),
    (1, "M1(1–30天)", 1, 30),
    (2, "M2(31–60天)", 31, 60),
    (3, "M3(61–90天)", 61, 90),
    (4, "M4–M6(91–180天)", 91, 180),
    (5, "M6+(180天以上)", 181, None),
)


def ageing_bucket(days: int) -> int:
    for code, _label, low, high in AGEING_BUCKETS:
        if days >= low and (high is None or days <= high):
            return code
    return 0


class PortfolioSnapshot(db.Model):
    __tablename__ = "portfolio_snapshot"
    __table_args__ = (
        CheckConstraint("five_class BETWEEN 1 AND 5", name="ck_snapshot_five_class"),
        CheckConstraint("outstanding_principal >= 0 AND overdue_principal >= 0", name="ck_snapshot_money"),
        # A month-end is read in loan order: the 迁徙 join then looks up the other month-end
        # and the loan next to the previous lookup (100,000 loans: 3.3 s in class order, 0.8 s).
        # The screens' figures by class / bucket come from snapshot_summary.
        Index("uq_snapshot_month_loan", "month_end", "loan_id", unique=True),
        Index("ix_snapshot_loan", "loan_id", "month_end"),
    )

    # A surrogate key: the list screens page and open rows by a single id.
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month_end: Mapped[date] = mapped_column(Date, nullable=False)
    loan_id: Mapped[int] = mapped_column(Integer, nullable=False)
    product_id: Mapped[int] = mapped_column(Integer, nullable=False)
    officer_id: Mapped[int | None] = mapped_column(Integer)
    start_month: Mapped[str] = mapped_column(String(7), nullable=False)  # 'YYYY-MM' of disbursement
    principal = mapped_column(Money, nullable=False)
    # active / extended / overdue (open at the month-end) or settled / written_off (closed in the month)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    five_class: Mapped[int] = mapped_column(Integer, nullable=False)
    suggested_class: Mapped[int] = mapped_column(Integer, nullable=False)
    days_overdue: Mapped[int] = mapped_column(Integer, nullable=False)
    bucket: Mapped[int] = mapped_column(Integer, nullable=False)
    # The most days overdue the loan ever reached up to the month-end (vintage: ever 30+/90+).
    max_days_overdue: Mapped[int] = mapped_column(Integer, nullable=False)
    # Open loans: remaining principal; written off in the month: the balance written off; settled: 0.
    outstanding_principal = mapped_column(Money, nullable=False)
    overdue_principal = mapped_column(Money, nullable=False)

    # History keeps no foreign keys (a month is written in bulk); these read the current rows.
    loan = relationship("Loan", primaryjoin="foreign(PortfolioSnapshot.loan_id) == Loan.id",
                        viewonly=True, lazy="joined")
    product = relationship("LoanProduct", primaryjoin="foreign(PortfolioSnapshot.product_id) == LoanProduct.id",
                           viewonly=True, lazy="joined")
    officer = relationship("User", primaryjoin="foreign(PortfolioSnapshot.officer_id) == User.id",
                           viewonly=True, lazy="joined")

    @property
    def bucket_label(self) -> str:
        return AGEING_BUCKETS[self.bucket][1]


class SnapshotMonth(db.Model):
    """One row per month-end held in portfolio_snapshot: when and how it was written."""

    __tablename__ = "snapshot_month"

    month_end: Mapped[date] = mapped_column(Date, primary_key=True)
    source: Mapped[str] = mapped_column(String(16), nullable=False)  # job (live) / rebuild (history)
    loans: Mapped[int] = mapped_column(Integer, nullable=False)
    balance = mapped_column(Money, nullable=False)
    written_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    written_by: Mapped[str | None] = mapped_column(String(64))
    seconds = mapped_column(Money, nullable=False, default=0)

    SOURCES = {"job": "日终任务(当日实时数据)", "rebuild": "按历史记录重算"}

    @property
    def source_label(self) -> str:
        return self.SOURCES.get(self.source, self.source)


# ---- aggregates written with each month-end (the report screens read these, not 1,000,000 rows)
class SnapshotSummary(db.Model):
    """A month-end's snapshot rows counted and summed per (status, class, bucket, product,
    officer): 五级分类统计, 逾期账龄 and their trends."""

    __tablename__ = "snapshot_summary"
    __table_args__ = (Index("ix_snapshot_summary_month", "month_end", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month_end: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    five_class: Mapped[int] = mapped_column(Integer, nullable=False)
    bucket: Mapped[int] = mapped_column(Integer, nullable=False)
    product_id: Mapped[int] = mapped_column(Integer, nullable=False)
    officer_id: Mapped[int | None] = mapped_column(Integer)
    loans: Mapped[int] = mapped_column(Integer, nullable=False)
    balance_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)


class SnapshotCohort(db.Model):
    """A month-end's rows per disbursement month, by whether the loan was closed in that month
    and how far overdue it had ever been (0: never over 30 days, 1: 31–90, 2: over 90): the
    vintage (放款批次分析) sums these over month-ends."""

    __tablename__ = "snapshot_cohort"
    __table_args__ = (Index("ix_snapshot_cohort_month", "month_end", "start_month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month_end: Mapped[date] = mapped_column(Date, nullable=False)
    start_month: Mapped[str] = mapped_column(String(7), nullable=False)
    closed: Mapped[int] = mapped_column(Integer, nullable=False)  # 1: settled / written off in the month
    ever_level: Mapped[int] = mapped_column(Integer, nullable=False)
    loans: Mapped[int] = mapped_column(Integer, nullable=False)
    principal_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)


class SnapshotMigration(db.Model):
    """The migration matrix between two consecutive held month-ends (from_class 0: loans new
    since the start), refreshed whenever either month-end is written."""

    __tablename__ = "snapshot_migration"
    __table_args__ = (Index("ix_snapshot_migration_pair", "start_month_end", "end_month_end"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    start_month_end: Mapped[date] = mapped_column(Date, nullable=False)
    end_month_end: Mapped[date] = mapped_column(Date, nullable=False)
    from_class: Mapped[int] = mapped_column(Integer, nullable=False)
    to_col: Mapped[str] = mapped_column(String(16), nullable=False)
    loans: Mapped[int] = mapped_column(Integer, nullable=False)
    start_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    end_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
