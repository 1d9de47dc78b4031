"""Month-end snapshot (月末快照) as set-based SQL: a handful of statements whatever the size
of the book, never a loop per loan. Two ways to fill one month-end D:

- live (`write_live`): the daily job on the last day of a month, after the positions step,
  copies each open loan's figures as the job has just computed them (class = the approved
  five_class, days overdue, remaining and overdue principal);
- rebuild (`write_rebuilt`): for a past month-end, each loan's position as of D from its
  dated records — remaining principal = principal − principal repaid on or before D;
  days overdue = D − the oldest due date still unpaid at D (an installment is unpaid at D
  when it was not paid off on or before D); overdue principal = remaining principal − the
  principal of installments not yet due at D (repayments go to the oldest period first);
  class = the last classification approved on or before D, or, for a loan with no approval
  on record by then, the class the rule (models.classification thresholds) gives for its
  days overdue at D; 已展期 when an extension was posted by D.

Both write every loan open at D plus the loans settled (结清) or written off (核销) after the
previous month-end and on or before D, with max_days_overdue: the most days overdue the loan
ever reached up to D (an installment paid off on day P was at most P − 1 − due date days
overdue). Replacing a month is DELETE + INSERT in the caller's transaction."""
from __future__ import annotations

import calendar
from datetime import date, timedelta

from sqlalchemy import text
from sqlalchemy.engine import Connection

from models.classification import ATTENTION, DOUBTFUL, LOSS, SUBSTANDARD, THRESHOLD_KEYS, Thresholds
from models.clock import utc_now
from models.snapshot import AGEING_BUCKETS
from .positions import class_case
from .sql import OPEN_STATUSES_SQL, Sql

COLUMNS = ("month_end", "loan_id", "product_id", "officer_id", "start_month", "principal", "status",
           "five_class", "suggested_class", "days_overdue", "bucket", "max_days_overdue",
           "outstanding_principal", "overdue_principal")


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def is_month_end(day: date) -> bool:
    return day == month_end(day)


def previous_month_end(day: date) -> date:
    return day.replace(day=1) - timedelta(days=1)


def last_month_ends(as_of: date, n: int) -> list[date]:
    """The n latest month-ends on or before as_of, oldest first."""
    ends, d = [], as_of if is_month_end(as_of) else previous_month_end(as_of)
    while len(ends) < n:
        ends.append(d)
        d = previous_month_end(d)
    return ends[::-1]


def bucket_case(days: str) -> str:
    whens = " ".join(f"WHEN {days} <= {high} THEN {code}" for code, _l, _lo, high in AGEING_BUCKETS
                     if high is not None)
    return f"CASE {whens} ELSE {AGEING_BUCKETS[-1][0]} END"


def limits_from(params: dict) -> Thresholds:
    return Thresholds(*(int(params[THRESHOLD_KEYS[c]]) for c in (ATTENTION, SUBSTANDARD, DOUBTFUL, LOSS)))


def _start_month(sql: Sql) -> str:
    return "substr(l.start_date, 1, 7)" if sql.is_sqlite else "to_char(l.start_date, 'YYYY-MM')"


def _least(sql: Sql, a: str, b: str) -> str:
    return f"MIN({a}, {b})" if sql.is_sqlite else f"LEAST({a}, {b})"


class _Run:
    def __init__(self, conn: Connection, sql: Sql, day: date):
        self.conn, self.sql, self.day = conn, sql, day
        self.params = {"d": sql.param(day), "prev": sql.param(previous_month_end(day)),
                       "d_next": sql.param(day + timedelta(days=1))}

    def __call__(self, statement: str):
        return self.conn.execute(text(statement), self.params)

    def p(self, name: str) -> str:
        return self.sql.date_param(name)


def _max_days(run: _Run) -> None:
    """snap_max_days: per loan, the most days overdue reached up to D (loans never late: absent)."""
    sql = run.sql
    sql.drop_temp(run.conn, "snap_max_days")
    run("CREATE TEMP TABLE snap_max_days (loan_id INTEGER PRIMARY KEY, days INTEGER NOT NULL)")
    until = _least(sql, f"COALESCE(i.paid_off_date, {run.p('d_next')})", run.p("d_next"))
    run(f"""INSERT INTO snap_max_days (loan_id, days)
            SELECT i.loan_id, MAX({sql.days_between(until, 'i.due_date')} - 1)
            FROM installment i
            WHERE i.due_date < {run.p('d')} AND (i.paid_off_date IS NULL OR i.paid_off_date > i.due_date)
            GROUP BY i.loan_id""")


