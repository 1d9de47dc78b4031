"""The steps of the daily job, in order. Each step is a function `run(ctx)` issuing a few
set-based statements on ctx.conn inside the job's one transaction, and recording what it
did in ctx.stats. Temp tables a step creates (prefixed job_) live until the transaction
ends; later steps may read them."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import text
from sqlalchemy.engine import Connection, CursorResult

from admin_app.settings import PARAMS_BY_KEY
from .sql import Sql

log = logging.getLogger("jobs.steps")


@dataclass
class JobContext:
    conn: Connection
    sql: Sql
    as_of: date
    params: dict[str, int]
    stats: dict = field(default_factory=dict)
    after_commit: list = field(default_factory=list)  # callables run once the run committed

    def execute(self, statement: str, **params) -> CursorResult:
        """Run one statement; `as_of` is always bound (as a date the database compares)."""
        params.setdefault("as_of", self.sql.param(self.as_of))
        started = time.perf_counter()
        result = self.conn.execute(text(statement), params)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%.2fs %s rows %s", time.perf_counter() - started, " ".join(statement.split())[:90],
                      result.rowcount)
        return result

    def horizon(self, lead_key: str) -> date | str:
        """The last due date a warning with lead days `lead_key` looks ahead to."""
        return self.sql.param(self.as_of + timedelta(days=self.params[lead_key]))


def read_params(conn: Connection) -> dict[str, int]:
    """Integer parameters (lead days, class thresholds) as stored, else their defaults —
    read on the job's own connection, so the whole run sees one set of values."""
    stored = dict(conn.execute(text("SELECT key, value FROM setting")).all())
    return {key: int(stored.get(key, p.default)) for key, p in PARAMS_BY_KEY.items() if p.kind == "int"}


def steps():
    from . import advances, positions, proposals, retention, snapshot, summary, warnings

    return (advances.run, positions.run, proposals.run, warnings.run, snapshot.run, retention.run, summary.run)
