"""The daily job (日终任务) for an as-of date: loan positions, states and suggested classes,
then the six warning kinds (jobs.steps). One run at a time (jobs.lock); every step runs in
one transaction, so a failed run leaves nothing behind; each run is recorded in job_run
(start, end, as-of date, rows per warning kind, outcome, error)."""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import insert, update
from sqlalchemy.engine import Engine

from admin_app.clock import business_date
from admin_app.database import CACHE_KIB
from models.enums import WARNING_KINDS
from models.warning import JobRun
from models.clock import utc_now
from . import progress
from .lock import JobAlreadyRunning, exclusive_run
from .steps import JobContext, read_params, steps
from .steps.sql import Sql

log = logging.getLogger(__name__)
JOB_NAME = "daily"
OUTCOMES = {"requested": "已请求,等待调度进程", "running": "运行中", "ok": "成功", "failed": "失败"}
CHANGE_KEYS = ("inserted", "moved", "updated", "removed", "pruned")


@dataclass
class RunResult:
    as_of: date
    outcome: str  # ok | failed | locked
    rows: dict[str, int] = field(default_factory=dict)  # warning rows per kind after the run
    loans_updated: int = 0
    class_proposals: int = 0  # system 五级分类 proposals opened (jobs.steps.proposals)
    changes: dict[str, int] = field(default_factory=dict)  # warning rows per CHANGE_KEYS
    seconds: float = 0.0
    error: str | None = None
    run_id: int | None = None
    anonymised: int = 0  # customers anonymised after retention (services.retention)

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def summary(self) -> dict:
        return {"rows": self.rows, "loans_updated": self.loans_updated,
                "class_proposals": self.class_proposals, **self.changes,
                "anonymised": self.anonymised, "seconds": round(self.seconds, 2)}

    def describe(self) -> str:
        day = self.as_of.isoformat()
        if self.outcome == "locked":
            return self.error or ""
        if self.outcome != "ok":
            return f"日终任务失败(业务日期 {day},用时 {self.seconds:.1f} 秒),已全部回滚:{self.error}"
        kinds = "、".join(f"{WARNING_KINDS[k]} {self.rows.get(k, 0):,} 条" for k in WARNING_KINDS)
        c = self.changes
        return (f"日终任务完成(业务日期 {day},用时 {self.seconds:.1f} 秒):"
                f"更新贷款 {self.loans_updated:,} 笔;系统提出五级分类调整 {self.class_proposals:,} 笔;预警 {kinds},共 {sum(self.rows.values()):,} 条"
                f"(新增 {c.get('inserted', 0):,}、延续 {c.get('moved', 0):,}、更新 {c.get('updated', 0):,}、"
                f"移除 {c.get('removed', 0):,},清理过期未处理记录 {c.get('pruned', 0):,})"
                + (f";个人信息保留期满匿名化客户 {self.anonymised:,} 名" if self.anonymised else "") + "。")


def run_daily(as_of: date | None = None, *, engine: Engine | None = None, request_id: int | None = None,
              on_step=None) -> RunResult:
    """Run the daily job for `as_of` (default today). Never raises for a failed run: the
    result says what happened. Callers must not hold uncommitted writes on SQLite.
    `request_id`: the job_run row of a 立即运行 request this run carries out. `on_step(label,
    done, total)` is told as each step starts (the CLI's progress bar)."""
    if engine is None:
        from admin_app.extensions import db

        engine = db.engine
    as_of = as_of or business_date()
    started = time.perf_counter()
    try:
        with exclusive_run(engine, JOB_NAME):
            return _run_locked(engine, as_of, started, request_id, on_step)
    except JobAlreadyRunning as exc:
        return RunResult(as_of, "locked", error=exc.message, seconds=time.perf_counter() - started)


