"""Write-offs: eligibility, amounts, one per loan, the chain and its effect on the loan."""
from datetime import date
from decimal import Decimal

import pytest

from admin_app.extensions import db
from models import Loan
from services import BusinessError, approvals, writeoff
from tests import review_factory as make


def _bad(**kw):
    kw.setdefault("days_overdue", 400)
    kw.setdefault("five_class", 5)
    return make.loan(**kw)


def test_amounts_default_to_outstanding_principal_and_unpaid_interest(users):
    loan = _bad(principal="80000.00", overdue_interest="1500.25", penalty_interest="300.10")
    item = writeoff.apply(loan.id, users["officer"], reason="诉讼终结,无财产可执行")
    assert (item.principal_amount, item.interest_amount) == (Decimal("80000.00"), Decimal("1800.35"))
    assert item.review_status == "draft"


@pytest.mark.parametrize("principal, interest, message", [
    ("80000.01", "0", "不能超过剩余本金"), ("-1", "0", "不能为负数"), ("abc", "0", "必须是金额"),
    ("100.001", "0", "两位小数"), ("0", "0", "必须大于零"), ("100", "5000", "不能超过欠息"),
])
def test_amount_checks(users, principal, interest, message):
    loan = _bad(principal="80000.00", overdue_interest="100.00")
    with pytest.raises(BusinessError, match=message):
        writeoff.apply(loan.id, users["officer"], reason="x", principal_amount=principal,
                       interest_amount=interest)


def test_only_substandard_or_worse_open_loans(users):
    for loan in (make.loan(five_class=2, days_overdue=30), _bad(status="settled")):
        with pytest.raises(BusinessError, match="只能核销"):
            writeoff.apply(loan.id, users["officer"], reason="x")
    with pytest.raises(BusinessError, match="请填写核销原因说明"):
        writeoff.apply(_bad().id, users["officer"], reason=" ")


def test_one_write_off_per_loan_and_lookup_hides_taken_loans(users):
    loan, other = _bad(), _bad()
    writeoff.apply(loan.id, users["officer"], reason="失联", submit=True)
    with pytest.raises(BusinessError, match="不能重复申请"):
        writeoff.apply(loan.id, users["officer2"], reason="再申请")
    ids = [ln.id for ln in writeoff.lookup("")]
    assert other.id in ids and loan.id not in ids
    assert [ln.id for ln in writeoff.lookup(other.loan_no)] == [other.id]


def test_chain_writes_the_loan_off_only_at_the_last_stage(users):
    loan = _bad(principal="50000.00")
    item = writeoff.apply(loan.id, users["officer"], reason="借款人破产清算完毕", submit=True)
    assert item.review_stage == "risk_apply"
    approvals.approve("writeoff", item.id, users["risk_checker"], "材料齐全")
    assert loan.status == "overdue"
    approvals.approve("writeoff", item.id, users["risk_approver"], "同意核销")
    db.session.expire_all()
    loan = db.session.get(Loan, loan.id)
    assert loan.status == "written_off" and loan.written_off_date == date.today()
    assert item.review_status == "approved" and item.principal_amount == Decimal("50000.00")
    with pytest.raises(BusinessError, match="不能重新提交"):
        approvals.resubmit("writeoff", item.id, users["officer"], reason="x")  # not rejected


def test_rejected_application_is_amended_and_resubmitted(users):
    loan = _bad(principal="50000.00")
    item = writeoff.apply(loan.id, users["officer"], reason="失联", submit=True)
    approvals.reject("writeoff", item.id, users["risk_checker"], "请补充诉讼材料")
    approvals.resubmit("writeoff", item.id, users["officer"], principal_amount="40000.00",
                       reason="失联,已补充判决书")
    assert (item.review_status, item.review_stage, item.principal_amount) == (
        "pending", "risk_apply", Decimal("40000.00"))


def test_final_approval_rechecks_the_loan(users):
    loan = _bad()
    item = writeoff.apply(loan.id, users["officer"], reason="失联", submit=True)
    approvals.approve("writeoff", item.id, users["risk_checker"], "同意")
    loan.status = "settled"  # repaid in full while waiting
    db.session.flush()
    with pytest.raises(BusinessError, match="只能核销未结清"):
        approvals.approve("writeoff", item.id, users["risk_approver"], "同意")
