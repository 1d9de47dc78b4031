"""Properties of the money engine that must hold for any loan (hypothesis)."""
from datetime import date
from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from models.enums import REPAYMENT_METHODS
from models.money import (CENT, PeriodState, add_months, allocate, build_schedule, penalty_for,
                          recompute_after_rate_change, reschedule_for_extension)

methods = st.sampled_from(sorted(REPAYMENT_METHODS))
principals = st.integers(min_value=1, max_value=10**10).map(lambda cents: Decimal(cents) / 100)
rates = st.integers(min_value=0, max_value=36_000_000).map(lambda v: Decimal(v) / 1_000_000)
terms = st.integers(min_value=1, max_value=60)
starts = st.dates(min_value=date(2015, 1, 1), max_value=date(2035, 12, 31))
cents = st.integers(min_value=0, max_value=10**9).map(lambda v: Decimal(v) / 100)

loans = st.tuples(principals, rates, terms, starts, methods)


def schedule(loan):
    principal, rate, term, start, method = loan
    return build_schedule(principal, rate, term, start, method)


@st.composite
def loan_states(draw):
    """A loan's schedule with the first periods paid, maybe one partly paid, the rest untouched."""
    loan = draw(loans)
    rows = schedule(loan)
    paid = draw(st.integers(min_value=0, max_value=len(rows)))
    states = []
    for row in rows:
        if row.period <= paid:
            states.append(PeriodState(row.period, row.due_date, row.principal, row.interest,
                                      row.principal, row.interest))
        elif row.period == paid + 1 and draw(st.booleans()):
            part = draw(st.decimals(min_value=0, max_value=row.interest, places=2))
            states.append(PeriodState(row.period, row.due_date, row.principal, row.interest, interest_paid=part,
                                      penalty_paid=Decimal("0.01") if part == 0 else Decimal(0)))
        else:
            states.append(PeriodState(row.period, row.due_date, row.principal, row.interest))
    return loan, states


def untouched_changed(old_states, new_rows):
    by_period = {r.period: r for r in new_rows}
    return [s for s in old_states if not s.untouched
            and (by_period[s.period].principal, by_period[s.period].interest, by_period[s.period].due_date)
            != (s.principal_due, s.interest_due, s.due_date)]


@settings(max_examples=300, deadline=None)
@given(loans)
def test_principal_sums_exactly_to_the_loan_and_nothing_is_negative(loan):
    rows = schedule(loan)
    principal, _, term, start, method = loan
    assert sum(r.principal for r in rows) == principal
    assert all(r.principal >= 0 and r.interest >= 0 for r in rows)
    assert all(r.principal == r.principal.quantize(CENT) and r.interest == r.interest.quantize(CENT)
               for r in rows)
    assert len(rows) == (1 if method == "bullet" else term)
    assert rows[-1].due_date == add_months(start, term)
    assert all(a.due_date < b.due_date for a, b in zip(rows, rows[1:]))


@settings(max_examples=300, deadline=None)
@given(loans)
def test_balance_never_goes_negative(loan):
    balance = loan[0]
    for row in schedule(loan):
        balance -= row.principal
        assert balance >= 0
    assert balance == 0


@settings(max_examples=200, deadline=None)
@given(principals.filter(lambda p: p >= 100), rates, terms, starts)
def test_equal_installment_payments_are_level_except_the_last(principal, rate, term, start):
    # (below a few cents a period the rounded-up payment runs out before the last period)
    rows = build_schedule(principal, rate, term, start, "equal_installment")
    assert len({r.total for r in rows[:-1]}) <= 1
    assert rows[-1].principal > 0
    # Each period's rounding (at most half a cent) compounds at the monthly rate until the
    # last period absorbs it, so the bound grows with (1 + r)^n.
    growth = (1 + rate / Decimal(1200)) ** term
    assert abs(rows[-1].total - rows[0].total) <= term * CENT * growth


