"""冲正: an officer proposes reversing a repayment with a reason; 风控主管 approves through the
one approval mechanism (four eyes, once only, a rejection returns it to the proposer);
approval appends a reversal entry and replays the loan; nothing is deleted. The finding: a
repayment posted twice stayed twice, and no reversal existed."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import Repayment, RepaymentReversal
from services import BusinessError, approvals, reversal
from services.loans import post_repayment
from tests import book_factory as bf
from tests.html_forms import form_by_id

TODAY = date.today()


def paid_loan(db):
    loan = bf.overdue_loan()
    first = post_repayment(loan, "1000.00", TODAY)
    db.session.commit()
    return loan, first


def test_a_reversal_is_proposed_on_the_repayment_list_and_waits_for_the_risk_approver(app, db, client_for):
    loan, repayment = paid_loan(db)
    officer = client_for("officer")
    assert f"/repayments/reverse/{repayment.id}" in officer.get("/repayments/").get_data(as_text=True)
    page = officer.get(f"/repayments/reverse/{repayment.id}").get_data(as_text=True)
    form = form_by_id(page, "reversal-form")
    r = officer.post(form.action, data=form.data(reason="重复入账"))
    assert r.status_code == 302
    [item] = db.session.scalars(select(RepaymentReversal)).unique().all()
    assert (item.review_status, item.review_stage, item.reason) == ("pending", "risk_approve", "重复入账")
    waiting = client_for("risk_approver").get("/reversal_stage_risk_approve/").get_data(as_text=True)
    assert loan.loan_no in waiting and "重复入账" in waiting
    # The proposal page shows the trail; nothing changed on the loan yet.
    page = officer.get(r.location).get_data(as_text=True)
    assert "待还款冲正审核" in page and "风控主管审核通过后生效" in page


def test_only_officers_propose(app, db, client_for):
    _, repayment = paid_loan(db)
    assert client_for("collector").get(f"/repayments/reverse/{repayment.id}").status_code == 403
    assert client_for("risk_approver").post(f"/repayments/reverse/{repayment.id}",
                                            data={"reason": "x"}).status_code == 403


def test_a_reason_is_required_and_one_open_reversal_per_loan(app, db, users):
    _, repayment = paid_loan(db)
    with pytest.raises(BusinessError, match="请填写冲正原因"):
        reversal.propose(repayment.id, "  ", users["officer"])
    reversal.propose(repayment.id, "重复入账", users["officer"])
    with pytest.raises(BusinessError, match="已有一笔未完成的还款冲正申请"):
        reversal.propose(repayment.id, "再次申请", users["officer2"])


def test_four_eyes_nobody_approves_their_own_proposal(app, db, users):
    _, repayment = paid_loan(db)
    both = users["risk_approver"]
    both.roles = {"risk_approver", "officer"}
    item = reversal.propose(repayment.id, "重复入账", both)
    with pytest.raises(BusinessError, match="四眼原则"):
        approvals.approve("reversal", item.id, both, "同意")


def test_a_rejection_returns_it_to_the_proposer_who_amends_or_withdraws(app, db, users, client_for):
    _, repayment = paid_loan(db)
    item = reversal.propose(repayment.id, "重复入账", users["officer"])
    approvals.reject("reversal", item.id, users["risk_approver"], "请补充银行流水号")
    db.session.commit()
    officer = client_for("officer")
    page = officer.get(f"/repayments/reversal/{item.id}/").get_data(as_text=True)
    assert "被还款冲正审核驳回" in page and "请补充银行流水号" in page
    form = form_by_id(page, "reversal-form")
    officer.post(form.action, data=form.data(reason="重复入账,银行流水号 202612010001"))
    db.session.expire_all()
    item = db.session.get(RepaymentReversal, item.id)
    assert item.review_status == "pending" and "202612010001" in item.reason


def test_approval_appends_a_reversal_and_replays_nothing_deleted(app, db, users):
    loan, repayment = paid_loan(db)
    before = Decimal(loan.outstanding_principal)
    item = reversal.propose(repayment.id, "重复入账", users["officer"])
    approvals.approve("reversal", item.id, users["risk_approver"], "同意", stage="risk_approve")
    db.session.commit()
    db.session.expire_all()
    rep = db.session.get(Repayment, repayment.id)
    assert rep is not None and rep.reversed_on == TODAY  # kept, marked
    assert db.session.scalar(select(func.count()).select_from(Repayment)) == 1
    assert Decimal(rep.loan.outstanding_principal) >= before
    with pytest.raises(BusinessError, match="已于"):
        reversal.propose(repayment.id, "再冲一次", users["officer"])
    # once only: the same decision again is refused
    with pytest.raises(BusinessError):
        approvals.approve("reversal", item.id, users["risk_approver"], "同意", stage="risk_approve")
