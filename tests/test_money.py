"""The money engine with figures checked by hand (see the comment beside each)."""
from datetime import date
from decimal import Decimal as D

import pytest

from models.money import (PeriodState, add_months, allocate, build_schedule, months_since,
                          penalty_for, period_penalty, recompute_after_rate_change,
                          reschedule_for_extension)

START = date(2024, 1, 15)


def states(rows, paid_periods=()):
    """Schedule rows as period states; the listed periods fully paid."""
    return [PeriodState(r.period, r.due_date, r.principal, r.interest,
                        r.principal if r.period in paid_periods else D("0"),
                        r.interest if r.period in paid_periods else D("0")) for r in rows]


# ------------------------------------------------------------------ schedules

def test_equal_installment_120000_at_12pct_over_12_months_pays_10661_85():
    rows = build_schedule(D("120000"), D("12"), 12, START, "equal_installment")
    assert len(rows) == 12
    # annuity 120000 × 0.01 × 1.01^12 / (1.01^12 − 1) = 10661.8546 -> 10661.85
    assert all(r.total == D("10661.85") for r in rows[:-1])
    assert (rows[0].interest, rows[0].principal) == (D("1200.00"), D("9461.85"))
    # (120000 − 9461.85) × 1% = 1105.3815 -> 1105.38
    assert (rows[1].interest, rows[1].principal) == (D("1105.38"), D("9556.47"))
    assert sum(r.principal for r in rows) == D("120000.00")
    # the last period takes the rounding: its principal is what is left
    assert rows[-1].principal == D("120000.00") - sum(r.principal for r in rows[:-1])
    assert rows[-1].total == D("10661.91")


def test_equal_principal_pays_the_same_principal_and_interest_on_the_falling_balance():
    rows = build_schedule(D("120000"), D("12"), 12, START, "equal_principal")
    assert [r.principal for r in rows] == [D("10000.00")] * 12
    assert [r.interest for r in rows] == [D(1200 - 100 * k).quantize(D("0.01")) for k in range(12)]
    assert sum(r.interest for r in rows) == D("7800.00")


def test_equal_principal_last_period_absorbs_the_cent():
    rows = build_schedule(D("100000"), D("12"), 3, START, "equal_principal")
    assert [r.principal for r in rows] == [D("33333.33"), D("33333.33"), D("33333.34")]
    # 1000.00, 66666.67 × 1% = 666.6667 -> 666.67, 33333.34 × 1% = 333.33
    assert [r.interest for r in rows] == [D("1000.00"), D("666.67"), D("333.33")]


def test_interest_first_pays_interest_monthly_and_principal_at_maturity():
    rows = build_schedule(D("120000"), D("12"), 12, START, "interest_first")
    assert [r.interest for r in rows] == [D("1200.00")] * 12
    assert [r.principal for r in rows] == [D("0.00")] * 11 + [D("120000.00")]


def test_bullet_is_one_period_at_maturity_with_all_interest():
    rows = build_schedule(D("120000"), D("12"), 12, START, "bullet")
    assert len(rows) == 1
    assert rows[0].due_date == date(2025, 1, 15)
    assert (rows[0].principal, rows[0].interest) == (D("120000.00"), D("14400.00"))


def test_bullet_interest_is_rounded_once_half_up():
    # 1000.05 × 10%/12 × 7 = 58.336... -> 58.34
    rows = build_schedule(D("1000.05"), D("10"), 7, START, "bullet")
    assert rows[0].interest == D("58.34")


def test_due_dates_clamp_to_month_end_without_drifting():
    rows = build_schedule(D("3000"), D("12"), 3, date(2024, 1, 31), "equal_principal")
    assert [r.due_date for r in rows] == [date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30)]


def test_add_months_and_months_since():
    assert add_months(date(2023, 12, 31), 2) == date(2024, 2, 29)
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    assert months_since(date(2024, 1, 31), date(2024, 2, 29)) == 1
    assert months_since(START, date(2024, 7, 30)) == D(6) + D(15) / 30


def test_unknown_method_and_bad_inputs_are_rejected():
    with pytest.raises(ValueError):
        build_schedule(D("1000"), D("12"), 12, START, "balloon")
    with pytest.raises(ValueError):
        build_schedule(D("0"), D("12"), 12, START, "bullet")
    with pytest.raises(ValueError):
        build_schedule(D("1000"), D("12"), 0, START, "bullet")


def test_zero_rate_equal_installment_splits_principal():
    rows = build_schedule(D("100"), D("0"), 3, START, "equal_installment")
    assert [r.principal for r in rows] == [D("33.33"), D("33.33"), D("33.34")]
    assert all(r.interest == 0 for r in rows)


# ------------------------------------------------------------------ penalty

