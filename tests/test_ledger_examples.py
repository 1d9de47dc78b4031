"""Each example of issue 12 as a named test with its figures, on the ledger engine
(models.ledger) and, where the database matters, through services.ledger. Start dates are
chosen so the issue's figures reproduce (the working is in each test)."""
import json
from datetime import date, timedelta
from decimal import Decimal as D
from fractions import Fraction

import pytest

from models.ledger import Entry, Terms, replay
from services import BusinessError
from tests import ledger_reference as ref


def money(x: Fraction) -> D:
    return D(x.numerator) / D(x.denominator)

MONTHLY_120K = dict(principal=D("120000.00"), rate=D("12"), term_months=12, markup=D("50"), grace_days=3)


def terms(method, start, **kw):
    values = {**MONTHLY_120K, **kw}
    return Terms(values["principal"], values["rate"], start, values["term_months"], method, values["markup"],
                 values["grace_days"], values.get("grace_mode", "from_due"), values.get("compound", True),
                 values.get("settle_interest", "to_date"), values.get("prepay_fee_pct", D("0")))


def rate(seq, day, value):
    return Entry(seq, "rate_change", day, rate=D(value))


def pay(seq, day, amount, mode=None):
    return Entry(seq, "repayment", day, amount=D(amount), prepay_mode=mode)


# ---- penalty after a rate change ------------------------------------------------------------
EP = terms("equal_principal", date(2026, 1, 18))  # 10,000 principal a month, due the 18th


def test_penalty_before_a_rate_cut_is_kept_and_the_days_after_bear_the_new_rate():
    """等额本金 120,000 at 12%, never paid. As of 2026-06-01 four periods (02-18..05-18) are
    overdue for 103 + 75 + 44 + 14 = 236 days: 10,000 × 236 × 12% × 1.5 / 360 = 1,180.00.
    A cut to 6% effective 06-01 leaves that day's figure at 1,180.00 (the issue saw 590.00);
    as of 07-01: + 40,000 × 30 days + 10,000 × 13 days (the 06-18 period) at 6% × 1.5 / 360
    = 332.50, so 1,512.50 (the issue saw 922.50)."""
    cut = [rate(2, date(2026, 6, 1), "6")]
    assert replay(EP, [], date(2026, 6, 1)).position()["penalty"] == D("1180.00")
    assert replay(EP, cut, date(2026, 6, 1)).position()["penalty"] == D("1180.00")
    assert replay(EP, cut, date(2026, 7, 1)).position()["penalty"] == D("1512.50")


def test_a_future_dated_hike_changes_nothing_before_its_date():
    """A hike to 24% effective 2027-03-01 leaves every figure as of an earlier day alone (the
    issue saw today's penalty doubled); from its date on the overdue principal bears 24%."""
    hike = [rate(2, date(2027, 3, 1), "24")]
    for day in (date(2026, 12, 1), date(2027, 2, 28), date(2027, 3, 1)):
        with_hike, without = replay(EP, hike, day).position(), replay(EP, [], day).position()
        with_hike.pop("rate"), without.pop("rate")  # the rate in force that day
        assert with_hike == without
    before, after = replay(EP, hike, date(2027, 3, 2)), replay(EP, [], date(2027, 3, 2))
    # one day at 24% instead of 12% on the 120,000 overdue: 120,000 × 12% × 1.5 / 360 more = 60.00
    assert before.position()["penalty"] - after.position()["penalty"] == D("60.00")


EP_REF = dict(principal=D("120000"), rate=D("12"), start=date(2026, 1, 18), term=12, method="equal_principal",
              markup=D("50"), grace=3)
HIKE_DAY = date(2027, 3, 1)


