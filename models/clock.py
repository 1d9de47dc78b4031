"""The storage convention for timestamps, declared once: naive UTC.

Python writes `utc_now()`; a row inserted by plain SQL gets the same from the column's server
default `UTC_NOW` (SQLite's CURRENT_TIMESTAMP is UTC; PostgreSQL's now() is converted from the
session's zone). What a person reads is converted to the configured zone by admin_app.clock."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Date, DateTime
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


def utc_now() -> datetime:
    """Now as stored: UTC without tzinfo, to the microsecond."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class utc_timestamp(FunctionElement):
    """The current time as naive UTC, in SQL (server defaults, set-based jobs)."""

    type = DateTime()
    inherit_cache = True


@compiles(utc_timestamp)
def _utc_timestamp_default(element, compiler, **kw):
    return "CURRENT_TIMESTAMP"


@compiles(utc_timestamp, "postgresql")
def _utc_timestamp_postgresql(element, compiler, **kw):
    return "timezone('utc', now())"


def UTC_NOW():
    return utc_timestamp()


class local_day(FunctionElement):
    """The date of a stored (UTC) timestamp column in `zone`, in SQL. SQLite knows no zones:
    it shifts by the zone's current offset (exact for zones without daylight saving, such as
    Asia/Shanghai)."""

    type = Date()
    inherit_cache = False

    def __init__(self, column, zone: str):
        self.zone = zone
        super().__init__(column)


@compiles(local_day)
def _local_day_sqlite(element, compiler, **kw):
    from zoneinfo import ZoneInfo

    offset = datetime.now(ZoneInfo(element.zone)).utcoffset()
    minutes = int(offset.total_seconds() // 60)
    return f"date({compiler.process(element.clauses, **kw)}, '{minutes:+d} minutes')"


@compiles(local_day, "postgresql")
def _local_day_postgresql(element, compiler, **kw):
    column = compiler.process(element.clauses, **kw)
    zone = element.zone.replace("'", "''")
    return f"CAST(timezone('{zone}', timezone('UTC', {column})) AS DATE)"