@pytest.mark.parametrize("days, expected", [(0, "0.00"), (3, "0.00"), (4, "5.00"), (33, "150.00")])
def test_penalty_accrues_only_beyond_the_grace_days(days, expected):
    # 10000 × 12% × (1 + 50%) / 360 = 5.00 a day after 3 grace days
    assert penalty_for(D("10000"), D("12"), D("50"), days, 3) == D(expected)


def test_penalty_without_grace_starts_on_the_first_day():
    assert penalty_for(D("10000"), D("12"), D("50"), 1, 0) == D("5.00")


def test_penalty_rounds_half_up_once():
    # 1010 × 12 × 150 / 3600000 = 0.505 -> 0.51 (half-even would give 0.50)
    assert penalty_for(D("1010"), D("12"), D("50"), 1, 0) == D("0.51")
    # 1001 × 0.18 / 360 × 10 = 5.005 -> 5.01 (rounding each day would give 5.00)
    assert penalty_for(D("1001"), D("12"), D("50"), 10, 0) == D("5.01")


def test_penalty_on_nothing_is_nothing():
    assert penalty_for(D("0"), D("12"), D("50"), 100, 3) == D("0.00")


def test_period_penalty_continues_from_crystallised_amount():
    due = date(2024, 3, 1)
    # 13 days overdue, 3 grace: 10 days × 5.00 on 10000 crystallised as 50.00 on 14 March;
    # then 5000 remains: 4 more days × 2.50 = 10.00
    assert period_penalty(D("10000"), D("12"), D("50"), 3, due, date(2024, 3, 14)) == D("50.00")
    assert period_penalty(D("5000"), D("12"), D("50"), 3, due, date(2024, 3, 18),
                          accrued=D("50.00"), accrued_to=date(2024, 3, 14)) == D("60.00")
    # a crystallisation inside the grace days leaves the grace intact
    assert period_penalty(D("5000"), D("12"), D("50"), 3, due, date(2024, 3, 6),
                          accrued=D("0"), accrued_to=date(2024, 3, 2)) == D("5.00")


# ------------------------------------------------------------------ allocation

def two_periods(penalty="10.00"):
    return [PeriodState(2, date(2024, 3, 15), D("1000"), D("100"), penalty_owed=D(penalty)),
            PeriodState(1, date(2024, 2, 15), D("1000"), D("100"), penalty_owed=D(penalty))]


def test_allocation_pays_penalty_then_interest_then_principal():
    result = allocate(D("50"), two_periods(), date(2024, 4, 1))
    assert len(result.parts) == 1
    part = result.parts[0]
    assert (part.period, part.penalty, part.interest, part.principal) == (1, D("10.00"), D("40.00"), D("0.00"))
    assert part.paid_off_date is None


def test_allocation_clears_the_oldest_period_first():
    result = allocate(D("1200"), two_periods(), date(2024, 4, 1))
    first, second = result.parts
    assert (first.period, first.total, first.paid_off_date) == (1, D("1110.00"), date(2024, 4, 1))
    assert (second.period, second.penalty, second.interest, second.principal) == (2, D("10.00"), D("80.00"), D("0"))
    assert (result.penalty, result.interest, result.principal) == (D("20.00"), D("180.00"), D("1000.00"))
    assert result.remainder == 0


def test_allocation_returns_what_no_period_can_take():
    result = allocate(D("2300"), two_periods(), date(2024, 4, 1))
    assert sum(p.total for p in result.parts) == D("2220.00")
    assert result.remainder == D("80.00")


def test_allocation_skips_paid_periods_and_refuses_non_positive_amounts():
    paid = PeriodState(1, date(2024, 2, 15), D("1000"), D("100"), D("1000"), D("100"))
    open_ = PeriodState(2, date(2024, 3, 15), D("1000"), D("100"))
    result = allocate(D("100"), [paid, open_], date(2024, 3, 1))
    assert [p.period for p in result.parts] == [2]
    with pytest.raises(ValueError):
        allocate(D("0"), [open_], date(2024, 3, 1))


# ------------------------------------------------------------------ rate change

def test_rate_change_recomputes_unpaid_periods_after_the_effective_date():
    rows = build_schedule(D("120000"), D("12"), 12, START, "equal_installment")
    new = recompute_after_rate_change(states(rows, paid_periods={1}), D("6"), date(2024, 2, 20),
                                      "equal_installment", start_date=START, old_rate=D("12"))
    assert new[0] == rows[0] and not new[0].recomputed
    # 110538.15 left over 11 months at 0.5%: annuity 10352.8963 -> 10352.90; interest 552.69075
    assert (new[1].interest, new[1].principal) == (D("552.69"), D("9800.21"))
    assert all(r.total == D("10352.90") for r in new[1:-1])
    assert all(r.recomputed for r in new[1:])
    assert sum(r.principal for r in new) == D("120000.00")
    assert [r.due_date for r in new] == [r.due_date for r in rows]


