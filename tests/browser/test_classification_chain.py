"""A classification change carried through the browser: officer proposes and submits,
风控审查, 风控审核 and 审查 each pass it with an opinion; only then the loan's class moves."""
import pytest

from admin_app.extensions import db
from models import Loan
from tests import review_factory as make
from tests.browser.conftest import click_nav, approve_at, screenshot

pytestmark = pytest.mark.browser


def test_classification_change_through_four_users(page_as):
    loan = make.loan(days_overdue=120, five_class=2)
    db.session.commit()
    loan_id, loan_no = loan.id, loan.loan_no

    officer = page_as("officer")
    officer.goto(f"{officer.base}/classification_manage/?q_loan_no={loan_no}")
    click_nav(officer, "a.row-link:has-text('调整分类')")
    assert "逾期超过90天的贷款至少应分为次级" in officer.content()
    # Below the minimum is refused with the rule.
    officer.select_option("#to_class", "1")
    officer.fill("#reason", "客户已承诺还款")
    click_nav(officer, "#btn-save-class")
    assert "逾期超过90天的贷款至少应分为次级" in officer.inner_text(".alert-danger, .alert-error")
    officer.select_option("#to_class", "3")
    officer.fill("#reason", "逾期超过90天,经营恶化")
    click_nav(officer, "#btn-save-class")
    click_nav(officer, "#btn-submit-class")
    assert "已提交分类" in officer.content()
    screenshot(officer, "classification_submitted")

    approve_at(page_as("risk_checker"), "classification_stage_risk_review", loan_no, "逾期属实,同意")
    db.session.expire_all()
    assert db.session.get(Loan, loan_id).five_class == 2
    approve_at(page_as("risk_approver"), "classification_stage_risk_approve", loan_no, "同意调整")
    reviewer = page_as("reviewer")
    approve_at(reviewer, "classification_stage_final_review", loan_no, "审查通过")

    db.session.expire_all()
    assert db.session.get(Loan, loan_id).five_class == 3
    reviewer.goto(f"{reviewer.base}/classification_manage/history/{loan_id}/")
    html = reviewer.content()
    assert "已通过" in html and "审查通过" in html and "同意调整" in html
    screenshot(reviewer, "classification_history")
