"""The money engine: repayment schedules, penalty interest, repayment allocation, and the
schedule changes of a rate change or an extension. Pure functions on Decimal, no database.

Conventions (SPEC §4 Money):
- rates are annual percentages; the monthly rate is annual / 100 / 12;
- every amount is rounded to the cent with ROUND_HALF_UP, and the last period of a schedule
  (or of a recomputed block) absorbs the rounding difference, so principal sums exactly;
- due date k is start date + k months, clamped to the month's end (31 Jan -> 29 Feb -> 31 Mar);
- periods that received any payment never change.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from functools import lru_cache

from .enums import REPAYMENT_METHODS

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
_PRECISION = 60
# annual rate/100 × (1 + markup/100) / 360 as one exact denominator: rate × (100 + markup) / 3,600,000
PENALTY_DENOMINATOR = Decimal(3_600_000)


def money(value) -> Decimal:
    """`value` rounded half-up to the cent."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@lru_cache(maxsize=1 << 16)
def add_months(start: date, months: int) -> date:
    """`start` plus whole months, the day clamped to the month's end. Cached: the ledger asks
    it millions of times over a book, for a few thousand distinct dates."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def months_since(start: date, day: date) -> Decimal:
    """Accrual months from `start` to `day`: whole monthly anniversaries of `start`, plus
    the remaining days counted as thirtieths of a month (used only for a stub period)."""
    whole = (day.year - start.year) * 12 + day.month - start.month + 1
    while whole > 0 and add_months(start, whole) > day:
        whole -= 1
    whole = max(whole, 0)
    return Decimal(whole) + Decimal((day - add_months(start, whole)).days) / 30


def monthly_rate(annual_rate_pct) -> Decimal:
    with localcontext(Context(prec=_PRECISION)):
        return Decimal(annual_rate_pct) / 1200


@dataclass(frozen=True)
class ScheduleRow:
    """One period of a schedule. `recomputed` marks rows a rate change or extension produced."""

    period: int
    due_date: date
    principal: Decimal
    interest: Decimal
    recomputed: bool = False

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest


def _check(principal, annual_rate_pct, method) -> None:
    if method not in REPAYMENT_METHODS:
        raise ValueError(f"unknown repayment method {method!r}")
    # zero is allowed: a recomputed block may carry no principal (tiny loans)
    if Decimal(principal) < 0 or Decimal(annual_rate_pct) < 0:
        raise ValueError("principal and rate must not be negative")


def _annuity(principal: Decimal, rate: Decimal, periods: int) -> Decimal:
    if rate == 0:
        return money(principal / periods)
    with localcontext(Context(prec=_PRECISION)):
        growth = (1 + rate) ** periods
        return money(principal * rate * growth / (growth - 1))


def _principal_parts(principal: Decimal, rate: Decimal, factors: list[Decimal], method: str) -> list:
    """(principal, interest) of each period of a block that amortises `principal`; `factors`
    is each period's length in months (1 for a whole month)."""
    count, balance, parts = len(factors), principal, []
    payment = _annuity(principal, rate, count) if method == "equal_installment" else None
    equal_share = money(principal / count)
    for index, factor in enumerate(factors):
        interest = money(balance * rate * factor)
        if index == count - 1:
            part = balance
        elif method == "equal_installment":
            part = min(max(payment - interest, ZERO), balance)
        elif method == "equal_principal":
            part = min(equal_share, balance)
        else:  # interest_first: principal at maturity
            part = ZERO
        parts.append((part, interest))
        balance -= part
    return parts


def amortize(principal, annual_rate_pct, due_dates: list[date], method: str, *,
             accrual_start: date, loan_start: date | None = None, first_period: int = 1,
             recomputed: bool = False) -> list[ScheduleRow]:
    """Schedule rows repaying `principal` on `due_dates` by `method`. Interest of each period
    accrues from the previous due date (the first from `accrual_start`), for the months
    between them counted on anniversaries of `loan_start`; a bullet block has one row whose
    interest covers the whole span."""
    _check(principal, annual_rate_pct, method)
    principal, rate = money(principal), monthly_rate(annual_rate_pct)
    base = loan_start or accrual_start
    if method == "bullet":
        due_dates = due_dates[-1:]
    factors, previous = [], months_since(base, accrual_start)
    for due in due_dates:
        elapsed = months_since(base, due)
        factors.append(elapsed - previous)
        previous = elapsed
    parts = _principal_parts(principal, rate, factors, method)
    return [ScheduleRow(first_period + i, due, part, interest, recomputed)
            for i, (due, (part, interest)) in enumerate(zip(due_dates, parts))]


