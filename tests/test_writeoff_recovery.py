"""账销案存, the money side: a repayment on a written-off loan is booked as a 核销后收回
(services.ledger) and 核销台账 lists what was written off, recovered and the last collection."""
from datetime import datetime, timedelta

from models import Loan
from tests.test_writeoff_collection import written_off_loan


def test_a_repayment_on_a_written_off_loan_is_a_recovery_shown_on_the_ledger_screen(app, db, users, client_for):
    from datetime import date

    from models import Repayment

    loan = written_off_loan(db, users)
    officer = client_for("officer")
    r = officer.post("/repayments/new/", data={"loan": str(loan.id), "paid_on": date.today().isoformat(),
                                               "amount": "2000.00"}, follow_redirects=True)
    assert "已登记核销后收回 2000.00 元" in r.get_data(as_text=True)
    rep = db.session.query(Repayment).filter_by(loan_id=loan.id).one()
    assert rep.kind == "recovery"
    db.session.expire_all()
    assert db.session.get(Loan, loan.id).status == "written_off"
    when = (datetime.now() - timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    client_for("collector").post(f"/collection_overdue/collect/{loan.id}", data={
        "target": "borrower", "method": "phone", "contacted_at": when.strftime("%Y-%m-%dT%H:%M"),
        "content": "电话催收"})
    page = officer.get(f"/writeoff_book/?q_loan_no={loan.loan_no}").get_data(as_text=True)
    assert loan.loan_no in page and "2,000.00" in page and when.strftime("%Y-%m-%d %H:%M") in page
    csv = officer.get("/writeoff_book/export/csv/").get_data(as_text=True)
    assert loan.loan_no in csv and "累计收回" in csv and "2000.00" in csv
    assert client_for("collector").get("/writeoff_book/").status_code == 200
