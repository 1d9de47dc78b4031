"""Progress of a daily-job run by step, visible to 任务运行记录 while the run is going.

The run writes in one transaction, and on SQLite that transaction holds the database's only
write lock: progress then goes to a small JSON file beside the database (the scheduler and
the web share the host with an SQLite file). On PostgreSQL it goes to job_run.progress
through a connection of its own. When the run ends, the final progress is stored in job_run
with the outcome and the file is removed."""
from __future__ import annotations

import json
import os

from sqlalchemy import update
from sqlalchemy.engine import Engine

from models.clock import utc_now
from models.warning import JobRun

STEP_LABELS = {
    "jobs.steps.advances": "预收款到期冲抵",
    "jobs.steps.positions": "贷款状态、逾期天数与建议分类",
    "jobs.steps.proposals": "五级分类系统提案",
    "jobs.steps.warnings": "预警",
    "jobs.steps.snapshot": "月末快照",
    "jobs.steps.summary": "首页资产概况汇总",
    "jobs.steps.retention": "个人信息保留期满匿名化",
}


def step_label(step) -> str:
    return STEP_LABELS.get(getattr(step, "__module__", ""), getattr(step, "__name__", "步骤"))


def progress_file(engine: Engine, run_id: int) -> str | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return f"{database}.job-{run_id}.progress"


def _payload(label: str, done: int, total: int) -> str:
    return json.dumps({"step": label, "done": done, "total": total,
                       "at": utc_now().isoformat(timespec="seconds")}, ensure_ascii=False)


def report(engine: Engine, run_id: int, label: str, done: int, total: int) -> None:
    """Step `done + 1` of `total`, called `label`, is starting (done == total: finished)."""
    payload = _payload(label, done, total)
    if engine.dialect.name == "sqlite":
        path = progress_file(engine, run_id)
        if path is not None:
            tmp = path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(payload)
            os.replace(tmp, path)
    else:
        with engine.begin() as conn:
            conn.execute(update(JobRun.__table__).where(JobRun.__table__.c.id == run_id).values(progress=payload))


def finish(engine: Engine, run_id: int) -> dict | None:
    """Remove the run's progress file; returns its last content (None on PostgreSQL, where
    the column already holds it)."""
    path = progress_file(engine, run_id)
    if not path or not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            return json.loads(fh.read())
    except (OSError, ValueError):
        return None
    finally:
        os.remove(path)


def read(engine: Engine, run) -> dict | None:
    """The latest progress of `run` (a JobRun), from the file while an SQLite run is going."""
    path = progress_file(engine, run.id)
    if path and os.path.exists(path):
        try:
            with open(path, encoding="utf-8") as fh:
                return json.loads(fh.read())
        except (OSError, ValueError):
            return None
    try:
        return json.loads(run.progress) if run.progress else None
    except ValueError:
        return None


def describe(data: dict | None) -> str:
    if not data:
        return ""
    if data.get("done", 0) >= data.get("total", 0):
        return f"全部 {data['total']} 步完成"
    return f"第 {data['done'] + 1}/{data['total']} 步:{data['step']}"
