"""A write-off carried through the browser: officer picks the loan by the AJAX lookup,
amounts default to what is outstanding, 核销风控申请 and 核销风控审核 pass it; the loan is
then 已核销."""
import pytest

from admin_app.extensions import db
from models import Loan, WriteOff
from tests import review_factory as make
from tests.browser.conftest import click_nav, approve_at, screenshot

pytestmark = pytest.mark.browser


def test_writeoff_through_officer_and_two_risk_stages(page_as):
    healthy = make.loan()
    loan = make.loan(days_overdue=400, five_class=5, principal="60000.00", overdue_interest="2500.00")
    db.session.commit()
    loan_id, loan_no = loan.id, loan.loan_no

    officer = page_as("officer")
    officer.goto(officer.base + "/writeoff_apply/")
    click_nav(officer, "#writeoff-add")
    officer.fill("#loan-search", healthy.loan_no)
    # 正常 loans are not offered.
    officer.wait_for_selector("#loan-results .list-group-item:has-text('没有可核销的贷款')")
    officer.fill("#loan-search", loan_no)
    officer.click(f"#loan-results .loan-option:has-text('{loan_no}')")
    assert officer.input_value("#principal_amount") == "60000.00"
    assert officer.input_value("#interest_amount") == "2500.00"
    officer.fill("#reason", "借款人失联,经诉讼执行终结,无财产可供执行")
    click_nav(officer, "#writeoff-submit")
    officer.wait_for_selector(".alert-success")
    assert "核销申请已提交" in officer.content()
    screenshot(officer, "writeoff_submitted")

    approve_at(page_as("risk_checker"), "writeoff_stage_risk_apply", loan_no, "材料齐全,同意")
    db.session.expire_all()
    assert db.session.get(Loan, loan_id).status == "overdue"
    approver = page_as("risk_approver")
    approve_at(approver, "writeoff_stage_risk_approve", loan_no, "同意核销")

    db.session.expire_all()
    written = db.session.get(Loan, loan_id)
    assert written.status == "written_off" and written.written_off_date is not None
    item = db.session.query(WriteOff).filter_by(loan_id=loan_id).one()
    assert item.review_status == "approved" and str(item.principal_amount) == "60000.00"
    approver.goto(f"{approver.base}/writeoff_apply/item/{item.id}/")
    assert "已通过" in approver.content() and "同意核销" in approver.content()
    screenshot(approver, "writeoff_done")