def test_rate_change_keeps_partly_paid_and_earlier_periods():
    rows = build_schedule(D("12000"), D("12"), 12, START, "equal_principal")
    st = states(rows, paid_periods={1})
    st[1] = PeriodState(2, rows[1].due_date, rows[1].principal, rows[1].interest, D("0"), D("50"))
    new = recompute_after_rate_change(st, D("24"), date(2024, 4, 15), "equal_principal", start_date=START)
    # periods 1 (paid), 2 (partly paid) and 3 (due on the effective date) keep their figures
    assert new[:3] == rows[:3]
    # 9000 left over 9 periods at 2%: 1000 principal, interest 180.00 first
    assert (new[3].principal, new[3].interest) == (D("1000.00"), D("180.00"))
    assert sum(r.principal for r in new) == D("12000.00")


def test_rate_change_of_a_bullet_loan_splits_interest_at_the_effective_date():
    rows = build_schedule(D("100000"), D("12"), 12, START, "bullet")
    new = recompute_after_rate_change(states(rows), D("6"), date(2024, 7, 15), "bullet",
                                      start_date=START, old_rate=D("12"))
    # 6 months at 1% + 6 months at 0.5% = 6000 + 3000
    assert (new[0].principal, new[0].interest) == (D("100000.00"), D("9000.00"))


def test_rate_change_after_the_last_due_date_changes_nothing():
    rows = build_schedule(D("12000"), D("12"), 3, START, "equal_principal")
    new = recompute_after_rate_change(states(rows), D("6"), date(2024, 5, 1), "equal_principal",
                                      start_date=START)
    assert new == rows


# ------------------------------------------------------------------ extension

def test_extension_reschedules_unpaid_principal_to_the_new_maturity():
    rows = build_schedule(D("120000"), D("12"), 12, START, "equal_principal")
    new = reschedule_for_extension(states(rows, paid_periods={1, 2, 3}), date(2025, 7, 15), D("12"),
                                   "equal_principal", start_date=START, as_of=date(2024, 5, 1))
    assert new[:3] == rows[:3]
    assert len(new) == 3 + 15
    assert new[3].due_date == date(2024, 5, 15) and new[-1].due_date == date(2025, 7, 15)
    # 90000 over 15 months: 6000 each, first interest 900.00
    assert (new[3].principal, new[3].interest) == (D("6000.00"), D("900.00"))
    assert [r.period for r in new] == list(range(1, 19))
    assert sum(r.principal for r in new) == D("120000.00")


def test_extension_leaves_overdue_unpaid_periods_in_place():
    rows = build_schedule(D("12000"), D("12"), 12, START, "equal_principal")
    new = reschedule_for_extension(states(rows, paid_periods={1}), date(2025, 4, 15), D("12"),
                                   "equal_principal", start_date=START, as_of=date(2024, 4, 1))
    # period 2 (due 15 March) is overdue and stays; period 3 on is rescheduled
    assert new[:2] == rows[:2] and new[2].recomputed
    assert sum(r.principal for r in new) == D("12000.00")


def test_extension_of_a_bullet_loan_moves_the_single_period_and_its_interest():
    rows = build_schedule(D("100000"), D("12"), 12, START, "bullet")
    new = reschedule_for_extension(states(rows), date(2025, 7, 15), D("12"), "bullet",
                                   start_date=START, as_of=date(2024, 12, 1))
    # 18 months at 1%
    assert [(r.period, r.due_date, r.principal, r.interest) for r in new] == \
        [(1, date(2025, 7, 15), D("100000.00"), D("18000.00"))]


def test_extension_to_a_date_off_the_monthly_cycle_ends_with_a_stub():
    rows = build_schedule(D("30000"), D("12"), 3, START, "interest_first")
    new = reschedule_for_extension(states(rows), date(2024, 5, 30), D("12"), "interest_first",
                                   start_date=START, as_of=START)
    assert [r.due_date for r in new] == [date(2024, 2, 15), date(2024, 3, 15), date(2024, 4, 15),
                                         date(2024, 5, 15), date(2024, 5, 30)]
    # stub of 15 days = half a month: 30000 × 1% × 0.5
    assert new[-1].interest == D("150.00") and new[-1].principal == D("30000.00")


def test_extension_without_unpaid_future_periods_is_refused():
    rows = build_schedule(D("3000"), D("12"), 3, START, "equal_principal")
    with pytest.raises(ValueError):
        reschedule_for_extension(states(rows, paid_periods={1, 2, 3}), date(2024, 6, 15), D("12"),
                                 "equal_principal", start_date=START, as_of=date(2024, 2, 1))