def test_the_issues_2660_penalty_stays_2660_when_a_hike_to_24_is_dated_2027_03_01():
    """The issue's «2,660.00 → 5,320.00», on the same loan: as of 2026-07-31 six periods
    (02-18 .. 07-18) are overdue for 163 + 135 + 104 + 74 + 43 + 13 = 532 days, 10,000 each:
    10,000 × 532 × 12% × 1.5 / 360 = 2,660.00. The penalty grows by 5.00 per overdue period
    a day, so 07-31 is the only day it reads 2,660.00 (1,180.00 on 06-01, the issue's first
    figure; 2,630.00 the day before, 2,690.00 the day after). The old engine priced every
    overdue day at the loan's current rate, so a hike to 24% effective 2027-03-01 doubled it
    to 5,320.00. The figure is the independent reference's; a future-dated hike changes
    nothing before its date, and from that date the overdue principal bears 24%."""
    as_of = date(2026, 7, 31)
    penalty_on = {d: ref.figures(ref.run(EP_REF, [], d))["position"]["penalty"]
                  for d in (date(2026, 6, 1), date(2026, 7, 30), as_of, date(2026, 8, 1))}
    assert list(penalty_on.values()) == [1180, 2630, 2660, 2690]
    hike = dict(seq=2, kind="rate_change", date=HIKE_DAY, rate=D("24"))
    expected = ref.figures(ref.run(EP_REF, [hike], as_of))["position"]["penalty"]
    assert expected == ref.figures(ref.run(EP_REF, [], as_of))["position"]["penalty"] == Fraction(2660)
    assert replay(EP, [rate(2, HIKE_DAY, "24")], as_of).position()["penalty"] == D("2660.00")
    assert replay(EP, [], as_of).position()["penalty"] == D("2660.00")
    # the day before the hike and the hike's own day accrue at 12%; the day after adds one day
    # at 24% on the 120,000 overdue: (120,000 × 24% − 120,000 × 12%) × 1.5 / 360 = 60.00 more
    day_after = HIKE_DAY + timedelta(days=1)
    with_hike = ref.figures(ref.run(EP_REF, [hike], day_after))["position"]["penalty"]
    without = ref.figures(ref.run(EP_REF, [], day_after))["position"]["penalty"]
    assert with_hike - without == 60
    assert replay(EP, [rate(2, HIKE_DAY, "24")], day_after).position()["penalty"] == money(with_hike)


