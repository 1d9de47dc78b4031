"""冲正 and 账销案存 through the browser: an officer proposes reversing a repayment and 风控主管
approves it (the repayment stays, marked 已冲正, the loan replays); a written-off loan stays
on 还款催收 marked 已核销, is collected, and a repayment on it is booked as a 核销后收回 that
核销台账 shows."""
from datetime import date
from decimal import Decimal

import pytest

from admin_app.extensions import db
from models import Loan, Repayment
from services.loans import post_repayment
from tests import book_factory as bf
from tests.browser.conftest import approve_at, click_nav, pick_loan, screenshot

pytestmark = pytest.mark.browser


def test_a_reversal_proposed_by_an_officer_and_approved_by_the_risk_approver(page_as):
    loan = bf.overdue_loan()
    repayment = post_repayment(loan, "1500.00", date.today())
    db.session.commit()
    loan_no, repayment_id, loan_id = loan.loan_no, repayment.id, loan.id
    before = Decimal(loan.outstanding_principal)

    officer = page_as("officer")
    officer.goto(f"{officer.base}/repayments/?q_loan_no={loan_no}")
    click_nav(officer, "a.row-link:has-text('冲正')")
    officer.fill("#reason", "同一笔银行流水重复入账")
    click_nav(officer, "#reversal-submit")
    assert "冲正申请已提交" in officer.content()
    screenshot(officer, "reversal_proposed")

    approver = page_as("risk_approver")
    approve_at(approver, "reversal_stage_risk_approve", loan_no, "核对银行流水,同意冲正")
    assert "已通过该还款冲正事项" in approver.content()
    screenshot(approver, "reversal_approved")

    db.session.expire_all()
    kept = db.session.get(Repayment, repayment_id)
    assert kept is not None and kept.reversed_on == date.today()
    assert Decimal(db.session.get(Loan, loan_id).outstanding_principal) >= before
    officer.goto(f"{officer.base}/repayments/?q_loan_no={loan_no}")
    assert "冲正</a>" not in officer.content()  # reversed once only: no 冲正 link any more


def test_a_written_off_loan_is_collected_and_gets_a_recovery(page_as, users):
    from tests.test_writeoff_collection import written_off_loan

    loan = written_off_loan(db, users)  # applied and approved through both write-off stages
    loan_id, loan_no = loan.id, loan.loan_no

    collector = page_as("collector")
    collector.goto(f"{collector.base}/collection_overdue/?q_status=written_off")
    assert loan_no in collector.content() and "已核销" in collector.content()
    click_nav(collector, "a.row-link:has-text('催收')")
    # Within the allowed contact hours (08:00-21:00), whatever time the test runs.
    yesterday = date.fromordinal(date.today().toordinal() - 1)
    collector.fill("#contacted_at", f"{yesterday.isoformat()}T10:00")
    collector.fill("#content", "电话联系借款人,承诺下周还款 2000 元")
    click_nav(collector, "#collection-submit")
    assert "催收记录" in collector.content() and "已保存" in collector.content()

    officer = page_as("officer")
    officer.goto(f"{officer.base}/repayments/new/")
    pick_loan(officer, loan_no)
    officer.fill("#paid_on", date.today().isoformat())
    officer.keyboard.press("Escape")  # close the date picker
    officer.fill("#amount", "2000.00")
    with officer.expect_navigation():
        officer.press("#amount", "Enter")
    assert "核销后收回" in officer.content()
    screenshot(officer, "recovery_booked")

    officer.goto(f"{officer.base}/writeoff_book/?q_loan_no={loan_no}")
    assert "2,000.00" in officer.content()
    screenshot(officer, "writeoff_book")
    db.session.expire_all()
    assert db.session.get(Loan, loan_id).status == "written_off"