@settings(max_examples=300, deadline=None)
@given(loan_states(), rates, st.integers(min_value=-40, max_value=2000))
def test_rate_change_never_touches_paid_periods_and_keeps_principal(drawn, new_rate, offset_days):
    (principal, old_rate, _, start, method), states = drawn
    effective = date.fromordinal(start.toordinal() + offset_days)
    rows = recompute_after_rate_change(states, new_rate, effective, method, start_date=start, old_rate=old_rate)
    assert untouched_changed(states, rows) == []
    assert sum(r.principal for r in rows) == principal
    assert all(r.principal >= 0 and r.interest >= 0 for r in rows)
    after = max([effective] + [s.due_date for s in states if not s.untouched])
    untouched_after = {s.period for s in states if s.untouched and s.due_date > after}
    assert {r.period for r in rows if r.recomputed} == untouched_after
    assert all(not r.recomputed or r.due_date > effective for r in rows)


@settings(max_examples=300, deadline=None)
@given(loan_states(), st.integers(min_value=0, max_value=800), st.integers(min_value=1, max_value=900))
def test_extension_never_touches_paid_periods_and_keeps_principal(drawn, as_of_days, extra_days):
    (principal, rate, _, start, method), states = drawn
    as_of = date.fromordinal(start.toordinal() + as_of_days)
    new_maturity = date.fromordinal(states[-1].due_date.toordinal() + extra_days)
    after = max([as_of] + [s.due_date for s in states if not s.untouched])
    assume(any(s.untouched and s.due_date > after for s in states))
    rows = reschedule_for_extension(states, new_maturity, rate, method, start_date=start, as_of=as_of)
    assert untouched_changed(states, rows) == []
    assert sum(r.principal for r in rows) == principal
    assert all(r.principal >= 0 and r.interest >= 0 for r in rows)
    assert rows[-1].due_date == new_maturity
    assert [r.period for r in rows] == list(range(1, len(rows) + 1))
    assert all(a.due_date < b.due_date for a, b in zip(rows, rows[1:]))


@st.composite
def owed_periods(draw):
    count = draw(st.integers(min_value=1, max_value=8))
    periods = []
    for n in range(1, count + 1):
        principal, interest = draw(cents), draw(cents)
        periods.append(PeriodState(
            n, date(2024, 1, 1).replace(month=n), principal, interest,
            principal_paid=draw(st.decimals(min_value=0, max_value=principal, places=2)),
            interest_paid=draw(st.decimals(min_value=0, max_value=interest, places=2)),
            penalty_owed=draw(cents)))
    return periods


@settings(max_examples=300, deadline=None)
@given(owed_periods(), st.integers(min_value=1, max_value=10**10).map(lambda v: Decimal(v) / 100))
def test_allocation_never_exceeds_what_is_owed(periods, amount):
    result = allocate(amount, periods, date(2024, 12, 31))
    by_period = {p.period: p for p in periods}
    total_owed = sum(p.owed for p in periods)
    assert sum(p.total for p in result.parts) + result.remainder == amount
    assert sum(p.total for p in result.parts) == min(amount, total_owed)
    assert result.remainder == max(amount - total_owed, 0)
    for part in result.parts:
        state = by_period[part.period]
        assert 0 <= part.penalty <= state.penalty_owed
        assert 0 <= part.interest <= state.interest_unpaid
        assert 0 <= part.principal <= state.principal_unpaid
        # penalty before interest before principal within a period
        assert part.interest == 0 or part.penalty == state.penalty_owed
        assert part.principal == 0 or part.interest == state.interest_unpaid


@settings(max_examples=300, deadline=None)
@given(owed_periods(), st.integers(min_value=1, max_value=10**10).map(lambda v: Decimal(v) / 100))
def test_allocation_pays_older_periods_first(periods, amount):
    result = allocate(amount, periods, date(2024, 12, 31))
    paid = {p.period: p.total for p in result.parts}
    owed = [p for p in sorted(periods, key=lambda p: p.due_date) if p.owed > 0]
    for older, newer in zip(owed, owed[1:]):
        if paid.get(newer.period, 0) > 0:
            assert paid.get(older.period) == older.owed


@settings(max_examples=300, deadline=None)
@given(principals, rates, st.integers(min_value=0, max_value=100), st.integers(min_value=0, max_value=2000),
       st.integers(min_value=0, max_value=30))
def test_penalty_is_zero_within_grace_and_grows_with_days(principal, rate, markup, days, grace):
    penalty = penalty_for(principal, rate, markup, days, grace)
    assert penalty >= 0
    if days <= grace:
        assert penalty == 0
    assert penalty_for(principal, rate, markup, days + 1, grace) >= penalty
