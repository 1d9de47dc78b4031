"""Round trip: a book built through the services, exported from each importable screen by
the app's own export, imported into an empty database (same products and staff) gives the
same figures: customers, cards, credit lines, guarantors, collateral, every schedule row,
every repayment's allocation, and each loan's position as of the same date.

Bank cards: the screen's export masks card numbers (6222 **** **** 1234), so they import
only from a full-number file; the masked export is refused row by row with that reason."""
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select, text

from admin_app.extensions import db as _db
from models import (BankCard, Collateral, CreditLine, Customer, Guarantor, Installment, Loan, Repayment)
from services.importing import import_file
from services.loans import amount_owed, open_loan, post_repayment, refresh_position
from tests.book_factory import customer, months_ago, product

ORDER = ("customers", "credit_lines", "loans", "guarantors", "collaterals", "repayments")
DATA_TABLES = ("import_balance_check", "audit_log", "warning", "loan_entry", "repayment", "installment", "guarantor",
               "collateral", "bank_card", "credit_line", "loan", "customer", "import_record")


def build_book(users):
    p1, p2 = product("经营贷"), product("消费贷", method="equal_principal")
    officer = users["officer"]
    people = []
    for i in range(4):
        c = customer(f"往返客户{i}")
        c.officer_id, c.address = officer.id, f"北京市东城区{i}号"
        people.append(c)
    _db.session.add(CreditLine(customer_id=people[0].id, amount=Decimal("500000.00"),
                               start_date=date(2026, 1, 1), expiry_date=date(2027, 1, 1)))
    loans = []
    # Repaid on time for three periods; left overdue; paid late (penalty); settled in full.
    l0 = open_loan(customer=people[0], product=p1, principal=Decimal("120000.00"), term_months=12,
                   start_date=months_ago(6), officer=officer)
    for inst in sorted(l0.installments, key=lambda i: i.period)[:3]:
        post_repayment(l0, Decimal(inst.principal_due) + Decimal(inst.interest_due), inst.due_date)
    l1 = open_loan(customer=people[1], product=p2, principal=Decimal("60000.00"), term_months=12,
                   start_date=months_ago(4), officer=officer)
    l2 = open_loan(customer=people[2], product=p1, principal=Decimal("30000.00"), term_months=6,
                   start_date=months_ago(5), officer=officer)
    first = min(l2.installments, key=lambda i: i.period)
    post_repayment(l2, Decimal("3000.00"), first.due_date + timedelta(days=20))
    l3 = open_loan(customer=people[3], product=p2, principal=Decimal("10000.00"), term_months=6,
                   start_date=months_ago(2), officer=officer)
    post_repayment(l3, amount_owed(l3, date.today())["total"], date.today())
    loans = [l0, l1, l2, l3]
    _db.session.add(Guarantor(loan_id=l0.id, kind="person", name="担保甲", id_number=people[3].id_number,
                              phone="13900001111", guaranteed_amount=Decimal("50000.00")))
    _db.session.add(Collateral(loan_id=l1.id, kind="mortgage", description="东城区住宅", value=Decimal("900000.00"),
                               registration_no="京(2026)0001", start_date=date(2026, 1, 1),
                               expiry_date=date(2028, 1, 1)))
    _db.session.add(BankCard(customer_id=people[0].id, bank_name="工商银行", account_name="往返客户0",
                             card_number="6222020200112233445", is_default=True))
    for loan in loans:
        refresh_position(loan, date.today())
    _db.session.commit()


def figures():
    """Every figure of the book, keyed by natural keys (ids differ after the round trip)."""
    s = _db.session
    loans = {l.id: l.loan_no for l in s.scalars(select(Loan))}
    money = lambda v: None if v is None else Decimal(v).quantize(Decimal("0.01"))  # noqa: E731
    return {
        "customers": sorted((c.kind, c.name, c.id_number, c.phone, c.contact_person or "", c.address or "",
                             c.officer_id) for c in s.scalars(select(Customer))),
        "credit_lines": sorted((c.customer.id_number, money(c.amount), c.start_date, c.expiry_date)
                               for c in s.scalars(select(CreditLine))),
        "loans": sorted((l.loan_no, l.contract_no, l.customer.id_number, l.product_id, money(l.principal),
                         Decimal(l.rate), l.term_months, l.start_date, l.maturity_date, l.repayment_method,
                         l.status, l.five_class, money(l.outstanding_principal), l.days_overdue,
                         money(l.overdue_principal), money(l.overdue_interest), money(l.penalty_interest),
                         l.settled_date, l.officer_id) for l in s.scalars(select(Loan))),
        "installments": sorted((loans[i.loan_id], i.period, i.due_date, money(i.principal_due), money(i.interest_due),
                                money(i.principal_paid), money(i.interest_paid), money(i.penalty_paid),
                                i.paid_off_date) for i in s.scalars(select(Installment))),
        "repayments": sorted((loans[r.loan_id], r.paid_on, money(r.amount), money(r.penalty_part),
                              money(r.interest_part), money(r.principal_part)) for r in s.scalars(select(Repayment))),
        "guarantors": sorted((loans[g.loan_id], g.kind, g.name, g.id_number, g.phone, money(g.guaranteed_amount))
                             for g in s.scalars(select(Guarantor))),
        "collaterals": sorted((loans[c.loan_id], c.kind, c.description, money(c.value), c.registration_no,
                               c.start_date, c.expiry_date) for c in s.scalars(select(Collateral))),
    }


def test_exported_screens_import_back_to_the_same_figures(client_for, db, users):
    build_book(users)
    before = figures()
    admin = client_for("admin")
    # Identifiers leave only through the admins' recorded 完整信息导出; card numbers through
    # the ordinary (masked) export, to prove a masked file is refused.
    exports = {screen: admin.post(f"/{screen}/export_full/csv/", {"reason": "other", "reason_text": "导入往返"}).data
               for screen in ORDER}
    exports["bank_cards"] = admin.get("/bank_cards/export/csv/").data
    for table in DATA_TABLES:
        _db.session.execute(text(f'DELETE FROM "{table}"'))
    _db.session.commit()
    assert figures()["loans"] == []
    for screen in ORDER:
        out = import_file(screen, exports[screen], f"{screen}.csv", user=users["admin"], mode="all")
        assert out.result.committed, (screen, [(r.number, r.errors) for r in out.result.error_rows])
        again = import_file(screen, exports[screen], f"{screen}.csv", user=users["admin"], mode="all")
        assert again.result.nothing_to_do, (screen, again.result.counts)
    _db.session.expire_all()
    after = figures()
    for key in before:
        assert after[key] == before[key], key
    cards = import_file("bank_cards", exports["bank_cards"], "cards.csv", user=users["admin"], mode="all")
    assert not cards.result.committed
    assert "脱敏" in cards.result.error_rows[0].errors[0][1]
