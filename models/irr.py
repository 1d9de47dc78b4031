"""年化利率: the internal rate of return (IRR) of a contract's cash flows, annualised the way
Chinese lenders state it (人民银行公告〔2021〕第3号: 复利法 / IRR): the monthly rate i that
discounts the flows to zero, times 12.

Flows are (month, amount) pairs: the disbursement at month 0 as a negative amount, each
instalment (principal + interest) at its due date, in months from the start (whole monthly
anniversaries plus remaining days as thirtieths: models.money.months_since). An equal-
instalment loan at 12% therefore shows 12.00%; a loan repaid all at maturity shows less than
its nominal rate (interest paid late is worth less), a rate change or extension moves it.

The rate is a ratio, not money: it is solved in binary floating point to 1e-12 (fast enough for
every 贷款详情) and returned as a Decimal percent rounded half-up to 0.01."""
from __future__ import annotations

import math
from functools import lru_cache
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable

PERCENT_PLACES = Decimal("0.01")


class NoRate(ValueError):
    """The flows have no rate of return (all one sign, or nothing repaid)."""


def _npv(rate: float, flows: list[tuple[float, float]]) -> float:
    base = 1.0 + rate
    return math.fsum(a / base ** t for t, a in flows)


def monthly_irr(flows: Iterable[tuple]) -> float:
    """The monthly rate at which the flows' present value is zero (bisection on a bracket,
    which exists when the disbursement is the only outflow)."""
    pts = [(float(t), float(a)) for t, a in flows if a]
    if not any(a < 0 for _, a in pts) or not any(a > 0 for _, a in pts):
        raise NoRate("现金流没有收益率")
    low, high = -0.99, 1.0
    f_low = _npv(low, pts)
    while _npv(high, pts) * f_low > 0:
        high *= 2
        if high > 1e6:
            raise NoRate("现金流没有收益率")
    for _ in range(200):
        mid = (low + high) / 2
        f_mid = _npv(mid, pts)
        if f_mid == 0 or high - low < 1e-13:
            return mid
        if (f_mid > 0) == (f_low > 0):
            low, f_low = mid, f_mid
        else:
            high = mid
    return (low + high) / 2


def annual_percent(flows: Iterable[tuple]) -> Decimal:
    """年化利率 in percent (12 × the monthly IRR), rounded half-up to 0.01."""
    return _annual_percent(tuple(flows))


@lru_cache(maxsize=4096)
def _annual_percent(flows: tuple) -> Decimal:
    # Memoised on the flows themselves: 贷款详情 shows the same schedule's rate on every view
    # (the solve was about a tenth of the page's time); a changed schedule is a new key.
    i = monthly_irr(flows)
    return (Decimal(repr(i)) * 1200).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)


def schedule_flows(principal: Decimal, start: date, rows: Iterable) -> list[tuple[Decimal, Decimal]]:
    """The contract's flows: `principal` out at `start`, each row's principal + interest in at
    its due date. `rows` carry due_date and (principal, interest) or (principal_due,
    interest_due)."""
    from models.money import months_since

    flows = [(Decimal(0), -Decimal(principal))]
    for row in rows:
        p = getattr(row, "principal_due", None)
        if p is None:
            p, i = row.principal, row.interest
        else:
            i = row.interest_due
        flows.append((months_since(start, row.due_date), Decimal(p) + Decimal(i)))
    return flows


def schedule_rate(principal: Decimal, start: date, rows: Iterable) -> Decimal:
    """年化利率 of a schedule (a loan's installments, or a preview's rows)."""
    return annual_percent(schedule_flows(principal, start, rows))