def _run_locked(engine: Engine, as_of: date, started: float, request_id=None, on_step=None) -> RunResult:
    run_id = _record_start(engine, as_of, request_id)
    if run_id is None:
        return RunResult(as_of, "locked", error="该运行请求已由其他进程执行。")
    try:
        stats = _run_steps(engine, as_of, run_id, on_step)
    except Exception as exc:  # recorded and reported; the transaction is rolled back
        log.exception("daily job failed for %s", as_of)
        result = RunResult(as_of, "failed", error=f"{type(exc).__name__}: {exc}"[:2000])
    else:
        result = RunResult(as_of, "ok", rows=stats.get("rows", {}),
                           loans_updated=stats.get("loans_updated", 0),
                           class_proposals=stats.get("class_proposals", 0),
                           changes={k: stats.get(k, 0) for k in CHANGE_KEYS},
                           anonymised=stats.get("anonymised", 0))
    result.run_id = run_id
    result.seconds = time.perf_counter() - started
    _record_finish(engine, run_id, result)
    return result


JOB_CACHE_KIB = 1_000_000


def _run_steps(engine: Engine, as_of: date, run_id: int | None = None, on_step=None) -> dict:
    with engine.connect() as conn:
        sql = Sql.for_connection(conn)
        if sql.is_sqlite:
            # The job writes only ids it reads in the same transaction, so per-row foreign
            # key checks are pure cost at a million rows; they are back on for the pool.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            # A page cache that holds the loans, open installments and warnings the run
            # reads and rewrites (1,000,000 loans: about 1 GB), back to normal afterwards.
            conn.exec_driver_sql(f"PRAGMA cache_size=-{JOB_CACHE_KIB}")
            # Take the write lock up front: the run sees one state of the book throughout.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            ctx = JobContext(conn, sql, as_of, read_params(conn))
            all_steps = steps()
            for done, step in enumerate(all_steps):
                label = progress.step_label(step)
                if run_id is not None:
                    progress.report(engine, run_id, label, done, len(all_steps))
                if on_step is not None:
                    on_step(label, done, len(all_steps))
                step(ctx)
            if on_step is not None:
                on_step("完成", len(all_steps), len(all_steps))
            conn.commit()
            for action in ctx.after_commit:
                action()
        except BaseException:
            conn.rollback()
            raise
        finally:
            if sql.is_sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.exec_driver_sql(f"PRAGMA cache_size=-{CACHE_KIB}")
    return ctx.stats


def _record_start(engine: Engine, as_of: date, request_id: int | None = None) -> int | None:
    """The run's job_run id: a new row, or the request row it carries out (None if that
    request is no longer waiting)."""
    table = JobRun.__table__
    with engine.begin() as conn:
        # We hold the run lock, so a row still 'running' belongs to a process that died.
        conn.execute(update(table).where(table.c.job == JOB_NAME, table.c.outcome == "running")
                     .values(outcome="failed", finished_at=utc_now(), error="运行进程意外中断"))
        if request_id is not None:
            taken = conn.execute(update(table).where(table.c.id == request_id, table.c.outcome == "requested")
                                 .values(outcome="running", started_at=utc_now(), as_of=as_of))
            return request_id if taken.rowcount == 1 else None
        return conn.execute(insert(table).values(job=JOB_NAME, as_of=as_of, started_at=utc_now(),
                                                 outcome="running")).inserted_primary_key[0]


def _record_finish(engine: Engine, run_id: int, result: RunResult) -> None:
    table = JobRun.__table__
    last = progress.finish(engine, run_id)  # a failed run keeps the step it failed in
    total = len(steps())
    if result.ok:
        final = {"progress": json.dumps({"step": "完成", "done": total, "total": total}, ensure_ascii=False)}
    else:
        final = {"progress": json.dumps(last, ensure_ascii=False)} if last else {}
    with engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == run_id).values(
            finished_at=utc_now(), outcome=result.outcome, error=result.error,
            summary=json.dumps(result.summary(), ensure_ascii=False), **final))
