"""预收款 through the browser: an officer books an instalment paid ten days before its due
date; 余额用途 defaults to 按期还款, the money is held as 预收款 (the flash names it), and
贷款详情 shows 预收余额 in the header, under 还款计划 and as 已收预收款 in 提前结清试算. The
same amount booked as 提前还款·缩短期限 on another loan reduces the principal instead."""
from datetime import date, timedelta
from decimal import Decimal

import pytest

from admin_app.extensions import db
from models import Loan
from services.loans import open_loan
from tests import book_factory as bf
from tests.browser.conftest import pick_loan, screenshot

pytestmark = pytest.mark.browser


def _loan(name, users):
    loan = open_loan(customer=bf.customer(name), product=bf.product(name + "产品"), principal=Decimal("120000"),
                     rate=Decimal("12"), term_months=12, start_date=date.today() - timedelta(days=21),
                     officer=users["officer"])
    db.session.commit()
    return loan.id, loan.loan_no


def _book(officer, loan_no, amount, choice=None):
    officer.goto(f"{officer.base}/repayments/new/")
    pick_loan(officer, loan_no)
    officer.fill("#paid_on", date.today().isoformat())
    officer.keyboard.press("Escape")  # close the date picker
    if choice:
        officer.select_option("#prepay_mode", choice)
    officer.fill("#amount", amount)
    with officer.expect_navigation():
        officer.press("#amount", "Enter")


def test_an_early_instalment_is_held_as_advance_and_shown_on_the_loan(page_as, users):
    held_id, held_no = _loan("预收浏览器客户", users)
    officer = page_as("officer")
    officer.goto(f"{officer.base}/repayments/new/")
    assert officer.input_value("#prepay_mode") == "advance"
    assert "按期还款:余额作为预收款,到期日自动冲抵" in officer.content()
    _book(officer, held_no, "10661.85")
    assert "转入预收款 10661.85" in officer.content()
    screenshot(officer, "advance_booked")

    officer.goto(f"{officer.base}/loan_detail/{held_id}/")
    assert officer.inner_text("#loan-advance").strip() == "10,661.85"
    assert "已收预收款" in officer.inner_text("#settlement-quote")
    # seven key figures stay on one line (the header wrapped 客户经理 to a second row)
    tops = officer.eval_on_selector_all("#loan-figures > div", "els => els.map(e => e.getBoundingClientRect().top)")
    assert len(tops) == 7 and len(set(tops)) == 1, tops
    screenshot(officer, "advance_on_loan_detail")
    db.session.expire_all()
    loan = db.session.get(Loan, held_id)
    assert (loan.advance_balance, loan.outstanding_principal) == (Decimal("10661.85"), Decimal("120000.00"))

    prepaid_id, prepaid_no = _loan("提前还款浏览器客户", users)
    _book(officer, prepaid_no, "10661.85", "shorten")
    assert "本金 10661.85" in officer.content()
    db.session.expire_all()
    loan = db.session.get(Loan, prepaid_id)
    assert (loan.advance_balance, loan.outstanding_principal) == (Decimal("0.00"), Decimal("109338.15"))
