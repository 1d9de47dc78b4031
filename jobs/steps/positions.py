"""Loan positions for the as-of date, for open loans only (还款中 / 已展期 / 逾期; settled and
written-off loans are never touched):

- job_overdue_inst: every unpaid installment past due, with its days overdue, unpaid
  principal and interest, and penalty interest owed — models.money.period_penalty less the
  penalty already paid on that period: the penalty crystallised by repayments
  (penalty_accrued, up to penalty_accrued_to) plus penalty_for on the unpaid principal
  for the days after max(grace days, crystallised days);
- loan.days_overdue (days since the oldest unpaid due date), overdue principal / interest /
  penalty, status (逾期 when overdue, else 已展期 if the loan was ever extended, else 还款中),
  suggested_class (models.classification thresholds) and next_inspection_date
  (last inspection, or the start date, + the product's inspection interval).

Only rows whose values change are written, so a second run for the same date writes none."""
from __future__ import annotations

from models.classification import ATTENTION, DOUBTFUL, LOSS, SUBSTANDARD, THRESHOLD_KEYS, Thresholds
from .sql import OPEN_STATUSES_SQL


def run(ctx) -> None:
    collect_overdue_installments(ctx)
    ctx.stats["loans_updated"] = update_loans(ctx)


def collect_overdue_installments(ctx) -> None:
    sql = ctx.sql
    sql.drop_temp(ctx.conn, "job_overdue_inst", "job_overdue_loan")
    # Keyed by installment id: later steps read it in that order, which is loan order, so
    # their loan lookups walk the loan table forwards (without the key: 2 s faster to fill,
    # 5 s slower to read at 1,000,000 loans).
    ctx.execute("""
        CREATE TEMP TABLE job_overdue_inst (
            installment_id INTEGER PRIMARY KEY, loan_id INTEGER NOT NULL, due_date DATE NOT NULL,
            days INTEGER NOT NULL, principal NUMERIC(18, 2) NOT NULL,
            interest NUMERIC(18, 2) NOT NULL, penalty NUMERIC(18, 2) NOT NULL)""")
    penalty = sql.penalty("s.principal", "s.rate", "s.markup", "s.grace", "s.days")
    owed = sql.greatest(f"s.penalty_accrued + {penalty} - s.penalty_paid", "0")
    ctx.execute(f"""
        INSERT INTO job_overdue_inst (installment_id, loan_id, due_date, days, principal, interest, penalty)
        SELECT s.id, s.loan_id, s.due_date, s.days, s.principal, s.interest,
               ROUND({owed}, 2)
        FROM (
            SELECT i.id, i.loan_id, i.due_date,
                   {sql.days_between(sql.date_param("as_of"), "i.due_date")} AS days,
                   ROUND(i.principal_due - i.principal_paid, 2) AS principal,
                   ROUND(i.interest_due - i.interest_paid, 2) AS interest,
                   i.penalty_paid, i.penalty_accrued, l.rate, p.penalty_markup AS markup,
                   CASE WHEN i.penalty_accrued_to IS NULL THEN p.grace_days
                        ELSE {sql.greatest("p.grace_days", sql.days_between("i.penalty_accrued_to", "i.due_date"))}
                   END AS grace
            FROM installment i
            JOIN loan l ON l.id = i.loan_id
            JOIN loan_product p ON p.id = l.product_id
            WHERE i.paid_off_date IS NULL AND i.due_date < {sql.date_param("as_of")}
              AND l.status IN {OPEN_STATUSES_SQL}
        ) s""")
    ctx.execute("""
        CREATE TEMP TABLE job_overdue_loan (
            loan_id INTEGER PRIMARY KEY, days INTEGER NOT NULL, principal NUMERIC(18, 2) NOT NULL,
            interest NUMERIC(18, 2) NOT NULL, penalty NUMERIC(18, 2) NOT NULL)""")
    ctx.execute("""
        INSERT INTO job_overdue_loan (loan_id, days, principal, interest, penalty)
        SELECT loan_id, MAX(days), ROUND(SUM(principal), 2), ROUND(SUM(interest), 2), ROUND(SUM(penalty), 2)
        FROM job_overdue_inst GROUP BY loan_id""")


