"""核销台账 from the ledger: every loan with a write-off entry in its ledger is listed (also one
written off without an application), with the amounts the ledger wrote off (principal,
interest, 罚息 + 复利 as owed on the write-off date), what came in since (核销后收回 entries,
net of reversals), what is still to recover and the latest collection. The expected
figures come from the independent reference (tests/ledger_reference), never from the
engine; an application's own amounts are not the amounts written off."""
import csv
import io
from datetime import date, datetime
from decimal import Decimal as D
from fractions import Fraction

import pytest

from admin_app import clock
from models import Collection, Loan
from services import ledger
from tests import ledger_reference as ref
from tests import review_factory as make
from tests.test_writeoff_collection import written_off_loan

START, WRITTEN_OFF, RECOVERED_ON = date(2026, 1, 18), date(2026, 9, 10), date(2026, 10, 1)
COLUMNS = ("核销本金", "核销利息", "核销罚息及复利", "核销金额合计", "累计收回", "尚未收回")


def money(x: Fraction) -> D:
    return D(x.numerator) / D(x.denominator)


def claim(terms: dict, entries: list, on: date) -> dict:
    """What the reference says the loan owed on its write-off date `on`."""
    q = ref.figures(ref.run(terms, entries, on))["quote"]
    return {"principal": money(q["principal"]), "interest": money(q["interest"]),
            "penalty": money(q["penalty"] + q["compound"])}


def expected_row(c: dict, recovered: D) -> dict:
    total = c["principal"] + c["interest"] + c["penalty"]
    return dict(zip(COLUMNS, (c["principal"], c["interest"], c["penalty"], total, recovered, total - recovered)))


