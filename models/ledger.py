"""The loan ledger engine: a loan's schedule and position as a pure function of its terms,
its dated entries and an as-of date. No database; services.ledger moves it in and out.

Entries (LoanEntry rows): disbursement, rate_change (effective date, new rate), extension
(date, new maturity), repayment (value date, amount, prepayment mode), reversal (of a
repayment), write_off (date), recovery (value date, amount, after a write-off), fee (date,
amount). `replay(terms, entries, as_of)` replays them in (date, posting order): rate changes
at their effective date whatever `as_of` (a future one shapes the future schedule only),
everything else when dated on or before `as_of`. A reversed repayment is left out; nothing
is ever deleted. A back-dated entry therefore simply replays the loan.

The rules (SPEC §4 Money; each is shown to the user where they act, see RULES):
- interest: a whole anniversary month at one rate and one balance bears balance × annual/12;
  any other stretch (a month split by a rate change or a prepayment, a stub, a settlement)
  bears balance × annual/360 per actual day (the daily rate of common Chinese contracts);
  each period's interest is summed exactly, then rounded half-up to the cent;
- a rate change applies from its effective date: periods due on or before it never change,
  the period containing it is split by days, amortising methods re-amortise the remaining
  principal from that period on at the new rate; on one day the last posted wins;
- penalty 罚息: each day t from the due date, unpaid principal × rate(t) × (1 + markup) / 360;
  复利 the same on unpaid interest (product switch); summed exactly per period, rounded to the
  cent as of the date asked; grace `from_due`: nothing while the period is within its grace
  days, beyond them from the due date; `deduct`: the grace days are never charged;
- allocation: for each period due on or before the value date, oldest first: penalty → 复利 →
  interest → principal; then fees. What is left, with any 预收余额 (advance) already held,
  is compared with the payoff (interest to the date, or the whole current period — product
  choice — plus the prepayment fee % of the prepaid principal): the exact payoff settles the
  loan; more than it is an excess the services refuse, naming the payoff; less than it is,
  by the repayment's choice (prepay_mode):
  - None / "advance" (按期还款, the default): held as the loan's 预收余额, never into interest
    not yet accrued; on each later due date (before that day's entries) the advance pays that
    period, interest then principal, until used; it earns and costs nothing;
  - "reduce" / "shorten" (提前还款): it and the advance held reduce the principal after what
    is due (缩短期限 keeps the instalment, 减少月供 keeps the term);
  a repayment's Parts.advance is what it added to (or, negative, drew from) the advance;
- write-off: the current period is cut at the write-off date, accrual stops, everything owed
  becomes the written-off claim, less the advance held (allocated over it like a repayment on
  the write-off date); recoveries are allocated like repayments over that claim.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Context, Decimal, localcontext

from .money import ZERO, _annuity, add_months, money

ENTRY_KINDS = {
    "disbursement": "放款", "rate_change": "利率调整", "extension": "展期", "repayment": "还款",
    "reversal": "冲正", "write_off": "核销", "recovery": "核销后收回", "fee": "费用",
}
PREPAY_MODES = {"reduce": "减少月供(期限不变)", "shorten": "缩短期限(月供不变)"}
# What money beyond what is due on the value date is for (the repayment form's choice; the
# stored prepay_mode is None for 按期还款).
ADVANCE = "advance"
REPAYMENT_CHOICES = {ADVANCE: "按期还款:余额作为预收款,到期日自动冲抵",
                     "reduce": "提前还款·减少月供", "shorten": "提前还款·缩短期限"}
GRACE_MODES = {"from_due": "宽限期内不计罚息,超过宽限期自到期日起计", "deduct": "扣除宽限天数后计罚息"}
SETTLE_MODES = {"to_date": "利息计至结清日", "period": "收取当期整期利息"}

# The conventions in the words the user reads under each form and in each preview.
RULES = {
    "interest": "计息规则:整月按月利率(年利率÷12)计息;不足一月、期内调息或提前还款的,按实际天数计息(日利率=年利率÷360)。",
    "rate_change": "利率调整自生效日起适用:生效日前到期的期次不变;生效日所在期次按天数分段计息;"
                   "以后各期按新利率计息(等额本息、等额本金按剩余本金重新计算)。同一天多次调整以最后一次为准。"
                   "生效日不得早于当前未还期次的起始日。",
    "penalty": "罚息:逾期本金每日按当日执行利率×(1+罚息上浮比例)÷360计收;复利:逾期利息按同一日利率计收。",
    "allocation": "还款冲抵顺序:按期次从早到晚,每期依次冲抵罚息、复利、利息、本金;不冲抵尚未产生的利息。"
                  "冲抵到期应还后的余额:选择按期还款的作为预收款,选择提前还款的冲减本金。",
    "advance": "按期还款(默认):冲抵还款日已到期的应还款后,余额作为预收款(预收余额)保存,不计息、不收费;"
               "以后每个到期日先以预收余额冲抵当期利息、再冲抵当期本金,直至用完。"
               "还款金额连同预收余额达到当日结清金额的,按提前结清处理。提前结清试算扣减已收预收款。",
    "prepayment": "提前还款:结清时利息计至结清日(或按产品约定收取当期整期利息),不收以后各期利息,"
                  "另按产品费率收取提前还款违约金(按提前偿还的本金计);部分提前还款冲减本金,可选缩短期限或减少月供;"
                  "超过结清金额的还款不予受理。",
    "extension": "展期:展期日所在期次及以后的未到期本金按原还款方式重新安排至新到期日,利息按月计收,不足一月按天计息。",
    "write_off": "核销(账销案存):核销日停止计息和计收罚息,核销时的本金、利息、罚息(先以预收余额冲抵)转为表外继续追索,"
                 "核销后收回按罚息、复利、利息、本金顺序冲抵。",
    "backdated": "补登的历史日期还款按还款日期重新计算整笔贷款;系统保存的各项数据始终为截至今日的数据。",
}

_CTX = Context(prec=60)
D0 = Decimal(0)
ONE_DAY = timedelta(days=1)
# basis units stored in the database: yuan × percent × days × 10^6 (an integer while rates
# have at most 4 decimals)
BASIS_SCALE = Decimal(10) ** 6


@dataclass(frozen=True)
class Terms:
    principal: Decimal
    rate: Decimal  # the contract rate at disbursement (annual percent)
    start_date: date
    term_months: int
    method: str
    markup: Decimal = Decimal(50)  # penalty markup, percent
    grace_days: int = 0
    grace_mode: str = "from_due"
    compound: bool = True
    settle_interest: str = "to_date"
    prepay_fee_pct: Decimal = ZERO


@dataclass(frozen=True)
class Entry:
    seq: int  # posting order (the entry id)
    kind: str
    value_date: date
    amount: Decimal | None = None
    rate: Decimal | None = None
    new_maturity: date | None = None
    prepay_mode: str | None = None
    reverses: int | None = None


@dataclass
class Parts:
    """What one repayment / recovery paid, by kind."""

    penalty: Decimal = ZERO
    compound: Decimal = ZERO
    interest: Decimal = ZERO
    principal: Decimal = ZERO
    fee: Decimal = ZERO
    excess: Decimal = ZERO  # what nothing could take (the services refuse such a posting)
    advance: Decimal = ZERO  # added to the 预收余额 (negative: drawn from it by a prepayment)
    settled: bool = False

    @property
    def total(self) -> Decimal:
        return self.penalty + self.compound + self.interest + self.principal + self.fee


@dataclass
class Period:
    number: int
    start: date
    due: date
    principal: Decimal
    # the scheduled balance bearing interest: (from date, balance) within [start, due)
    balances: list = field(default_factory=list)
    interest_fixed: Decimal | None = None  # set when settlement / write-off cut the period
    interest: Decimal = ZERO  # filled at the end of the replay
    paid_penalty: Decimal = ZERO
    paid_compound: Decimal = ZERO
    paid_interest: Decimal = ZERO
    paid_principal: Decimal = ZERO
    # (date, unpaid principal, unpaid interest) after each payment to this period
    changes: list = field(default_factory=list)
    cleared_on: date | None = None
    recomputed: bool = False
    prepaid: Decimal = ZERO  # principal prepaid while this period ran (counted as paid)
    # as of the replay date:
    penalty: Decimal = ZERO
    compound: Decimal = ZERO
    penalty_basis: Decimal = ZERO  # yuan × percent × days, up to basis_to
    compound_basis: Decimal = ZERO
    basis_to: date | None = None

    @property
    def principal_unpaid(self) -> Decimal:
        return self.principal - self.paid_principal

    @property
    def interest_unpaid(self) -> Decimal:
        return self.interest - self.paid_interest

    @property
    def penalty_owed(self) -> Decimal:
        return max(self.penalty - self.paid_penalty, ZERO)

    @property
    def compound_owed(self) -> Decimal:
        return max(self.compound - self.paid_compound, ZERO)


@dataclass
class Fee:
    seq: int
    on: date
    amount: Decimal
    paid: Decimal = ZERO


@dataclass
class Book:
    """The loan as replayed up to `as_of`."""

    terms: Terms
    as_of: date
    periods: list
    parts: dict  # entry seq -> Parts
    fees: list
    rates: list  # [(effective date, seq, rate)]
    settled_on: date | None = None
    written_off_on: date | None = None
    maturity: date | None = None
    advance: Decimal = ZERO  # 预收余额 held on `as_of`

    def rate_on(self, day: date) -> Decimal:
        return _rate_on(self.rates, day)

    @property
    def current_rate(self) -> Decimal:
        return self.rate_on(self.as_of)

    @property
    def status(self) -> str:
        if self.written_off_on is not None:
            return "written_off"
        if self.settled_on is not None:
            return "settled"
        return "overdue" if self.overdue_periods() else "open"

    def overdue_periods(self) -> list:
        """Periods past due and unpaid; on a written-off loan the whole claim falls due on
        the write-off date (the period cut there included, from that day on)."""
        written_off = self.written_off_on is not None
        return [p for p in self.periods if p.cleared_on is None
                and (p.due < self.as_of or (written_off and p.due <= self.as_of))
                and (p.principal_unpaid > 0 or p.interest_unpaid > 0)]

    def position(self) -> dict:
        """The figures stored on the loan and shown everywhere, as of `as_of`."""
        overdue = self.overdue_periods()
        open_periods = [p for p in self.periods if p.cleared_on is None]
        current = self.current_period()
        return {
            "as_of": self.as_of,
            "status": self.status,
            "rate": self.current_rate,
            "outstanding_principal": sum((p.principal_unpaid for p in self.periods), ZERO),
            "overdue_principal": sum((p.principal_unpaid for p in overdue), ZERO),
            "overdue_interest": sum((p.interest_unpaid for p in overdue), ZERO),
            "days_overdue": max(((self.as_of - p.due).days for p in overdue), default=0),
            "penalty": sum((p.penalty_owed for p in open_periods), ZERO),
            "compound": sum((p.compound_owed for p in open_periods), ZERO),
            "accrued_interest": self.accrued_interest(current) if current is not None else ZERO,
            "fees": sum((f.amount - f.paid for f in self.fees), ZERO),
            "advance": self.advance,
            "settled_on": self.settled_on,
            "written_off_on": self.written_off_on,
            "maturity": self.maturity,
        }

    def current_period(self):
        """The period running on `as_of` (start <= as_of < due), if the loan is open."""
        if self.settled_on or self.written_off_on:
            return None
        for p in self.periods:
            if p.start <= self.as_of < p.due:
                return p
        return None

    def accrued_interest(self, period) -> Decimal:
        return money(_interest(self, period, period.start, self.as_of, whole_months=True))

    def quote(self) -> dict:
        """提前结清试算: what settles the loan on `as_of` (nothing paid that day counted twice)."""
        due = [p for p in self.periods if p.due <= self.as_of and p.cleared_on is None]
        current = self.current_period()
        later = [p for p in self.periods if p.due > self.as_of]
        principal = sum((p.principal_unpaid for p in due), ZERO)
        interest = sum((p.interest_unpaid for p in due), ZERO)
        prepaid = sum((p.principal_unpaid for p in later), ZERO)
        accrued = ZERO
        if current is not None:
            accrued = (current.interest if self.terms.settle_interest == "period"
                       else self.accrued_interest(current))
        fee = money(prepaid * Decimal(self.terms.prepay_fee_pct) / 100) if current is not None else ZERO
        open_periods = [p for p in self.periods if p.cleared_on is None]
        penalty = sum((p.penalty_owed for p in open_periods), ZERO)
        compound = sum((p.compound_owed for p in open_periods), ZERO)
        fees = sum((f.amount - f.paid for f in self.fees), ZERO)
        out = {
            "date": self.as_of,
            "principal": principal + prepaid,
            "interest": interest + accrued,
            "penalty": penalty,
            "compound": compound,
            "fee": fee + fees,
            "advance": self.advance,  # 已收预收款, deducted
        }
        out["total"] = sum((out[k] for k in ("principal", "interest", "penalty", "compound", "fee")), ZERO) \
            - self.advance
        return out


# ------------------------------------------------------------------------------ helpers

def penalty_of(basis: Decimal, markup) -> Decimal:
    """A penalty basis (yuan × percent × days) in yuan: × (100 + markup) / 3,600,000, the
    division last (as the job's SQL), so an exact half cent rounds up (1,800 × 130 / 3,600,000
    = 0.065 -> 0.07, where a factor 130 / 3,600,000 rounded to 60 digits gave 0.06)."""
    with localcontext(_CTX):
        return money(basis * (100 + Decimal(markup)) / 3600000)


def _rate_on(rates: list, day: date) -> Decimal:
    if len(rates) == 1:  # one rate for the whole life (most loans): no search
        return rates[0][2]
    index = bisect_right([r[0] for r in rates], day) - 1
    return rates[max(index, 0)][2]


def _days(a: date, b: date) -> int:
    return (b - a).days


def _anniversaries(start: date, a: date, b: date) -> list[date]:
    """Anniversaries of `start` strictly inside (a, b)."""
    out, k = [], 0
    # jump near `a` first
    k = max((a.year - start.year) * 12 + a.month - start.month - 1, 0)
    while (d := add_months(start, k)) < b:
        if d > a:
            out.append(d)
        k += 1
    return out


def _is_anniversary(start: date, day: date) -> bool:
    k = (day.year - start.year) * 12 + day.month - start.month
    return k >= 0 and add_months(start, k) == day


def _balance_on(period: Period, day: date) -> Decimal:
    value = period.balances[0][1]
    for since, balance in period.balances:
        if since <= day:
            value = balance
    return value


def _interest(book, period: Period, a: date, b: date, whole_months: bool = True) -> Decimal:
    """Exact interest of `period` over [a, b): per anniversary month, balance × rate / 1200
    when the month is whole and neither balance nor rate changes in it, else per day / 36000."""
    if b <= a:
        return D0
    start = book.terms.start_date
    cuts = [a] + _anniversaries(start, a, b) + [b]
    total = D0
    with localcontext(_CTX):
        for m0, m1 in zip(cuts, cuts[1:]):
            points = {m0, m1}
            # only where the balance or the rate really changes (a change to the same rate
            # leaves a whole month whole)
            points.update(d for d, _ in period.balances
                          if m0 < d < m1 and _balance_on(period, d) != _balance_on(period, d - ONE_DAY))
            points.update(r[0] for r in book.rates
                          if m0 < r[0] < m1 and book.rate_on(r[0]) != book.rate_on(r[0] - ONE_DAY))
            points = sorted(points)
            whole = (whole_months and len(points) == 2 and _is_anniversary(start, m0)
                     and _is_anniversary(start, m1) and m1 == _next_anniversary(start, m0))
            if whole:
                total += _balance_on(period, m0) * book.rate_on(m0) / 1200
                continue
            for s0, s1 in zip(points, points[1:]):
                total += _balance_on(period, s0) * book.rate_on(s0) * _days(s0, s1) / 36000
    return total


def _next_anniversary(start: date, day: date) -> date:
    k = (day.year - start.year) * 12 + day.month - start.month
    while add_months(start, k) <= day:
        k += 1
    return add_months(start, k)


# --------------------------------------------------------------------------- schedules

def _amortise(balance: Decimal, rate: Decimal, count: int, method: str, *, payment=None,
              share=None) -> list[Decimal]:
    """Principal of each of `count` periods repaying `balance` (the last absorbs rounding),
    as models.money.build_schedule does for whole months."""
    if count <= 0:
        return []
    monthly = rate / 1200
    parts, left = [], balance
    if method == "equal_installment" and payment is None:
        payment = _annuity(balance, monthly, count)
    if method == "equal_principal" and share is None:
        share = money(balance / count)
    for index in range(count):
        if index == count - 1:
            part = left
        elif method == "equal_installment":
            interest = money(left * monthly)
            part = min(max(payment - interest, ZERO), left)
        elif method == "equal_principal":
            part = min(share, left)
        else:
            part = ZERO
        parts.append(part)
        left -= part
    return parts


def _shortened_count(balance: Decimal, rate: Decimal, method: str, plan: dict, limit: int) -> int:
    """Periods needed to repay `balance` keeping the instalment (等额本息) or the principal
    share (等额本金) of the current plan (缩短期限)."""
    monthly = rate / 1200
    if method == "equal_installment":
        payment, left = plan.get("payment"), balance
        for count in range(1, limit + 1):
            interest = money(left * monthly)
            if payment is None or payment - interest >= left or payment <= interest:
                return count if payment is not None and payment > interest else limit
            left -= payment - interest
        return limit
    if method == "equal_principal":
        share = plan.get("share")
        if not share or share <= 0:
            return limit
        count = int((balance / share).to_integral_value(rounding="ROUND_CEILING"))
        return max(1, min(count, limit))
    return limit


class _Replay:
    def __init__(self, terms: Terms, rates: list, as_of: date):
        self.t = terms
        self.rates = rates
        self.as_of = as_of
        self.parts: dict = {}
        self.fees: list = []
        self.settled_on = None
        self.written_off_on = None
        self.advance = ZERO
        self.plan: dict = {}
        start = terms.start_date
        dues = [add_months(start, k) for k in range(1, terms.term_months + 1)]
        if terms.method == "bullet":
            dues = dues[-1:]
        self.periods: list[Period] = []
        self._replan(start, money(terms.principal), dues, from_index=0, rate=terms.rate, prev_due=start)

    # -- plan ------------------------------------------------------------------------------
    rate_on = Book.rate_on

    def _replan(self, on: date, balance: Decimal, dues: list[date], *, from_index: int, rate,
                prev_due: date, mode: str = "reduce", recomputed: bool = False) -> None:
        """Periods from index `from_index` re-amortise `balance` on `dues` from `on`."""
        method = self.t.method
        if mode == "shorten" and method in ("equal_installment", "equal_principal"):
            count = _shortened_count(balance, rate, method, self.plan, len(dues))
            dues = dues[:count]
            parts = _amortise(balance, rate, count, method, payment=self.plan.get("payment"),
                              share=self.plan.get("share"))
        else:
            parts = _amortise(balance, rate, len(dues), method)
            monthly = rate / 1200
            with localcontext(_CTX):
                self.plan = {"payment": _annuity(balance, monthly, len(dues)) if method == "equal_installment" and dues else None,
                             "share": money(balance / len(dues)) if dues else None}
        kept = self.periods[:from_index]
        current = self.periods[from_index] if from_index < len(self.periods) else None
        new, left = [], balance
        for i, (due, part) in enumerate(zip(dues, parts)):
            if i == 0 and current is not None:
                period = current
                period.due, period.principal, period.recomputed = due, part, recomputed or period.recomputed
                if _balance_on(period, on) != left:
                    period.balances = [b for b in period.balances if b[0] < on] + [(on, left)]
            else:
                start = new[-1].due if new else prev_due
                period = Period(from_index + i + 1, start, due, part, balances=[(start, left)],
                                recomputed=recomputed)
            new.append(period)
            left -= part
        self.periods = kept + new

    def _current_index(self, day: date):
        for i, p in enumerate(self.periods):
            if p.start <= day < p.due:
                return i
        return None

    def _open(self) -> bool:
        return self.settled_on is None and self.written_off_on is None

    # -- penalty -----------------------------------------------------------------------------
    def _accrual_start(self, p: Period) -> date:
        if self.t.grace_mode == "deduct":
            return p.due + timedelta(days=int(self.t.grace_days))
        return p.due

    def _basis(self, p: Period, upto: date):
        """(penalty basis, 复利 basis, last change date used) of `p` over [accrual start, upto)."""
        a = self._accrual_start(p)
        end = upto if self.written_off_on is None else min(upto, self.written_off_on)
        if p.cleared_on is not None:
            end = min(end, p.cleared_on)
        if end <= a:
            return D0, D0, None
        points = {a, end}
        points.update(d for d, _, _ in p.changes if a < d < end)
        points.update(r[0] for r in self.rates if a < r[0] < end)
        points = sorted(points)
        pen = comp = D0
        with localcontext(_CTX):
            for s0, s1 in zip(points, points[1:]):
                unpaid_p, unpaid_i = p.principal, p.interest
                for d, up, ui in p.changes:
                    if d <= s0:
                        unpaid_p, unpaid_i = up, ui
                r = _rate_on(self.rates, s0)
                days = _days(s0, s1)
                pen += unpaid_p * r * days
                comp += unpaid_i * r * days
        last = max((d for d, _, _ in p.changes if a < d), default=None)
        return pen, comp, last

    def _penalties(self, p: Period, on: date, basis=None) -> tuple[Decimal, Decimal]:
        """Penalty and 复利 accrued on `p` up to `on` (before deducting what was paid);
        `basis`: self._basis(p, on) when the caller has it already."""
        if p.due >= on and p.cleared_on is None:
            return ZERO, ZERO
        end = p.cleared_on if p.cleared_on is not None and p.cleared_on <= on else on
        if self.t.grace_mode == "from_due" and (end - p.due).days <= int(self.t.grace_days):
            return ZERO, ZERO
        pen, comp, _ = basis if basis is not None else self._basis(p, on)
        return penalty_of(pen, self.t.markup), (penalty_of(comp, self.t.markup) if self.t.compound else ZERO)

    # -- events ------------------------------------------------------------------------------
    def apply(self, e: Entry) -> None:
        handler = getattr(self, "_on_" + e.kind, None)
        if handler is not None:
            handler(e)

    def _fix_interest(self, upto: date) -> None:
        """Fill the interest of periods due on or before `upto` (fixed from then on)."""
        book = self._book_view()
        for p in self.periods:
            if p.due <= upto and not getattr(p, "_fixed", False):
                p.interest = (p.interest_fixed if p.interest_fixed is not None
                              else money(_interest(book, p, p.start, p.due)))
                p._fixed = True
                if p.interest == 0 and p.principal == 0 and p.cleared_on is None:
                    p.cleared_on = p.due

    def _book_view(self):
        return _View(self.t, self.rates)

    def _on_rate_change(self, e: Entry) -> None:
        if not self._open():
            return
        self._fix_interest(e.value_date)
        i = self._current_index(e.value_date)
        if i is None or self.t.method in ("interest_first", "bullet"):
            return
        p = self.periods[i]
        balance = _balance_on(p, e.value_date)
        self._replan(e.value_date, balance, [q.due for q in self.periods[i:]], from_index=i,
                     rate=Decimal(e.rate), prev_due=p.start, recomputed=True)

    def _on_extension(self, e: Entry) -> None:
        if not self._open() or e.new_maturity is None:
            return
        self._fix_interest(e.value_date)
        i = self._current_index(e.value_date)
        if i is None:
            return
        p = self.periods[i]
        if self.t.method == "bullet":
            dues = [e.new_maturity]
        else:
            dues = _anniversaries(self.t.start_date, p.start, e.new_maturity) + [e.new_maturity]
        balance = _balance_on(p, e.value_date)
        self._replan(e.value_date, balance, dues, from_index=i, rate=_rate_on(self.rates, e.value_date),
                     prev_due=p.start, recomputed=True)

    def _on_fee(self, e: Entry) -> None:
        self.fees.append(Fee(e.seq, e.value_date, money(e.amount or 0)))

    def _on_write_off(self, e: Entry) -> None:
        if not self._open():
            return
        w = e.value_date
        self._fix_interest(w)
        i = self._current_index(w)
        if i is not None:
            p = self.periods[i]
            rest = sum((q.principal for q in self.periods[i:]), ZERO)
            p.interest_fixed = money(_interest(self._book_view(), p, p.start, w))
            p.due, p.principal = w, rest
            self.periods = self.periods[:i + 1]
            self._fix_interest(w)
        self.written_off_on = w
        if self.advance > 0:
            # the advance held pays what is owed on the write-off date first
            self.advance = self._allocate(w, self.advance, Parts())

    def _on_recovery(self, e: Entry) -> None:
        self._on_repayment(e)

    def _on_repayment(self, e: Entry) -> None:
        p_day = e.value_date
        parts = Parts()
        self.parts[e.seq] = parts
        left = money(e.amount or 0)
        if self.settled_on is not None:
            parts.excess = left
            return
        self._fix_interest(p_day)
        left = self._allocate(p_day, left, parts)
        for f in self.fees:
            if left <= 0:
                break
            if f.on <= p_day and f.paid < f.amount:
                t = min(left, f.amount - f.paid)
                f.paid += t
                parts.fee += t
                left -= t
        if left > 0 and self._open():
            left = self._beyond_due(p_day, left, e.prepay_mode or ADVANCE, parts)
        if self._open() and all(p.cleared_on is not None for p in self.periods) \
                and all(f.paid >= f.amount for f in self.fees):
            parts.settled = True  # the last cent of the last period settles the loan
            self.settled_on = p_day
        parts.excess = left

    def _allocate(self, day: date, left: Decimal, parts: Parts) -> Decimal:
        """Pay what is owed on `day` for periods due on or before it, oldest first: penalty →
        复利 → interest → principal. Returns what is left."""
        for p in self.periods:
            if left <= 0:
                break
            if p.due > day or p.cleared_on is not None:
                continue
            penalty, compound = self._penalties(p, day)
            owed = (max(penalty - p.paid_penalty, ZERO), max(compound - p.paid_compound, ZERO),
                    p.interest_unpaid, p.principal_unpaid)
            take = []
            for amount in owed:
                t = min(left, amount)
                take.append(t)
                left -= t
            if not any(take):
                continue
            p.paid_penalty += take[0]
            p.paid_compound += take[1]
            p.paid_interest += take[2]
            p.paid_principal += take[3]
            parts.penalty += take[0]
            parts.compound += take[1]
            parts.interest += take[2]
            parts.principal += take[3]
            p.changes.append((day, p.principal_unpaid, p.interest_unpaid))
            if p.principal_unpaid <= 0 and p.interest_unpaid <= 0:
                p.cleared_on = day
        return left

    def apply_advance(self, upto: date) -> None:
        """The 预收余额 pays each period falling due on or before `upto`, on its due date,
        interest then principal (the day-end batch deduction)."""
        if self.advance <= 0 or not self._open():
            return
        for p in self.periods:
            if self.advance <= 0 or p.due > upto:
                break
            if p.cleared_on is not None:
                continue
            self._fix_interest(p.due)
            if p.cleared_on is not None:
                continue
            interest = min(self.advance, p.interest_unpaid)
            principal = min(self.advance - interest, p.principal_unpaid)
            if not interest and not principal:
                continue
            p.paid_interest += interest
            p.paid_principal += principal
            self.advance -= interest + principal
            p.changes.append((p.due, p.principal_unpaid, p.interest_unpaid))
            if p.principal_unpaid <= 0 and p.interest_unpaid <= 0:
                p.cleared_on = p.due
        if all(p.cleared_on is not None for p in self.periods) and all(f.paid >= f.amount for f in self.fees):
            self.settled_on = max(p.cleared_on for p in self.periods)

    def _beyond_due(self, day: date, left: Decimal, mode: str, parts: Parts) -> Decimal:
        """`left` (beyond what is due on `day`) with the advance held: settles the loan at the
        exact payoff, is held as advance (按期还款) or prepays principal (提前还款). Returns
        the excess (nothing taken)."""
        i = self._current_index(day)
        if i is None:
            return left
        p = self.periods[i]
        balance = _balance_on(p, day)
        accrued = (money(_interest(self._book_view(), p, p.start, p.due)) if self.t.settle_interest == "period"
                   else money(_interest(self._book_view(), p, p.start, day)))
        fee_pct = Decimal(self.t.prepay_fee_pct)
        payoff = accrued + balance + money(balance * fee_pct / 100)
        amount = left + self.advance
        if amount > payoff:
            return left
        if amount == payoff:
            p.interest_fixed = accrued
            p.due, p.principal = day, balance
            self.periods = self.periods[:i + 1]
            self._fix_interest(day)
            p.paid_interest, p.paid_principal = accrued, balance
            p.changes.append((day, ZERO, ZERO))
            p.cleared_on = day
            parts.interest += accrued
            parts.principal += balance
            parts.fee += payoff - accrued - balance
            parts.advance -= self.advance
            self.advance = ZERO
            parts.settled = True
            self.settled_on = day
            return ZERO
        if mode not in PREPAY_MODES:
            parts.advance += left
            self.advance += left
            return ZERO
        with localcontext(_CTX):
            prepaid = money(amount * 100 / (100 + fee_pct))
        if prepaid >= balance:
            return left  # would clear the principal but not the interest: refused
        parts.principal += prepaid
        parts.fee += amount - prepaid
        parts.advance -= self.advance
        self.advance = ZERO
        dues = [q.due for q in self.periods[i:]]
        self._replan(day, balance - prepaid, dues, from_index=i, rate=_rate_on(self.rates, day),
                     prev_due=p.start, mode=mode, recomputed=True)
        self.periods[i].prepaid += prepaid
        return ZERO

    # -- result --------------------------------------------------------------------------------
    def finish(self) -> Book:
        self.apply_advance(self.as_of)
        self._fix_interest(date.max)
        as_of = self.as_of
        for p in self.periods:
            if p.due < as_of or p.cleared_on is not None:
                upto = as_of if p.cleared_on is None else p.cleared_on
                basis = self._basis(p, upto)  # computed once when the penalty needs the same
                p.penalty, p.compound = self._penalties(p, as_of, basis if upto == as_of else None)
                pen, comp, last = basis
                if last is not None:
                    p.penalty_basis, p.compound_basis, _ = self._basis(p, last)
                    p.basis_to = last
        # settled loans: the maturity is the settlement date
        maturity = self.periods[-1].due if self.periods else self.t.start_date
        return Book(self.t, as_of, self.periods, self.parts, self.fees, self.rates,
                    self.settled_on, self.written_off_on, maturity, self.advance)


@dataclass(frozen=True)
class _View:
    terms: Terms
    rates: list

    def rate_on(self, day):
        return _rate_on(self.rates, day)


def rate_timeline(terms: Terms, entries) -> list:
    reversed_seqs = {e.reverses for e in entries if e.kind == "reversal"}
    changes = [(e.value_date, e.seq, Decimal(e.rate)) for e in entries
               if e.kind == "rate_change" and e.seq not in reversed_seqs]
    return [(terms.start_date, -1, Decimal(terms.rate))] + sorted(changes, key=lambda r: (r[0], r[1]))


def replay(terms: Terms, entries, as_of: date) -> Book:
    """The loan replayed from its entries, as of `as_of`."""
    reversed_seqs = {e.reverses for e in entries if e.kind == "reversal"}
    rates = rate_timeline(terms, entries)
    run = _Replay(terms, rates, as_of)
    events = sorted((e for e in entries
                     if e.seq not in reversed_seqs and e.kind not in ("reversal", "disbursement")
                     and (e.kind == "rate_change" or e.value_date <= as_of)),
                    key=lambda e: (e.value_date, e.seq))
    for e in events:
        run.apply_advance(min(e.value_date, as_of))  # due dates up to the entry's, before it
        run.apply(e)
    return run.finish()
