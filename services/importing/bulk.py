"""The bulk path of 贷款 and 还款记录 imports (large migrations): the same checks and the same
stored figures as the per-row path (services.loans.open_loan, services.ledger.post_repayment
and sync), computed by the same functions, but written in batches of core INSERTs/UPDATEs
(executemany) instead of ORM objects and one flush per posting.

Loans: loan_values (open_loan's rules and schedule); unless 导入后立即刷新, the loan replayed as
of the business date (disbursement only) gives the stored schedule and position, as sync would.
Repayments, per loan: its entries plus the file's repayments in value-date order replayed once
(models.ledger.replay); a posting the engine cannot take is refused with post_repayment's
words; then repayments, entries, the schedule and the loan's figures are written.
tests/test_import_bulk.py imports the same files through both paths and compares every figure."""
from __future__ import annotations

from collections import defaultdict
from itertools import repeat

from sqlalchemy import bindparam, delete, func, insert, select, text, update

from admin_app.extensions import db
from models import ImportBalanceCheck, Installment, Loan, LoanEntry, Repayment
from models.ledger import Entry, replay
from services import BusinessError, ledger, limits, portfolio_summary
from services.loans import loan_values, schedule_values
from .engine import INTEGRITY, RowError, refuse_unit
from .lookups import chunked

def reserve_ids(table, count: int) -> list[int]:
    """`count` new primary keys of `table`, in order, for rows inserted with them (an INSERT
    ... RETURNING that must keep the rows' order goes row by row on SQLite). PostgreSQL draws
    them from the table's sequence; SQLite takes the next after the largest, which no one else
    can take meanwhile (the import's transaction holds SQLite's write lock)."""
    if count == 0:
        return []
    if db.session.get_bind().dialect.name == "postgresql":
        return list(db.session.execute(text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM "
                                            "generate_series(1, :n)"), {"t": table.name, "n": count}).scalars())
    top = db.session.scalar(select(func.max(table.c.id))) or 0
    return list(range(top + 1, top + 1 + count))


def insert_with_ids(table, rows: list[dict]) -> list[int]:
    ids = reserve_ids(table, len(rows))
    execute_many(insert(table), [{**row, "id": i} for row, i in zip(rows, ids)])
    return ids


def execute_many(stmt, rows: list[dict], size: int = 5000) -> None:
    """`stmt` executed once per row of `rows` (dicts with the same keys), as
    session.execute(stmt, rows) does it. On SQLite the statement is compiled once and the rows
    go to the driver's executemany as tuples, each value through its column type's bind
    processor (Decimal -> float, date -> text, as SQLAlchemy does): SQLAlchemy's own
    per-row parameter building was a third of the writing time of a 100,000-loan import.
    Columns left out get their declared default (a scalar, or a function called once per
    batch), literal values in the statement their value. PostgreSQL keeps SQLAlchemy's path
    (psycopg's batched executemany)."""
    if not rows:
        return
    session = db.session
    conn = session.connection()
    if conn.dialect.name != "sqlite" or conn.dialect.paramstyle != "qmark":
        for part in chunked(rows, size):
            session.execute(stmt, part)
        return
    keys = list(rows[0])
    compiled = stmt.compile(dialect=conn.dialect, column_keys=keys)
    processors = compiled._bind_processors
    prefetch = {c.key: c for c in list(compiled.insert_prefetch) + list(compiled.update_prefetch)}
    columns = []  # per placeholder: the row's key and its processor, or None and a fixed value
    for name in compiled.positiontup:
        proc = processors.get(name)
        if name in rows[0]:
            columns.append((name, proc))
            continue
        if name in prefetch:
            default = prefetch[name].default if name in {c.key for c in compiled.insert_prefetch} \
                else prefetch[name].onupdate
            if default is None or not (default.is_scalar or default.is_callable):
                raise ValueError(f"{name}: no default this path can compute")
            value = default.arg if default.is_scalar else default.arg(None)
        else:
            value = compiled.binds[name].effective_value
        columns.append((None, proc(value) if proc is not None else value))
    sql = compiled.string
    for part in chunked(rows, size):
        values = []  # column by column (a processor maps a whole column; None stays None)
        for key, proc in columns:
            if key is None:
                values.append(repeat(proc, len(part)))
            else:
                column = [row[key] for row in part]
                values.append(list(map(proc, column)) if proc is not None else column)
        params = list(zip(*values))
        conn.exec_driver_sql(sql, params)