def book_rows(client, loan_no: str) -> list[dict]:
    text = client.get(f"/writeoff_book/export/csv/?q_loan_no={loan_no}").get_data(as_text=True)
    return [r for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff"))) if r["贷款编号"] == loan_no]


def as_money(row: dict) -> dict:
    return {k: D(row[k].replace(",", "")) for k in COLUMNS}


@pytest.fixture
def ledger_loan(db, users):
    """等额本金 120,000 at 12%, 12 months from 2026-01-18, never paid (the issue's loan)."""
    from models import Customer, LoanProduct
    from services.loans import open_loan

    product = LoanProduct(code="WOB", name="核销台账产品", repayment_method="equal_principal", min_rate=D("1"),
                          max_rate=D("24"), default_rate=D("12"), min_term=1, max_term=36, penalty_markup=D("50"),
                          grace_days=3, inspection_interval_days=90)
    customer = Customer(kind="person", name="台账客户", id_number="110101199001011237", phone="13800138000")
    db.session.add_all([product, customer])
    db.session.flush()
    return open_loan(customer=customer, product=product, principal=D("120000"), term_months=12,
                     start_date=START, officer=users["officer"])


EP_TERMS = dict(principal=D("120000"), rate=D("12"), start=START, term=12, method="equal_principal",
                markup=D("50"), grace=3)


def test_a_loan_written_off_without_an_application_is_listed_with_the_ledgers_claim(db, users, client_for,
                                                                                   ledger_loan):
    """Written off through services.ledger on 2026-09-10 (no 核销申请), 5,000.00 recovered on
    10-01: the row shows what the reference owed on 09-10, the recovery and the rest."""
    loan = ledger_loan
    ledger.write_off(loan, WRITTEN_OFF, users["risk_approver"], today=WRITTEN_OFF)
    ledger.post_recovery(loan, D("5000"), RECOVERED_ON, users["collector"], today=RECOVERED_ON)
    db.session.add(Collection(collection_no="CSWOB0001", loan_id=loan.id, target="borrower", method="phone", content="电话催收",
                              contacted_at=clock.stored(datetime(2026, 10, 2, 9, 30)), collector_id=users["collector"].id))
    db.session.commit()
    c = claim(EP_TERMS, [dict(seq=2, kind="write_off", date=WRITTEN_OFF)], WRITTEN_OFF)
    assert c["principal"] == D("120000.00")  # never paid: all of it
    officer = client_for("officer")
    (row,) = book_rows(officer, loan.loan_no)
    assert as_money(row) == expected_row(c, D("5000.00"))
    assert row["核销日期"] == "2026-09-10" and row["最近催收时间"].startswith("2026-10-02 09:30")
    page = officer.get(f"/writeoff_book/?q_customer=台账客户").get_data(as_text=True)
    assert loan.loan_no in page and f"{c['principal'] + c['interest'] + c['penalty']:,.2f}" in page


def test_the_amounts_written_off_are_the_ledgers_not_the_applications(db, users, client_for):
    """An application asks 60,000.00 + 2,500.00 (the interest the loan row said); final
    approval writes off what the ledger owes on the approval day, and that is listed."""
    loan = written_off_loan(db, users)
    today = ledger.business_today()
    product = loan.product
    terms = dict(principal=D(loan.principal), rate=D(loan.rate), start=loan.start_date, term=24,
                 method=product.repayment_method, markup=D(product.penalty_markup), grace=product.grace_days,
                 grace_mode=product.grace_mode, compound=product.compound_interest)
    c = claim(terms, [dict(seq=2, kind="write_off", date=today)], today)
    assert c["interest"] + c["penalty"] != D("2500.00")
    (row,) = book_rows(client_for("officer"), loan.loan_no)
    assert as_money(row) == expected_row(c, D("0.00"))


def test_on_the_write_off_day_the_stored_figures_carry_the_whole_claim(db, users, ledger_loan):
    """The running period is cut at the write-off date and falls due that day: the loan's
    stored 逾期本金 / 逾期利息 (还款催收 shows them) are the whole claim from the write-off
    day on, not only the periods due before it."""
    loan = ledger_loan
    ledger.write_off(loan, WRITTEN_OFF, users["risk_approver"], today=WRITTEN_OFF)
    c = claim(EP_TERMS, [dict(seq=2, kind="write_off", date=WRITTEN_OFF)], WRITTEN_OFF)
    db.session.expire_all()
    loan = db.session.get(Loan, loan.id)
    assert (loan.overdue_principal, loan.overdue_interest, loan.penalty_interest + loan.compound_interest) == \
        (c["principal"], c["interest"], c["penalty"])


def test_every_written_off_loan_is_listed_once_and_open_loans_are_not(db, users, client_for, ledger_loan):
    other = make.loan(principal="20000.00", start=date(2025, 6, 1))
    ledger.write_off(ledger_loan, WRITTEN_OFF, users["risk_approver"], today=WRITTEN_OFF)
    db.session.commit()
    text = client_for("officer").get("/writeoff_book/export/csv/").get_data(as_text=True)
    numbers = [r["贷款编号"] for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))]
    assert numbers.count(ledger_loan.loan_no) == 1 and other.loan_no not in numbers


def test_a_loan_written_off_before_the_ledger_gets_its_write_off_entry(db, users, client_for, ledger_loan):
    """Books migrated from before the ledger hold 已核销 loans without a write-off entry; the
    migration's backfill (f1b3d5a7c9e2) dates one on the 核销日期, so the loan is listed and a
    replay keeps it written off."""
    from sqlalchemy import delete

    from models import LoanEntry
    from services.ledger_backfill import backfill_write_offs

    ledger.write_off(ledger_loan, WRITTEN_OFF, users["risk_approver"], today=WRITTEN_OFF)
    db.session.execute(delete(LoanEntry).where(LoanEntry.loan_id == ledger_loan.id, LoanEntry.kind == "write_off"))
    db.session.commit()
    assert book_rows(client_for("officer"), ledger_loan.loan_no) == []
    backfill_write_offs(db.session.connection())
    backfill_write_offs(db.session.connection())  # once only
    db.session.commit()
    (row,) = book_rows(client_for("officer"), ledger_loan.loan_no)
    assert row["核销日期"] == "2026-09-10"
    loan = db.session.get(Loan, ledger_loan.id)
    ledger.sync(loan, date(2026, 10, 1))
    assert loan.status == "written_off" and loan.written_off_date == WRITTEN_OFF
