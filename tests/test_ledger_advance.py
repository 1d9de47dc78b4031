"""预收款 (advance): money beyond what is due on a repayment's date is, unless the officer
picks 提前还款, held as the loan's 预收余额 and applied on each following due date (interest,
then principal) — a borrower who pays the instalment a few days early is not prepaying.
Named cases with their figures, on the engine (models.ledger) and the independent
reference (tests/ledger_reference), then through the services and the daily job."""
from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from models.ledger import Entry, Terms, replay
from tests import ledger_reference as ref
from tests.test_ledger_properties import compare

# DK202609160000002 of the demo book the previous release seeded (bench/bench_migrate.py
# --seed-from bc2bd8a): 先息后本 500,000 at 12% from 2026-09-16, 6 months, product as migrated
# (markup 50%, grace 3 days deducted, no 复利); 14.25% from 10-16; 5,000.00 (period 1's
# interest) paid on 10-14, two days before its due date; 950.00 on 11-16.
DK2_TERMS = dict(principal=D("500000"), rate=D("12"), start=date(2026, 9, 16), term=6, method="interest_first",
                 markup=D("50"), grace=3, grace_mode="deduct", compound=False, settle="to_date", fee_pct=D("0"))


def dk2_events(mode=None):
    return [dict(seq=2, kind="rate_change", date=date(2026, 10, 16), rate=D("14.25")),
            dict(seq=3, kind="repayment", date=date(2026, 10, 14), amount=D("5000"), mode=mode),
            dict(seq=4, kind="repayment", date=date(2026, 11, 16), amount=D("950"), mode=mode)]


def engine(terms, events, as_of):
    t = Terms(terms["principal"], terms["rate"], terms["start"], terms["term"], terms["method"], terms["markup"],
              terms["grace"], terms["grace_mode"], terms["compound"], terms["settle"], terms["fee_pct"])
    return replay(t, [Entry(e["seq"], e["kind"], e["date"], e.get("amount"), e.get("rate"), e.get("maturity"),
                            e.get("mode"), e.get("reverses")) for e in events], as_of)


def figures(pos):
    return (pos["outstanding_principal"], pos["days_overdue"], pos["overdue_interest"], pos["penalty"],
            pos["compound"], pos["advance"])


def test_an_instalment_paid_two_days_early_is_applied_on_its_due_date():
    """DK202609160000002 as of 2026-12-01. The previous release stored outstanding 500,000.00,
    15 days overdue (period 2: 5,937.50 − 950.00 = 4,987.50 unpaid since 11-16); the ledger
    booked the early 5,000.00 as a prepayment (495,000.00 outstanding, period 1 still owing
    4,996.67 of interest: 46 days overdue, overdue interest 9,924.80). As 按期还款 the 5,000.00
    is held on 10-14 and pays period 1's interest on 10-16: the stored figures again."""
    b = engine(DK2_TERMS, dk2_events(), date(2026, 12, 1))
    assert figures(b.position()) == (D("500000.00"), 15, D("4987.50"), D("0.00"), D("0.00"), D("0.00"))
    first = b.periods[0]
    assert (first.interest, first.paid_interest, first.cleared_on) == (D("5000.00"), D("5000.00"), date(2026, 10, 16))
    parts = b.parts[3]
    assert (parts.interest, parts.principal, parts.advance) == (D("0.00"), D("0.00"), D("5000.00"))
    compare(DK2_TERMS, dk2_events(), date(2026, 12, 1))  # the reference agrees on every figure
    expected = ref.figures(ref.run({k: v for k, v in DK2_TERMS.items()}, dk2_events(), date(2026, 12, 1)))
    assert expected["position"]["outstanding_principal"] == 500000 and expected["position"]["days_overdue"] == 15


def test_the_officer_may_still_book_it_as_a_prepayment():
    """提前还款·减少月供 on the same payment: what the ledger did before (the officer's choice)."""
    b = engine(DK2_TERMS, dk2_events("reduce"), date(2026, 12, 1))
    assert figures(b.position()) == (D("495000.00"), 46, D("9924.80"), D("0.00"), D("0.00"), D("0.00"))
    compare(DK2_TERMS, dk2_events("reduce"), date(2026, 12, 1))