def _user_id(ctx):
    return getattr(ctx.user, "id", None)



# ---- 贷款 ------------------------------------------------------------------------------

def write_loans(kind, units, ctx) -> list:
    """Loans of `units` (one row each) checked and written; returns the units left to the
    per-row path (none)."""
    from .kinds import (TOLERANCE, balance_problems, contract_for, pending_note, position_figures)

    seen_contracts = ctx.data.setdefault("bulk_contracts", set())
    loans, schedules, entries, checks = [], [], [], []
    for (row,) in units:
        v = row.values
        contract_no = v.get("contract_no") or contract_for(v["loan_no"])
        try:
            if contract_no in seen_contracts:
                raise RowError(INTEGRITY)
            values, schedule = loan_values(customer=v["customer"], product=v["product_obj"], principal=v["principal"],
                                           rate=v.get("rate"), term_months=v["term_months"],
                                           start_date=v["start_date"], officer=v["officer_obj"], loan_no=v["loan_no"],
                                           contract_no=contract_no, existing=True)
            maturity = values["maturity_date"]
            if v.get("maturity_date") and v["maturity_date"] != maturity:
                raise RowError(f"到期日 {v['maturity_date']:%Y-%m-%d} 与按期限计算的到期日 "
                               f"{maturity:%Y-%m-%d} 不一致", "到期日")
            if v.get("five_class"):
                values["five_class"] = v["five_class"]
            principal, rate = values["principal"], values["rate"]
            disbursement = dict(kind="disbursement", value_date=v["start_date"], amount=principal, rate=rate,
                                new_maturity=maturity, operator_id=values["officer_id"])
            book = None

            def replayed(as_of=ctx.as_of):
                nonlocal book
                if book is None:
                    terms = ledger.contract_terms(v["product_obj"], values["repayment_method"], principal, rate,
                                                  v["start_date"], maturity)
                    book = replay(terms, [Entry(0, "disbursement", v["start_date"], principal, rate, maturity)],
                                  as_of)
                return book

            expected, overdue = v.get("outstanding"), v.get("overdue_amount")
            if expected is not None and expected > principal + TOLERANCE:
                raise RowError(f"剩余本金 {expected:,.2f} 元大于贷款金额 {principal:,.2f} 元", "剩余本金")
            check, figures = None, {}

            def replayed_figures():
                if overdue is None:  # nothing repaid yet: the whole principal is outstanding
                    return {"outstanding": principal}
                if not figures:
                    figures.update(position_figures(replayed().position()))
                return figures

            if balance_problems(replayed_figures, expected, overdue):
                check = dict(outstanding_principal=expected, overdue_amount=overdue)
                row.note = pending_note(expected, overdue, replayed_figures())
            if ctx.refresh:
                installments = schedule_values(schedule)
            else:  # refresh_position: the replay as of the business date, stored
                b = replayed()
                installments = ledger.installment_values(b)
                values.update(ledger.position_values(b, v["start_date"], extended=False))
        except (RowError, BusinessError) as err:
            refuse_unit(kind, [row], err)
            continue
        seen_contracts.add(contract_no)
        loans.append(values)
        schedules.append(installments)
        entries.append(disbursement)
        checks.append(check)
    if not loans:
        return []
    ids = insert_with_ids(Loan.__table__, loans)
    portfolio_summary.add_loans(db.session.connection(), ids)  # 首页's summary counts them
    rows = []
    for loan_id, installments in zip(ids, schedules):
        rows += [{**i, "loan_id": loan_id} for i in installments]
    execute_many(insert(Installment.__table__), rows)
    execute_many(insert(LoanEntry.__table__), [{**e, "loan_id": loan_id} for loan_id, e in zip(ids, entries)])
    pending = [{**c, "loan_id": loan_id} for loan_id, c in zip(ids, checks) if c is not None]
    if pending:
        db.session.execute(insert(ImportBalanceCheck.__table__), pending)
    return []


