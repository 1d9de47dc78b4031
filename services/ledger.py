"""The loan ledger service: money posted as dated, append-only entries (models.LoanEntry),
the loan replayed by the engine (models.ledger.replay) and its figures stored as of today.
Every screen, the settlement quote, the CLI and the seeder's proof read the same replay.

API (all functions flush, never commit: the caller owns the transaction; each raises
services.BusinessError with a Chinese message when a rule refuses):

    position(loan, as_of)                    -> dict   outstanding / overdue principal and
        interest, days overdue, penalty 罚息, 复利, accrued interest, status, rate
    settlement_quote(loan, on)               -> dict   提前结清试算: principal, interest,
        penalty, compound, fee, total (what settles the loan on `on`)
    book(loan, as_of)                        -> models.ledger.Book  (schedule + position)
    post_repayment(loan, amount, value_date, operator, *, prepay_mode=None, today=None)
                                             -> Repayment  (a back-dated value date replays;
        more than the payoff is refused naming it; on a written-off loan it is a recovery;
        beyond what is due: prepay_mode None / "advance" holds it as 预收款 applied on the
        due dates, "reduce" / "shorten" prepays principal)
    reverse_repayment(repayment, reason, operator, *, on=None)  -> LoanEntry  (冲正: appends a
        reversal entry, marks the repayment reversed_on, replays; call on final approval)
    write_off(loan, on, operator, *, note=None)  -> LoanEntry  (账销案存: cut at `on`, accrual
        stops, class 损失, status 已核销; the claim stays collectible)
    post_recovery(loan, amount, on, operator) -> Repayment (kind 'recovery', 核销后收回)
    post_fee(loan, amount, on, operator, note) -> LoanEntry
    record_disbursement / record_rate_change / record_extension: used by services.loans
    sync(loan, today=None)                   -> Book   replay and store the figures as of today
    rules()                                  -> models.ledger.RULES (the lines shown under forms)
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from admin_app.extensions import db
from admin_app import clock
from models import Installment, Loan, LoanEntry, Repayment
from models.classification import LOSS
from models.ledger import (ADVANCE, BASIS_SCALE, PREPAY_MODES, RULES, Book, Entry, Parts, Terms, penalty_of, replay)
from models.money import ZERO, ScheduleRow, add_months, money
from services import BusinessError

OPEN = ("active", "extended", "overdue")
# Two staff changing one loan at once: the loan's version check lets the first through.
CHANGED_MEANWHILE = "该贷款刚刚被他人修改,请核对最新的还款计划后重新办理。"


def _flush() -> None:
    """Write what a command changed; a loan another user changed meanwhile (its version
    moved on) refuses the command like any other rule."""
    try:
        db.session.flush()
    except StaleDataError as err:
        raise BusinessError(CHANGED_MEANWHILE) from err


def business_today() -> date:
    """The business date (admin_app.clock; tests pass `today` explicitly)."""
    return clock.business_date()


def rules() -> dict:
    return RULES


# ------------------------------------------------------------------------- reading

def _entry(row: LoanEntry) -> Entry:
    return Entry(row.id, row.kind, row.value_date,
                 Decimal(row.amount) if row.amount is not None else None,
                 Decimal(row.rate) if row.rate is not None else None,
                 row.new_maturity, row.prepay_mode, row.reverses_id)


as_entry = _entry  # a LoanEntry row (ORM object or selected columns) as the engine's Entry


_ENTRY = LoanEntry.__table__
_ENTRY_COLUMNS = tuple(_ENTRY.c[name] for name in ("id", "kind", "value_date", "amount", "rate", "new_maturity",
                                                    "prepay_mode", "reverses_id", "repayment_id"))


def entry_rows(loan: Loan) -> list:
    """The loan's entries in posting order as plain rows (the columns a replay needs, one
    read of ix_loan_entry_loan): every money command and 贷款详情 replays from them, so they
    are not built into ORM objects. Read on the session's connection, after a flush: the
    loan itself was read through the session (and its data scope)."""
    _flush()
    stmt = select(*_ENTRY_COLUMNS).where(_ENTRY.c.loan_id == loan.id).order_by(_ENTRY.c.id)
    return db.session.connection().execute(stmt).all()


def entries_of(loan: Loan, rows: list | None = None) -> list[Entry]:
    return [_entry(row) for row in (entry_rows(loan) if rows is None else rows)]


def terms_of(loan: Loan, entries: list[Entry] | None = None) -> Terms:
    entries = entries_of(loan) if entries is None else entries
    disbursement = next((e for e in entries if e.kind == "disbursement"), None)
    if disbursement is not None:
        principal, rate, start = disbursement.amount, disbursement.rate, disbursement.value_date
        maturity = disbursement.new_maturity or loan.maturity_date
    else:
        principal, rate, start, maturity = Decimal(loan.principal), Decimal(loan.rate), loan.start_date, loan.maturity_date
    return contract_terms(loan.product, loan.repayment_method, principal, rate, start, maturity)


def contract_terms(product, method: str, principal, rate, start: date, maturity: date) -> Terms:
    """The engine's terms of a contract (the product gives the money conventions)."""
    term = (maturity.year - start.year) * 12 + maturity.month - start.month
    if add_months(start, term) < maturity:
        term += 1
    return Terms(money(principal), Decimal(rate), start, max(term, 1), method,
                 Decimal(product.penalty_markup), int(product.grace_days),
                 getattr(product, "grace_mode", None) or "from_due",
                 bool(getattr(product, "compound_interest", True)),
                 getattr(product, "settle_interest", None) or "to_date",
                 Decimal(getattr(product, "prepay_fee_pct", None) or 0))


