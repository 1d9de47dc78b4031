"""The six warning rules of SPEC §4 at their boundaries, as the daily job applies them:
due exactly at the lead day, one day after, expired, settled loans excluded, grace days
for penalty interest, and the level rule (高 overdue/expired, 中 within a third of the
lead days, 低 otherwise)."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from admin_app import settings
from jobs.daily import run_daily
from models import Warning
from tests.warning_book import AS_OF, Book, book, run  # noqa: F401 (book is a fixture)



def rows(db, kind, as_of=AS_OF) -> list[Warning]:
    return list(db.session.scalars(select(Warning).where(Warning.kind == kind, Warning.as_of == as_of)
                                   .order_by(Warning.days.desc(), Warning.id)))


def by_due(db, kind) -> dict:
    return {w.due_date: w for w in rows(db, kind)}


# ---- 授信到期 -------------------------------------------------------------------------
def test_credit_line_within_lead_days_or_expired_is_warned_with_days_and_level(db, book):
    c = book.customer("授信客户", phone="13900000001", contact="王联系")
    for offset in (31, 30, 11, 10, 0, -1, -400):
        book.credit_line(c, book.day(offset), amount=80000)
    run(db)
    got = by_due(db, "credit_expiry")
    assert book.day(31) not in got  # one day beyond the lead days
    assert {d: (w.days, w.level) for d, w in got.items()} == {
        book.day(30): (-30, 1), book.day(11): (-11, 1), book.day(10): (-10, 2),
        book.day(0): (0, 2), book.day(-1): (1, 3), book.day(-400): (400, 3)}
    w = got[book.day(30)]
    assert (w.customer_name, w.phone, w.contact_person, w.amount, w.loan_id) == \
        ("授信客户", "13900000001", "王联系", Decimal("80000.00"), None)


def test_lead_days_come_from_the_parameter(db, book):
    settings.set_value("lead_days.credit_expiry", "10")
    c = book.customer()
    book.credit_line(c, book.day(10))
    book.credit_line(c, book.day(11))
    run(db)
    assert set(by_due(db, "credit_expiry")) == {book.day(10)}


# ---- 抵押 / 质押到期 --------------------------------------------------------------------
@pytest.mark.parametrize("kind,code", [("mortgage_expiry", "mortgage"), ("pledge_expiry", "pledge")])
def test_collateral_of_open_loans_within_lead_days_or_expired(db, book, kind, code):
    p = book.product()
    other = "pledge" if code == "mortgage" else "mortgage"
    loan = book.loan(book.customer("抵质押客户"), p, installments=[(book.day(60), 12000, 100)])
    for offset in (31, 30, 0, -5):
        book.collateral(loan, code, book.day(offset), value=300000)
    book.collateral(loan, other, book.day(1))  # the other kind is not on this screen
    settled = book.loan(book.customer("已结清"), p, status="settled", installments=[(book.day(-90), 12000, 100)])
    book.collateral(settled, code, book.day(1))
    written_off = book.loan(book.customer("已核销"), p, status="written_off", installments=[(book.day(-90), 12000, 100)])
    book.collateral(written_off, code, book.day(1))
    run(db)
    got = by_due(db, kind)
    assert {d: (w.days, w.level) for d, w in got.items()} == {
        book.day(30): (-30, 1), book.day(0): (0, 2), book.day(-5): (5, 3)}
    w = got[book.day(30)]
    assert (w.loan_id, w.loan_no, w.customer_name, w.amount) == (loan.id, loan.loan_no, "抵质押客户", Decimal("300000.00"))
    assert w.collateral.kind == code


# ---- 贷后检查 --------------------------------------------------------------------------
def test_inspection_due_within_lead_days_or_past_for_open_loans(db, book):
    p = book.product(interval=90)
    inst = [(book.day(60), 12000, 100)]
    at_lead = book.loan(book.customer("七天后检查"), p, last_inspection=book.day(7 - 90), installments=inst)
    beyond = book.loan(book.customer("八天后检查"), p, last_inspection=book.day(8 - 90), installments=inst)
    never = book.loan(book.customer("从未检查"), p, start=book.day(-100), installments=inst)
    book.loan(book.customer("已结清"), p, status="settled", start=book.day(-300), installments=inst)
    run(db)
    got = {w.loan_id: w for w in rows(db, "inspection_due")}
    assert set(got) == {at_lead.id, never.id}
    assert (got[at_lead.id].due_date, got[at_lead.id].days, got[at_lead.id].level) == (book.day(7), -7, 1)
    assert (got[never.id].due_date, got[never.id].days, got[never.id].level) == (book.day(-10), 10, 3)
    assert beyond.id not in got


# ---- 还款逾期 --------------------------------------------------------------------------
def test_repayment_overdue_lists_unpaid_past_due_installments_with_penalty(db, book):
    p = book.product(grace_days=3, markup=50)
    loan = book.loan(book.customer("逾期客户"), p, rate=12, installments=[
        {"due": book.day(-40), "principal": 1000, "interest": 100, "principal_paid": 400, "interest_paid": 100},
        (book.day(-4), 1000, 100),                                    # one day past the grace days
        (book.day(-3), 1000, 100),                                    # exactly the grace days
        (book.day(0), 1000, 100),                                     # due today: not overdue
        {"due": book.day(-70), "principal": 1000, "interest": 100, "principal_paid": 1000,
         "interest_paid": 100, "paid_off": book.day(-70)},              # paid
    ])
    book.loan(book.customer("已结清"), p, status="settled", installments=[(book.day(-10), 1000, 100)])
    run(db)
    got = by_due(db, "repayment_overdue")
    assert set(got) == {book.day(-40), book.day(-4), book.day(-3)}
    old = got[book.day(-40)]
    # beyond the grace days penalty counts from the due date: 600 × 12 × 150 × 40 / 3,600,000 = 12.00
    assert (old.days, old.overdue_principal, old.overdue_interest, old.penalty_interest, old.amount, old.level) == \
        (40, Decimal("600.00"), Decimal("0.00"), Decimal("12.00"), Decimal("612.00"), 3)
    # 罚息 1000 × 12 × 150 × 4 / 3.6M = 2.00 plus 复利 100 × 12 × 150 × 4 / 3.6M = 0.20
    assert got[book.day(-4)].penalty_interest == Decimal("2.20")
    assert got[book.day(-3)].penalty_interest == Decimal("0.00")
    assert got[book.day(-3)].amount == Decimal("1100.00")
    assert all(w.loan_id == loan.id for w in got.values())


def test_penalty_already_paid_is_deducted_and_half_cent_rounds_up(db, book):
    p = book.product(grace_days=0, markup=50)
    # 1 × 3 × 150 × 1 / 3,600,000 = 0.000125 -> 0.00; 333.33 × 12 × 150 × 3 / 3.6M = 0.499995 -> 0.50
    book.loan(book.customer("罚息客户"), p, rate=12, installments=[
        {"due": book.day(-3), "principal": 333.33, "interest": 10, "penalty_paid": 0.2}])
    run(db)
    (w,) = rows(db, "repayment_overdue")
    # 0.50 − 0.20 paid = 0.30 罚息, plus 复利 10 × 12 × 150 × 3 / 3.6M = 0.015 -> 0.02 (half up)
    assert w.penalty_interest == Decimal("0.32")


# ---- 还款到期 --------------------------------------------------------------------------
def test_repayment_due_lists_unpaid_installments_due_within_lead_days(db, book):
    p = book.product()
    book.loan(book.customer("到期客户"), p, installments=[
        (book.day(-1), 1000, 100),   # overdue: the other screen
        (book.day(0), 1000, 100),
        (book.day(2), 1000, 100),
        (book.day(3), 1000, 100),
        {"due": book.day(7), "principal": 1000, "interest": 100, "principal_paid": 250},
        (book.day(8), 1000, 100),
        {"due": book.day(5), "principal": 1000, "interest": 100, "principal_paid": 1000,
         "interest_paid": 100, "paid_off": book.day(-1)},
    ])
    book.loan(book.customer("已核销"), p, status="written_off", installments=[(book.day(1), 1000, 100)])
    run(db)
    got = by_due(db, "repayment_due")
    assert {d: (w.days, w.level, w.amount) for d, w in got.items()} == {
        book.day(0): (0, 2, Decimal("1100.00")), book.day(2): (-2, 2, Decimal("1100.00")),
        book.day(3): (-3, 1, Decimal("1100.00")), book.day(7): (-7, 1, Decimal("850.00"))}


def test_repayment_due_leaves_out_what_the_advance_covers(db, book):
    """预收余额 2,500.00 (an early payment held, applied on the due dates): the day(2)
    instalment 1,100 is covered, the day(3) one too (1,400 left), the day(6) one in part
    (300 left of 1,100: 800 still to pay), the day(7) one not at all."""
    p = book.product()
    loan = book.loan(book.customer("预收客户"), p, installments=[
        (book.day(2), 1000, 100), (book.day(3), 1000, 100), (book.day(6), 1000, 100), (book.day(7), 1000, 100)])
    loan.advance_balance = Decimal("2500.00")
    db.session.flush()
    run(db)
    got = by_due(db, "repayment_due")
    assert {d: w.amount for d, w in got.items()} == {book.day(6): Decimal("800.00"), book.day(7): Decimal("1100.00")}


def test_every_kind_is_produced_and_counted(db, book):
    p = book.product()
    c = book.customer()
    loan = book.loan(c, p, start=book.day(-100), installments=[(book.day(-5), 100, 1), (book.day(1), 100, 1)])
    book.collateral(loan, "mortgage", book.day(1))
    book.collateral(loan, "pledge", book.day(1))
    book.credit_line(c, book.day(1))
    result = run(db)
    assert result.rows == {"credit_expiry": 1, "mortgage_expiry": 1, "pledge_expiry": 1,
                           "inspection_due": 1, "repayment_overdue": 1, "repayment_due": 1}
    assert "授信到期预警 1 条" in result.describe()


def test_the_nightly_move_sets_no_indexed_column(db):
    """jobs.steps.warnings moves every current row to the next day (as_of and the daily
    columns). On PostgreSQL that is a HOT update — no index entry written — only while no
    index holds one of those columns (key or partial-index condition) and the pages keep
    room for the new row version (fillfactor). With as_of in two indexes, a 1,000,000-loan
    book's move wrote 1,400,000 entries into each of eleven indexes: over 5 minutes."""
    from sqlalchemy import text

    from jobs.steps.warnings import DAILY_COLUMNS
    from models.warning import WARNING_FILLFACTOR

    moved = set(DAILY_COLUMNS) | {"as_of"}
    for index in Warning.__table__.indexes:
        held = {c.name for c in index.columns}
        for dialect in ("sqlite", "postgresql"):
            where = index.dialect_options[dialect].get("where")
            if where is not None:
                held |= {c for c in Warning.__table__.columns.keys() if c in str(where)}
        assert not held & moved, (index.name, held & moved)
    if db.engine.dialect.name == "postgresql":
        options = db.session.execute(text("SELECT reloptions FROM pg_class WHERE relname = 'warning' "
                                          "AND relnamespace = to_regnamespace(current_schema())")).scalar()
        assert f"fillfactor={WARNING_FILLFACTOR}" in (options or [])
