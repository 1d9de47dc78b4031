"""Month-end snapshots on demand: an admin (重算月末快照) or the CLI (`snapshot`) rebuilds a
past month-end from the loans' dated records; seeding writes the last 12 month-ends. The
SQL lives in jobs.steps.snapshot (the daily job writes the current month-end with it too).
One month is replaced in one transaction: readers see the old month or the new, never half."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.engine import Engine

from jobs.steps import read_params
from admin_app import clock
from jobs.steps.snapshot import (is_month_end, last_month_ends, limits_from, month_end, record_month,
                                 write_rebuilt)
from jobs.steps.sql import Sql
from services import BusinessError


def today() -> date:
    return clock.business_date()


@dataclass(frozen=True)
class SnapshotResult:
    month_end: date
    rows: int
    seconds: float

    def describe(self) -> str:
        return (f"{self.month_end:%Y-%m-%d} 月末快照已重算:写入 {self.rows:,} 笔贷款"
                f"(含当月结清、核销),用时 {self.seconds:.1f} 秒。")


def check_month_end(day: date, as_of: date | None = None) -> None:
    as_of = as_of or today()
    if not is_month_end(day):
        raise BusinessError(f"{day:%Y-%m-%d} 不是月末日期,请选择某月的最后一天")
    if day >= as_of:
        raise BusinessError(f"只能重算已经过去的月末(今天是 {as_of:%Y-%m-%d});当月月末的快照由当天的日终任务生成")


def rebuild(day: date, by: str | None = None, *, engine: Engine | None = None,
            as_of: date | None = None) -> SnapshotResult:
    """Rebuild month-end `day` (a past month-end) from history, replacing what was there."""
    check_month_end(day, as_of)
    if engine is None:
        from admin_app.extensions import db

        engine = db.engine
    started = time.perf_counter()
    with engine.connect() as conn:
        sql = Sql.for_connection(conn)
        if sql.is_sqlite:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            rows = write_rebuilt(conn, sql, day, limits_from(read_params(conn)))
            record_month(conn, sql, day, "rebuild", by, time.perf_counter() - started)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
    return SnapshotResult(day, rows, time.perf_counter() - started)


def rebuild_last(n: int, as_of: date, by: str | None = None, *, engine: Engine | None = None) -> list[SnapshotResult]:
    """The n latest month-ends before as_of (seeding: the demo book's last 12 months)."""
    ends = [d for d in last_month_ends(as_of, n + 1) if d < as_of][-n:]
    return [rebuild(d, by, engine=engine, as_of=as_of) for d in ends]


def months() -> list:
    """Month-ends held, newest first (SnapshotMonth rows)."""
    from admin_app.extensions import db
    from models import SnapshotMonth

    return list(db.session.execute(select(SnapshotMonth).order_by(SnapshotMonth.month_end.desc())).scalars())


__all__ = ["SnapshotResult", "rebuild", "rebuild_last", "months", "month_end", "check_month_end", "today"]