def build_schedule(principal: Decimal, annual_rate_pct: Decimal, term_months: int,
                   start_date: date, method: str) -> list[ScheduleRow]:
    """The repayment schedule of a new loan.

    等额本息 equal_installment: equal monthly payments (annuity), the last absorbing rounding;
    等额本金 equal_principal: principal / n each month, interest on the falling balance;
    先息后本 interest_first: interest monthly, all principal with the last period;
    到期一次还本付息 bullet: one period at maturity, principal plus interest for the whole term.
    """
    if term_months < 1 or Decimal(principal) <= 0:
        raise ValueError("a loan needs a positive principal and at least one month")
    due_dates = [add_months(start_date, k) for k in range(1, term_months + 1)]
    return amortize(principal, annual_rate_pct, due_dates, method, accrual_start=start_date)


def penalty_for(overdue_principal, annual_rate_pct, markup_pct, days_overdue: int,
                grace_days: int) -> Decimal:
    """Penalty interest (罚息) on overdue principal.

    Per day: annual rate/100 × (1 + markup/100) / 360 of the overdue principal. Nothing while
    days_overdue <= grace_days; beyond the grace days it accrues for (days_overdue − grace_days)
    days. Computed exactly, then rounded half-up to the cent once:
        ROUND(principal × rate × (100 + markup) × (days_overdue − grace_days) / 3600000, 2)
    The daily job runs the same expression in SQL (jobs/steps/sql.py)."""
    days = int(days_overdue) - int(grace_days)
    if days <= 0 or Decimal(overdue_principal) <= 0:
        return ZERO
    with localcontext(Context(prec=_PRECISION)):
        value = (Decimal(overdue_principal) * Decimal(annual_rate_pct)
                 * (100 + Decimal(markup_pct)) * days / PENALTY_DENOMINATOR)
    return money(value)


def period_penalty(unpaid_principal, annual_rate_pct, markup_pct, grace_days: int, due_date: date,
                   as_of: date, accrued=ZERO, accrued_to: date | None = None) -> Decimal:
    """Penalty accrued on one period up to `as_of` (before deducting what was paid).

    A repayment that reduces a period's overdue principal first crystallises the penalty
    accrued so far (`accrued`, up to `accrued_to`); from then on penalty_for runs on the new
    unpaid principal, with the crystallised days counted as already used:
        accrued + penalty_for(unpaid, rate, markup, as_of − due, max(grace, accrued_to − due))
    """
    used = grace_days if accrued_to is None else max(grace_days, (accrued_to - due_date).days)
    fresh = penalty_for(unpaid_principal, annual_rate_pct, markup_pct, (as_of - due_date).days, used)
    return money(Decimal(accrued) + fresh)


@dataclass(frozen=True)
class PeriodState:
    """A period as it stands: what was due, what was paid, and the penalty owed (accrued and
    not yet paid) as of the allocation date."""

    period: int
    due_date: date
    principal_due: Decimal
    interest_due: Decimal
    principal_paid: Decimal = ZERO
    interest_paid: Decimal = ZERO
    penalty_paid: Decimal = ZERO
    penalty_owed: Decimal = ZERO

    @property
    def principal_unpaid(self) -> Decimal:
        return self.principal_due - self.principal_paid

    @property
    def interest_unpaid(self) -> Decimal:
        return self.interest_due - self.interest_paid

    @property
    def owed(self) -> Decimal:
        return self.penalty_owed + self.interest_unpaid + self.principal_unpaid

    @property
    def untouched(self) -> bool:
        """No payment at all: the only periods a rate change or an extension may rewrite."""
        return self.principal_paid == 0 and self.interest_paid == 0 and self.penalty_paid == 0

    @property
    def is_paid(self) -> bool:
        return self.principal_unpaid <= 0 and self.interest_unpaid <= 0


@dataclass(frozen=True)
class PeriodPart:
    """What one repayment puts on one period."""

    period: int
    penalty: Decimal
    interest: Decimal
    principal: Decimal
    paid_off_date: date | None = None  # set when this repayment clears the period

    @property
    def total(self) -> Decimal:
        return self.penalty + self.interest + self.principal


@dataclass(frozen=True)
class Allocation:
    parts: list[PeriodPart] = field(default_factory=list)
    remainder: Decimal = ZERO  # what the periods could not take (an overpayment)

    @property
    def penalty(self) -> Decimal:
        return sum((p.penalty for p in self.parts), ZERO)

    @property
    def interest(self) -> Decimal:
        return sum((p.interest for p in self.parts), ZERO)

    @property
    def principal(self) -> Decimal:
        return sum((p.principal for p in self.parts), ZERO)


def allocate(amount, periods_state: list[PeriodState], as_of: date) -> Allocation:
    """Split a repayment over the periods, oldest first; within a period penalty, then
    interest, then principal. A period the repayment clears gets paid_off_date = as_of.
    Whatever no period can take is returned as `remainder` (the caller refuses it)."""
    left = money(amount)
    if left <= 0:
        raise ValueError("repayment amount must be positive")
    parts = []
    for state in sorted(periods_state, key=lambda s: (s.due_date, s.period)):
        if left <= 0:
            break
        if state.owed <= 0:
            continue
        taken = []
        for owed in (state.penalty_owed, state.interest_unpaid, state.principal_unpaid):
            take = min(left, max(owed, ZERO))
            taken.append(take)
            left -= take
        clears = taken[1] == state.interest_unpaid and taken[2] == state.principal_unpaid
        parts.append(PeriodPart(state.period, *taken, paid_off_date=as_of if clears else None))
    return Allocation(parts, left)