def book(loan: Loan, as_of: date, extra: list[Entry] = ()) -> Book:
    entries = entries_of(loan) + list(extra)
    return replay(terms_of(loan, entries), entries, as_of)


def position(loan: Loan, as_of: date | None = None) -> dict:
    return book(loan, as_of or business_today()).position()


def settlement_quote(loan: Loan, on: date | None = None, *, known: Book | None = None) -> dict:
    """提前结清试算 for `on`: principal, interest (overdue + accrued to `on`, or the whole
    current period by product), penalty, 复利, fee (违约金 + fees owed) and total.
    `known`: the loan's book already replayed by the caller (used when it is as of `on`)."""
    on = on or business_today()
    if on < loan.start_date:
        raise BusinessError("试算日期不能早于贷款起始日")
    b = known if known is not None and known.as_of == on else book(loan, on)
    if b.status in ("settled",):
        raise BusinessError("贷款已结清")
    return b.quote()


def schedule_rows(b: Book) -> list[ScheduleRow]:
    return [ScheduleRow(p.number, p.due, p.principal + p.prepaid, p.interest, p.recomputed) for p in b.periods]


# ------------------------------------------------------------------------- storing

def _basis_int(value: Decimal) -> int:
    return int((value * BASIS_SCALE).to_integral_value())


def sync(loan: Loan, today: date | None = None, *, refuse_excess: bool = True, rows: list | None = None,
         known: Book | None = None) -> Book:
    """Replay the loan and store its schedule, repayment allocations and figures as of
    `today` (default the business date). `rows` / `known`: the entries and their replay as of
    `today` when the caller has them already (post_repayment)."""
    today = today or business_today()
    rows = entry_rows(loan) if rows is None else rows
    b = known
    if b is None:
        entries = entries_of(loan, rows)
        b = replay(terms_of(loan, entries), entries, today)
    if refuse_excess and any(parts.excess > 0 for parts in b.parts.values()):
        _refuse_excess(b, entries_of(loan, rows))
    _store_installments(loan, b)
    _store_repayments(loan, b, rows)
    _store_position(loan, b, rows)
    _flush()
    return b


def _refuse_excess(b: Book, entries: list[Entry]) -> None:
    refusal = excess_refusal(b, entries)
    if refusal:
        raise BusinessError(refusal[1])


def excess_refusal(b: Book, entries: list[Entry]) -> tuple[int, str] | None:
    """(entry seq, Chinese reason) of the first posting nothing could take, or None."""
    by_seq = {e.seq: e for e in entries}
    for seq, parts in b.parts.items():
        if parts.excess > 0:
            e = by_seq[seq]
            quote = replay(b.terms, [x for x in entries if x.seq != seq], e.value_date).quote()
            return seq, (f"{e.value_date:%Y-%m-%d} 的还款 {e.amount:,.2f} 元超过当日结清金额 "
                         f"{quote['total']:,.2f} 元,不予受理(超出 {parts.excess:,.2f} 元)")
    return None


def installment_values(b: Book) -> list[dict]:
    """The stored schedule of a replay: one row of installment columns per period."""
    return [dict(period=p.number, due_date=p.due, principal_due=p.principal + p.prepaid, interest_due=p.interest,
                 principal_paid=p.paid_principal + p.prepaid, interest_paid=p.paid_interest,
                 penalty_paid=p.paid_penalty, compound_paid=p.paid_compound,
                 penalty_basis=_basis_int(p.penalty_basis), compound_basis=_basis_int(p.compound_basis),
                 penalty_accrued=penalty_of(p.penalty_basis, b.terms.markup), penalty_accrued_to=p.basis_to,
                 paid_off_date=p.cleared_on) for p in b.periods]


