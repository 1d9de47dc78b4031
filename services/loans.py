"""Loan commands: open a loan, post a repayment, change the rate, extend, and refresh one
loan's overdue position. Each validates, then runs, raising BusinessError (Chinese message).
Functions flush but do not commit: the caller (view, seeder, test) owns the transaction.
The arithmetic lives in models.money; this module moves it in and out of the database."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from admin_app.extensions import db
from models import Extension, Installment, Loan, RateChange, Repayment
from models.enums import LOAN_STATUSES, OPEN_LOAN_STATUSES, REPAYMENT_METHODS
from models.money import (ZERO, PeriodState, ScheduleRow, add_months, allocate, build_schedule,
                          money, months_since, period_penalty, recompute_after_rate_change,
                          reschedule_for_extension)
from services import BusinessError, limits

# 贷款通则 第十二条: short-term loans may be extended by at most the original term, medium-term
# loans (1–5 years) by half of it, long-term loans by at most three years.
SHORT_TERM_MONTHS, MEDIUM_TERM_MONTHS, LONG_TERM_EXTENSION_MONTHS = 12, 60, 36


# Two staff changing one loan at once: the loan's version check lets the first through.
CHANGED_MEANWHILE = "该贷款刚刚被他人修改,请核对最新的还款计划后重新办理。"


def _claim(loan: Loan) -> None:
    """Make this command's flush update the loan row even when no loan figure changes (a
    repayment of interest only), so the loan's version check serialises every money
    command on one loan: of two at once, the second is refused, never both applied."""
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
    """The next free 6-digit suffix of loan numbers "DK<yyyymmdd>nnnnnn" for `day`."""
    prefix = "DK" + day.strftime("%Y%m%d")
    top = db.session.scalar(select(func.max(Loan.loan_no)).where(
        Loan.loan_no >= prefix + "000000", Loan.loan_no <= prefix + "999999"))
    serial = int(top[len(prefix):]) + 1 if top and top[len(prefix):].isdigit() else 1
    if serial > 999_999:
        raise BusinessError("当日贷款编号已用完")
    return f"{serial:06d}"


def open_loan(*, customer, product, principal, rate=None, term_months, start_date: date,
              officer=None, loan_no: str | None = None, contract_no: str | None = None) -> Loan:
    """Book a new loan with its schedule (repayment method from the product)."""
    if not product.active:
        raise BusinessError(f"贷款产品「{product.name}」已停用")
    if product.repayment_method not in REPAYMENT_METHODS:
        raise BusinessError("贷款产品的还款方式无效")
    principal = _amount(principal, "贷款金额")
    limits.check_principal(principal)
    rate = _rate_in_range(product, product.default_rate if rate is None else rate)
    if not isinstance(term_months, int) or not product.min_term <= term_months <= product.max_term:
        raise BusinessError(f"贷款期限须在 {product.min_term} 至 {product.max_term} 个月之间")
    if loan_no is None or contract_no is None:
        serial = _next_number(start_date)
        loan_no = loan_no or f"DK{start_date:%Y%m%d}{serial}"
        contract_no = contract_no or f"HT{start_date:%Y%m%d}{serial}"
    schedule = build_schedule(principal, rate, term_months, start_date, product.repayment_method)
    limits.check_schedule(principal, start_date, schedule)
    loan = Loan(loan_no=loan_no, contract_no=contract_no, customer_id=customer.id,
                customer_name=customer.name, product_id=product.id, principal=principal, rate=rate,
                term_months=term_months, start_date=start_date, maturity_date=schedule[-1].due_date,
                repayment_method=product.repayment_method, officer_id=_operator_id(officer),
                status="active", five_class=1, suggested_class=1, outstanding_principal=principal,
                days_overdue=0, overdue_principal=ZERO, overdue_interest=ZERO, penalty_interest=ZERO,
                next_inspection_date=start_date + timedelta(days=product.inspection_interval_days))
    db.session.add(loan)
    _flush()
    db.session.add_all(Installment(loan_id=loan.id, period=row.period, due_date=row.due_date,
                                   principal_due=row.principal, interest_due=row.interest,
                                   principal_paid=ZERO, interest_paid=ZERO, penalty_paid=ZERO,
                                   penalty_accrued=ZERO) for row in schedule)
    _flush()
    db.session.expire(loan, ["installments"])
    return loan


# ---------------------------------------------------------------- the position of a loan

def _installments(loan: Loan) -> list[Installment]:
    return list(db.session.scalars(select(Installment).where(Installment.loan_id == loan.id)
                                   .order_by(Installment.due_date, Installment.period)))


def _accrued_penalty(loan: Loan, inst: Installment, as_of: date) -> Decimal:
    """Penalty accrued on one installment up to `as_of`, before deducting what was paid."""
    unpaid = Decimal(inst.principal_due) - Decimal(inst.principal_paid)
    return period_penalty(unpaid, loan.rate, loan.product.penalty_markup, loan.product.grace_days,
                          inst.due_date, as_of, Decimal(inst.penalty_accrued or 0), inst.penalty_accrued_to)


def _state(loan: Loan, inst: Installment, as_of: date) -> PeriodState:
    accrued = _accrued_penalty(loan, inst, as_of) if inst.paid_off_date is None else ZERO
    return PeriodState(inst.period, inst.due_date, Decimal(inst.principal_due), Decimal(inst.interest_due),
                       Decimal(inst.principal_paid), Decimal(inst.interest_paid),
                       Decimal(inst.penalty_paid), max(accrued - Decimal(inst.penalty_paid), ZERO))


def period_states(loan: Loan, as_of: date) -> list[PeriodState]:
    """Every period of the loan as it stands on `as_of` (penalty owed as of that day)."""
    return [_state(loan, inst, as_of) for inst in _installments(loan)]


def _overdue(states: list[PeriodState], as_of: date) -> list[PeriodState]:
    return [s for s in states if not s.is_paid and s.due_date < as_of]


def amount_owed(loan: Loan, as_of: date) -> dict:
    """What the borrower owes on `as_of`: overdue principal and interest (periods past due),
    penalty interest, the remaining principal and scheduled interest, and `total` — the
    amount that settles the loan (every unpaid period plus the penalty)."""
    states = period_states(loan, as_of)
    overdue = _overdue(states, as_of)
    figures = {
        "overdue_principal": sum((s.principal_unpaid for s in overdue), ZERO),
        "overdue_interest": sum((s.interest_unpaid for s in overdue), ZERO),
        "penalty": sum((s.penalty_owed for s in states), ZERO),
        "principal": sum((s.principal_unpaid for s in states), ZERO),
        "interest": sum((s.interest_unpaid for s in states), ZERO),
    }
    figures["due_now"] = sum((s.owed for s in states if s.due_date <= as_of), ZERO)
    figures["total"] = figures["principal"] + figures["interest"] + figures["penalty"]
    return figures


def refresh_position(loan: Loan, as_of: date) -> Loan:
    """Recompute one loan's days overdue, overdue principal/interest, penalty interest and
    status as of `as_of` (what the daily job does for every loan at once)."""
    if loan.status not in OPEN_LOAN_STATUSES:
        return loan
    states = period_states(loan, as_of)
    overdue = _overdue(states, as_of)
    loan.days_overdue = max(((as_of - s.due_date).days for s in overdue), default=0)
    loan.overdue_principal = sum((s.principal_unpaid for s in overdue), ZERO)
    loan.overdue_interest = sum((s.interest_unpaid for s in overdue), ZERO)
    loan.penalty_interest = sum((s.penalty_owed for s in states), ZERO)
    if overdue:
        loan.status = "overdue"
    elif _has_extension(loan):
        loan.status = "extended"
    else:
        loan.status = "active"
    _flush()
    return loan


def _has_extension(loan: Loan) -> bool:
    return db.session.scalar(select(func.count(Extension.id)).where(Extension.loan_id == loan.id)) > 0


# ---------------------------------------------------------------- repayments

def _check_repayment_date(loan: Loan, paid_on: date) -> None:
    if paid_on < loan.start_date:
        raise BusinessError("还款日期不能早于贷款起始日")
    if paid_on > date.today():
        raise BusinessError("还款日期不能晚于今天")
    last = db.session.scalar(select(func.max(Repayment.paid_on)).where(Repayment.loan_id == loan.id))
    if last is not None and paid_on < last:
        raise BusinessError(f"还款日期不能早于上一笔还款日期 {last:%Y-%m-%d}")


def post_repayment(loan: Loan, amount, paid_on: date, operator=None) -> Repayment:
    """Post a repayment: penalty → interest → principal, oldest period first; paying the
    last cent settles the loan (已结清)."""
    _require_open(loan)
    amount = _amount(amount, "还款金额")
    _check_repayment_date(loan, paid_on)
    installments = {inst.period: inst for inst in _installments(loan)}
    states = [_state(loan, inst, paid_on) for inst in installments.values()]
    owed = sum((s.owed for s in states), ZERO)
    if amount > owed:
        raise BusinessError(f"还款金额 {amount:,.2f} 元超过截至 {paid_on:%Y-%m-%d} 的应还总额 {owed:,.2f} 元")
    allocation = allocate(amount, states, paid_on)
    for part in allocation.parts:
        _apply_part(loan, installments[part.period], part, paid_on)
    repayment = Repayment(loan_id=loan.id, paid_on=paid_on, amount=amount, penalty_part=allocation.penalty,
                          interest_part=allocation.interest, principal_part=allocation.principal,
                          operator_id=_operator_id(operator))
    db.session.add(repayment)
    loan.outstanding_principal = Decimal(loan.outstanding_principal) - allocation.principal
    if all(inst.paid_off_date is not None for inst in installments.values()):
        _settle(loan, paid_on)
    _claim(loan)
    _flush()
    if loan.status != "settled":
        refresh_position(loan, paid_on)
    return repayment


def _apply_part(loan: Loan, inst: Installment, part, paid_on: date) -> None:
    # Crystallise the penalty accrued so far before the overdue principal it runs on changes.
    accrued = _accrued_penalty(loan, inst, paid_on)
    if accrued > Decimal(inst.penalty_accrued or 0):
        inst.penalty_accrued, inst.penalty_accrued_to = accrued, paid_on
    inst.penalty_paid = Decimal(inst.penalty_paid) + part.penalty
    inst.interest_paid = Decimal(inst.interest_paid) + part.interest
    inst.principal_paid = Decimal(inst.principal_paid) + part.principal
    if part.paid_off_date is not None:
        inst.paid_off_date = part.paid_off_date


def _settle(loan: Loan, on: date) -> None:
    loan.status, loan.settled_date = "settled", on
    loan.outstanding_principal = ZERO
    loan.days_overdue = 0
    loan.overdue_principal = loan.overdue_interest = loan.penalty_interest = ZERO


# ---------------------------------------------------------------- rate changes

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
    return new_rate


def _rate_change_rows(loan: Loan, new_rate: Decimal, effective_date: date) -> list[ScheduleRow]:
    states = [PeriodState(i.period, i.due_date, Decimal(i.principal_due), Decimal(i.interest_due),
                          Decimal(i.principal_paid), Decimal(i.interest_paid), Decimal(i.penalty_paid))
              for i in _installments(loan)]
    rows = recompute_after_rate_change(states, new_rate, effective_date, loan.repayment_method,
                                       start_date=loan.start_date, old_rate=Decimal(loan.rate))
    if not any(row.recomputed for row in rows):
        raise BusinessError("生效日期之后没有未还款的期次,无需调整利率")
    limits.check_schedule(loan.principal, loan.start_date, rows, "调整后")
    return rows


def preview_rate_change(loan: Loan, new_rate, effective_date: date) -> list[ScheduleRow]:
    """The whole schedule as it would be after the rate change (recomputed rows marked);
    writes nothing."""
    new_rate = _check_rate_change(loan, new_rate, effective_date)
    return _rate_change_rows(loan, new_rate, effective_date)


def change_rate(loan: Loan, new_rate, effective_date: date, reason: str, operator) -> RateChange:
    """Post a rate change (利率调整): recompute the unpaid periods due after the effective date."""
    new_rate = _check_rate_change(loan, new_rate, effective_date)
    reason = _reason(reason)
    rows = _rate_change_rows(loan, new_rate, effective_date)
    _write_rows(loan, rows)
    change = RateChange(loan_id=loan.id, old_rate=Decimal(loan.rate), new_rate=new_rate,
                        effective_date=effective_date, reason=reason, operator_id=_operator_id(operator))
    db.session.add(change)
    loan.rate = new_rate
    _flush()
    return change


def _write_rows(loan: Loan, rows: list[ScheduleRow]) -> None:
    """Write recomputed rows onto the installments (updating in place, adding new periods)."""
    existing = {inst.period: inst for inst in _installments(loan)}
    for row in rows:
        if not row.recomputed:
            continue
        inst = existing.get(row.period)
        if inst is None:
            db.session.add(Installment(loan_id=loan.id, period=row.period, due_date=row.due_date,
                                       principal_due=row.principal, interest_due=row.interest,
                                       principal_paid=ZERO, interest_paid=ZERO, penalty_paid=ZERO,
                                       penalty_accrued=ZERO))
        else:
            inst.due_date, inst.principal_due, inst.interest_due = row.due_date, row.principal, row.interest
    _flush()
    db.session.expire(loan, ["installments"])


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


def _extension_rows(loan: Loan, new_maturity: date, as_of: date) -> list[ScheduleRow]:
    states = [_state(loan, inst, as_of) for inst in _installments(loan)]
    try:
        rows = reschedule_for_extension(states, new_maturity, Decimal(loan.rate), loan.repayment_method,
                                        start_date=loan.start_date, as_of=as_of)
    except ValueError:
        raise BusinessError("没有可展期的未还本金(未到期且未还款的期次)") from None
    limits.check_schedule(loan.principal, loan.start_date, rows, "展期后")
    return rows


def preview_extension(loan: Loan, new_maturity: date, as_of: date | None = None) -> list[ScheduleRow]:
    """The whole schedule as it would be after extending to `new_maturity`; writes nothing."""
    as_of = as_of or date.today()
    _check_extension(loan, new_maturity, as_of)
    return _extension_rows(loan, new_maturity, as_of)


def extend_loan(loan: Loan, new_maturity: date, reason: str, operator, as_of: date | None = None) -> Extension:
    """Post an extension (展期): unpaid future principal rescheduled to the new maturity."""
    as_of = as_of or date.today()
    _check_extension(loan, new_maturity, as_of)
    reason = _reason(reason)
    rows = _extension_rows(loan, new_maturity, as_of)
    _write_rows(loan, rows)
    extension = Extension(loan_id=loan.id, old_maturity_date=loan.maturity_date, new_maturity_date=new_maturity,
                          reason=reason, operator_id=_operator_id(operator))
    db.session.add(extension)
    loan.maturity_date = new_maturity
    loan.term_months = int(months_since(loan.start_date, new_maturity).to_integral_value(rounding="ROUND_CEILING"))
    loan.status = "extended"
    _flush()
    refresh_position(loan, as_of)
    return extension