def test_the_quote_deducts_the_advance_and_its_payoff_settles():
    """On 10-15 the advance 5,000.00 is held: payoff 500,000 + 29 days of interest at 12%
    (4,833.33) = 504,833.33, less 已收预收款 5,000.00 = 499,833.33; paying that settles the loan
    (the advance is spent: advance part −5,000.00)."""
    held = engine(DK2_TERMS, dk2_events()[:2], date(2026, 10, 15))
    quote = held.quote()
    assert (quote["principal"], quote["interest"], quote["advance"], quote["total"]) == \
        (D("500000.00"), D("4833.33"), D("5000.00"), D("499833.33"))
    assert held.position()["advance"] == D("5000.00") and held.position()["days_overdue"] == 0
    events = dk2_events()[:2] + [dict(seq=5, kind="repayment", date=date(2026, 10, 15), amount=D("499833.33"))]
    settled = engine(DK2_TERMS, events, date(2026, 10, 20))
    assert settled.status == "settled" and settled.settled_on == date(2026, 10, 15)
    parts = settled.parts[5]
    assert (parts.interest, parts.principal, parts.advance) == (D("4833.33"), D("500000.00"), D("-5000.00"))
    compare(DK2_TERMS, events, date(2026, 10, 20))


EI = dict(principal=D("120000"), rate=D("12"), start=date(2026, 1, 15), term=12, method="equal_installment",
          markup=D("50"), grace=0, grace_mode="from_due", compound=True, settle="to_date", fee_pct=D("0"))


def test_an_advance_runs_over_several_due_dates_then_the_rest_falls_overdue():
    """等额本息 120,000 at 12%, instalment 10,661.85. 25,000.00 paid on 02-10: nothing is due,
    all held; 02-15 pays period 1 (1,200.00 interest, 9,461.85 principal), 03-15 period 2
    (1,105.38 + 9,556.47), 04-15 what is left, 3,676.30, pays period 3's interest 1,009.82
    and 2,666.48 of its principal: 6,985.55 principal is overdue from 04-15."""
    events = [dict(seq=2, kind="repayment", date=date(2026, 2, 10), amount=D("25000"))]
    b = engine(EI, events, date(2026, 4, 25))
    pos = b.position()
    assert [p.cleared_on for p in b.periods[:3]] == [date(2026, 2, 15), date(2026, 3, 15), None]
    assert (pos["advance"], pos["days_overdue"], pos["overdue_principal"], pos["overdue_interest"]) == \
        (D("0.00"), 10, D("6985.55"), D("0.00"))
    assert engine(EI, events, date(2026, 3, 20)).position()["advance"] == D("3676.30")
    compare(EI, events, date(2026, 4, 25))


def test_reversal_write_off_extension_and_rate_change_with_an_advance():
    """The replay handles each: a reversed repayment's advance is gone; a write-off spends the
    advance on the claim first; an extension and a rate change leave it to the new due dates."""
    base = [dict(seq=2, kind="repayment", date=date(2026, 2, 10), amount=D("15000"))]
    cases = [
        base + [dict(seq=3, kind="reversal", date=date(2026, 2, 12), reverses=2)],
        base + [dict(seq=3, kind="write_off", date=date(2026, 2, 14))],
        base + [dict(seq=3, kind="extension", date=date(2026, 2, 12), maturity=date(2027, 7, 15))],
        base + [dict(seq=3, kind="rate_change", date=date(2026, 2, 12), rate=D("6"))],
    ]
    for events in cases:
        compare(EI, events, date(2026, 4, 1))
    reversed_ = engine(EI, cases[0], date(2026, 4, 1)).position()
    assert reversed_["advance"] == 0 and reversed_["days_overdue"] == 45
    written_off = engine(EI, cases[1], date(2026, 4, 1))
    # on 02-14 the claim is 120,000 principal + 30 days of interest 1,200.00; 15,000 pays it
    # (interest first): 106,200.00 principal left, no advance
    assert written_off.position()["advance"] == 0
    assert written_off.position()["outstanding_principal"] == D("106200.00")


# ---- through the services and the daily job ---------------------------------------------------

@pytest.fixture
def loan(db, users):
    """等额本息 120,000 at 12% from 2026-01-15 (instalment 10,661.85)."""
    from services.loans import open_loan
    from tests import book_factory as bf

    return open_loan(customer=bf.customer("预收客户"), product=bf.product("预收款测试产品"), principal=D("120000"),
                     rate=D("12"), term_months=12, start_date=date(2026, 1, 15), officer=users["officer"])


