"""The demo book seeder (admin_app.seed.book): a small book has every state, class, method and
warning source; its money is consistent; it is deterministic; it refuses a non-empty book."""
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from admin_app.seed import book
from models import (AuditLog, BankCard, Collateral, CreditLine, Customer, Extension, Guarantor,
                    Installment, Loan, LoanProduct, RateChange, Repayment)
from models.classification import minimum_class, thresholds
from models.enums import LOAN_STATUSES, REPAYMENT_METHODS
from models.identity import (is_valid_luhn, is_valid_phone, is_valid_resident_id, is_valid_uscc)
from models.money import build_schedule

AS_OF = date(2025, 6, 30)


@pytest.fixture
def seeded(db):
    summary = book.run(loans=300, seed=7, as_of=AS_OF)
    db.session.commit()
    return summary


def _all(db, *columns):
    return db.session.execute(select(*columns)).all()


def test_every_state_class_method_and_product(db, seeded):
    loans = db.session.execute(select(Loan)).scalars().all()
    assert len(loans) == 300
    assert seeded["loan_rows"] == 300
    assert {l.status for l in loans} == set(LOAN_STATUSES) - {"written_off"}
    assert {l.five_class for l in loans} == {1, 2, 3, 4, 5}
    assert {l.repayment_method for l in loans} == set(REPAYMENT_METHODS)
    products = db.session.execute(select(LoanProduct)).scalars().all()
    assert 4 <= len(products) <= 6
    assert {p.repayment_method for p in products} == set(REPAYMENT_METHODS)
    for p in products:
        assert p.penalty_markup == 50 and p.grace_days == 3
        assert 30 <= p.inspection_interval_days <= 180
        assert p.min_rate <= p.default_rate <= p.max_rate
    assert {"个人经营贷", "小微企业流动资金贷", "车辆抵押贷"} <= {p.name for p in products}
    # Every overdue aging bucket is present, and no loan was written off by this step.
    overdue = [l.days_overdue for l in loans if l.status == "overdue"]
    for low, high in ((1, 30), (31, 90), (91, 180), (181, 360), (361, 10000)):
        assert any(low <= d <= high for d in overdue), (low, high)
    assert not any(l.written_off_date for l in loans)
    assert sum(1 for l in loans if l.five_class >= 3 and l.status == "overdue") >= 3


def test_schedules_repayments_and_balances_are_consistent(db, seeded):
    loans = {l.id: l for l in db.session.execute(select(Loan)).scalars()}
    inst = defaultdict(list)
    for i in db.session.execute(select(Installment).order_by(Installment.loan_id, Installment.period)).scalars():
        inst[i.loan_id].append(i)
    reps = defaultdict(list)
    for r in db.session.execute(select(Repayment)).scalars():
        assert r.amount == r.penalty_part + r.interest_part + r.principal_part
        assert r.amount > 0 and r.paid_on <= AS_OF
        reps[r.loan_id].append(r)
    limits = thresholds()
    for loan_id, loan in loans.items():
        rows = inst[loan_id]
        assert [i.period for i in rows] == list(range(1, len(rows) + 1))
        assert sum(i.principal_due for i in rows) == loan.principal
        assert rows[-1].due_date == loan.maturity_date
        repaid = sum(i.principal_paid for i in rows)
        assert loan.outstanding_principal == loan.principal - repaid
        assert repaid == sum(r.principal_part for r in reps[loan_id])
        assert sum(i.interest_paid for i in rows) == sum(r.interest_part for r in reps[loan_id])
        # penalty_part holds 罚息 + 复利 (+ 违约金); compound_part says how much is 复利
        assert sum(i.penalty_paid + i.compound_paid for i in rows) == sum(r.penalty_part for r in reps[loan_id])
        assert sum(i.compound_paid for i in rows) == sum(r.compound_part for r in reps[loan_id])
        for i in rows:
            if i.paid_off_date is not None:
                assert (i.principal_paid, i.interest_paid) == (i.principal_due, i.interest_due)
                assert i.paid_off_date <= AS_OF
            else:
                assert i.principal_paid < i.principal_due or i.interest_paid < i.interest_due
        unpaid_past = [i for i in rows if i.paid_off_date is None and i.due_date < AS_OF]
        if loan.status == "overdue":
            assert unpaid_past
            assert loan.days_overdue == (AS_OF - unpaid_past[0].due_date).days > 0
            assert loan.overdue_principal == sum(i.principal_due - i.principal_paid for i in unpaid_past)
            assert loan.overdue_interest == sum(i.interest_due - i.interest_paid for i in unpaid_past)
            assert loan.suggested_class == minimum_class(loan.days_overdue, limits)
            assert loan.five_class >= loan.suggested_class
        else:
            assert not unpaid_past and loan.days_overdue == 0 and loan.overdue_principal == 0
        if loan.status == "settled":
            assert loan.outstanding_principal == 0 and loan.five_class == 1
            assert all(i.paid_off_date for i in rows)
            assert loan.settled_date == max(r.paid_on for r in reps[loan_id])
        else:
            assert loan.settled_date is None and loan.outstanding_principal > 0


