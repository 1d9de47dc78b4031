"""年化利率 (IRR of the contract's cash flows, ×12) against an independent reference: an exact
bisection on the present value of the same flows in 50-digit Decimal arithmetic, written
apart from models.irr (which solves in floating point). Then the ceiling parameter: products,
loans, rate changes and extensions above it are refused, naming the basis; the rate is
shown on 贷款详情, in the previews and on products."""
import re
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from admin_app import settings
from models import LoanProduct
from models.irr import annual_percent, schedule_rate
from models.money import add_months, build_schedule
from services import BusinessError
from services.loans import change_rate, open_loan
from tests import book_factory as bf

METHODS = ("equal_installment", "equal_principal", "interest_first", "bullet")
START = date(2024, 1, 15)  # every due date a whole month after the start


def reference_annual(principal: Decimal, rows) -> Decimal:
    """Bisection on NPV(i) = -P + Σ (p_k + i_k) / (1 + i)^m_k, m_k the due date's month count
    from START (the 15th, so every due date is a whole month), exact to 1e-15 per month."""
    def months(due):
        return (due.year - START.year) * 12 + due.month - START.month

    flows = [(months(r.due_date), Decimal(r.principal) + Decimal(r.interest)) for r in rows]
    with localcontext(Context(prec=50)):
        def npv(i):
            return -principal + sum(a / (1 + i) ** k for k, a in flows)

        low, high = Decimal(0), Decimal(1)
        while high - low > Decimal("1e-15"):
            mid = (low + high) / 2
            if npv(mid) > 0:
                low = mid
            else:
                high = mid
        return (low * 1200).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@given(principal=st.decimals(min_value="1000", max_value="5000000", places=2),
       rate=st.decimals(min_value="1", max_value="36", places=2),
       term=st.integers(min_value=1, max_value=60), method=st.sampled_from(METHODS))
@hsettings(max_examples=150, deadline=None)
def test_the_annual_rate_equals_the_reference_bisection(principal, rate, term, method):
    rows = build_schedule(principal, rate, term, START, method)
    assert schedule_rate(principal, START, rows) == reference_annual(principal, rows)


@pytest.mark.parametrize("method, term, expected", [
    ("equal_installment", 12, "12.00"), ("equal_principal", 24, "12.00"),
    ("interest_first", 12, "12.00"), ("bullet", 1, "12.00"),
    # 到期一次还本付息, 12 months at 12%: 1.12^(1/12) - 1 = 0.9489% a month, × 12 = 11.39%.
    ("bullet", 12, "11.39"),
])
def test_hand_worked_figures(method, term, expected):
    rows = build_schedule(Decimal("120000.00"), Decimal("12"), term, START, method)
    assert schedule_rate(Decimal("120000.00"), START, rows) == Decimal(expected)


def test_an_add_on_rate_shows_its_true_annual_rate():
    # 10,000 repaid in 12 equal payments of 900 (an 8% "flat" add-on rate): the monthly IRR
    # solves 10000 = 900 × (1 - (1+i)^-12) / i, i = 1.2043%, × 12 = 14.45% (the textbook figure).
    flows = [(0, Decimal("-10000"))] + [(k, Decimal("900")) for k in range(1, 13)]
    assert annual_percent(flows) == Decimal("14.45")


def product(max_rate="30", method="equal_installment"):
    p = bf.product(method=method)
    p.max_rate = Decimal(max_rate)
    return p


def test_a_loan_above_the_ceiling_is_refused_naming_the_basis(app, db):
    p = product()
    with pytest.raises(BusinessError, match=re.escape("年化利率(IRR)25.00% 超过上限 24%(依据:《最高人民法院")):
        open_loan(customer=bf.customer(), product=p, principal="10000.00", rate="25", term_months=12,
                  start_date=date.today())
    open_loan(customer=bf.customer(), product=p, principal="10000.00", rate="24", term_months=12,
              start_date=date.today())


def test_the_ceiling_is_a_parameter_with_its_basis(app, db):
    settings.set_value("loan.rate_ceiling", "36")
    settings.set_value("loan.rate_ceiling_basis", "董事会决议2026-11")
    p = product()
    open_loan(customer=bf.customer(), product=p, principal="10000.00", rate="30", term_months=12,
              start_date=date.today())
    settings.set_value("loan.rate_ceiling", "18")
    with pytest.raises(BusinessError, match=re.escape("超过上限 18%(依据:董事会决议2026-11)")):
        open_loan(customer=bf.customer(), product=p, principal="10000.00", rate="20", term_months=12,
                  start_date=date.today())


def test_a_rate_change_above_the_ceiling_is_refused(app, db):
    loan = bf.active_loan(prod=product())
    with pytest.raises(BusinessError, match="调整后年化利率"):
        change_rate(loan, "28", date.today(), "测试", None)


def test_a_product_above_the_ceiling_is_refused_on_its_form(app, db, client_for):
    form = {"code": "HI1", "name": "高息产品", "repayment_method": "equal_installment", "min_rate": "6",
            "default_rate": "12", "max_rate": "30", "min_term": "1", "max_term": "36",
            "penalty_markup": "50", "grace_days": "3", "inspection_interval_days": "90", "active": "y"}
    admin = client_for("admin")
    r = admin.post("/products/new/", data=form)
    assert r.status_code == 200
    assert "按最高年利率计算的年化利率(IRR)30.00% 超过上限 24%" in r.get_data(as_text=True)
    assert db.session.query(LoanProduct).count() == 0
    r = admin.post("/products/new/", data={**form, "max_rate": "24"})
    assert r.status_code == 302 and db.session.query(LoanProduct).count() == 1
    page = admin.get("/products/").get_data(as_text=True)
    assert "最高年化利率(IRR,%)" in page and ">24.00<" in page
    assert "不得超过 24%(依据" in admin.get("/products/new/").get_data(as_text=True)


def test_the_annual_rate_is_shown_on_the_loan_and_in_the_previews(app, db, client_for):
    p = bf.product(method="bullet")
    loan = open_loan(customer=bf.customer(), product=p, principal="120000.00", rate="12", term_months=12,
                     start_date=date.today() - timedelta(days=7))
    db.session.commit()
    officer = client_for("officer")
    detail = officer.get(f"/loan_detail/{loan.id}/").get_data(as_text=True)
    assert 'id="loan-annual-rate">11.39%' in detail
    preview = officer.post(f"/contract_change/rate/{loan.id}/", data={
        "new_rate": "18", "effective_date": date.today().isoformat(), "reason": "测试"}).get_data(as_text=True)
    assert 'id="rate-annual-rate"' in preview and "<strong>11.39%</strong> →" in preview
    preview = officer.post(f"/contract_change/extension/{loan.id}/", data={
        "new_maturity": add_months(loan.maturity_date, 3).isoformat(), "reason": "测试"}).get_data(as_text=True)
    assert 'id="extension-annual-rate"' in preview and "上限 24%" in preview
