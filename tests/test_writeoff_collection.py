"""账销案存: a written-off claim stays collectible. The finding: after 核销 the loan left
还款催收 and 担保人催收, 催收 answered 404 and any repayment was refused. Now it stays on
both lists marked 已核销 (with a filter), 催收 works on it, and repayments on it are booked
as 核销后收回 (services.ledger)."""
from datetime import datetime, timedelta

from models import Guarantor, Loan
from services import approvals, writeoff
from tests import review_factory as make
from tests.book_factory import resident_id


def written_off_loan(db, users):
    loan = make.loan(days_overdue=400, five_class=5, principal="60000.00", overdue_interest="2500.00")
    db.session.add(Guarantor(loan_id=loan.id, kind="person", name="担保人乙", id_number=resident_id(42),
                             phone="13900000042", guaranteed_amount="30000.00"))
    item = writeoff.apply(loan.id, users["officer"], reason="借款人失联,诉讼终结", submit=True)
    approvals.approve("writeoff", item.id, users["risk_checker"], "同意", stage="risk_apply")
    approvals.approve("writeoff", item.id, users["risk_approver"], "同意核销", stage="risk_approve")
    db.session.commit()
    assert db.session.get(Loan, loan.id).status == "written_off"
    return loan


def test_a_written_off_loan_stays_on_the_collection_lists_marked(app, db, users, client_for):
    loan = written_off_loan(db, users)
    overdue = make.loan(days_overdue=30, principal="10000.00")
    db.session.commit()
    c = client_for("collector")
    page = c.get("/collection_overdue/").get_data(as_text=True)
    assert loan.loan_no in page and "已核销" in page and overdue.loan_no in page
    only = c.get("/collection_overdue/?q_status=written_off").get_data(as_text=True)
    assert loan.loan_no in only and overdue.loan_no not in only
    assert loan.loan_no not in c.get("/collection_overdue/?q_status=overdue").get_data(as_text=True)
    guarantors = c.get("/collection_guarantor/?q_status=written_off").get_data(as_text=True)
    assert "担保人乙" in guarantors and "已核销" in guarantors


def test_collection_works_on_a_written_off_loan(app, db, users, client_for):
    loan = written_off_loan(db, users)
    c = client_for("collector")
    assert c.get(f"/collection_overdue/collect/{loan.id}").status_code == 200
    when = (datetime.now() - timedelta(days=1)).replace(hour=10, minute=0)
    r = c.post(f"/collection_overdue/collect/{loan.id}", data={
        "target": "borrower", "method": "phone", "contacted_at": when.strftime("%Y-%m-%dT%H:%M"),
        "content": "电话催收,借款人承诺下月还款"})
    assert r.status_code == 302
    assert "电话催收" in c.get(f"/collection_overdue/history/{loan.id}").get_data(as_text=True)