def _closed_in_month(run: _Run) -> str:
    return (f"(l.status = 'settled' AND l.settled_date > {run.p('prev')} AND l.settled_date <= {run.p('d')})"
            f" OR (l.status = 'written_off' AND l.written_off_date > {run.p('prev')}"
            f" AND l.written_off_date <= {run.p('d')})")


def _replace(run: _Run, select_sql: str) -> int:
    run("DELETE FROM portfolio_snapshot WHERE month_end = " + run.p("d"))
    return run(f"INSERT INTO portfolio_snapshot ({', '.join(COLUMNS)}) {select_sql}").rowcount or 0


def write_live(conn: Connection, sql: Sql, day: date) -> int:
    """Month-end D from the loans' current figures (the daily job of D, after positions)."""
    run = _Run(conn, sql, day)
    _max_days(run)
    is_open = f"l.status IN {OPEN_STATUSES_SQL}"
    days = f"CASE WHEN {is_open} THEN l.days_overdue ELSE 0 END"
    n = _replace(run, f"""
        SELECT {run.p('d')}, l.id, l.product_id, l.officer_id, {_start_month(sql)}, l.principal, l.status,
               CASE WHEN l.status = 'written_off' THEN 5 ELSE l.five_class END, l.suggested_class,
               {days}, {bucket_case(days)}, {sql.greatest(days, 'COALESCE(m.days, 0)')},
               CASE WHEN l.status = 'settled' THEN 0 ELSE l.outstanding_principal END,
               CASE WHEN {is_open} THEN l.overdue_principal ELSE 0 END
        FROM loan l LEFT JOIN snap_max_days m ON m.loan_id = l.id
        WHERE {is_open} OR {_closed_in_month(run)}""")
    sql.drop_temp(conn, "snap_max_days")
    return n


def write_rebuilt(conn: Connection, sql: Sql, day: date, limits: Thresholds) -> int:
    """Month-end D (in the past) from each loan's dated records (see the module docstring)."""
    run = _Run(conn, sql, day)
    d = run.p("d")
    _max_days(run)
    sql.drop_temp(conn, "snap_paid", "snap_sched", "snap_class", "snap_pos")
    run("CREATE TEMP TABLE snap_paid (loan_id INTEGER PRIMARY KEY, principal NUMERIC(18, 2) NOT NULL)")
    run(f"""INSERT INTO snap_paid (loan_id, principal)
            SELECT r.loan_id, SUM(r.principal_part) FROM repayment r WHERE r.paid_on <= {d}
            GROUP BY r.loan_id""")
    run("""CREATE TEMP TABLE snap_sched (loan_id INTEGER PRIMARY KEY, oldest_unpaid DATE,
                                         not_due NUMERIC(18, 2) NOT NULL)""")
    run(f"""INSERT INTO snap_sched (loan_id, oldest_unpaid, not_due)
            SELECT i.loan_id,
                   MIN(CASE WHEN i.due_date < {d} AND (i.paid_off_date IS NULL OR i.paid_off_date > {d})
                            THEN i.due_date END),
                   SUM(CASE WHEN i.due_date >= {d} THEN i.principal_due ELSE 0 END)
            FROM installment i GROUP BY i.loan_id""")
    run("CREATE TEMP TABLE snap_class (loan_id INTEGER PRIMARY KEY, five_class INTEGER NOT NULL)")
    run(f"""INSERT INTO snap_class (loan_id, five_class)
            SELECT c.loan_id, c.to_class FROM classification_change c
            WHERE c.id IN (SELECT MAX(x.id) FROM classification_change x
                           WHERE x.review_status = 'approved' AND x.decided_at < {run.p('d_next')}
                           GROUP BY x.loan_id)""")
    is_open = (f"l.start_date <= {d} AND (l.settled_date IS NULL OR l.settled_date > {d})"
               f" AND (l.written_off_date IS NULL OR l.written_off_date > {d})")
    days = f"COALESCE({sql.days_between(d, 's.oldest_unpaid')}, 0)"
    balance = "ROUND(l.principal - COALESCE(p.principal, 0), 2)"
    run(f"""CREATE TEMP TABLE snap_pos (loan_id INTEGER PRIMARY KEY, status VARCHAR(16) NOT NULL,
                                        days INTEGER NOT NULL, balance NUMERIC(18, 2) NOT NULL,
                                        not_due NUMERIC(18, 2) NOT NULL, approved INTEGER)""")
    run(f"""INSERT INTO snap_pos (loan_id, status, days, balance, not_due, approved)
            SELECT l.id,
                   CASE WHEN {is_open} THEN
                        CASE WHEN {days} > 0 THEN 'overdue'
                             WHEN EXISTS (SELECT 1 FROM extension e WHERE e.loan_id = l.id
                                          AND e.created_at < {run.p('d_next')}) THEN 'extended'
                             ELSE 'active' END
                        ELSE l.status END,
                   CASE WHEN {is_open} THEN {days} ELSE 0 END,
                   CASE WHEN l.status = 'settled' AND NOT ({is_open}) THEN 0 ELSE {balance} END,
                   COALESCE(s.not_due, 0), c.five_class
            FROM loan l
            LEFT JOIN snap_paid p ON p.loan_id = l.id
            LEFT JOIN snap_sched s ON s.loan_id = l.id
            LEFT JOIN snap_class c ON c.loan_id = l.id
            WHERE ({is_open}) OR {_closed_in_month(run)}""")
    rule = class_case("t.days", limits)
    is_open_t = f"t.status IN {OPEN_STATUSES_SQL}"
    n = _replace(run, f"""
        SELECT {d}, l.id, l.product_id, l.officer_id, {_start_month(sql)}, l.principal, t.status,
               CASE WHEN t.status = 'written_off' THEN 5 ELSE COALESCE(t.approved, {rule}) END, {rule},
               t.days, {bucket_case('t.days')}, {sql.greatest('t.days', 'COALESCE(m.days, 0)')},
               {sql.greatest('t.balance', '0')},
               CASE WHEN {is_open_t} THEN {sql.greatest('ROUND(t.balance - t.not_due, 2)', '0')} ELSE 0 END
        FROM snap_pos t JOIN loan l ON l.id = t.loan_id
        LEFT JOIN snap_max_days m ON m.loan_id = t.loan_id""")
    sql.drop_temp(conn, "snap_max_days", "snap_paid", "snap_sched", "snap_class", "snap_pos")
    return n


