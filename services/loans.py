"""Loan commands: open a loan, post a repayment, change the rate, extend, and refresh one
loan's overdue position. Money moves through the ledger (services.ledger): each command
appends a dated entry and the loan is replayed by models.ledger. Each validates, then runs, raising BusinessError (Chinese message).
Functions flush but do not commit: the caller (view, seeder, test) owns the transaction.
The arithmetic lives in models.money; this module moves it in and out of the database."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from admin_app.extensions import db
from dataclasses import replace

from models import Extension, Installment, Loan, LoanEntry, RateChange, Repayment
from models.enums import LOAN_STATUSES, OPEN_LOAN_STATUSES, REPAYMENT_METHODS
from models.ledger import Entry as LedgerEntry
from models.money import ZERO, ScheduleRow, add_months, build_schedule, money, months_since
from services import BusinessError, limits
from services import ledger

# 贷款通则 第十二条: short-term loans may be extended by at most the original term, medium-term
# loans (1–5 years) by half of it, long-term loans by at most three years.
SHORT_TERM_MONTHS, MEDIUM_TERM_MONTHS, LONG_TERM_EXTENSION_MONTHS = 12, 60, 36


CHANGED_MEANWHILE = ledger.CHANGED_MEANWHILE


def _claim(loan: Loan) -> None:
    """Make this command's flush update the loan row even when no loan figure changes (a
    repayment of interest only), so the loan's version check serialises every money
    command on one loan: of two at once, the second is refused, never both applied."""
    loan.outstanding_principal  # loaded (an expired loan cannot be flagged)
    flag_modified(loan, "outstanding_principal")


def _flush() -> None:
    """Write what a command changed. When another user changed the loan since it was read
    (its version moved on), the command is refused like any other rule, so every caller
    shows the message instead of failing."""
    try:
        db.session.flush()
    except StaleDataError as err:
        raise BusinessError(CHANGED_MEANWHILE) from err


# ---------------------------------------------------------------- input checks

def _amount(value, label: str) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise BusinessError(f"{label}格式不正确") from None
    if not amount.is_finite() or amount <= 0:
        raise BusinessError(f"{label}必须大于0")
    limits.check_money(amount, label)
    if amount != money(amount):
        raise BusinessError(f"{label}最多保留两位小数")
    return money(amount)


def _rate_in_range(product, rate) -> Decimal:
    try:
        rate = Decimal(str(rate).strip())
    except (InvalidOperation, ValueError):
        raise BusinessError("年利率格式不正确") from None
    low, high = Decimal(product.min_rate), Decimal(product.max_rate)
    if not rate.is_finite() or not low <= rate <= high:
        raise BusinessError(f"年利率须在产品「{product.name}」的利率范围 {low.normalize():f}% 至 "
                            f"{high.normalize():f}% 之内")
    return rate


def _require_open(loan: Loan) -> None:
    if loan.status not in OPEN_LOAN_STATUSES:
        raise BusinessError(f"贷款状态为「{LOAN_STATUSES.get(loan.status, loan.status)}」,不能办理该业务")


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise BusinessError("请填写原因")
    if len(text) > 2000:
        raise BusinessError("原因不能超过2000字")
    return text


def _operator_id(operator) -> int | None:
    return getattr(operator, "id", operator)


# ---------------------------------------------------------------- opening a loan

def _next_number(day: date) -> str:
    """The next 6-digit serial for `day`, free both as a loan number "DK<yyyymmdd>nnnnnn" and as
    a contract number "HT<yyyymmdd>nnnnnn": a loan whose own number was typed still takes a
    generated contract number (and the other way round), so both series are looked at."""
    serial = 1
    for column, letters in ((Loan.loan_no, "DK"), (Loan.contract_no, "HT")):
        prefix = letters + day.strftime("%Y%m%d")
        top = db.session.scalar(select(func.max(column)).where(column >= prefix + "000000",
                                                                column <= prefix + "999999"))
        if top and top[len(prefix):].isdigit():
            serial = max(serial, int(top[len(prefix):]) + 1)
    if serial > 999_999:
        raise BusinessError("当日贷款编号已用完")
    return f"{serial:06d}"


def open_loan(*, customer, product, principal, rate=None, term_months, start_date: date,
              officer=None, loan_no: str | None = None, contract_no: str | None = None,
              existing: bool = False) -> Loan:
    """Book a new loan with its schedule (repayment method from the product). `existing`: a
    loan brought in from another system as it stands (导入): its term may include a 展期 the
    old system granted, so the product's term range (a rule for new contracts) is not
    applied; every other check is."""
    values, schedule = loan_values(customer=customer, product=product, principal=principal, rate=rate,
                                   term_months=term_months, start_date=start_date, officer=officer,
                                   loan_no=loan_no, contract_no=contract_no, existing=existing)
    loan = Loan(**values)
    db.session.add(loan)
    _flush()
    db.session.add_all(Installment(loan_id=loan.id, **values) for values in schedule_values(schedule))
    _flush()
    ledger.record_disbursement(loan, officer)
    db.session.expire(loan, ["installments"])
    return loan


def loan_values(*, customer, product, principal, rate=None, term_months, start_date: date, officer=None,
                loan_no: str | None = None, contract_no: str | None = None,
                existing: bool = False) -> tuple[dict, list[ScheduleRow]]:
    """Check a new loan's terms (open_loan's rules) and give its loan columns and schedule;
    writes nothing (the import's bulk path writes many at once)."""
    if not product.active:
        raise BusinessError(f"贷款产品「{product.name}」已停用")
    if product.repayment_method not in REPAYMENT_METHODS:
        raise BusinessError("贷款产品的还款方式无效")
    principal = _amount(principal, "贷款金额")
    limits.check_principal(principal)
    rate = _rate_in_range(product, product.default_rate if rate is None else rate)
    if not isinstance(term_months, int) or term_months < 1 or (
            not existing and not product.min_term <= term_months <= product.max_term):
        raise BusinessError(f"贷款期限须在 {product.min_term} 至 {product.max_term} 个月之间")
    if loan_no is None or contract_no is None:
        serial = _next_number(start_date)
        loan_no = loan_no or f"DK{start_date:%Y%m%d}{serial}"
        contract_no = contract_no or f"HT{start_date:%Y%m%d}{serial}"
    schedule = build_schedule(principal, rate, term_months, start_date, product.repayment_method)
    limits.check_schedule(principal, start_date, schedule)
    values = dict(loan_no=loan_no, contract_no=contract_no, customer_id=customer.id,
                  customer_name=customer.name, product_id=product.id, principal=principal, rate=rate,
                  term_months=term_months, start_date=start_date, maturity_date=schedule[-1].due_date,
                  repayment_method=product.repayment_method, officer_id=_operator_id(officer),
                  status="active", five_class=1, suggested_class=1, outstanding_principal=principal,
                  days_overdue=0, overdue_principal=ZERO, overdue_interest=ZERO, penalty_interest=ZERO,
                  next_inspection_date=start_date + timedelta(days=product.inspection_interval_days))
    return values, schedule


def schedule_values(schedule: list[ScheduleRow]) -> list[dict]:
    """The installment rows of a new loan's schedule (nothing paid yet)."""
    return [dict(period=row.period, due_date=row.due_date, principal_due=row.principal, interest_due=row.interest,
                 principal_paid=ZERO, interest_paid=ZERO, penalty_paid=ZERO, penalty_accrued=ZERO)
            for row in schedule]


# ---------------------------------------------------------------- the position of a loan
# Every figure comes from the ledger replay (services.ledger, models.ledger).

def _installments(loan: Loan) -> list[Installment]:
    return list(db.session.scalars(select(Installment).where(Installment.loan_id == loan.id)
                                   .order_by(Installment.due_date, Installment.period)))


def amount_owed(loan: Loan, as_of: date, *, known=None) -> dict:
    """What the borrower owes on `as_of`: overdue principal and interest (periods past due),
    penalty (罚息) and 复利, what is due by that day (`due_now`), the remaining principal and
    interest, and `total` — the settlement quote (提前结清应还总额). `known`: the loan's
    book as of `as_of` if the caller replayed it already."""
    b = known if known is not None and known.as_of == as_of else ledger.book(loan, as_of)
    pos, quote = b.position(), b.quote()
    due = [p for p in b.periods if p.due <= as_of and p.cleared_on is None]
    return {
        "overdue_principal": pos["overdue_principal"],
        "overdue_interest": pos["overdue_interest"],
        "penalty": pos["penalty"],
        "compound": pos["compound"],
        "principal": pos["outstanding_principal"],
        "interest": sum((p.interest_unpaid for p in b.periods if p.cleared_on is None), ZERO),
        "due_now": sum((p.principal_unpaid + p.interest_unpaid for p in due), ZERO) + pos["penalty"]
                   + pos["compound"] + pos["fees"],
        "total": quote["total"],
        **({"advance": pos["advance"]} if pos["advance"] else {}),  # 预收余额, where held
    }


def refresh_position(loan: Loan, as_of: date) -> Loan:
    """Replay the loan and store its figures as of `as_of` (the daily job does the same for
    every loan at once, in SQL)."""
    if loan.status not in OPEN_LOAN_STATUSES:
        return loan
    try:
        ledger.sync(loan, as_of)
    except StaleDataError as err:
        raise BusinessError(CHANGED_MEANWHILE) from err
    return loan


def _has_extension(loan: Loan) -> bool:
    return db.session.scalar(select(func.count(Extension.id)).where(Extension.loan_id == loan.id)) > 0


# ---------------------------------------------------------------- repayments

def post_repayment(loan: Loan, amount, paid_on: date, operator=None, *, prepay_mode: str | None = None,
                   today: date | None = None) -> Repayment:
    """Post a repayment (services.ledger.post_repayment): for each period due by the value
    date, oldest first, penalty → 复利 → interest → principal; the rest is held as 预收款
    (applied on the following due dates) or, with prepay_mode reduce / shorten, prepays
    principal; paying the payoff settles the loan (已结清); a back-dated value date replays
    the loan."""
    _claim(loan)
    repayment = ledger.post_repayment(loan, amount, paid_on, operator, prepay_mode=prepay_mode, today=today)
    _flush()
    return repayment


# ---------------------------------------------------------------- rate changes

def current_period_start(loan: Loan, today: date | None = None) -> date:
    """The start of the oldest period not paid off: a rate change may not take effect earlier."""
    b = ledger.book(loan, today or ledger.business_today())
    return min((p.start for p in b.periods if p.cleared_on is None), default=loan.start_date)


def _check_rate_change(loan: Loan, new_rate, effective_date: date) -> Decimal:
    _require_open(loan)
    new_rate = _rate_in_range(loan.product, new_rate)
    if new_rate == Decimal(loan.rate):
        raise BusinessError("新利率与当前利率相同")
    if not loan.start_date <= effective_date <= loan.maturity_date:
        raise BusinessError(f"生效日期须在贷款起始日 {loan.start_date:%Y-%m-%d} 与到期日 "
                            f"{loan.maturity_date:%Y-%m-%d} 之间")
    last = db.session.scalar(select(func.max(RateChange.effective_date)).where(RateChange.loan_id == loan.id))
    if last is not None and effective_date < last:
        raise BusinessError(f"生效日期不能早于上一次利率调整的生效日期 {last:%Y-%m-%d}")
    floor = current_period_start(loan)
    if effective_date < floor:
        raise BusinessError(f"生效日期不能早于当前未还期次的起始日 {floor:%Y-%m-%d}(已还清的期次不再调整)")
    return new_rate


def _hypothetical(loan: Loan, **entry) -> list[ScheduleRow]:
    """The whole schedule with one more entry (not written), recomputed rows marked."""
    today = ledger.business_today()
    before = ledger.schedule_rows(ledger.book(loan, today))
    seq = (db.session.scalar(select(func.max(LoanEntry.id))) or 0) + 1
    after = ledger.schedule_rows(ledger.book(loan, today, [LedgerEntry(seq, **entry)]))
    old = {(r.period, r.due_date, r.principal, r.interest) for r in before}
    return [replace(r, recomputed=(r.period, r.due_date, r.principal, r.interest) not in old) for r in after]


def preview_rate_change(loan: Loan, new_rate, effective_date: date) -> list[ScheduleRow]:
    """The whole schedule as it would be after the rate change (changed rows marked);
    writes nothing."""
    new_rate = _check_rate_change(loan, new_rate, effective_date)
    rows = _hypothetical(loan, kind="rate_change", value_date=effective_date, rate=new_rate)
    limits.check_schedule(loan.principal, loan.start_date, rows, "调整后")
    return rows


def change_rate(loan: Loan, new_rate, effective_date: date, reason: str, operator) -> RateChange:
    """Post a rate change (利率调整) as a ledger entry; the loan replays (models.ledger)."""
    new_rate = _check_rate_change(loan, new_rate, effective_date)
    reason = _reason(reason)
    limits.check_schedule(loan.principal, loan.start_date,
                          _hypothetical(loan, kind="rate_change", value_date=effective_date, rate=new_rate), "调整后")
    change = RateChange(loan_id=loan.id, old_rate=Decimal(loan.rate), new_rate=new_rate,
                        effective_date=effective_date, reason=reason, operator_id=_operator_id(operator))
    db.session.add(change)
    loan.rate = new_rate  # the latest rate (the daily job's rate steps count back from it)
    _flush()
    ledger.record_rate_change(loan, change, operator)
    ledger.sync(loan)
    _flush()
    return change


# ---------------------------------------------------------------- extensions

def max_extension_maturity(loan: Loan) -> date:
    """The latest maturity 贷款通则 allows: short-term loans by at most the original term,
    medium-term by half of it, long-term by at most three years."""
    term = loan.term_months
    if term <= SHORT_TERM_MONTHS:
        months = term
    elif term <= MEDIUM_TERM_MONTHS:
        months = term // 2
    else:
        months = LONG_TERM_EXTENSION_MONTHS
    return add_months(loan.maturity_date, months)


def _check_extension(loan: Loan, new_maturity: date, as_of: date) -> None:
    _require_open(loan)
    if _has_extension(loan):
        raise BusinessError("该贷款已办理过展期,不能再次展期")
    if as_of > loan.maturity_date:
        raise BusinessError("贷款已到期,展期须在到期日之前办理")
    if new_maturity <= loan.maturity_date:
        raise BusinessError(f"新到期日须晚于当前到期日 {loan.maturity_date:%Y-%m-%d}")
    limit = max_extension_maturity(loan)
    if new_maturity > limit:
        raise BusinessError(f"展期期限超过规定,新到期日最晚为 {limit:%Y-%m-%d}")


def preview_extension(loan: Loan, new_maturity: date, as_of: date | None = None) -> list[ScheduleRow]:
    """The whole schedule as it would be after extending to `new_maturity`; writes nothing."""
    as_of = as_of or ledger.business_today()
    _check_extension(loan, new_maturity, as_of)
    rows = _hypothetical(loan, kind="extension", value_date=as_of, new_maturity=new_maturity)
    limits.check_schedule(loan.principal, loan.start_date, rows, "展期后")
    return rows


def extend_loan(loan: Loan, new_maturity: date, reason: str, operator, as_of: date | None = None) -> Extension:
    """Post an extension (展期) as a ledger entry dated `as_of`: the unpaid principal of the
    running period on is rescheduled to the new maturity (models.ledger)."""
    as_of = as_of or ledger.business_today()
    _check_extension(loan, new_maturity, as_of)
    reason = _reason(reason)
    limits.check_schedule(loan.principal, loan.start_date,
                          _hypothetical(loan, kind="extension", value_date=as_of, new_maturity=new_maturity), "展期后")
    extension = Extension(loan_id=loan.id, old_maturity_date=loan.maturity_date, new_maturity_date=new_maturity,
                          reason=reason, operator_id=_operator_id(operator))
    db.session.add(extension)
    _claim(loan)
    _flush()
    ledger.record_extension(loan, extension, as_of, operator)
    loan.term_months = int(months_since(loan.start_date, new_maturity).to_integral_value(rounding="ROUND_CEILING"))
    ledger.sync(loan, max(as_of, ledger.business_today()))
    _flush()
    return extension