def repayment_values(parts) -> dict:
    """A repayment's stored allocation (penalty_part holds 罚息 + 复利 + 违约金)."""
    return dict(penalty_part=parts.penalty + parts.compound + parts.fee, compound_part=parts.compound,
                fee_part=parts.fee, interest_part=parts.interest, principal_part=parts.principal,
                advance_part=parts.advance)


def position_values(b: Book, start_date: date, extended: bool) -> dict:
    """The loan columns a replay stores (figures as of the replay's date, status, rate)."""
    pos = b.position()
    values = dict(outstanding_principal=pos["outstanding_principal"], overdue_principal=pos["overdue_principal"],
                  overdue_interest=pos["overdue_interest"], penalty_interest=pos["penalty"],
                  compound_interest=pos["compound"], days_overdue=pos["days_overdue"],
                  advance_balance=pos["advance"], rate=b.rates[-1][2])
    status = pos["status"]
    if status == "settled":
        values.update(status="settled", settled_date=b.settled_on, outstanding_principal=ZERO, days_overdue=0,
                      overdue_principal=ZERO, overdue_interest=ZERO, penalty_interest=ZERO, compound_interest=ZERO)
    elif status == "written_off":
        values.update(status="written_off", written_off_date=b.written_off_on)
    else:
        values.update(status="overdue" if status == "overdue" else ("extended" if extended else "active"),
                      settled_date=None)
        if b.maturity and b.maturity > start_date:
            values["maturity_date"] = b.maturity
    return values


def _cached(model, pk):
    """The session's object for `model` #pk if it holds one (then it is changed through
    the ORM, so what the session shows stays true), else None."""
    return db.session.identity_map.get(db.session.identity_key(model, pk))


def _store_installments(loan: Loan, b: Book) -> None:
    """Write the replayed schedule: stored rows read as plain columns, only changed ones
    written (one executemany)."""
    table = Installment.__table__
    conn = db.session.connection()
    stored = {row.period: row for row in conn.execute(select(table).where(table.c.loan_id == loan.id))}
    updates = []
    for values in installment_values(b):
        number = values.pop("period")
        row = stored.get(number)
        if row is None:
            db.session.add(Installment(loan_id=loan.id, period=number, **values))
            continue
        changed = {k: v for k, v in values.items() if getattr(row, k) != v}
        if not changed:
            continue
        obj = _cached(Installment, row.id)
        if obj is not None:
            for key, value in changed.items():
                setattr(obj, key, value)
        else:
            updates.append({"_id": row.id, **values})
    if updates:
        conn.execute(update(table).where(table.c.id == bindparam("_id"))
                     .values({k: bindparam(k) for k in updates[0] if k != "_id"}), updates)
    gone = [n for n in stored if n > len(b.periods)]
    if gone:
        # projection rows of periods a settlement or 缩短期限 removed
        _flush()
        db.session.execute(delete(Installment).where(Installment.loan_id == loan.id, Installment.period.in_(gone)))
        db.session.expire(loan, ["installments"])


def _store_repayments(loan: Loan, b: Book, rows: list) -> None:
    """Each live repayment's allocation as the replay made it. Stored ones are read as plain
    columns; a changed one is written through the ORM (repayments are in the audit log)."""
    entry_of = {r.repayment_id: r.id for r in rows
                if r.repayment_id is not None and r.kind in ("repayment", "recovery")}
    if not entry_of:
        return
    table = Repayment.__table__
    names = tuple(repayment_values(Parts()))
    stored = db.session.connection().execute(
        select(table.c.id, table.c.reversed_on, *(table.c[n] for n in names)).where(table.c.loan_id == loan.id)).all()
    for row in stored:
        parts = b.parts.get(entry_of.get(row.id))
        if parts is None or row.reversed_on is not None:
            continue
        values = repayment_values(parts)
        if all(getattr(row, k) == v for k, v in values.items()):
            continue
        rep = _cached(Repayment, row.id) or db.session.get(Repayment, row.id)
        for key, value in values.items():
            if getattr(rep, key) != value:
                setattr(rep, key, value)


def _store_position(loan: Loan, b: Book, rows: list) -> None:
    extended = b.status not in ("settled", "written_off") and any(r.kind == "extension" for r in rows)
    values = position_values(b, loan.start_date, extended)
    for key, value in values.items():
        if getattr(loan, key) != value:
            setattr(loan, key, value)
    # Always write the loan row, so its version check serialises every money command on one
    # loan (of two at once the second is refused, even when no loan figure changed).
    loan.outstanding_principal  # loaded, so it can be flagged
    flag_modified(loan, "outstanding_principal")


