"""Warnings filled by the daily job, the parameters admins set, and job run records."""
from datetime import date, datetime

from sqlalchemy import DDL, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, event, false, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from admin_app.extensions import db
from .privacy import personal
from .types import Money


class Warning(db.Model):
    """One table for all six kinds. `subject_key` names what is warned about
    (e.g. "inst:123:2026-11-30"), so handling state carries over between refreshes.

    The rows of the newest run are `is_current`; the daily job moves a still-current row
    forward to the next day in place (as_of, days and amounts change, no indexed column
    does), and a row no longer warned about stays behind as history (is_current false)."""

    __tablename__ = "warning"
    __table_args__ = (
        # List order: most urgent first. For current rows `days` is as_of - due_date, so
        # days descending is due_date ascending — an order that does not move from one
        # day to the next, so moving 1,500,000 rows forward rewrites none of this index.
        Index("ix_warning_current_due", "kind", "is_current", "due_date", "id"),
        # One current row per subject (history rows may repeat a subject).
        Index("uq_warning_current_subject", "kind", "subject_key", unique=True,
              sqlite_where=text("is_current = 1"), postgresql_where=text("is_current")),
        # No index holds as_of or a column the move sets (days, amounts, level): on
        # PostgreSQL a move is then a HOT update (the new row version on the same page, no
        # index entry written), given room on the page (fillfactor, below). With as_of in
        # two indexes every move wrote a new entry into all eleven (three of them trigram
        # GIN): 1,000,000 loans, 1,400,000 rows moved, over 5 minutes.
        # Unhandled history rows, the ones pruned after jobs.steps.warnings.KEEP_DAYS.
        Index("ix_warning_prunable", "id", sqlite_where=text("is_current = 0 AND handling_state = 'open'"),
              postgresql_where=text("NOT is_current AND handling_state = 'open'")),
        Index("ix_warning_kind_name", "kind", "customer_name"),
        Index("ix_warning_kind_loan_no", "kind", "loan_no"),
        # The daily job carries handling over from the newest handled row of a subject.
        Index("ix_warning_handled", "kind", "subject_key",
              sqlite_where=text("handling_state <> 'open'"), postgresql_where=text("handling_state <> 'open'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    as_of: Mapped[date] = mapped_column(Date, nullable=False)
    is_current: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    subject_key: Mapped[str] = mapped_column(String(48), nullable=False)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loan.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    collateral_id: Mapped[int | None] = mapped_column(ForeignKey("collateral.id"))
    credit_line_id: Mapped[int | None] = mapped_column(ForeignKey("credit_line.id"))
    installment_id: Mapped[int | None] = mapped_column(ForeignKey("installment.id"))
    # Copies of what the lists show and search, so a warning list needs no joins.
    customer_name: Mapped[str] = mapped_column(String(128), nullable=False, default="", info=personal("name"))
    loan_no: Mapped[str | None] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(20), info=personal("phone"))
    contact_person: Mapped[str | None] = mapped_column(String(64), info=personal("name"))
    due_date: Mapped[date | None] = mapped_column(Date)
    # Days overdue when positive, days left when negative or zero.
    days: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    amount = mapped_column(Money)
    overdue_principal = mapped_column(Money)
    overdue_interest = mapped_column(Money)
    penalty_interest = mapped_column(Money)
    level: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    handling_state: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    note: Mapped[str | None] = mapped_column(Text)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime)

    loan = relationship("Loan", lazy="select")
    handled_by = relationship("User", lazy="joined")
    collateral = relationship("Collateral", lazy="select")


# Half of each page left free on PostgreSQL: tomorrow's version of every current row fits
# beside today's (the page is pruned of yesterday's as it is read), so the nightly move stays
# HOT. Declared here for init-db; migration c7e9a1b3d5f2 sets it on upgraded books.
WARNING_FILLFACTOR = 50
event.listen(Warning.__table__, "after_create",
             DDL(f"ALTER TABLE warning SET (fillfactor = {WARNING_FILLFACTOR})").execute_if(dialect="postgresql"))


class Setting(db.Model):
    """Parameters admins change: warning lead days, classification thresholds,
    collection hours. Defaults live in admin_app.settings."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256), nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)


class JobRun(db.Model):
    __tablename__ = "job_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(32), nullable=False, default="daily")
    as_of: Mapped[date] = mapped_column(Date, nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False, default="running")
    summary: Mapped[str | None] = mapped_column(Text)  # JSON: rows per warning kind etc.
    error: Mapped[str | None] = mapped_column(Text)
    # 立即运行: the admin's request, picked up by the scheduler process (never run in a web worker).
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    requested_at: Mapped[datetime | None] = mapped_column(DateTime)
    # JSON {"step": label, "done": n, "total": m}: the step running now, or all done.
    progress: Mapped[str | None] = mapped_column(Text)
