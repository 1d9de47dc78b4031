"""What the job's SQL needs from each database, in one place: date arithmetic, the
penalty-interest expression and null-safe comparison. Every step writes plain SQL with
these snippets, so the same statements run on SQLite and PostgreSQL."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import text
from sqlalchemy.engine import Connection

OPEN_STATUSES_SQL = "('active', 'extended', 'overdue')"
PENALTY_CENTS_DENOMINATOR = 10**12 * 3_600_000
BASIS_CENTS_DENOMINATOR = 36 * 10**17


def _sqlite_penalty(principal, rate, markup, grace_days, days_overdue):
    """models.money.penalty_for for SQLite, where money arrives as binary floats. Money has
    2 decimals and rates 6 (the column types), so scaling to integers is exact; the rule is
    then evaluated in exact integer arithmetic (and ~20x faster than Decimal, which matters
    at a million loans). tests/test_jobs.py checks it against penalty_for."""
    days = int(days_overdue) - int(grace_days or 0)
    if principal is None or rate is None or days <= 0 or principal <= 0:
        return 0.0
    cents = round(principal * 100)
    rate_micro = round(rate * 1_000_000)
    markup_micro = round((markup or 0) * 1_000_000)
    # cents × rate/1e6 × (100 + markup/1e6) × days / 3,600,000
    numerator = cents * rate_micro * (100_000_000 + markup_micro) * days
    quotient, remainder = divmod(numerator, PENALTY_CENTS_DENOMINATOR)
    if 2 * remainder >= PENALTY_CENTS_DENOMINATOR:
        quotient += 1  # half up
    return quotient / 100


def _sqlite_basis_penalty(basis, unpaid, rate_days, markup):
    """models.ledger's penalty for SQLite, exactly (money arrives as binary floats; each
    value is recovered exactly from its decimal places): (stored basis [yuan × % × days ×
    10^6] + unpaid × Σ rate(%)×10^6 over the days since) × (100 + markup) / 3,600,000,
    rounded half-up to the cent. In integers (cents, markup × 10^6; the markup column has 6
    decimals): cents = (basis × 100 + unpaid cents × rate_days) × (10^8 + markup × 10^6) /
    (3.6 × 10^18) — about 15x faster than Fraction, which mattered at 700,000 overdue
    periods a night. tests/test_ledger_job.py checks it against the engine."""
    total = int(basis or 0) * 100 + round((unpaid or 0) * 100) * int(rate_days or 0)
    if total <= 0:
        return 0.0
    quotient, remainder = divmod(total * (100_000_000 + round((markup or 0) * 1_000_000)),
                                 BASIS_CENTS_DENOMINATOR)
    if 2 * remainder >= BASIS_CENTS_DENOMINATOR:
        quotient += 1  # half up
    return quotient / 100


@dataclass(frozen=True)
class Sql:
    """Dialect snippets for the connection the job runs on."""

    dialect: str

    @classmethod
    def for_connection(cls, conn: Connection) -> "Sql":
        sql = cls(conn.dialect.name)
        if sql.is_sqlite:
            driver = conn.connection.driver_connection
            driver.create_function("job_penalty", 5, _sqlite_penalty, deterministic=True)
            driver.create_function("job_basis_penalty", 4, _sqlite_basis_penalty, deterministic=True)
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

    def basis_penalty(self, basis: str, unpaid: str, rate_days: str, markup: str) -> str:
        """models.ledger's penalty (or 复利) in yuan: the stored basis (units 10^-6) plus the
        unpaid amount × `rate_days` (Σ rate × 10^6 over the days since), × (100 + markup) /
        3,600,000, rounded half-up to the cent."""
        if self.is_sqlite:
            return f"job_basis_penalty({basis}, {unpaid}, {rate_days}, {markup})"
        return (f"ROUND((CAST({basis} AS NUMERIC) / 1000000 + ({unpaid}) * ({rate_days}) / 1000000)"
                f" * (100 + ({markup})) / 3600000, 2)")

    def least(self, a: str, b: str) -> str:
        return f"MIN({a}, {b})" if self.is_sqlite else f"LEAST({a}, {b})"

    @property
    def without_rowid(self) -> str:
        """A temp table looked up by its primary key alone is stored in that key's order."""
        return " WITHOUT ROWID" if self.is_sqlite else ""

    @property
    def true(self) -> str:
        return "1" if self.is_sqlite else "true"

    @property
    def false(self) -> str:
        return "0" if self.is_sqlite else "false"

    def is_true(self, column: str) -> str:
        """A boolean column is true, written as the partial indexes on it are (SQLite keeps
        booleans as 0/1; its planner uses a partial index only for the same term)."""
        return f"{column} = 1" if self.is_sqlite else column

    def is_false(self, column: str) -> str:
        return f"{column} = 0" if self.is_sqlite else f"NOT {column}"

    def key(self, prefix: str, id_col: str, date_col: str) -> str:
        """A subject key such as 'inst:123:2024-05-01' (the date makes a renewed or
        rescheduled subject a new warning)."""
        return f"'{prefix}:' || CAST({id_col} AS VARCHAR) || ':' || CAST({date_col} AS VARCHAR)"

    def drop_temp(self, conn: Connection, *names: str) -> None:
        for name in names:
            conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