def test_the_2660_penalty_on_screen_and_in_loan_quote(app, loan, client_for):
    """The same loan booked through the services: 贷款详情's 提前结清试算 and `loan-quote`
    show the reference's 2,660.00 as of 2026-07-31."""
    result = app.test_cli_runner().invoke(args=["loan-quote", loan.loan_no, "--date", "2026-07-31"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["position"]["penalty"] == doc["settlement_quote"]["penalty"] == "2660.00"
    page = client_for("officer").get(f"/loan_detail/{loan.id}/?quote_date=2026-07-31").get_data(as_text=True)
    assert 'id="settlement-quote"' in page and ("2,660.00" in page or "2660.00" in page)


def test_several_changes_on_one_day_the_last_wins():
    both = [rate(2, date(2026, 6, 1), "24"), rate(3, date(2026, 6, 1), "6")]
    assert replay(EP, both, date(2026, 7, 1)).position()["penalty"] == D("1512.50")


# ---- bullet loans remember earlier rates ----------------------------------------------------
BULLET = terms("bullet", date(2026, 1, 10), principal=D("100000.00"))


def test_bullet_interest_follows_each_rate_for_its_months():
    """100,000 at 12% for 12 months; 6% from month 3, 9% from month 6: 3 × 1,000 + 3 × 500 +
    6 × 750 = 9,000.00 (the issue saw 7,500.00)."""
    changes = [rate(2, date(2026, 4, 10), "6"), rate(3, date(2026, 7, 10), "9")]
    (period,) = replay(BULLET, changes, date(2026, 3, 1)).periods
    assert (period.due, period.principal, period.interest) == (date(2027, 1, 10), D("100000.00"), D("9000.00"))


def test_bullet_cut_then_extension_keeps_the_months_before_the_cut():
    """A cut to 6% from month 6, then 展期 by 6 months: 6 × 1,000 + 12 × 500 = 12,000.00 (the
    issue saw the whole loan re-priced from its start: 9,000.00)."""
    entries = [rate(2, date(2026, 7, 10), "6"),
               Entry(3, "extension", date(2026, 12, 1), new_maturity=date(2027, 7, 10))]
    (period,) = replay(BULLET, entries, date(2026, 12, 1)).periods
    assert (period.due, period.interest) == (date(2027, 7, 10), D("12000.00"))


# ---- a rate change within a period ----------------------------------------------------------
EI = terms("equal_installment", date(2026, 1, 15))  # instalment 10,661.85


def test_a_hike_one_day_before_the_due_date_charges_one_day_at_the_new_rate():
    """等额本息 120,000 at 12%, period 1 paid. Period 2 (02-15..03-15, 28 days) on 110,538.15:
    a hike to 24% effective 03-14 gives 27 days at 12% and 1 day at 24%, per day /360:
    110,538.15 × (27 × 12% + 1 × 24%) / 360 = 1,068.54 (the issue's «about 1,068.54»; the
    app charged the whole month at 24%: 2,210.76)."""
    entries = [pay(2, date(2026, 2, 15), "10661.85"), rate(3, date(2026, 3, 14), "24")]
    periods = replay(EI, entries, date(2026, 3, 1)).periods
    assert periods[1].interest == D("1068.54")
    assert periods[0].interest == D("1200.00")  # paid before the change: never changes
    # later periods bear 24% a month on the re-amortised balance: (110,538.15 − 9,083.80) × 2%
    assert (periods[1].principal, periods[2].interest) == (D("9083.80"), D("2029.09"))


def test_a_period_that_received_a_cent_is_split_like_any_other():
    entries = [pay(2, date(2026, 2, 15), "10661.85"), pay(3, date(2026, 2, 16), "0.01"),
               rate(4, date(2026, 3, 14), "24")]
    assert replay(EI, entries, date(2026, 3, 1)).periods[1].interest == D("1068.54")


# ---- early settlement and prepayment --------------------------------------------------------

def test_early_settlement_charges_interest_to_the_settlement_date_only():
    """Period 1 paid; settled on 02-20: 110,538.15 principal + 5 days of interest
    110,538.15 × 12% × 5 / 360 = 184.23 = 110,722.38 (the app asked 117,280.41: every
    future month's interest)."""
    b = replay(EI, [pay(2, date(2026, 2, 15), "10661.85")], date(2026, 2, 20))
    quote = b.quote()
    assert (quote["principal"], quote["interest"], quote["penalty"], quote["fee"], quote["total"]) == \
        (D("110538.15"), D("184.23"), D("0.00"), D("0.00"), D("110722.38"))
    settled = replay(EI, [pay(2, date(2026, 2, 15), "10661.85"), pay(3, date(2026, 2, 20), "110722.38")],
                     date(2026, 2, 20))
    assert settled.status == "settled" and settled.settled_on == date(2026, 2, 20)
    assert settled.parts[3].interest == D("184.23") and len(settled.periods) == 2


def test_settlement_by_whole_period_and_prepayment_fee_are_product_choices():
    t = terms("equal_installment", date(2026, 1, 15), settle_interest="period", prepay_fee_pct=D("2"))
    quote = replay(t, [pay(2, date(2026, 2, 15), "10661.85")], date(2026, 2, 20)).quote()
    # the whole current period's interest 1,105.38, and 2% of the prepaid 110,538.15 = 2,210.76
    assert (quote["interest"], quote["fee"], quote["total"]) == (D("1105.38"), D("2210.76"), D("113854.29"))


def test_partial_prepayment_reduces_principal_and_never_pays_future_interest():
    """20,000 on 02-20 after period 1: all of it prepays principal (no interest is due yet);
    减少月供 keeps 11 periods with a lower instalment, 缩短期限 keeps the instalment and ends
    sooner; the running period's interest is split at the prepayment day."""
    base = [pay(2, date(2026, 2, 15), "10661.85")]
    reduce = replay(EI, base + [pay(3, date(2026, 2, 20), "20000", "reduce")], date(2026, 2, 20))
    shorten = replay(EI, base + [pay(3, date(2026, 2, 20), "20000", "shorten")], date(2026, 2, 20))
    for b in (reduce, shorten):
        assert (b.parts[3].principal, b.parts[3].interest) == (D("20000.00"), D("0.00"))
        # 5 days on 110,538.15 and 23 days on 90,538.15, per day at 12% / 360: 184.23 + 694.13
        assert b.periods[1].interest == D("878.36")
        assert b.position()["outstanding_principal"] == D("90538.15")
    assert len(reduce.periods) == 12 and len(shorten.periods) < 12
    assert reduce.periods[3].principal + reduce.periods[3].interest < D("10661.85")
    assert shorten.periods[3].principal + shorten.periods[3].interest == D("10661.85")


# ---- write-off and recovery -----------------------------------------------------------------

def test_write_off_stops_accrual_and_recoveries_reduce_the_claim():
    w = Entry(2, "write_off", date(2026, 9, 1))
    at_write_off = replay(EP, [w], date(2026, 9, 1)).position()
    later = replay(EP, [w], date(2026, 12, 1)).position()
    assert later["status"] == "written_off" and later["penalty"] == at_write_off["penalty"]
    assert later["outstanding_principal"] == D("120000.00")
    recovered = replay(EP, [w, Entry(3, "recovery", date(2026, 10, 1), amount=D("5000"))], date(2026, 12, 1))
    # oldest period first, penalty → 复利 → interest → principal, as for repayments
    parts = recovered.parts[3]
    assert (parts.penalty, parts.compound, parts.interest, parts.principal) == \
        (D("975.00"), D("117.00"), D("1200.00"), D("2708.00"))
    assert recovered.quote()["total"] == replay(EP, [w], date(2026, 12, 1)).quote()["total"] - D("5000")


# ---- through the database -------------------------------------------------------------------

@pytest.fixture
def loan(db, users):
    from models import Customer, LoanProduct
    from services.loans import open_loan

    product = LoanProduct(code="LEDG", name="账务测试产品", repayment_method="equal_principal", min_rate=D("1"),
                          max_rate=D("36"), default_rate=D("12"), min_term=1, max_term=36, penalty_markup=D("50"),
                          grace_days=3, inspection_interval_days=90)
    customer = Customer(kind="person", name="账务客户", id_number="110101199001011237", phone="13800138000")
    db.session.add_all([product, customer])
    db.session.flush()
    return open_loan(customer=customer, product=product, principal=D("120000"), term_months=12,
                     start_date=date(2026, 1, 18), officer=users["officer"])


def test_a_back_dated_repayment_keeps_the_figures_as_of_today(db, loan):
    """Today 2026-08-05: the 02-18 period is 168 days overdue. A partial repayment value-dated
    05-18 replays the loan and the stored figures stay as of today: still 168 days (the app
    stored them as of the payment date: 78 days)."""
    from services.ledger import post_repayment
    from services.loans import refresh_position

    today = date(2026, 8, 5)
    refresh_position(loan, today)
    assert loan.days_overdue == 168
    post_repayment(loan, D("3000"), date(2026, 5, 18), today=today)
    assert loan.days_overdue == 168 and loan.status == "overdue"


def test_overpayment_is_refused_naming_the_payoff(db, loan):
    from services.ledger import post_repayment, settlement_quote

    total = settlement_quote(loan, date(2026, 2, 1))["total"]
    with pytest.raises(BusinessError, match=f"{total:,.2f}"):
        post_repayment(loan, total + D("0.01"), date(2026, 2, 1), today=date(2026, 2, 1))
    post_repayment(loan, total, date(2026, 2, 1), today=date(2026, 2, 1))
    assert loan.status == "settled"


def test_a_reversal_appends_and_replays(db, loan, users):
    from models import LoanEntry
    from services.ledger import post_repayment, reverse_repayment

    today = date(2026, 3, 1)
    first = post_repayment(loan, D("11200"), date(2026, 2, 18), today=today)
    assert loan.days_overdue == 0 and first.principal_part == D("10000.00")
    reverse_repayment(first, "重复入账", users["risk_approver"], today=today)
    assert loan.days_overdue == 11 and loan.status == "overdue" and first.reversed_on == today
    kinds = [e.kind for e in db.session.query(LoanEntry).filter_by(loan_id=loan.id).order_by(LoanEntry.id)]
    assert kinds == ["disbursement", "repayment", "reversal"]
    with pytest.raises(BusinessError, match="已冲正"):
        reverse_repayment(first, "再次", users["risk_approver"], today=today)


def test_write_off_then_recovery_through_the_service(db, loan, users):
    from services.ledger import post_repayment, recovered_total, write_off

    today = date(2026, 9, 1)
    write_off(loan, today, users["risk_approver"], today=today)
    assert (loan.status, loan.five_class, loan.written_off_date) == ("written_off", 5, today)
    recovery = post_repayment(loan, D("2000"), date(2026, 9, 10), users["collector"], today=date(2026, 9, 10))
    assert recovery.kind == "recovery" and recovered_total(loan) == D("2000.00")
