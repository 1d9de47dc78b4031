"""Bounds on what users enter (models.bounds, admin_app.bounds): money ≤ 10^12 with two
decimals, rates with four decimals, dates from 2000-01-01 to today (or a year ahead where
the future makes sense), a loan's principal within the single-loan limit parameter. The
finding: a loan of 1e20 was booked (its schedule no longer summed to the principal)."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from admin_app import settings
from admin_app.bounds import column_problems
from models import Collateral, CreditLine, Loan, Repayment
from models.bounds import NEAR_FUTURE, PAST, TERM_END, date_problem, money_problem, rate_problem
from services import BusinessError
from services.loans import open_loan, post_repayment
from tests import book_factory as bf

TODAY = date.today()


def loans() -> int:
    from admin_app.extensions import db

    return db.session.scalar(select(func.count()).select_from(Loan))


def loan_form(b, principal, **extra):
    return {"customer": b["active"].customer_id, "product": b["active"].product_id,
            "principal": principal, "term_months": "12", "start_date": TODAY.isoformat(), **extra}


@pytest.mark.parametrize("principal, message", [
    ("1e20", "贷款金额不能超过 1,000,000,000,000.00 元"),
    ("100000000000000000000", "贷款金额不能超过 1,000,000,000,000.00 元"),
    ("1000.005", "贷款金额最多保留两位小数"),
    ("10000000.01", "超过单笔贷款金额上限 10,000,000.00 元"),
])
def test_a_loan_beyond_the_bounds_is_refused_on_the_form(app, db, client_for, principal, message):
    b = bf.book()
    db.session.commit()
    before = loans()
    page = client_for("officer").post("/loans/new/", data=loan_form(b, principal))
    assert page.status_code == 200
    assert message in page.get_data(as_text=True)
    assert loans() == before


def test_the_single_loan_limit_is_a_parameter(app, db, client_for):
    b = bf.book()
    settings.set_value("loan.single_limit", "20000000")
    db.session.commit()
    before = loans()
    r = client_for("officer").post("/loans/new/", data=loan_form(b, "15000000.00"))
    assert r.status_code == 302 and loans() == before + 1
    with pytest.raises(BusinessError, match="单笔贷款金额上限 20,000,000.00 元"):
        open_loan(customer=b["active"].customer, product=b["active"].product, principal="20000000.01",
                  term_months=12, start_date=TODAY)


def test_the_limit_parameter_is_validated_on_the_settings_page(app, db, client_for):
    admin = client_for("admin")
    form = {p.key: p.default for p in settings.PARAMS}
    r = admin.post("/settings/save/", data={**form, "loan.single_limit": "1e20"})
    assert r.status_code == 200  # the form again, the message under the field
    assert "单笔贷款金额上限(元)不能超过 1,000,000,000,000.00 元" in r.get_data(as_text=True)
    r = admin.post("/settings/save/", data={**form, "loan.single_limit": "5000000"})
    assert r.status_code == 302
    assert settings.get_decimal("loan.single_limit") == Decimal("5000000.00")


def test_services_refuse_amounts_beyond_the_bounds(app, db):
    loan = bf.overdue_loan()
    with pytest.raises(BusinessError, match="还款金额不能超过"):
        post_repayment(loan, "1e13", TODAY)
    with pytest.raises(BusinessError, match="贷款金额不能超过"):
        open_loan(customer=loan.customer, product=loan.product, principal="1e20", term_months=12,
                  start_date=TODAY)


def test_a_rate_with_five_decimals_is_refused(app, db, client_for):
    b = bf.book()
    db.session.commit()
    r = client_for("officer").post(f"/contract_change/rate/{b['active'].id}/",
                                   data={"new_rate": "10.12345", "effective_date": TODAY.isoformat(),
                                         "reason": "测试"})
    assert "新年利率最多保留四位小数" in r.get_data(as_text=True)


@pytest.mark.parametrize("url, fields, message", [
    ("/repayments/new/", lambda b: {"loan": b["overdue"].id, "paid_on": "1999-12-31", "amount": "1.00"},
     "还款日期不能早于 2000-01-01"),
    ("/collaterals/new/", lambda b: {"loan": b["active"].id, "kind": "mortgage", "description": "房产",
                                     "value": "1000000000000.01", "start_date": TODAY.isoformat(),
                                     "expiry_date": (TODAY + timedelta(days=400)).isoformat()},
     "评估价值不能超过 1,000,000,000,000.00 元"),
    ("/collaterals/new/", lambda b: {"loan": b["active"].id, "kind": "mortgage", "description": "房产",
                                     "value": "100.00", "start_date": (TODAY + timedelta(days=1)).isoformat(),
                                     "expiry_date": (TODAY + timedelta(days=400)).isoformat()},
     "起始日不能晚于今天"),
    ("/credit_lines/new/", lambda b: {"customer": b["active"].customer_id, "amount": "100.00",
                                      "start_date": TODAY.isoformat(), "expiry_date": "2099-01-01"},
     "到期日不能晚于三十年后"),
    ("/guarantors/new/", lambda b: {"loan": b["active"].id, "kind": "person", "name": "甲",
                                    "id_number": bf.resident_id(5), "phone": "13900000005",
                                    "guaranteed_amount": "12.345"},
     "担保金额最多保留两位小数"),
])
def test_forms_refuse_values_beyond_the_bounds_under_the_field(app, db, client_for, url, fields, message):
    b = bf.book()
    db.session.commit()
    r = client_for("officer").post(url, data={k: str(v) for k, v in fields(b).items()})
    assert r.status_code == 200
    assert message in r.get_data(as_text=True)


def test_collection_promise_and_follow_up_are_bounded(app, db, client_for):
    b = bf.book()
    db.session.commit()
    far = (TODAY + timedelta(days=400)).isoformat()
    r = client_for("collector").post(f"/collection_overdue/collect/{b['overdue'].id}", data={
        "target": "borrower", "method": "phone", "contacted_at": f"{TODAY - timedelta(days=1)}T10:00",
        "content": "电话", "promised_date": far, "promised_amount": "1e13", "next_follow_up": far})
    html = r.get_data(as_text=True)
    assert "承诺还款日期不能晚于一年后" in html and "承诺还款金额不能超过" in html
    assert "下次跟进日期不能晚于一年后" in html


def test_every_money_rate_and_date_column_of_a_screen_form_is_checked():
    problems = column_problems(Collateral, {"value": Decimal("1e13"), "start_date": date(1999, 1, 1),
                                            "description": "x"}, {"value": "评估价值", "start_date": "起始日"})
    assert set(problems) == {"value", "start_date"}
    assert column_problems(CreditLine, {"expiry_date": TODAY + timedelta(days=3650)}, {}) == {}
    assert "rate" in column_problems(Loan, {"rate": Decimal("12.00001")}, {})
    assert column_problems(Repayment, {"paid_on": TODAY + timedelta(days=1)}, {"paid_on": "还款日期"}) == \
        {"paid_on": f"还款日期不能晚于今天({TODAY:%Y-%m-%d})"}


def test_the_rules_at_their_edges():
    assert money_problem("1000000000000.00") is None and money_problem("-1000000000000.00") is None
    assert money_problem("1000000000000.01") and money_problem("0.001") and money_problem("NaN")
    assert money_problem("1E+2") is None  # 100
    assert rate_problem("23.9999") is None and rate_problem("23.99999")
    assert date_problem(date(2000, 1, 1)) is None and date_problem(date(1999, 12, 31))
    assert date_problem(TODAY) is None and date_problem(TODAY + timedelta(days=1), PAST)
    leap = date(2028, 2, 29)
    assert date_problem(date(2029, 2, 28), NEAR_FUTURE, today=leap) is None
    assert date_problem(date(2029, 3, 1), NEAR_FUTURE, today=leap)
    assert date_problem(date(2058, 2, 28), TERM_END, today=leap) is None