# ------------------------------------------------------------------------- posting

def _amount(value, label: str) -> Decimal:
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise BusinessError(f"{label}格式不正确") from None
    if not amount.is_finite() or amount <= 0:
        raise BusinessError(f"{label}必须大于0")
    if amount != money(amount):
        raise BusinessError(f"{label}最多保留两位小数")
    from services import limits

    limits.check_money(amount, label)
    return money(amount)


def _operator_id(operator):
    return getattr(operator, "id", operator)


def _add_entry(loan: Loan, kind: str, value_date: date, operator=None, **values) -> LoanEntry:
    row = LoanEntry(loan_id=loan.id, kind=kind, value_date=value_date, operator_id=_operator_id(operator), **values)
    db.session.add(row)
    _flush()
    return row


def record_disbursement(loan: Loan, operator=None) -> LoanEntry:
    return _add_entry(loan, "disbursement", loan.start_date, operator, amount=money(loan.principal),
                      rate=loan.rate, new_maturity=loan.maturity_date)


def record_rate_change(loan: Loan, change, operator=None) -> LoanEntry:
    return _add_entry(loan, "rate_change", change.effective_date, operator, rate=change.new_rate,
                      rate_change_id=change.id, note=change.reason)


def record_extension(loan: Loan, extension, on: date, operator=None) -> LoanEntry:
    return _add_entry(loan, "extension", on, operator, new_maturity=extension.new_maturity_date,
                      extension_id=extension.id, note=extension.reason)


TERMS_KINDS = ("disbursement", "rate_change", "extension")


def restate_disbursement(loan: Loan, *, rate=None, maturity: date | None = None) -> LoanEntry:
    """An imported loan's terms at disbursement as the old system's history gives them: a
    loan file states the loan as it stands (its rate after the last 利率调整, its maturity
    after 展期); its first rate change's old rate and its first extension's old maturity are
    the contract's (the rule backfill_entries applies to books written before the ledger).
    Only while no money has moved on the loan (its entries are terms only)."""
    rows = entry_rows(loan)
    moved = [r for r in rows if r.kind not in TERMS_KINDS]
    if moved:
        raise BusinessError("该贷款已有还款等账务记录,利率调整和展期记录须在导入还款记录之前导入")
    disbursement = db.session.get(LoanEntry, next(r.id for r in rows if r.kind == "disbursement"))
    if rate is not None:
        disbursement.rate = rate
    if maturity is not None:
        disbursement.new_maturity = maturity
    _flush()
    return disbursement


def payoff(loan: Loan, on: date) -> Decimal:
    return book(loan, on).quote()["total"]


def post_repayment(loan: Loan, amount, value_date: date, operator=None, *, prepay_mode: str | None = None,
                   today: date | None = None) -> Repayment:
    """Post a repayment valued on `value_date` (back-dated allowed: the loan replays)."""
    if loan.status == "written_off":
        return post_recovery(loan, amount, value_date, operator, today=today)
    today = today or business_today()
    if loan.status not in OPEN:
        raise BusinessError("贷款已结清,不能再登记还款")
    amount = _amount(amount, "还款金额")
    if prepay_mode not in (None, "", ADVANCE, *PREPAY_MODES):
        raise BusinessError("还款用途无效")
    prepay_mode = prepay_mode if prepay_mode in PREPAY_MODES else None  # None: 按期还款 (预收款)
    if value_date < loan.start_date:
        raise BusinessError("还款日期不能早于贷款起始日")
    if value_date > today:
        raise BusinessError("还款日期不能晚于今天")
    # One replay, as of today, with the repayment as it will be posted (it sorts after every
    # entry of the loan, as its id will): its excess says whether it exceeds the payoff of
    # its date (the quote of that date is the exact amount that settles); the same replay is
    # then stored.
    rows = entry_rows(loan)
    entries = entries_of(loan, rows)
    terms = terms_of(loan, entries)
    posted = Entry((rows[-1].id if rows else 0) + 1, "repayment", value_date, amount, prepay_mode=prepay_mode or None)
    b = replay(terms, entries + [posted], today)
    if b.parts[posted.seq].excess > 0:
        total = replay(terms, entries, value_date).quote()["total"]
        if amount > total:
            raise BusinessError(f"还款金额 {amount:,.2f} 元超过截至 {value_date:%Y-%m-%d} 的结清金额 {total:,.2f} 元,"
                                f"不予受理;结清请按 {total:,.2f} 元还款")
    repayment = Repayment(loan_id=loan.id, paid_on=value_date, amount=amount, penalty_part=ZERO,
                          interest_part=ZERO, principal_part=amount, operator_id=_operator_id(operator),
                          kind="repayment", prepay_mode=prepay_mode or None)
    db.session.add(repayment)
    _flush()
    entry = _add_entry(loan, "repayment", value_date, operator, amount=amount, prepay_mode=prepay_mode or None,
                       repayment_id=repayment.id)
    rows = entry_rows(loan)
    if rows[-1].id == entry.id and (len(rows) < 2 or rows[-2].id < posted.seq):
        b.parts[entry.id] = b.parts.pop(posted.seq)
        sync(loan, today, rows=rows, known=b)
    else:  # another entry of this loan came in between: replay what is stored
        sync(loan, today, rows=rows)
    return repayment


