"""Loan positions for the as-of date, for open loans only (还款中 / 已展期 / 逾期; settled and
written-off loans are never touched):

- job_overdue_inst: every unpaid installment past due, with its days overdue, unpaid
  principal and interest, penalty (罚息) and 复利 owed — models.ledger's rule in SQL: the
  basis the ledger stored (up to penalty_accrued_to, the last payment to the period) plus
  the unpaid amount × Σ rate in force each day since (the loan's latest rate less each
  later-effective rate change's step), × (100 + markup) / 3,600,000, rounded to the cent,
  less what was paid; nothing while within the grace days (grace mode from_due); 复利 only
  where the product charges it. tests/test_ledger_job.py proves it equal to the engine;
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
            interest NUMERIC(18, 2) NOT NULL, penalty NUMERIC(18, 2) NOT NULL,
            compound NUMERIC(18, 2) NOT NULL)""")
    as_of = sql.date_param("as_of")
    # Σ rate(t)×10^6 over [a, as_of): the loan's latest rate, less each later-effective
    # change's step for the days before it took effect (models.ledger's rate in force that day).
    steps = (f"SELECT SUM(ROUND((rc.new_rate - rc.old_rate) * 1000000) * "
             f"{sql.days_between(sql.least('rc.effective_date', as_of), 't.a')}) "
             f"FROM rate_change rc WHERE rc.loan_id = t.loan_id AND rc.effective_date > t.a")
    rate_days = (f"CASE WHEN {as_of} > t.a THEN ROUND(t.rate * 1000000) * {sql.days_between(as_of, 't.a')}"
                 f" - COALESCE(({steps}), 0) ELSE 0 END")
    penalty = sql.basis_penalty("s.penalty_basis", "s.principal", "s.rate_days", "s.markup")
    compound = sql.basis_penalty("s.compound_basis", "s.interest", "s.rate_days", "s.markup")
    within_grace = "(s.grace_mode = 'from_due' AND s.days <= s.grace)"
    # Accrual starts at the due date, or after the grace days where they are deducted
    # (models.ledger.Replay._accrual_start); a basis counted to an earlier date (a book carried
    # over from the previous release crystallised penalty on the due date) starts there too.
    start = (f"CASE WHEN p.grace_mode = 'deduct' THEN {sql.add_days('i.due_date', 'p.grace_days')} "
             f"ELSE i.due_date END")
    ctx.execute(f"""
        INSERT INTO job_overdue_inst (installment_id, loan_id, due_date, days, principal, interest, penalty, compound)
        -- MATERIALIZED: each period's accrual start and Σ rate are computed once, not once
        -- per reference (SQLite flattened the subquery into both penalty expressions)
        WITH s AS MATERIALIZED (
            SELECT t.*, {rate_days} AS rate_days FROM (
                SELECT i.id, i.loan_id, i.due_date,
                       {sql.days_between(as_of, "i.due_date")} AS days,
                       ROUND(i.principal_due - i.principal_paid, 2) AS principal,
                       ROUND(i.interest_due - i.interest_paid, 2) AS interest,
                       i.penalty_paid, i.compound_paid, i.penalty_basis, i.compound_basis, l.rate,
                       p.penalty_markup AS markup, p.grace_days AS grace, p.grace_mode,
                       p.compound_interest AS compound_on,
                       {sql.greatest("COALESCE(i.penalty_accrued_to, " + start + ")", start)} AS a
                -- the overdue periods from ix_installment_open, then their loans (SQLite keeps the
                -- CROSS JOIN order; with JOIN it walked every open loan's periods instead)
                FROM installment i CROSS JOIN loan l CROSS JOIN loan_product p
                WHERE i.paid_off_date IS NULL AND i.due_date < {as_of}
                  AND l.id = i.loan_id AND p.id = l.product_id AND l.status IN {OPEN_STATUSES_SQL}
            ) t
        )
        SELECT s.id, s.loan_id, s.due_date, s.days, s.principal, s.interest,
               CASE WHEN {within_grace} THEN 0 ELSE {sql.greatest(f"{penalty} - s.penalty_paid", "0")} END,
               CASE WHEN {within_grace} OR NOT (s.compound_on = {sql.true}) THEN 0
                    ELSE {sql.greatest(f"{compound} - s.compound_paid", "0")} END
        FROM s""")
    ctx.execute("""
        CREATE TEMP TABLE job_overdue_loan (
            loan_id INTEGER PRIMARY KEY, days INTEGER NOT NULL, principal NUMERIC(18, 2) NOT NULL,
            interest NUMERIC(18, 2) NOT NULL, penalty NUMERIC(18, 2) NOT NULL,
            compound NUMERIC(18, 2) NOT NULL)""")
    ctx.execute("""
        INSERT INTO job_overdue_loan (loan_id, days, principal, interest, penalty, compound)
        SELECT loan_id, MAX(days), ROUND(SUM(principal), 2), ROUND(SUM(interest), 2), ROUND(SUM(penalty), 2),
               ROUND(SUM(compound), 2)
        FROM job_overdue_inst GROUP BY loan_id""")


def class_case(days: str, limits: Thresholds) -> str:
    """models.classification's rule as SQL: the worst class whose threshold is exceeded."""
    whens = " ".join(f"WHEN {days} > {int(over)} THEN {int(cls)}" for cls, over in limits.rules())
    return f"CASE {whens} ELSE 1 END"


DAILY_COLUMNS = ("days_overdue", "overdue_principal", "overdue_interest", "penalty_interest",
                 "compound_interest")
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
            penalty_interest NUMERIC(18, 2) NOT NULL, compound_interest NUMERIC(18, 2) NOT NULL,
            suggested_class INTEGER NOT NULL,
            next_inspection_date DATE, state_changed INTEGER NOT NULL)""")
    state_changed = " OR ".join(f"l.{c} IS DISTINCT FROM t.{c}" for c in STATE_COLUMNS)
    ctx.execute(f"""
        INSERT INTO job_position (loan_id, {", ".join(columns)}, state_changed)
        SELECT t.loan_id, {", ".join("t." + c for c in columns)},
               CASE WHEN {state_changed} THEN 1 ELSE 0 END
        FROM (
            SELECT s.loan_id, s.status, s.days_overdue, s.overdue_principal, s.overdue_interest,
                   s.penalty_interest, s.compound_interest, {class_case("s.days_overdue", limits)} AS suggested_class,
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
                       COALESCE(o.compound, 0) AS compound_interest,
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