# ---- 还款记录 --------------------------------------------------------------------------

def write_repayments(kind, units, ctx) -> list:
    """Repayments of `units` (each the rows of one loan, in value-date order) checked by one
    replay per loan and written; returns the units left to the per-row path (a written-off
    loan's money is a recovery: services.ledger.post_recovery)."""
    from .kinds import balance_problems, position_figures, repayment_refusal

    today = ledger.business_today()
    stored_on = today if ctx.refresh else ctx.as_of  # check_unit's refresh_position, or post_repayment's sync
    rest, done = [], []
    loans = [unit[0].values["loan"] for unit in units]
    ids = [loan.id for loan in loans]
    existing = defaultdict(list)
    counts = {}
    for part in chunked(ids):
        for row in db.session.execute(select(LoanEntry.loan_id, LoanEntry.id, LoanEntry.kind, LoanEntry.value_date,
                                             LoanEntry.amount, LoanEntry.rate, LoanEntry.new_maturity,
                                             LoanEntry.prepay_mode, LoanEntry.reverses_id)
                                      .where(LoanEntry.loan_id.in_(part)).order_by(LoanEntry.id)):
            existing[row.loan_id].append(ledger.as_entry(row))
        counts.update(db.session.execute(select(Installment.loan_id, func.count()).where(Installment.loan_id.in_(part))
                                         .group_by(Installment.loan_id)).all())
    seq = db.session.scalar(select(func.max(LoanEntry.id))) or 0
    for unit, loan in zip(units, loans):
        if loan.status == "written_off":
            rest.append(unit)
            continue
        current = None
        try:
            if loan.status not in ledger.OPEN:
                current = unit[0]
                raise BusinessError("贷款已结清,不能再登记还款")
            posted = []
            for r in unit:
                current = r
                v = r.values
                limits.check_money(v["amount"], "还款金额")
                if v["paid_on"] < loan.start_date:
                    raise BusinessError("还款日期不能早于贷款起始日")
                if v["paid_on"] > today:
                    raise BusinessError("还款日期不能晚于今天")
                seq += 1
                posted.append(Entry(seq, "repayment", v["paid_on"], v["amount"]))
            current = None
            entries = existing[loan.id] + posted
            terms = ledger.terms_of(loan, entries)
            b = replay(terms, entries, stored_on)
            refusal = _refusal(b, terms, existing[loan.id], posted)
            if refusal is not None:  # the row refused (None: an entry already on the loan)
                current = {e.seq: r for r, e in zip(unit, posted)}.get(refusal[0])
                raise BusinessError(refusal[1])
            check = ctx.checks.get(loan.id)
            if check is not None:
                figures = lambda: position_figures(  # noqa: E731
                    (b if stored_on == ctx.as_of else replay(terms, entries, ctx.as_of)).position())
                problems = balance_problems(figures, check.outstanding_principal, check.overdue_amount)
                if problems:
                    raise RowError(repayment_refusal(problems))
        except (RowError, BusinessError) as err:
            refuse_unit(kind, unit, err, current)
            continue
        done.append((unit, loan, b, posted, check, any(e.kind == "extension" for e in existing[loan.id])))
    if done:
        _write_repayments(done, counts, ctx)
    return rest