def record_month(conn: Connection, sql: Sql, day: date, source: str, by: str | None, seconds: float) -> None:
    """The aggregates of month-end D and snapshot_month's row for it (the open loans and
    balance just written)."""
    write_aggregates(conn, sql, day)
    run = _Run(conn, sql, day)
    run.params.update(source=source, by=by, seconds=round(seconds, 2), at=utc_now())
    run("DELETE FROM snapshot_month WHERE month_end = " + run.p("d"))
    run(f"""INSERT INTO snapshot_month (month_end, source, loans, balance, written_at, written_by, seconds)
            SELECT {run.p('d')}, :source, COUNT(*), COALESCE(SUM(outstanding_principal), 0), :at, :by, :seconds
            FROM portfolio_snapshot
            WHERE month_end = {run.p('d')} AND status IN {OPEN_STATUSES_SQL}""")


def run(ctx) -> None:
    """Daily-job step: on the last day of a month, that month-end's snapshot (live)."""
    import time

    if not is_month_end(ctx.as_of):
        return
    started = time.perf_counter()
    ctx.stats["snapshot_rows"] = write_live(ctx.conn, ctx.sql, ctx.as_of)
    record_month(ctx.conn, ctx.sql, ctx.as_of, "job", "日终任务", time.perf_counter() - started)


# ---- aggregates of a month-end (read by the report screens) --------------------------------------
CLOSED_SQL = "('settled', 'written_off')"


def _cents(column) -> str:
    return f"CAST(SUM(ROUND({column} * 100)) AS BIGINT)"


def write_aggregates(conn: Connection, sql: Sql, day: date) -> None:
    """snapshot_summary and snapshot_cohort of month-end D from its rows, and the migration
    matrices between D and the held month-ends next to it (pairs with D are recomputed)."""
    run = _Run(conn, sql, day)
    d = run.p("d")
    if not sql.is_sqlite:
        # Month-end D's rows were just written in this transaction, before autovacuum saw
        # them: without statistics PostgreSQL planned the 迁徙 self-join below as a scan per
        # loan (seeding 1,000,000 loans: still running after 12 minutes). A sampled ANALYZE
        # of the table takes about a second and is allowed inside the transaction.
        run("ANALYZE portfolio_snapshot")
    run(f"DELETE FROM snapshot_summary WHERE month_end = {d}")
    run(f"""INSERT INTO snapshot_summary (month_end, status, five_class, bucket, product_id, officer_id,
                                          loans, balance_cents)
            SELECT month_end, status, five_class, bucket, product_id, officer_id, COUNT(*),
                   {_cents('outstanding_principal')}
            FROM portfolio_snapshot WHERE month_end = {d}
            GROUP BY month_end, status, five_class, bucket, product_id, officer_id""")
    run(f"DELETE FROM snapshot_cohort WHERE month_end = {d}")
    run(f"""INSERT INTO snapshot_cohort (month_end, start_month, closed, ever_level, loans, principal_cents)
            SELECT month_end, start_month, closed, ever_level, COUNT(*), {_cents('principal')}
            FROM (SELECT month_end, start_month, principal,
                         CASE WHEN status IN {CLOSED_SQL} THEN 1 ELSE 0 END AS closed,
                         CASE WHEN max_days_overdue > 90 THEN 2 WHEN max_days_overdue > 30 THEN 1 ELSE 0 END
                             AS ever_level
                  FROM portfolio_snapshot WHERE month_end = {d}) t
            GROUP BY month_end, start_month, closed, ever_level""")
    run(f"DELETE FROM snapshot_migration WHERE start_month_end = {d} OR end_month_end = {d}")
    held = [r[0] if isinstance(r[0], date) else date.fromisoformat(r[0]) for r in
            run(f"SELECT month_end FROM snapshot_month WHERE month_end <> {d}").all()]
    before, after = [m for m in held if m < day], [m for m in held if m > day]
    for start, end in ((max(before) if before else None, day), (day, min(after) if after else None)):
        if start and end:
            write_migration(conn, start, end)


