"""导入 of 银行卡, 授信 and the officer's data scope on loans and repayments."""
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from models import BankCard, CreditLine
from models.identity import luhn_check_digit
from services.importing import import_file
from tests.book_factory import active_loan, customer
from tests.import_files import csv_bytes

CARD_HEAD = ["客户证件号码", "客户名称", "开户银行", "开户支行", "账户名", "银行卡号", "默认卡"]


def card(n: int) -> str:
    body = f"62220202{n:010d}"
    return body + luhn_check_digit(body)


def imp(users, kind, rows, head, mode="all", user="admin", **kw):
    return import_file(kind, csv_bytes([head] + rows), f"{kind}.csv", user=users[user], mode=mode, **kw)


def test_cards_match_on_number_within_the_customer(db, users):
    a, b = customer("卡甲"), customer("卡乙")
    db.session.commit()
    rows = [[a.id_number, "", "工商银行", "", "卡甲", card(1), "是"],
            [a.id_number, "", "建设银行", "", "卡甲", card(2), "是"],
            ["", "卡乙", "农业银行", "", "卡乙", card(3), "否"]]
    out = imp(users, "bank_cards", rows, CARD_HEAD)
    assert out.result.committed, [r.errors for r in out.result.rows]
    cards = {c.card_number: c for c in db.session.scalars(select(BankCard))}
    assert [cards[card(1)].is_default, cards[card(2)].is_default] == [False, True]  # one default per customer
    assert cards[card(3)].customer_id == b.id
    assert "以最后一张为准" in out.result.rows[0].note
    again = imp(users, "bank_cards", rows, CARD_HEAD)
    assert again.result.nothing_to_do, again.result.counts
    clash = imp(users, "bank_cards", [[b.id_number, "", "工商银行", "", "卡乙", card(1), "否"]], CARD_HEAD, mode="preview")
    assert "其他客户" in clash.result.rows[0].errors[0][1]
    wrong = imp(users, "bank_cards", [[a.id_number, "", "工商银行", "", "卡甲", "6222020200000000001", ""],
                                      [a.id_number, "卡乙", "工商银行", "", "卡甲", card(9), ""]], CARD_HEAD,
                mode="preview")
    assert wrong.result.rows[0].errors[0][1].startswith("银行卡号校验位错误")
    assert wrong.result.rows[1].errors == [("客户名称", "客户名称与证件号码不符(系统中为「卡甲」)")]


def test_credit_lines_dates_and_reimport(db, users):
    a = customer("授信甲")
    db.session.commit()
    head = ["客户名称", "联系电话", "授信金额", "起始日", "到期日"]
    rows = [["授信甲", a.phone, "500,000.00", "2026/01/01", "2027-01-01"],
            ["授信甲", a.phone, "100000", "2026-03-01", "2026-02-01"]]
    out = imp(users, "credit_lines", rows, head, mode="valid")
    assert out.result.rows[1].errors == [("到期日", "到期日早于起始日")]
    line = db.session.scalar(select(CreditLine))
    assert Decimal(line.amount) == Decimal("500000.00") and line.start_date == date(2026, 1, 1)
    assert imp(users, "credit_lines", rows[:1], head).result.nothing_to_do


def test_officer_imports_only_for_their_own_loans(db, users):
    mine = customer("本人客户")
    mine.officer_id = users["officer"].id
    theirs = customer("他人客户")
    theirs.officer_id = users["officer2"].id
    loan_mine = active_loan(mine, officer=users["officer"])
    loan_theirs = active_loan(theirs, officer=users["officer2"])
    db.session.commit()
    head = ["贷款编号", "还款日期", "还款金额"]
    day = date.today().isoformat()
    out = imp(users, "repayments", [[loan_mine.loan_no, day, "100"], [loan_theirs.loan_no, day, "100"]], head,
              mode="preview", user="officer", own_only=True)
    assert out.result.rows[0].ok and "数据权限" in out.result.rows[1].errors[0][1]
    head = ["贷款编号", "客户名称", "贷款产品", "贷款金额", "期限(月)", "放款日"]
    out = imp(users, "loans", [["DKSCOPE1", "他人客户", loan_theirs.product.name, "1000", "12", day]], head,
              mode="preview", user="officer", own_only=True)
    assert "数据权限" in out.result.rows[0].errors[0][1]
    assert db.session.scalar(select(func.count()).select_from(BankCard)) == 0