def test_schedules_come_from_the_money_engine(db, seeded):
    changed = {r for (r,) in _all(db, RateChange.loan_id)} | {r for (r,) in _all(db, Extension.loan_id)}
    loans = db.session.execute(select(Loan).where(Loan.id.not_in(changed))).scalars().all()
    for loan in loans[:120]:
        expected = build_schedule(loan.principal, loan.rate, loan.term_months, loan.start_date,
                                  loan.repayment_method)
        got = db.session.execute(select(Installment).where(Installment.loan_id == loan.id)
                                 .order_by(Installment.period)).scalars().all()
        assert [(r.due_date, r.principal, r.interest) for r in expected] == \
               [(i.due_date, i.principal_due, i.interest_due) for i in got]


def test_extensions_rate_changes_and_late_payments(db, seeded):
    loans = {l.id: l for l in db.session.execute(select(Loan)).scalars()}
    extensions = db.session.execute(select(Extension)).scalars().all()
    assert {e.loan_id for e in extensions} == {l.id for l in loans.values() if l.status == "extended"}
    for e in extensions:
        loan = loans[e.loan_id]
        assert e.new_maturity_date == loan.maturity_date > e.old_maturity_date
        assert e.reason and e.operator_id == loan.officer_id
    changes = db.session.execute(select(RateChange)).scalars().all()
    assert changes
    for c in changes:
        loan = loans[c.loan_id]
        assert c.new_rate == loan.rate != c.old_rate
        assert loan.start_date < c.effective_date < AS_OF
    assert db.session.execute(select(func.count()).where(Repayment.penalty_part > 0)).scalar() > 0


def test_customers_cards_and_identities_are_valid(db, seeded):
    customers = db.session.execute(select(Customer)).scalars().all()
    kinds = {c.kind for c in customers}
    assert kinds == {"person", "company"}
    officers = {c.officer.username for c in customers}
    assert officers == {"officer", "officer2"}
    for c in customers:
        assert is_valid_phone(c.phone)
        assert c.address and ("市" in c.address)
        if c.kind == "person":
            assert is_valid_resident_id(c.id_number) and 2 <= len(c.name) <= 3
        else:
            assert is_valid_uscc(c.id_number) and c.name.endswith("有限公司") and c.contact_person
        cards = c.bank_cards
        assert 1 <= len(cards) <= 3 and sum(card.is_default for card in cards) == 1
        for card in cards:
            assert card.card_number.startswith("62") and is_valid_luhn(card.card_number)
            assert card.account_name == c.name
    for g in db.session.execute(select(Guarantor)).scalars():
        valid = is_valid_resident_id if g.kind == "person" else is_valid_uscc
        assert valid(g.id_number) and is_valid_phone(g.phone) and g.guaranteed_amount > 0
    loans = db.session.execute(select(Loan)).scalars().all()
    assert all(l.customer_name == l.customer.name and l.officer_id == l.customer.officer_id for l in loans)


def test_warning_sources_exist(db, seeded):
    soon = AS_OF + timedelta(days=30)
    lines = db.session.execute(select(CreditLine)).scalars().all()
    assert any(l.expiry_date < AS_OF for l in lines)
    assert any(AS_OF <= l.expiry_date <= soon for l in lines)
    open_statuses = ("active", "overdue", "extended")
    rows = db.session.execute(select(Collateral.kind, Collateral.expiry_date, Loan.status)
                              .join(Loan, Loan.id == Collateral.loan_id)).all()
    for kind in ("mortgage", "pledge"):
        assert any(k == kind and s in open_statuses and e < AS_OF for k, e, s in rows), kind
        assert any(k == kind and s in open_statuses and AS_OF <= e <= soon for k, e, s in rows), kind
    guarantor_kinds = {k for (k,) in _all(db, Guarantor.kind)}
    assert guarantor_kinds == {"person", "company"}
    share = db.session.execute(select(func.count(func.distinct(Guarantor.loan_id)))).scalar() / 300
    assert 0.25 <= share <= 0.55
    loans = db.session.execute(select(Loan).where(Loan.status.in_(open_statuses))).scalars().all()
    assert any(l.next_inspection_date and l.next_inspection_date < AS_OF for l in loans)
    assert any(l.next_inspection_date and AS_OF <= l.next_inspection_date <= AS_OF + timedelta(days=7)
               for l in loans)
    assert any(l.last_inspection_date for l in loans)
    assert all(l.next_inspection_date is None for l in db.session.execute(
        select(Loan).where(Loan.status == "settled")).scalars())
    # Some unpaid installments fall due within the repayment-due lead days.
    assert db.session.execute(select(func.count()).where(
        Installment.paid_off_date.is_(None), Installment.due_date >= AS_OF,
        Installment.due_date <= AS_OF + timedelta(days=7))).scalar() > 0


def test_bulk_rows_bypass_the_audit_hook(db, seeded):
    audited = db.session.execute(select(func.count()).where(
        AuditLog.table_name.in_(("loan", "installment", "repayment", "customer")))).scalar()
    assert audited == 0


