"""预收款 applied on the due date (the day-end batch deduction), before positions: each open
loan's stored advance (loan.advance_balance, 预收余额) pays its installments that fell due on
or before the job's date and are unpaid, in due-date order, interest then principal per
period, until used — models.ledger's rule (`_Replay.apply_advance`) in set-based SQL.

One pass with window functions: per loan, the unpaid interest + principal of the earlier
due installments (a running sum) says what of the advance is left for each installment; the
installment takes interest first, then principal. The installments' paid columns and
paid_off_date (its due date when it is now paid in full), the loan's outstanding principal
and advance are then written. No penalty basis moves: an advance pays on the due date, so
the unpaid rest bears penalty from the due date as any unpaid installment does.
tests/test_ledger_job.py proves the job equal to the replay, on SQLite and PostgreSQL."""
from __future__ import annotations

from .sql import OPEN_STATUSES_SQL


def run(ctx) -> None:
    ctx.stats["advances_applied"] = apply_advances(ctx)


def apply_advances(ctx) -> int:
    sql = ctx.sql
    sql.drop_temp(ctx.conn, "job_advance_inst", "job_advance_loan")
    ctx.execute("""
        CREATE TEMP TABLE job_advance_inst (
            installment_id INTEGER PRIMARY KEY, loan_id INTEGER NOT NULL, due_date DATE NOT NULL,
            to_interest NUMERIC(18, 2) NOT NULL, to_principal NUMERIC(18, 2) NOT NULL,
            paid_off INTEGER NOT NULL)""")
    as_of = sql.date_param("as_of")
    # left: the advance less what earlier due installments of the loan need (SQLite keeps
    # money as binary floats: every figure is rounded to the cent where it is formed)
    ctx.execute(f"""
        INSERT INTO job_advance_inst (installment_id, loan_id, due_date, to_interest, to_principal, paid_off)
        SELECT w.id, w.loan_id, w.due_date, w.to_interest, w.to_principal,
               CASE WHEN w.to_interest = w.need_interest AND w.to_principal = w.need_principal THEN 1 ELSE 0 END
        FROM (
            SELECT v.*,
                   ROUND({sql.least("v.need_interest", sql.greatest("v.left_before", "0"))}, 2) AS to_interest,
                   ROUND({sql.least("v.need_principal", sql.greatest("v.left_before - v.need_interest", "0"))}, 2)
                       AS to_principal
            FROM (
                SELECT u.*, ROUND(u.advance - COALESCE(SUM(u.need_interest + u.need_principal) OVER (
                           PARTITION BY u.loan_id ORDER BY u.due_date, u.period
                           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0), 2) AS left_before
                FROM (
                    SELECT i.id, i.loan_id, i.due_date, i.period, l.advance_balance AS advance,
                           ROUND(i.interest_due - i.interest_paid, 2) AS need_interest,
                           ROUND(i.principal_due - i.principal_paid, 2) AS need_principal
                    FROM loan l
                    JOIN installment i ON i.loan_id = l.id
                    WHERE l.advance_balance > 0 AND l.status IN {OPEN_STATUSES_SQL}
                      AND i.paid_off_date IS NULL AND i.due_date <= {as_of}
                ) u
            ) v
        ) w
        WHERE w.to_interest > 0 OR w.to_principal > 0""")
    ctx.execute(f"""
        UPDATE installment
        SET interest_paid = ROUND(installment.interest_paid + t.to_interest, 2),
            principal_paid = ROUND(installment.principal_paid + t.to_principal, 2),
            paid_off_date = CASE WHEN t.paid_off = 1 THEN t.due_date ELSE installment.paid_off_date END
        FROM job_advance_inst t
        WHERE installment.id = t.installment_id
          -- the IN makes SQLite walk the few ids instead of scanning 14,000,000 periods
          AND installment.id IN (SELECT installment_id FROM job_advance_inst)""")
    ctx.execute("""
        CREATE TEMP TABLE job_advance_loan (
            loan_id INTEGER PRIMARY KEY, used NUMERIC(18, 2) NOT NULL, principal NUMERIC(18, 2) NOT NULL)""")
    ctx.execute("""
        INSERT INTO job_advance_loan (loan_id, used, principal)
        SELECT loan_id, ROUND(SUM(to_interest + to_principal), 2), ROUND(SUM(to_principal), 2)
        FROM job_advance_inst GROUP BY loan_id""")
    updated = ctx.execute("""
        UPDATE loan
        SET advance_balance = ROUND(loan.advance_balance - t.used, 2),
            outstanding_principal = ROUND(loan.outstanding_principal - t.principal, 2)
        FROM job_advance_loan t
        WHERE loan.id = t.loan_id AND loan.id IN (SELECT loan_id FROM job_advance_loan)""").rowcount or 0
    sql.drop_temp(ctx.conn, "job_advance_inst", "job_advance_loan")
    return max(updated, 0)