def _refusal(b, terms, before, posted) -> tuple[int, str] | None:
    """The first of `posted` the replay could not take, in post_repayment's words (or an
    earlier entry's excess, as sync refuses it)."""
    first = next((e for e in posted if b.parts[e.seq].excess > 0), None)
    if first is None:
        return ledger.excess_refusal(b, before + posted)
    earlier = before + [e for e in posted if e.seq < first.seq]
    if any(b.parts[e.seq].settled for e in posted if e.seq < first.seq) or any(
            b.parts.get(e.seq) is not None and b.parts[e.seq].settled for e in before):
        return first.seq, "贷款已结清,不能再登记还款"
    total = replay(terms, earlier, first.value_date).quote()["total"]
    if first.amount > total:
        return first.seq, (f"还款金额 {first.amount:,.2f} 元超过截至 {first.value_date:%Y-%m-%d} 的结清金额 "
                           f"{total:,.2f} 元,不予受理;结清请按 {total:,.2f} 元还款")
    return ledger.excess_refusal(b, before + posted)


def _write_repayments(done, counts, ctx) -> None:
    user_id = _user_id(ctx)
    repayments = []
    for unit, loan, b, posted, _check, _ext in done:
        for r, e in zip(unit, posted):
            parts = ledger.repayment_values(b.parts[e.seq])
            repayments.append(dict(loan_id=loan.id, paid_on=e.value_date, amount=e.amount, operator_id=user_id,
                                   kind="repayment", prepay_mode=None, serial_no=r.values.get("serial_no"), **parts))
            r.note = (f"冲抵罚息 {parts['penalty_part']:,.2f},利息 {parts['interest_part']:,.2f},"
                      f"本金 {parts['principal_part']:,.2f}")
    rep_ids = insert_with_ids(Repayment.__table__, repayments)
    entries, rep_iter = [], iter(rep_ids)
    for unit, loan, b, posted, _check, _ext in done:
        for e in posted:
            entries.append(dict(loan_id=loan.id, kind="repayment", value_date=e.value_date, amount=e.amount,
                                prepay_mode=None, repayment_id=next(rep_iter), operator_id=user_id))
    execute_many(insert(LoanEntry.__table__), entries)
    # the schedule: periods updated in place, added or removed as the replay has them
    inst = Installment.__table__
    updates, inserts, gone, loan_rows = [], [], [], []
    for unit, loan, b, posted, check, extended in done:
        have = counts.get(loan.id, 0)
        values = ledger.installment_values(b)
        for row in values:
            if row["period"] <= have:
                updates.append({**{f"v_{k}": val for k, val in row.items()}, "b_loan": loan.id})
            else:
                inserts.append({**row, "loan_id": loan.id})
        if have > len(values):
            gone.append((loan.id, len(values)))
        position = ledger.position_values(b, loan.start_date, extended=extended)
        loan_rows.append({**{f"v_{k}": val for k, val in position.items()}, "b_id": loan.id})
    if updates:
        keys = [k[2:] for k in updates[0] if k.startswith("v_") and k != "v_period"]
        stmt = (update(inst).where(inst.c.loan_id == bindparam("b_loan"), inst.c.period == bindparam("v_period"))
                .values({k: bindparam(f"v_{k}") for k in keys}))
        execute_many(stmt, updates)
    if inserts:
        execute_many(insert(inst), inserts)
    for loan_id, keep in gone:
        db.session.execute(delete(Installment).where(Installment.loan_id == loan_id, Installment.period > keep))
    loans = Loan.__table__
    by_keys = defaultdict(list)
    for row in loan_rows:  # one UPDATE statement per set of columns (settled loans carry more)
        by_keys[tuple(sorted(k for k in row if k.startswith("v_")))].append(row)
    db.session.flush()
    with portfolio_summary.moving(db.session.connection(), [row["b_id"] for row in loan_rows]):
        for keys, rows in by_keys.items():
            stmt = (update(loans).where(loans.c.id == bindparam("b_id"))
                    .values({**{k[2:]: bindparam(k) for k in keys}, "version": loans.c.version + 1}))
            execute_many(stmt, rows)
    checked = [loan.id for _u, loan, _b, _p, check, _e in done if check is not None]
    for part in chunked(checked):
        db.session.execute(delete(ImportBalanceCheck).where(ImportBalanceCheck.loan_id.in_(part)))
    for _u, loan, *_ in done:  # the loan objects are stale now: out of the session
        if loan in db.session:
            db.session.expunge(loan)