def _snap(name: str):
    from models import PortfolioSnapshot

    return PortfolioSnapshot.__table__.alias(name)


def _cents_expr(column):
    from sqlalchemy import BigInteger, cast, func

    return cast(func.coalesce(func.sum(func.round(column * 100)), 0), BigInteger)


def migration_select(start: date, end: date):
    """The 迁徙 matrix as one SELECT (from_class, to_col, loans, start_cents, end_cents): loans
    open at `start` by their class then, against their class at `end` ('1'..'5'), or
    'settled' / 'written_off' when they closed in between (balance at the end 0); plus the
    loans open at `end` and not at `start` as from_class 0. The one definition: the cached
    matrices of consecutive month-ends and any other pair both come from it."""
    from sqlalchemy import String, and_, case, cast, func, literal, select, union_all

    from models import Loan
    from models.enums import OPEN_LOAN_STATUSES

    s, e, loan = _snap("s"), _snap("e"), Loan.__table__
    to_col = case(
        (e.c.status.in_(OPEN_LOAN_STATUSES), cast(e.c.five_class, String)),
        (e.c.status == "written_off", literal("written_off")),
        (and_(e.c.loan_id.is_(None), loan.c.status == "written_off", loan.c.written_off_date <= end),
         literal("written_off")),
        else_=literal("settled"))
    end_balance = case((e.c.status.in_(OPEN_LOAN_STATUSES), e.c.outstanding_principal), else_=literal(0))
    moved = (select(s.c.five_class.label("from_class"), to_col.label("to_col"), func.count().label("loans"),
                    _cents_expr(s.c.outstanding_principal).label("start_cents"),
                    _cents_expr(end_balance).label("end_cents"))
             .select_from(s.outerjoin(e, and_(e.c.loan_id == s.c.loan_id, e.c.month_end == end))
                          .join(loan, loan.c.id == s.c.loan_id))
             .where(s.c.month_end == start, s.c.status.in_(OPEN_LOAN_STATUSES))
             .group_by(s.c.five_class, to_col))

    e2, s2 = _snap("e2"), _snap("s2")
    new = (select(literal(0).label("from_class"), cast(e2.c.five_class, String).label("to_col"),
                  func.count().label("loans"), literal(0).label("start_cents"),
                  _cents_expr(e2.c.outstanding_principal).label("end_cents"))
           .select_from(e2.outerjoin(s2, and_(s2.c.loan_id == e2.c.loan_id, s2.c.month_end == start,
                                              s2.c.status.in_(OPEN_LOAN_STATUSES))))
           .where(e2.c.month_end == end, e2.c.status.in_(OPEN_LOAN_STATUSES), s2.c.loan_id.is_(None))
           .group_by(e2.c.five_class))
    return union_all(moved, new)


def write_migration(conn: Connection, start: date, end: date) -> None:
    from sqlalchemy import delete, insert, literal, select

    from models import SnapshotMigration

    table = SnapshotMigration.__table__
    conn.execute(delete(table).where(table.c.start_month_end == start, table.c.end_month_end == end))
    matrix = migration_select(start, end).subquery()
    conn.execute(insert(table).from_select(
        ["start_month_end", "end_month_end", "from_class", "to_col", "loans", "start_cents", "end_cents"],
        select(literal(start, table.c.start_month_end.type), literal(end, table.c.end_month_end.type),
               matrix.c.from_class, matrix.c.to_col, matrix.c.loans, matrix.c.start_cents, matrix.c.end_cents)))