def test_posting_stores_the_advance_and_the_job_applies_it_on_the_due_date(db, loan, users):
    from jobs.daily import run_daily
    from models import Installment, Loan
    from services.ledger import post_repayment, reverse_repayment, settlement_quote

    today = date(2026, 2, 12)
    rep = post_repayment(loan, D("10661.85"), date(2026, 2, 12), users["officer"], today=today)
    assert (rep.advance_part, rep.interest_part, rep.principal_part) == (D("10661.85"), D("0.00"), D("0.00"))
    assert (loan.advance_balance, loan.outstanding_principal) == (D("10661.85"), D("120000.00"))
    quote = settlement_quote(loan, today)
    assert quote["advance"] == D("10661.85") and quote["total"] == D("120000.00") + D("1120.00") - D("10661.85")  # 28 days of interest
    db.session.commit()

    assert run_daily(date(2026, 2, 15)).ok
    db.session.expire_all()
    loan = db.session.get(Loan, loan.id)
    first = db.session.query(Installment).filter_by(loan_id=loan.id, period=1).one()
    assert (loan.advance_balance, loan.outstanding_principal, loan.days_overdue) == (D("0.00"), D("110538.15"), 0)
    assert (first.interest_paid, first.principal_paid, first.paid_off_date) == \
        (D("1200.00"), D("9461.85"), date(2026, 2, 15))

    # 冲正 of the repayment that funded it: the advance never was, period 1 is overdue
    reverse_repayment(rep, "误入账", users["risk_approver"], today=date(2026, 2, 20))
    assert (loan.advance_balance, loan.outstanding_principal, loan.days_overdue) == (D("0.00"), D("120000.00"), 5)


def test_a_prepayment_choice_and_an_unknown_choice(db, loan, users):
    from services import BusinessError
    from services.ledger import post_repayment

    today = date(2026, 2, 12)
    rep = post_repayment(loan, D("5000"), today, users["officer"], today=today, prepay_mode="shorten")
    assert (rep.principal_part, rep.advance_part, loan.advance_balance) == (D("5000.00"), D("0.00"), D("0.00"))
    assert loan.outstanding_principal == D("115000.00")
    held = post_repayment(loan, D("100"), today, users["officer"], today=today, prepay_mode="advance")
    assert (held.advance_part, held.prepay_mode, loan.advance_balance) == (D("100.00"), None, D("100.00"))
    with pytest.raises(BusinessError, match="还款用途无效"):
        post_repayment(loan, D("100"), today, users["officer"], today=today, prepay_mode="gift")


def test_the_repayment_form_offers_the_choice_and_the_detail_shows_the_advance(db, client_for, users):
    """还款记录 → 新增: 余额用途 defaults to 按期还款 (the rule stated under it); an instalment
    paid before its due date is held (flash, 预收 column), and 贷款详情 shows 预收余额 in the
    header, under 还款计划 and as 已收预收款 in 提前结清试算."""
    from models import Loan, Repayment
    from services.loans import open_loan
    from tests import book_factory as bf
    from tests.test_form_once import fill

    today = date.today()
    start = today - timedelta(days=10)
    loan = open_loan(customer=bf.customer("预收界面客户"), product=bf.product("预收界面产品"), principal=D("120000"),
                     rate=D("12"), term_months=12, start_date=start, officer=users["officer"])
    db.session.commit()
    c = client_for("officer")
    form = c.get("/repayments/new/").get_data(as_text=True)
    assert "按期还款:余额作为预收款,到期日自动冲抵" in form and "提前还款·缩短期限" in form
    assert ledger_rules()["advance"] in form
    action, data = fill(c, "/repayments/new/", {"loan": loan.id, "paid_on": today.isoformat(), "amount": "10661.85"})
    assert data["prepay_mode"] == "advance"  # the default choice
    page = c.post(action, data=data, follow_redirects=True).get_data(as_text=True)
    assert "转入预收款 10661.85" in page
    db.session.expire_all()
    loan = db.session.get(Loan, loan.id)
    rep = db.session.query(Repayment).filter_by(loan_id=loan.id).one()
    assert (rep.advance_part, loan.advance_balance, loan.outstanding_principal) == \
        (D("10661.85"), D("10661.85"), D("120000.00"))
    listing = c.get("/repayments/").get_data(as_text=True)
    assert "预收" in listing
    detail = c.get(f"/loan_detail/{loan.id}/").get_data(as_text=True)
    assert 'id="loan-advance"' in detail and 'id="schedule-advance"' in detail and "已收预收款" in detail
    assert "10,661.85" in detail


def ledger_rules():
    from services.ledger import rules

    return rules()