def test_daily_job_agrees_with_the_seeded_positions(db, seeded):
    from jobs.daily import run_daily

    before = {l.id: (l.status, l.days_overdue, l.overdue_principal, l.overdue_interest,
                     l.penalty_interest, l.suggested_class, l.next_inspection_date)
              for l in db.session.execute(select(Loan)).scalars()}
    db.session.commit()
    result = run_daily(AS_OF)
    assert result.ok, result.error
    db.session.expire_all()
    after = {l.id: (l.status, l.days_overdue, l.overdue_principal, l.overdue_interest,
                    l.penalty_interest, l.suggested_class, l.next_inspection_date)
             for l in db.session.execute(select(Loan)).scalars()}
    assert after == before
    assert result.loans_updated == 0


def test_every_seeded_loan_is_what_its_ledger_replays_to(db, seeded):
    """Seeding goes through the ledger rule: each seeded loan's entries (written by the same
    backfill as the migration) replay (models.ledger) to exactly the stored schedule, paid
    parts, repayment allocations and loan figures as of the seeding date."""
    from models import LoanEntry
    from services import ledger

    checked = 0
    for loan in db.session.execute(select(Loan).order_by(Loan.id)).scalars():
        b = ledger.book(loan, AS_OF)
        rows = db.session.execute(select(Installment).where(Installment.loan_id == loan.id)
                                  .order_by(Installment.period)).scalars().all()
        stored = [(i.due_date, i.principal_due, i.interest_due, i.principal_paid, i.interest_paid, i.penalty_paid,
                   i.compound_paid, i.paid_off_date) for i in rows]
        replayed = [(p.due, p.principal + p.prepaid, p.interest, p.paid_principal + p.prepaid, p.paid_interest,
                     p.paid_penalty, p.paid_compound, p.cleared_on) for p in b.periods]
        assert stored == replayed, loan.loan_no
        entries = {e.repayment_id: e.id for e in db.session.execute(
            select(LoanEntry).where(LoanEntry.loan_id == loan.id, LoanEntry.repayment_id.is_not(None))).scalars()}
        for r in db.session.execute(select(Repayment).where(Repayment.loan_id == loan.id)).scalars():
            parts = b.parts[entries[r.id]]
            assert (r.penalty_part, r.compound_part, r.interest_part, r.principal_part) == \
                (parts.penalty + parts.compound + parts.fee, parts.compound, parts.interest, parts.principal), loan.loan_no
        pos = b.position()
        status = {"open": "extended" if loan.status == "extended" else "active"}.get(pos["status"], pos["status"])
        assert (loan.status, loan.outstanding_principal, loan.overdue_principal, loan.overdue_interest,
                loan.days_overdue, loan.penalty_interest, loan.compound_interest) == \
            (status, pos["outstanding_principal"], pos["overdue_principal"], pos["overdue_interest"],
             pos["days_overdue"], pos["penalty"], pos["compound"]), loan.loan_no
        checked += 1
    assert checked > 100


def _fingerprint(db):
    return db.session.execute(select(Loan.loan_no, Loan.customer_name, Loan.principal, Loan.rate,
                                     Loan.status, Loan.outstanding_principal).order_by(Loan.id)).all()


def test_deterministic_for_a_seed_and_refuses_a_non_empty_book(db):
    from tests.conftest import _truncate_all
    from admin_app.seed.accounts import ensure_demo_users

    book.run(loans=80, seed=11, as_of=AS_OF)
    db.session.commit()
    first = _fingerprint(db)
    with pytest.raises(book.SeedRefused) as refused:
        book.run(loans=80, seed=11, as_of=AS_OF)
    assert "已有" in refused.value.message and "空库" in refused.value.message
    db.session.rollback()

    _truncate_all()
    ensure_demo_users()
    db.session.commit()
    book.run(loans=80, seed=11, as_of=AS_OF)
    db.session.commit()
    assert _fingerprint(db) == first

    _truncate_all()
    ensure_demo_users()
    db.session.commit()
    book.run(loans=80, seed=12, as_of=AS_OF)
    db.session.commit()
    other = _fingerprint(db)
    assert [r.customer_name for r in other] != [r.customer_name for r in first]


def test_tiny_book_still_covers_every_state(db):
    summary = book.run(loans=12, seed=1, as_of=AS_OF)
    db.session.commit()
    assert summary["loans_by_status"].keys() == {"active", "overdue", "settled", "extended"}
    assert set(summary["loans_by_five_class"]) == {1, 2, 3, 4, 5}
    assert db.session.execute(select(func.count()).select_from(Extension)).scalar() == 2
    assert db.session.execute(select(func.count()).select_from(RateChange)).scalar() >= 1
    assert Decimal(0) < db.session.execute(select(func.sum(Loan.outstanding_principal))).scalar()


def test_writer_thread_errors_reach_the_caller(db):
    from admin_app.seed.book_sink import BulkSink

    sink = BulkSink(db.session.connection(), {"no_such_table": ("id",)}, batch_rows=1)
    sink.add("no_such_table", (1,))
    with pytest.raises(Exception) as failed:
        sink.maybe_flush()
        sink.close()
    assert "no_such_table" in str(failed.value)
    db.session.rollback()
