"""The daily job killed in the middle of a run: after positions were rewritten and the
warning rows refreshed, a later step (prune) dies. Every table must be exactly as it was
before the run, and the run must be recorded as failed with its error."""
from datetime import date, timedelta

from sqlalchemy import func, select, text

from admin_app.extensions import db as _db
from jobs.daily import run_daily
from jobs.steps import warnings as warning_step
from models import JobRun, Loan, Warning
from tests.warning_book import Book

AS_OF = date(2025, 6, 30)


def snapshot(db) -> dict:
    """Every row of every table except job_run (which records the run itself)."""
    rows = {}
    for table in _db.metadata.sorted_tables:
        if table.name == JobRun.__tablename__:
            continue
        result = db.session.execute(select(table).order_by(*table.primary_key.columns))
        rows[table.name] = [tuple(r) for r in result]
    return rows


def build(book):
    p = book.product(grace_days=0)
    loans = []
    for days in (5, 40, 100):
        loans.append(book.loan(book.customer(f"逾期{days}天"), p, start=book.day(-200),
                               installments=[(book.day(-days), 1000, 10), (book.day(60), 1000, 10)]))
    loans.append(book.loan(book.customer("正常"), p, installments=[(book.day(20), 1000, 10)]))
    return loans


def test_a_run_killed_in_a_later_step_leaves_every_table_unchanged(db, monkeypatch):
    book = Book(AS_OF)
    build(book)
    db.session.commit()
    first = run_daily(AS_OF)  # yesterday's run: positions and warning rows exist
    assert first.ok, first.describe()
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Warning)) > 0

    before = snapshot(db)
    next_day = AS_OF + timedelta(days=15)  # a day that moves positions and warnings
    reached = {}
    real_refresh = warning_step.refresh

    def refresh_then_record(ctx):
        out = real_refresh(ctx)
        # the run has really written by now: loans moved forward, warning rows refreshed
        reached["loans_overdue"] = ctx.conn.execute(
            text("SELECT SUM(days_overdue) FROM loan")).scalar()
        reached["warnings"] = ctx.conn.execute(text("SELECT COUNT(*) FROM warning")).scalar()
        return out

    def killed(ctx):
        raise RuntimeError("进程被终止")

    monkeypatch.setattr(warning_step, "refresh", refresh_then_record)
    monkeypatch.setattr(warning_step, "prune", killed)
    runs_before = db.session.scalar(select(func.count()).select_from(JobRun))
    db.session.commit()
    result = run_daily(next_day)
    db.session.expire_all()

    assert reached, "the run did not reach the later step"
    before_days = sum(r.days_overdue or 0 for r in db.session.scalars(select(Loan)))
    assert reached["loans_overdue"] != before_days, "the run wrote nothing before it died"
    assert result.outcome == "failed" and "进程被终止" in (result.error or "")
    assert snapshot(db) == before
    assert db.session.scalar(select(func.count()).select_from(JobRun)) == runs_before + 1
    record = db.session.get(JobRun, result.run_id)
    assert record.outcome == "failed" and record.as_of == next_day
    assert "进程被终止" in record.error and record.finished_at is not None

    monkeypatch.undo()
    again = run_daily(next_day)  # nothing left behind blocks the next run
    assert again.ok, again.describe()
    db.session.expire_all()
    assert snapshot(db) != before