def reverse_repayment(repayment: Repayment, reason: str, operator=None, *, on: date | None = None,
                      today: date | None = None) -> LoanEntry:
    """冲正: append a reversal of `repayment` and replay (the repayment row stays, marked)."""
    today = today or business_today()
    on = on or today
    if repayment.reversed_on is not None:
        raise BusinessError("该笔还款已冲正")
    text = (reason or "").strip()
    if not text:
        raise BusinessError("请填写冲正原因")
    loan = db.session.get(Loan, repayment.loan_id)
    target = db.session.scalar(select(LoanEntry).where(LoanEntry.repayment_id == repayment.id,
                                                       LoanEntry.kind.in_(("repayment", "recovery"))))
    if target is None:
        raise BusinessError("该笔还款没有对应的账务分录,不能冲正")
    entry = _add_entry(loan, "reversal", on, operator, reverses_id=target.id, amount=Decimal(repayment.amount),
                       repayment_id=repayment.id, note=text)
    repayment.reversed_on = on
    sync(loan, today)
    return entry


def write_off(loan: Loan, on: date | None = None, operator=None, *, note: str | None = None,
              today: date | None = None) -> LoanEntry:
    """核销 (账销案存): principal, interest and penalty owed on `on` leave the books as the
    written-off claim; accrual stops; class 损失; status 已核销."""
    today = today or business_today()
    on = on or today
    if loan.status not in OPEN:
        raise BusinessError("只能核销未结清、未核销的贷款")
    if on < loan.start_date or on > today:
        raise BusinessError("核销日期须在贷款起始日与今天之间")
    entry = _add_entry(loan, "write_off", on, operator, note=note)
    loan.five_class = LOSS
    sync(loan, today)
    return entry


def post_recovery(loan: Loan, amount, on: date, operator=None, *, today: date | None = None) -> Repayment:
    """核销后收回: money collected on a written-off claim."""
    today = today or business_today()
    if loan.status != "written_off":
        raise BusinessError("只有已核销的贷款才能登记核销后收回")
    amount = _amount(amount, "收回金额")
    if on > today:
        raise BusinessError("收回日期不能晚于今天")
    if on < (loan.written_off_date or loan.start_date):
        raise BusinessError("收回日期不能早于核销日期")
    claim = book(loan, on).quote()["total"]
    if amount > claim:
        raise BusinessError(f"收回金额 {amount:,.2f} 元超过尚未收回的核销债权 {claim:,.2f} 元")
    repayment = Repayment(loan_id=loan.id, paid_on=on, amount=amount, penalty_part=ZERO, interest_part=ZERO,
                          principal_part=amount, operator_id=_operator_id(operator), kind="recovery")
    db.session.add(repayment)
    _flush()
    _add_entry(loan, "recovery", on, operator, amount=amount, repayment_id=repayment.id)
    sync(loan, today)
    return repayment


def post_fee(loan: Loan, amount, on: date, operator=None, note: str | None = None, *,
             today: date | None = None) -> LoanEntry:
    today = today or business_today()
    if loan.status not in OPEN:
        raise BusinessError("贷款已结清或已核销,不能登记费用")
    entry = _add_entry(loan, "fee", on, operator, amount=_amount(amount, "费用金额"), note=note)
    sync(loan, today)
    return entry


def recovered_total(loan: Loan) -> Decimal:
    """What came in after the write-off (核销后收回), net of reversals."""
    rows = db.session.scalars(select(Repayment).where(Repayment.loan_id == loan.id, Repayment.kind == "recovery",
                                                      Repayment.reversed_on.is_(None)))
    return sum((Decimal(r.amount) for r in rows), ZERO)
