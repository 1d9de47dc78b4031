"""What the job's SQL needs from each database, in one place: date arithmetic, the
penalty-interest expression and null-safe comparison. Every step writes plain SQL with
these snippets, so the same statements run on SQLite and PostgreSQL."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.engine import Connection

from models.money import penalty_for

OPEN_STATUSES_SQL = "('active', 'extended', 'overdue')"


def _sqlite_penalty(principal, rate, markup, grace_days, days_overdue):
    # SQLite stores money as binary floats; the exact Decimal rule of models.money keeps the
    # cent rounding identical to Python's (a float expression would not be). str() first:
    # Decimal(0.1) is not 0.1.
    if principal is None or rate is None:
        return 0.0
    return float(penalty_for(Decimal(str(principal)), Decimal(str(rate)), Decimal(str(markup or 0)),
                             int(days_overdue), int(grace_days or 0)))


@dataclass(frozen=True)
class Sql:
    """Dialect snippets for the connection the job runs on."""

    dialect: str

    @classmethod
    def for_connection(cls, conn: Connection) -> "Sql":
        sql = cls(conn.dialect.name)
        if sql.is_sqlite:
            conn.connection.driver_connection.create_function(
                "job_penalty", 5, _sqlite_penalty, deterministic=True)
        return sql

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def param(self, value: date) -> date | str:
        """A date bound to a statement (SQLite keeps dates as ISO text)."""
        return value.isoformat() if self.is_sqlite else value

    def date_param(self, name: str) -> str:
        return f":{name}" if self.is_sqlite else f"CAST(:{name} AS DATE)"

    def days_between(self, later: str, earlier: str) -> str:
        """Whole days from `earlier` to `later` (positive when later is after)."""
        if self.is_sqlite:
            return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"
        return f"({later} - {earlier})"

    def add_days(self, day: str, days: str) -> str:
        if self.is_sqlite:
            return f"date({day}, ({days}) || ' days')"
        return f"({day} + ({days}))"

    def greatest(self, a: str, b: str) -> str:
        return f"MAX({a}, {b})" if self.is_sqlite else f"GREATEST({a}, {b})"

    def penalty(self, principal: str, rate: str, markup: str, grace: str, days: str) -> str:
        """models.money.penalty_for as a SQL expression: principal × rate × (100 + markup) ×
        (days − grace) / 3,600,000 rounded to the cent once days exceed grace, else 0."""
        if self.is_sqlite:
            return f"job_penalty({principal}, {rate}, {markup}, {grace}, {days})"
        return (f"CASE WHEN ({days}) > ({grace}) THEN ROUND(({principal}) * ({rate}) * (100 + ({markup}))"
                f" * (({days}) - ({grace})) / 3600000, 2) ELSE 0 END")

    def key(self, prefix: str, id_col: str, date_col: str) -> str:
        """A subject key such as 'inst:123:2024-05-01' (the date makes a renewed or
        rescheduled subject a new warning)."""
        return f"'{prefix}:' || CAST({id_col} AS VARCHAR) || ':' || CAST({date_col} AS VARCHAR)"

    def drop_temp(self, conn: Connection, *names: str) -> None:
        for name in names:
            conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