def class_case(days: str, limits: Thresholds) -> str:
    """models.classification's rule as SQL: the worst class whose threshold is exceeded."""
    whens = " ".join(f"WHEN {days} > {int(over)} THEN {int(cls)}" for cls, over in limits.rules())
    return f"CASE {whens} ELSE 1 END"


DAILY_COLUMNS = ("days_overdue", "overdue_principal", "overdue_interest", "penalty_interest")
STATE_COLUMNS = ("status", "suggested_class", "next_inspection_date")


def update_loans(ctx) -> int:
    """Compare every open loan's new position with the stored one once (job_position holds
    the loans that differ), then write in two statements: loans whose state columns did not
    change get only the day-to-day figures — a write that rewrites one index entry (the
    overdue-days one, ix_loan_status_days) instead of every index holding status — the rest
    get every column."""
    sql = ctx.sql
    limits = Thresholds(*(ctx.params[THRESHOLD_KEYS[c]] for c in (ATTENTION, SUBSTANDARD, DOUBTFUL, LOSS)))
    next_inspection = sql.add_days("COALESCE(l.last_inspection_date, l.start_date)",
                                   "p.inspection_interval_days")
    columns = STATE_COLUMNS + DAILY_COLUMNS
    sql.drop_temp(ctx.conn, "job_position")
    ctx.execute("""
        CREATE TEMP TABLE job_position (
            loan_id INTEGER PRIMARY KEY, status VARCHAR(16) NOT NULL, days_overdue INTEGER NOT NULL,
            overdue_principal NUMERIC(18, 2) NOT NULL, overdue_interest NUMERIC(18, 2) NOT NULL,
            penalty_interest NUMERIC(18, 2) NOT NULL, suggested_class INTEGER NOT NULL,
            next_inspection_date DATE, state_changed INTEGER NOT NULL)""")
    state_changed = " OR ".join(f"l.{c} IS DISTINCT FROM t.{c}" for c in STATE_COLUMNS)
    ctx.execute(f"""
        INSERT INTO job_position (loan_id, {", ".join(columns)}, state_changed)
        SELECT t.loan_id, {", ".join("t." + c for c in columns)},
               CASE WHEN {state_changed} THEN 1 ELSE 0 END
        FROM (
            SELECT s.loan_id, s.status, s.days_overdue, s.overdue_principal, s.overdue_interest,
                   s.penalty_interest, {class_case("s.days_overdue", limits)} AS suggested_class,
                   s.next_inspection_date
            FROM (
                SELECT l.id AS loan_id,
                       CASE WHEN o.loan_id IS NOT NULL THEN 'overdue'
                            WHEN EXISTS (SELECT 1 FROM extension e WHERE e.loan_id = l.id) THEN 'extended'
                            ELSE 'active' END AS status,
                       COALESCE(o.days, 0) AS days_overdue,
                       COALESCE(o.principal, 0) AS overdue_principal,
                       COALESCE(o.interest, 0) AS overdue_interest,
                       COALESCE(o.penalty, 0) AS penalty_interest,
                       {next_inspection} AS next_inspection_date
                FROM loan l
                JOIN loan_product p ON p.id = l.product_id
                LEFT JOIN job_overdue_loan o ON o.loan_id = l.id
                WHERE l.status IN {OPEN_STATUSES_SQL}
            ) s
        ) t
        JOIN loan l ON l.id = t.loan_id
        WHERE {" OR ".join(f"l.{c} IS DISTINCT FROM t.{c}" for c in columns)}""")
    updated = 0
    for changed, written in ((0, DAILY_COLUMNS), (1, columns)):
        updated += max(ctx.execute(f"""
            UPDATE loan SET {", ".join(f"{c} = t.{c}" for c in written)}
            FROM job_position t
            WHERE loan.id = t.loan_id AND t.state_changed = {changed}""").rowcount or 0, 0)
    sql.drop_temp(ctx.conn, "job_position")
    return updated