def _rewritable(ordered: list[PeriodState], after: date) -> list[PeriodState]:
    """Untouched periods due after `after` and after every period that received a payment
    (allocation is oldest first, so these form the tail of the schedule)."""
    touched = [s.due_date for s in ordered if not s.untouched]
    after = max([after] + touched)
    return [s for s in ordered if s.untouched and s.due_date > after]


def _unchanged(state: PeriodState) -> ScheduleRow:
    return ScheduleRow(state.period, state.due_date, state.principal_due, state.interest_due)


def recompute_after_rate_change(periods: list[PeriodState], new_rate, effective_date: date,
                                method: str, *, start_date: date | None = None,
                                old_rate=None) -> list[ScheduleRow]:
    """The schedule after a rate change: every untouched period due after `effective_date`
    (and after the last period that received a payment) is recomputed at `new_rate` on the principal those periods still carry (the block is
    re-amortised by `method`, its last period absorbing rounding); every other period is
    returned unchanged. A monthly period due after the effective date bears the new rate for
    the whole month. A bullet loan's single period accrues `old_rate` from `start_date` (the
    loan's start, required for bullet) to the effective date and the new rate after it."""
    ordered = sorted(periods, key=lambda s: (s.due_date, s.period))
    block = _rewritable(ordered, effective_date)
    if not block:
        return [_unchanged(s) for s in ordered]
    principal = sum((s.principal_due for s in block), ZERO)
    if method == "bullet":
        if start_date is None:
            raise ValueError("a bullet loan's rate change needs the loan's start date")
        rate_before = new_rate if old_rate is None else old_rate
        new_rows = [_bullet_split(block[-1], principal, start_date, rate_before, new_rate, effective_date)]
    else:
        first = block[0]
        accrual_start = max((s.due_date for s in ordered if s.due_date < first.due_date),
                            default=start_date or add_months(first.due_date, -1))
        new_rows = amortize(principal, new_rate, [s.due_date for s in block], method,
                            accrual_start=accrual_start, loan_start=start_date,
                            first_period=first.period, recomputed=True)
        new_rows = [replace(row, period=s.period) for row, s in zip(new_rows, block)]
    by_period = {row.period: row for row in new_rows}
    return [by_period.get(s.period) or _unchanged(s) for s in ordered]


def _bullet_split(state: PeriodState, principal: Decimal, start_date: date, old_rate, new_rate,
                  effective_date: date) -> ScheduleRow:
    total = months_since(start_date, state.due_date)
    before = min(max(months_since(start_date, effective_date), Decimal(0)), total)
    with localcontext(Context(prec=_PRECISION)):
        interest = principal * (monthly_rate(old_rate) * before + monthly_rate(new_rate) * (total - before))
    return ScheduleRow(state.period, state.due_date, principal, money(interest), True)


def extension_due_dates(start_date: date, after: date, new_maturity: date) -> list[date]:
    """Monthly due dates (anniversaries of the loan's start) after `after`, ending exactly at
    `new_maturity` (a stub when the new maturity is not an anniversary)."""
    dates, k = [], 1
    while (due := add_months(start_date, k)) < new_maturity:
        if due > after:
            dates.append(due)
        k += 1
    return dates + [new_maturity]


def reschedule_for_extension(periods: list[PeriodState], new_maturity: date, rate, method: str, *,
                             start_date: date, as_of: date) -> list[ScheduleRow]:
    """The schedule after an extension (展期): the principal of every untouched period due
    after `as_of` (and after the last period that received a payment) is rescheduled by `method` to monthly periods ending at `new_maturity`;
    periods with any payment, and unpaid periods already due, never change. Raises
    ValueError when no untouched future period is left to reschedule."""
    ordered = sorted(periods, key=lambda s: (s.due_date, s.period))
    block = _rewritable(ordered, as_of)
    if not block:
        raise ValueError("no unpaid future period to reschedule")
    block_periods = {s.period for s in block}
    kept = [s for s in ordered if s.period not in block_periods]
    anchor = max((s.due_date for s in kept), default=start_date)
    if new_maturity <= anchor:
        raise ValueError("new maturity must follow the last kept period")
    principal = sum((s.principal_due for s in block), ZERO)
    new_rows = amortize(principal, rate, extension_due_dates(start_date, anchor, new_maturity), method,
                        accrual_start=anchor, loan_start=start_date, first_period=block[0].period,
                        recomputed=True)
    return [_unchanged(s) for s in kept] + new_rows
