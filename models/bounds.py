"""Bounds on what users enter (SPEC §4 Money, bounds), declared once and read by the forms,
the services and the database CHECKs:

- money: at most 1,000,000,000,000.00 (10^12) and two decimals;
- rates: annual percentages with at most four decimals;
- dates: from 2000-01-01; an event date (a repayment, a visit, a loan's start) no later than
  today, a date that may lie ahead (an effective date, a promise, a follow-up) at most one
  year ahead, and the end of a term (an expiry) at most thirty years ahead;
- a loan's principal: at most the single-loan limit (parameter 单笔贷款金额上限).

Pure rules here (models' CHECK constraints use the SQL builders below); the form side is
admin_app.bounds."""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

MONEY_MAX = Decimal("1000000000000")
MONEY_MAX_TEXT = "1,000,000,000,000.00"
RATE_PLACES = 4
MONEY_PLACES = 2
EARLIEST = date(2000, 1, 1)

PAST, NEAR_FUTURE, TERM_END = "past", "near_future", "term_end"
_AHEAD_YEARS = {PAST: 0, NEAR_FUTURE: 1, TERM_END: 30}
_AHEAD_TEXT = {PAST: "今天", NEAR_FUTURE: "一年后", TERM_END: "三十年后"}


def business_today() -> date:
    from admin_app.clock import business_date  # the app's one business date

    return business_date()


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def money_problem(value, label: str = "金额") -> str | None:
    """Why `value` is not an acceptable amount of money, or None."""
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return f"{label}格式不正确"
    if not amount.is_finite():
        return f"{label}格式不正确"
    if abs(amount) > MONEY_MAX:
        return f"{label}不能超过 {MONEY_MAX_TEXT} 元"
    if _places(amount) > MONEY_PLACES:
        return f"{label}最多保留两位小数"
    return None


def rate_problem(value, label: str = "年利率") -> str | None:
    try:
        rate = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return f"{label}格式不正确"
    if not rate.is_finite():
        return f"{label}格式不正确"
    if _places(rate) > RATE_PLACES:
        return f"{label}最多保留四位小数"
    return None


def date_problem(value: date, kind: str = PAST, label: str = "日期", today: date | None = None) -> str | None:
    today = today or business_today()
    years = _AHEAD_YEARS[kind]
    latest = today if not years else _years_after(today, years)
    if value < EARLIEST:
        return f"{label}不能早于 {EARLIEST:%Y-%m-%d}"
    if value > latest:
        return f"{label}不能晚于{_AHEAD_TEXT[kind]}({latest:%Y-%m-%d})"
    return None


# Date columns a user enters, by kind (any other date column a form shows: NEAR_FUTURE).
DATE_KINDS = {
    "Loan.start_date": PAST,
    "Repayment.paid_on": PAST,
    "Inspection.inspected_on": PAST,
    "Collateral.start_date": PAST,
    "CreditLine.start_date": PAST,
    "Collateral.expiry_date": TERM_END,
    "CreditLine.expiry_date": TERM_END,
    "Loan.maturity_date": TERM_END,
}



# ---- SQL of the CHECK constraints (SQLite and PostgreSQL alike) ----------------------
def money_check(*columns: str) -> str:
    """The SQL of a CHECK keeping money columns within 10^12 and two decimals."""
    return " AND ".join(f"({c} IS NULL OR (ABS({c}) <= 1000000000000 AND ROUND({c}, 2) = {c}))"
                        for c in columns)


def rate_check(*columns: str) -> str:
    return " AND ".join(f"({c} IS NULL OR ROUND({c}, 4) = {c})" for c in columns)


def date_check(*columns: str) -> str:
    return " AND ".join(f"({c} IS NULL OR {c} >= '2000-01-01')" for c in columns)


# Each table's bounds CHECK: (table, constraint name, SQL). The models declare these; the
# migration that added them (b9d1e3f5a7c2) carries the same SQL.
BOUND_CHECKS = {
    "loan": ("ck_loan_bounds", money_check("principal", "outstanding_principal") + " AND "
             + rate_check("rate") + " AND " + date_check("start_date")),
    "repayment": ("ck_repayment_bounds", money_check("amount")),
    "rate_change": ("ck_rate_change_bounds", rate_check("new_rate") + " AND " + date_check("effective_date")),
    "loan_product": ("ck_product_bounds", rate_check("min_rate", "default_rate", "max_rate", "penalty_markup")),
    "guarantor": ("ck_guarantor_bounds", money_check("guaranteed_amount")),
    "collateral": ("ck_collateral_bounds", money_check("value") + " AND " + date_check("start_date", "expiry_date")),
    "credit_line": ("ck_credit_line_bounds", money_check("amount") + " AND " + date_check("start_date", "expiry_date")),
    "write_off": ("ck_write_off_bounds", money_check("principal_amount", "interest_amount")),
    "collection": ("ck_collection_bounds", money_check("promised_amount")),
}


def bound_check(table: str):
    """The CheckConstraint of `table`'s bounds, for its model's __table_args__."""
    from sqlalchemy import CheckConstraint

    name, sql = BOUND_CHECKS[table]
    return CheckConstraint(sql, name=name)
