"""The six warning kinds of SPEC §4 for the as-of date, refreshed in place.

Rules (lead days are admin parameters, admin_app.settings "lead_days.<kind>"):
- credit_expiry     授信到期: credit lines expiring within the lead days, or expired;
- mortgage_expiry   抵押到期 / pledge_expiry 质押到期: collateral of that kind expiring within
                    the lead days, or expired, while its loan is open;
- inspection_due    贷后检查: open loans whose next inspection is due within the lead days or past;
- repayment_overdue 还款逾期: installments past due and unpaid (days overdue, overdue principal,
                    interest and penalty interest, from positions' job_overdue_inst);
- repayment_due     还款到期: unpaid installments of open loans due from today to the lead days,
                    for what the loan's 预收余额 does not cover (none when it covers all).

`days` is days overdue (> 0) or, when <= 0, minus the days left. Level: 高 (3) when overdue
or expired; 中 (2) when due today or within a third of the lead days; 低 (1) otherwise.

Refresh, inside the job's one transaction (readers see the old set or the new one): the new
rows are built in a temp table; the current rows (is_current, those of the previous run) are
brought to them — a still-current row of an earlier date is moved forward to this date in
place (same id, handling state and notes; only as_of, days, amounts and level change, none of
them indexed), a row no longer warned about stays behind as history (is_current false), new
subjects are inserted. A new row takes its handling state, note, handler and time from the
newest earlier handled row of the same (kind, subject_key). A rerun for the same date updates
changed rows in place, deletes rows no longer warned about and writes nothing when nothing
changed. History rows: unhandled ones are pruned after KEEP_DAYS, handled ones kept.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from models.enums import WARNING_KINDS
from .sql import OPEN_STATUSES_SQL, Sql

KEEP_DAYS = 31

CONTENT_COLUMNS = (
    "loan_id", "customer_id", "collateral_id", "credit_line_id", "installment_id",
    "customer_name", "loan_no", "phone", "contact_person", "due_date", "days", "amount",
    "overdue_principal", "overdue_interest", "penalty_interest", "level",
)
HANDLING_COLUMNS = ("handling_state", "note", "handled_by_id", "handled_at")
# What changes from one day to the next for the same subject, and what does not.
DAILY_COLUMNS = ("days", "amount", "overdue_principal", "overdue_interest", "penalty_interest", "level")
STABLE_COLUMNS = tuple(c for c in CONTENT_COLUMNS if c not in DAILY_COLUMNS)


@dataclass(frozen=True)
class Rule:
    kind: str
    lead_key: str | None  # settings key of the lead days; None: past due only
    source: str           # FROM ... WHERE ..., may use :as_of and :horizon
    columns: dict         # warning column -> SQL expression (subject_key and days required)


def _loan_columns() -> dict:
    return {"loan_id": "l.id", "customer_id": "l.customer_id", "customer_name": "l.customer_name",
            "loan_no": "l.loan_no", "phone": "cu.phone", "contact_person": "cu.contact_person"}


def rules(sql: Sql) -> tuple[Rule, ...]:
    as_of = sql.date_param("as_of")
    horizon = sql.date_param("horizon")
    to_pay = _still_to_pay(sql)
    open_loan = f"JOIN loan l ON l.id = {{}} AND l.status IN {OPEN_STATUSES_SQL} " \
                f"JOIN customer cu ON cu.id = l.customer_id"

    def collateral(kind: str, code: str) -> Rule:
        return Rule(kind, f"lead_days.{kind}",
                    f"FROM collateral c {open_loan.format('c.loan_id')} "
                    f"WHERE c.kind = '{code}' AND c.expiry_date <= {horizon}",
                    {"subject_key": sql.key("coll", "c.id", "c.expiry_date"), **_loan_columns(),
                     "collateral_id": "c.id", "due_date": "c.expiry_date",
                     "days": sql.days_between(as_of, "c.expiry_date"), "amount": "c.value"})

    return (
        Rule("credit_expiry", "lead_days.credit_expiry",
             f"FROM credit_line c JOIN customer cu ON cu.id = c.customer_id "
             f"WHERE c.expiry_date <= {horizon}",
             {"subject_key": sql.key("credit", "c.id", "c.expiry_date"), "customer_id": "cu.id",
              "credit_line_id": "c.id", "customer_name": "cu.name", "phone": "cu.phone",
              "contact_person": "cu.contact_person", "due_date": "c.expiry_date",
              "days": sql.days_between(as_of, "c.expiry_date"), "amount": "c.amount"}),
        collateral("mortgage_expiry", "mortgage"),
        collateral("pledge_expiry", "pledge"),
        Rule("inspection_due", "lead_days.inspection_due",
             f"FROM loan l JOIN customer cu ON cu.id = l.customer_id "
             f"WHERE l.status IN {OPEN_STATUSES_SQL} AND l.next_inspection_date <= {horizon}",
             {"subject_key": sql.key("insp", "l.id", "l.next_inspection_date"), **_loan_columns(),
              "due_date": "l.next_inspection_date",
              "days": sql.days_between(as_of, "l.next_inspection_date"),
              "amount": "l.outstanding_principal"}),
        Rule("repayment_overdue", None,
             f"FROM job_overdue_inst o {open_loan.format('o.loan_id')}",
             {"subject_key": sql.key("inst", "o.installment_id", "o.due_date"), **_loan_columns(),
              "installment_id": "o.installment_id", "due_date": "o.due_date", "days": "o.days",
              "overdue_principal": "o.principal", "overdue_interest": "o.interest",
              "penalty_interest": "ROUND(o.penalty + o.compound, 2)",  # 罚息 and 复利
              "amount": "ROUND(o.principal + o.interest + o.penalty + o.compound, 2)"}),
        Rule("repayment_due", "lead_days.repayment_due",
             # From the unpaid periods due in the window (ix_installment_open), then their loans:
             # SQLite joins in the written order after CROSS JOIN (JOIN let it walk every open
             # loan's periods instead: 1,000,000 loans, 14,000,000 period lookups).
             f"FROM installment i CROSS JOIN loan l CROSS JOIN customer cu "
             f"WHERE i.paid_off_date IS NULL AND i.due_date >= {as_of} AND i.due_date <= {horizon} "
             f"AND l.id = i.loan_id AND l.status IN {OPEN_STATUSES_SQL} AND cu.id = l.customer_id "
             f"AND (l.advance_balance <= 0 OR {to_pay} > 0)",
             {"subject_key": sql.key("inst", "i.id", "i.due_date"), **_loan_columns(),
              "installment_id": "i.id", "due_date": "i.due_date",
              "days": sql.days_between(as_of, "i.due_date"), "amount": to_pay}),
    )


def _still_to_pay(sql: Sql) -> str:
    """What installment i still needs once the loan's 预收余额 has covered it (the advance
    pays the unpaid installments in due-date order on their due dates, jobs.steps.advances):
    an installment the advance covers is not warned about, one it covers in part is warned
    about for the rest."""
    need = "(i.principal_due - i.principal_paid + i.interest_due - i.interest_paid)"
    earlier = ("COALESCE((SELECT SUM(j.principal_due - j.principal_paid + j.interest_due - j.interest_paid) "
               "FROM installment j WHERE j.loan_id = i.loan_id AND j.paid_off_date IS NULL "
               "AND (j.due_date < i.due_date OR (j.due_date = i.due_date AND j.period < i.period))), 0)")
    covered = sql.least(need, sql.greatest(f"l.advance_balance - {earlier}", "0"))
    return f"ROUND(CASE WHEN l.advance_balance > 0 THEN {need} - {covered} ELSE {need} END, 2)"


LEVEL_SQL = "CASE WHEN s.days > 0 THEN 3 WHEN (0 - s.days) * 3 <= :lead THEN 2 ELSE 1 END"


def run(ctx) -> None:
    build_new_rows(ctx)
    collect_handling(ctx)
    ctx.stats.update(refresh(ctx))
    ctx.stats["pruned"] = prune(ctx)
    ctx.stats["rows"] = count_rows(ctx)
    ctx.sql.drop_temp(ctx.conn, "job_warning", "job_carry")
    if not ctx.sql.is_sqlite:
        # Every current row now carries a date the planner's statistics have never seen, and
        # the share of current rows per kind moved; with stale statistics PostgreSQL once
        # sorted a whole list for a page (200,000 loans: 还款逾期预警 first page 0.4 ms ->
        # 87 ms of SQL). Sampling costs well under a second. SQLite keeps no such statistics.
        ctx.execute("ANALYZE warning")


def build_new_rows(ctx) -> None:
    ctx.sql.drop_temp(ctx.conn, "job_warning")
    ctx.execute(f"""
        CREATE TEMP TABLE job_warning (
            kind VARCHAR(24) NOT NULL, subject_key VARCHAR(48) NOT NULL,
            loan_id INTEGER, customer_id INTEGER, collateral_id INTEGER, credit_line_id INTEGER,
            installment_id INTEGER, customer_name VARCHAR(128) NOT NULL, loan_no VARCHAR(32),
            phone VARCHAR(20), contact_person VARCHAR(64), due_date DATE, days INTEGER NOT NULL,
            amount NUMERIC(18, 2), overdue_principal NUMERIC(18, 2), overdue_interest NUMERIC(18, 2),
            penalty_interest NUMERIC(18, 2), level INTEGER NOT NULL,
            PRIMARY KEY (kind, subject_key)){ctx.sql.without_rowid}""")
    for rule in rules(ctx.sql):
        names = list(rule.columns)
        inner = ", ".join(f"{expr} AS {name}" for name, expr in rule.columns.items())
        ctx.execute(f"""
            INSERT INTO job_warning (kind, {", ".join(names)}, level)
            SELECT '{rule.kind}', {", ".join("s." + n for n in names)}, {LEVEL_SQL}
            FROM (SELECT {inner} {rule.source}) s""",
                    horizon=ctx.horizon(rule.lead_key) if rule.lead_key else ctx.sql.param(ctx.as_of),
                    lead=ctx.params[rule.lead_key] if rule.lead_key else 0)


def collect_handling(ctx) -> None:
    """job_carry: per (kind, subject_key), the newest handled row before the as-of date."""
    ctx.sql.drop_temp(ctx.conn, "job_carry")
    ctx.execute("""
        CREATE TEMP TABLE job_carry (
            kind VARCHAR(24) NOT NULL, subject_key VARCHAR(48) NOT NULL,
            handling_state VARCHAR(16) NOT NULL, note TEXT, handled_by_id INTEGER,
            handled_at TIMESTAMP, PRIMARY KEY (kind, subject_key))""")
    as_of = ctx.sql.date_param("as_of")
    ctx.execute(f"""
        INSERT INTO job_carry (kind, subject_key, {", ".join(HANDLING_COLUMNS)})
        SELECT w.kind, w.subject_key, {", ".join("w." + c for c in HANDLING_COLUMNS)}
        FROM warning w
        WHERE w.handling_state <> 'open' AND w.as_of < {as_of}
          AND NOT EXISTS (
              SELECT 1 FROM warning n
              WHERE n.handling_state <> 'open' AND n.kind = w.kind AND n.subject_key = w.subject_key
                AND n.as_of > w.as_of AND n.as_of < {as_of})""")


def current_dates(ctx) -> set[str]:
    """The as-of dates of the current rows, per kind from the list index (one row each)."""
    dates = set()
    for kind in WARNING_KINDS:
        day = ctx.execute(f"SELECT as_of FROM warning WHERE kind = :kind AND {ctx.sql.is_true('is_current')} "
                          f"LIMIT 1", kind=kind).scalar()
        if day is not None:
            dates.add(str(day))
    return dates


def refresh(ctx) -> dict:
    """Bring the current rows to job_warning: on a rerun for the same date, delete what is
    no longer warned about and update changed rows in place; rows of an earlier date are
    moved forward (same id and handling) or, no longer warned about or with changed
    descriptive columns (a renamed customer), left behind as history; then insert the rest,
    carrying handling from job_carry."""
    sql = ctx.sql
    as_of = sql.date_param("as_of")
    current = sql.is_true("warning.is_current")
    same_key = "warning.kind = t.kind AND warning.subject_key = t.subject_key"
    dates = current_dates(ctx)
    today = ctx.as_of.isoformat()
    removed = updated = moved = 0
    if today in dates:
        removed += ctx.execute(f"""
            DELETE FROM warning WHERE {current} AND warning.as_of = {as_of}
              AND NOT EXISTS (SELECT 1 FROM job_warning t WHERE {same_key})""").rowcount
        updated = ctx.execute(f"""
            UPDATE warning SET {", ".join(f"{c} = t.{c}" for c in CONTENT_COLUMNS)}
            FROM job_warning t
            WHERE {current} AND warning.as_of = {as_of} AND {same_key}
              AND ({" OR ".join(f"warning.{c} IS DISTINCT FROM t.{c}" for c in CONTENT_COLUMNS)})
        """).rowcount
    if dates - {today}:
        # Only as_of and the columns that change from day to day are set: no index holds
        # them, so a move rewrites the row alone.
        moved = ctx.execute(f"""
            UPDATE warning SET as_of = {as_of}, {", ".join(f"{c} = t.{c}" for c in DAILY_COLUMNS)}
            FROM job_warning t
            WHERE {current} AND warning.as_of <> {as_of} AND {same_key}
              AND {" AND ".join(f"warning.{c} IS NOT DISTINCT FROM t.{c}" for c in STABLE_COLUMNS)}
        """).rowcount
        # What was not moved is no longer warned about, or is warned about with changed
        # descriptive columns (inserted anew below): history either way.
        removed += ctx.execute(f"""
            UPDATE warning SET is_current = {sql.false}
            WHERE {current} AND warning.as_of <> {as_of}""").rowcount
    inserted = ctx.execute(f"""
        INSERT INTO warning (as_of, is_current, kind, subject_key, {", ".join(CONTENT_COLUMNS)},
                             {", ".join(HANDLING_COLUMNS)})
        SELECT {as_of}, {sql.true}, t.kind, t.subject_key, {", ".join("t." + c for c in CONTENT_COLUMNS)},
               COALESCE(c.handling_state, 'open'), c.note, c.handled_by_id, c.handled_at
        FROM job_warning t
        LEFT JOIN job_carry c ON c.kind = t.kind AND c.subject_key = t.subject_key
        WHERE NOT EXISTS (SELECT 1 FROM warning w WHERE {sql.is_true("w.is_current")}
                          AND w.kind = t.kind AND w.subject_key = t.subject_key)
        ORDER BY t.kind, t.subject_key""").rowcount
    return {"inserted": inserted, "moved": moved, "updated": updated, "removed": removed}


def prune(ctx) -> int:
    before = ctx.sql.param(ctx.as_of - timedelta(days=KEEP_DAYS))
    return ctx.execute(f"DELETE FROM warning WHERE {ctx.sql.is_false('is_current')} "
                       f"AND as_of < {ctx.sql.date_param('before')} AND handling_state = 'open'",
                       before=before).rowcount


def count_rows(ctx) -> dict[str, int]:
    rows = dict(ctx.execute(f"SELECT kind, COUNT(*) FROM warning WHERE {ctx.sql.is_true('is_current')} "
                            f"GROUP BY kind").all())
    return {kind: int(rows.get(kind, 0)) for kind in WARNING_KINDS}
