"""Two staff changing one loan at once (found by bench/load_test.py): the loan's version
check lets the first change through; the second gets a message and changes nothing, never
a 500. The other user's commit is simulated by bumping the loan's version in the database
while the change is being written."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

import services.ledger as ledger_svc
from models import Loan, RateChange, Repayment
from tests import book_factory as bf
from services.loans import CHANGED_MEANWHILE


@pytest.fixture
def loan(db):
    loan = bf.active_loan()
    db.session.commit()
    return loan


def _meanwhile(monkeypatch, db, loan_id):
    """Another user's change commits between our read of the loan and our write."""
    store = ledger_svc._store_installments

    def racing(loan, book):
        store(loan, book)
        db.session.execute(text("UPDATE loan SET version = version + 1 WHERE id = :id"), {"id": loan_id})

    monkeypatch.setattr(ledger_svc, "_store_installments", racing)


@pytest.mark.parametrize("change", ["rate", "extension"])
def test_a_change_that_lost_the_race_is_refused_with_a_message(client_for, db, loan, monkeypatch, change):
    c = client_for("officer")
    if change == "rate":
        url = f"/contract_change/rate/{loan.id}/"
        form = {"new_rate": "15.5", "effective_date": date.today().isoformat(), "reason": "同时调整"}
    else:
        url = f"/contract_change/extension/{loan.id}/"
        from models.money import add_months

        form = {"new_maturity": add_months(loan.maturity_date, 3).isoformat(), "reason": "同时展期"}
    version = loan.version
    if change == "extension":
        # The extension is written by its final approval (展期风控审核): that is what races.
        assert c.post(url, data={**form, "confirm": "1"}).status_code == 302
        from models import ExtensionApplication
        from models.approval import WORKFLOWS

        item_id = db.session.scalar(select(ExtensionApplication.id))
        first, last = WORKFLOWS["extension"].stages
        client_for("risk_checker").post(f"/{first.endpoint}/review/{item_id}/decide",
                                        {"decision": "approve", "opinion": "同意"})
        db.session.expire_all()
        version = db.session.get(Loan, loan.id).version
        c, url = client_for("risk_approver"), f"/{last.endpoint}/review/{item_id}/decide"
        form = {"decision": "approve", "opinion": "同意"}
    _meanwhile(monkeypatch, db, loan.id)
    r = c.post(url, data={**form, "confirm": "1"}, follow_redirects=True)
    assert r.status_code == 200
    assert CHANGED_MEANWHILE in r.get_data(as_text=True)
    db.session.expire_all()
    fresh = db.session.get(Loan, loan.id)
    assert fresh.version == version and fresh.rate == Decimal("12")  # nothing of ours was kept
    assert db.session.scalar(select(func.count(RateChange.id))) == 0


def test_a_repayment_that_lost_the_race_is_refused_with_a_message(client_for, db, loan, monkeypatch):
    """Same for 还款记录: posting a repayment while another user changed the loan."""
    loan_id, version = loan.id, loan.version
    _meanwhile(monkeypatch, db, loan_id)
    r = client_for("officer").post("/repayments/new/", data={
        "loan": str(loan_id), "paid_on": date.today().isoformat(), "amount": "100.00"}, follow_redirects=True)
    assert r.status_code == 200
    assert CHANGED_MEANWHILE in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Loan, loan_id).version == version
    assert db.session.scalar(select(func.count(Repayment.id))) == 0
