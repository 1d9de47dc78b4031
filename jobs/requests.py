"""立即运行 without a web worker running the job: the page records a request (a job_run row
'requested'); the scheduler process (`flask --app wsgi scheduler`, or the development
server's background scheduler) looks for requests every few seconds and carries them out.
The scheduler process holds the 'scheduler' lock of jobs.lock for its whole life, so the
page can tell whether one is running."""
from __future__ import annotations

from contextlib import ExitStack
from datetime import date

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from models.clock import utc_now
from models.warning import JobRun
from .daily import JOB_NAME, RunResult, run_daily
from .lock import JobAlreadyRunning, exclusive_run

POLL_SECONDS = 2
PRESENCE = "scheduler"


def request_run(engine: Engine, as_of: date, user_id: int | None) -> tuple[int, bool]:
    """Record a request for a run of `as_of`; (job_run id, whether it is new). A request
    still waiting is not doubled."""
    table = JobRun.__table__
    with engine.begin() as conn:
        waiting = conn.execute(select(table.c.id).where(table.c.job == JOB_NAME, table.c.outcome == "requested")
                               .order_by(table.c.id).limit(1)).scalar()
        if waiting is not None:
            return waiting, False
        now = utc_now()
        run_id = conn.execute(insert(table).values(job=JOB_NAME, as_of=as_of, started_at=now, requested_at=now,
                                                   requested_by_id=user_id, outcome="requested")
                              ).inserted_primary_key[0]
        return run_id, True


def carry_out_requests(engine: Engine) -> list[RunResult]:
    """Run every waiting request, oldest first (the scheduler's poll)."""
    table = JobRun.__table__
    results = []
    while True:
        with engine.connect() as conn:
            row = conn.execute(select(table.c.id, table.c.as_of).where(
                table.c.job == JOB_NAME, table.c.outcome == "requested").order_by(table.c.id).limit(1)).first()
        if row is None:
            return results
        result = run_daily(row.as_of, engine=engine, request_id=row.id)
        results.append(result)
        if result.outcome == "locked":  # another run holds the lock: try again at the next poll
            return results


def scheduler_running(engine: Engine) -> bool:
    """Whether a scheduler process holds its presence lock now."""
    try:
        with exclusive_run(engine, PRESENCE):
            return False
    except JobAlreadyRunning:
        return True


class Presence:
    """Held by the scheduler process for its whole life (released if it dies)."""

    def __init__(self, engine: Engine):
        self._stack = ExitStack()
        self._stack.enter_context(exclusive_run(engine, PRESENCE))  # JobAlreadyRunning if another holds it

    def release(self) -> None:
        self._stack.close()
