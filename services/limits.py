"""The company's limits on a loan, read from the parameters admins set (系统管理 › 参数):
单笔贷款金额上限 (single-loan limit) and the bounds of models.bounds. The loan services
call these; forms show the same messages."""
from __future__ import annotations

from decimal import Decimal

from admin_app import settings
from models.bounds import money_problem
from services import BusinessError

SINGLE_LIMIT = "loan.single_limit"


def check_money(amount: Decimal, label: str) -> None:
    problem = money_problem(amount, label)
    if problem:
        raise BusinessError(problem)


def single_loan_limit() -> Decimal:
    return settings.get_decimal(SINGLE_LIMIT)


def check_principal(principal: Decimal) -> None:
    """A loan's principal: at most the single-loan limit."""
    check_money(principal, "贷款金额")
    limit = single_loan_limit()
    if principal > limit:
        raise BusinessError(f"贷款金额 {principal:,.2f} 元超过单笔贷款金额上限 {limit:,.2f} 元"
                            "(系统参数「单笔贷款金额上限」)")


# ---- 年化利率 ceiling ------------------------------------------------------------------------
RATE_CEILING, RATE_CEILING_BASIS = "loan.rate_ceiling", "loan.rate_ceiling_basis"
# A product's 年化利率 is shown for a reference loan of this size (the rate does not depend on it).
REFERENCE_PRINCIPAL = Decimal("10000.00")


def rate_ceiling() -> tuple[Decimal, str]:
    """The ceiling on 年化利率 (percent) and the basis text admins entered for it."""
    return settings.get_decimal(RATE_CEILING), settings.get_text(RATE_CEILING_BASIS)


def ceiling_refusal(annual: Decimal, what: str) -> str | None:
    ceiling, basis = rate_ceiling()
    if annual > ceiling:
        return f"{what}年化利率(IRR){annual:.2f}% 超过上限 {ceiling.normalize():f}%(依据:{basis})"
    return None


def schedule_annual_rate(principal, start, rows) -> Decimal:
    from models.irr import schedule_rate

    return schedule_rate(Decimal(principal), start, rows)


def check_schedule(principal, start, rows, what: str = "") -> Decimal:
    """年化利率 of a contract's schedule; refused above the ceiling."""
    annual = schedule_annual_rate(principal, start, rows)
    refusal = ceiling_refusal(annual, what)
    if refusal:
        raise BusinessError(refusal)
    return annual


def product_annual_rate(method: str, rate, min_term: int, max_term: int) -> Decimal:
    """The highest 年化利率 a product allows: its rate over the shortest and the longest term
    (a loan repaid at maturity yields less the longer it runs; instalment loans the same)."""
    from datetime import date

    from models.irr import schedule_rate
    from models.money import build_schedule

    start = date(2024, 1, 15)
    return max(schedule_rate(REFERENCE_PRINCIPAL, start,
                             build_schedule(REFERENCE_PRINCIPAL, Decimal(rate), term, start, method))
               for term in {int(min_term), int(max_term)})


def ceiling_note(what: str) -> str:
    """The line under a rate field: the ceiling and its basis."""
    ceiling, basis = rate_ceiling()
    return f"{what}不得超过 {ceiling.normalize():f}%(依据:{basis})"
