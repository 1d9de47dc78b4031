"""基础数据: customers with inline cards, products (admins), loans opened through the money
engine, credit lines, collateral, guarantors, repayments posted through the money engine."""
import json
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from models import BankCard, Collateral, Collection, CreditLine, Customer, Guarantor, Installment, Loan, \
    LoanProduct, Repayment
from tests import book_factory as bf

CARD = "6222020200112233445"  # UnionPay, passes Luhn
CARD2 = "6217000010012345678"


def _valid_card(prefix: str) -> str:
    from models.identity import luhn_check_digit

    return prefix + luhn_check_digit(prefix)


def customer_form(**over):
    data = {"kind": "person", "name": "陈新客", "id_number": bf.resident_id(555), "phone": "13812345678",
            "contact_person": "", "address": "北京市海淀区中关村大街1号"}
    data.update(over)
    return data


# ---- customers ------------------------------------------------------------------------

def test_customer_list_in_chinese_with_search(client_for, db):
    bf.customer("张小明")
    bf.customer("李大华")
    db.session.commit()
    page = client_for("officer").get("/customers/?q_name=张").get_data(as_text=True)
    assert "张小明" in page and "李大华" not in page
    for label in ("客户类型", "证件号码", "联系电话", "联系人", "客户经理", "查询", "重置"):
        assert label in page


def test_create_customer_with_several_bank_cards(client_for, db, users):
    card1, card2 = _valid_card("622202020011223344"), _valid_card("621700001001234567")
    data = customer_form(officer=str(users["officer"].id))
    data.update({"bank_cards-0-bank_name": "工商银行", "bank_cards-0-branch": "海淀支行",
                 "bank_cards-0-account_name": "陈新客",
                 "bank_cards-0-card_number": card1, "bank_cards-0-is_default": "y",
                 "bank_cards-1-bank_name": "建设银行", "bank_cards-1-branch": "中关村支行",
                 "bank_cards-1-account_name": "陈新客",
                 "bank_cards-1-card_number": card2})
    r = client_for("officer").post("/customers/new/", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)
    c = db.session.query(Customer).filter_by(name="陈新客").one()
    assert c.officer_id == users["officer"].id
    assert sorted(b.card_number for b in db.session.query(BankCard).filter_by(customer_id=c.id)) == sorted([card1, card2])


@pytest.mark.parametrize("field,value,message", [
    ("id_number", "110101198501010000", "身份证号无效"),
    ("phone", "12345", "联系电话无效"),
])
def test_customer_validation_messages(client_for, db, field, value, message):
    r = client_for("officer").post("/customers/new/", data=customer_form(**{field: value}))
    assert r.status_code == 200 and message in r.get_data(as_text=True)
    assert db.session.query(Customer).count() == 0


def test_company_needs_a_credit_code_and_a_contact_person(client_for, db):
    from models.identity import uscc_check_char

    code17 = "91110108MA01ABCD1"
    c = client_for("officer")
    page = c.post("/customers/new/", data=customer_form(kind="company", name="示例科技有限公司",
                                                        id_number=bf.resident_id(7))).get_data(as_text=True)
    assert "统一社会信用代码无效" in page
    page = c.post("/customers/new/", data=customer_form(kind="company", name="示例科技有限公司",
                                                        id_number=code17 + uscc_check_char(code17))).get_data(as_text=True)
    assert "企业客户必须填写联系人" in page
    r = c.post("/customers/new/", data=customer_form(kind="company", name="示例科技有限公司", contact_person="王经理",
                                                     id_number=code17 + uscc_check_char(code17)))
    assert r.status_code == 302
    assert db.session.query(Customer).filter_by(kind="company").one().contact_person == "王经理"


def test_customer_delete_refused_while_loans_or_cards_hang_on_it_then_allowed(client_for, db):
    with_loan = bf.active_loan(bf.customer("有贷客户")).customer
    with_card = bf.customer("有卡客户")
    db.session.add(BankCard(customer_id=with_card.id, bank_name="工商银行", account_name="有卡客户", card_number=CARD))
    free = bf.customer("无关客户")
    db.session.commit()
    ids = [with_loan.id, with_card.id, free.id]
    c = client_for("officer")
    page = c.post("/customers/action/", data={"action": "delete", "rowid": [str(i) for i in ids]},
                  follow_redirects=True).get_data(as_text=True)
    assert "批量删除被拒绝" in page
    assert db.session.query(Customer).count() == 3
    page = c.post("/customers/delete/", data={"id": str(with_card.id)}, follow_redirects=True).get_data(as_text=True)
    assert "银行卡" in page and db.session.get(Customer, with_card.id) is not None
    page = c.post("/customers/action/", data={"action": "delete", "rowid": [str(free.id)]},
                  follow_redirects=True).get_data(as_text=True)
    assert "已删除 1 条记录" in page
    db.session.expire_all()
    assert db.session.get(Customer, free.id) is None


def test_collector_may_view_customers_but_not_create(client_for, db):
    c = client_for("collector")
    assert c.get("/customers/").status_code == 200
    assert c.get("/customers/new/").status_code == 403
    assert c.post("/customers/new/", data=customer_form()).status_code == 403


def test_officer_lookup_is_ajax_and_prefix(client_for, db):
    c = client_for("officer")
    r = c.get("/customers/ajax/lookup/?name=officer&query=off")
    assert r.status_code == 200
    assert sorted(row[1] for row in json.loads(r.get_data(as_text=True))) == sorted(["王经理", "李经理"])
    # Only account managers are offered; an admin's account is not.
    assert json.loads(c.get("/customers/ajax/lookup/?name=officer&query=adm").get_data(as_text=True)) == []
    assert json.loads(c.get("/customers/ajax/lookup/?name=officer&query=王").get_data(as_text=True))[0][1] == "王经理"


# ---- products -------------------------------------------------------------------------

def product_form(**over):
    data = {"code": "JYD01", "name": "经营快贷", "repayment_method": "equal_principal", "min_rate": "6",
            "default_rate": "12", "max_rate": "18", "min_term": "3", "max_term": "24", "penalty_markup": "50",
            "grace_days": "3", "inspection_interval_days": "90", "active": "y"}
    data.update(over)
    return data


def test_only_admin_may_create_products(client_for, db):
    assert client_for("officer").get("/products/new/").status_code == 403
    assert client_for("officer").get("/products/").status_code == 200
    r = client_for("admin").post("/products/new/", data=product_form())
    assert r.status_code == 302
    p = db.session.query(LoanProduct).one()
    assert (p.repayment_method, p.default_rate) == ("equal_principal", Decimal("12"))


@pytest.mark.parametrize("over,message", [
    ({"default_rate": "20"}, "最低年利率 ≤ 默认年利率 ≤ 最高年利率"),
    ({"min_rate": "13"}, "最低年利率 ≤ 默认年利率 ≤ 最高年利率"),
    ({"min_term": "36"}, "最长期限不能小于最短期限"),
    ({"max_rate": "120"}, "年利率应大于0且小于100"),
])
def test_product_ranges_are_validated(client_for, db, over, message):
    r = client_for("admin").post("/products/new/", data=product_form(**over))
    assert message in r.get_data(as_text=True)
    assert db.session.query(LoanProduct).count() == 0


def test_product_delete_refused_while_loans_use_it(client_for, db):
    used = bf.active_loan().product
    unused = bf.product("未使用产品")
    db.session.commit()
    c = client_for("admin")
    page = c.post("/products/delete/", data={"id": str(used.id)}, follow_redirects=True).get_data(as_text=True)
    assert "该产品已有贷款使用" in page and db.session.get(LoanProduct, used.id) is not None
    c.post("/products/delete/", data={"id": str(unused.id)})
    db.session.expire_all()
    assert db.session.get(LoanProduct, unused.id) is None


# ---- loans --------------------------------------------------------------------------

def test_create_loan_calls_the_money_engine(client_for, db, users):
    cust, prod = bf.customer("新借款人"), bf.product("新产品")
    db.session.commit()
    r = client_for("officer").post("/loans/new/", data={
        "customer": str(cust.id), "product": str(prod.id), "principal": "36000", "rate": "",
        "term_months": "12", "start_date": (date.today() - timedelta(days=3)).isoformat(), "officer": "",
        "loan_no": "", "contract_no": ""})
    assert r.status_code == 302, r.get_data(as_text=True)
    loan = db.session.query(Loan).one()
    assert loan.rate == Decimal("12") and loan.officer_id == users["officer"].id and loan.customer_name == "新借款人"
    assert db.session.query(Installment).filter_by(loan_id=loan.id).count() == 12


def test_create_loan_refused_by_the_service_shows_its_message(client_for, db):
    cust, prod = bf.customer(), bf.product()
    db.session.commit()
    r = client_for("officer").post("/loans/new/", data={
        "customer": str(cust.id), "product": str(prod.id), "principal": "36000", "rate": "30",
        "term_months": "12", "start_date": date.today().isoformat()})
    assert "利率范围" in r.get_data(as_text=True)
    assert db.session.query(Loan).count() == 0


def test_loans_cannot_be_edited_or_deleted_and_list_filters_by_status(client_for, db):
    b = bf.book()
    c = client_for("admin")
    assert c.get(f"/loans/edit/?id={b['active'].id}").status_code == 403
    assert c.post("/loans/delete/", data={"id": str(b["active"].id)}).status_code == 403
    page = c.get("/loans/?q_status=settled").get_data(as_text=True)
    assert b["settled"].loan_no in page and b["active"].loan_no not in page


def test_loan_customer_lookup_is_a_prefix_search(client_for, db):
    bf.customer("欧阳锋")
    bf.customer("锋利")
    db.session.commit()
    rows = json.loads(client_for("officer").get("/loans/ajax/lookup/?name=customer&query=欧阳").get_data(as_text=True))
    assert [r[1].startswith("欧阳锋") for r in rows] == [True]


def test_no_foreign_key_renders_as_a_select_of_all_rows(client_for, db):
    for _ in range(3):
        bf.customer()
    db.session.commit()
    c = client_for("admin")
    fks = {"/loans/new/": ("customer", "product", "officer"), "/repayments/new/": ("loan",),
           "/credit_lines/new/": ("customer",), "/collaterals/new/": ("loan",), "/guarantors/new/": ("loan",),
           "/customers/new/": ("officer",)}
    for url, names in fks.items():
        page = c.get(url).get_data(as_text=True)
        for name in names:
            tag = re.search(r'<(input|select)[^>]*name="%s"[^>]*>' % name, page)
            assert tag and tag.group(1) == "input" and 'data-role="select2-ajax"' in tag.group(0), (url, name)


# ---- credit lines, collateral, guarantors -------------------------------------------

def test_credit_line_create_validates_dates(client_for, db):
    cust = bf.customer()
    db.session.commit()
    c = client_for("officer")
    page = c.post("/credit_lines/new/", data={"customer": str(cust.id), "amount": "500000",
                                              "start_date": "2025-01-01", "expiry_date": "2024-01-01"}).get_data(as_text=True)
    assert "到期日不能早于起始日" in page
    assert c.post("/credit_lines/new/", data={"customer": str(cust.id), "amount": "500000",
                                              "start_date": "2025-01-01", "expiry_date": "2026-01-01"}).status_code == 302
    assert db.session.query(CreditLine).one().amount == Decimal("500000.00")


def test_collateral_and_guarantor_create_and_search(client_for, db):
    loan = bf.active_loan(bf.customer("吴担保"))
    db.session.commit()
    c = client_for("officer")
    assert c.post("/collaterals/new/", data={"loan": str(loan.id), "kind": "pledge", "description": "存单质押",
                                             "value": "200000", "registration_no": "ZY-001",
                                             "start_date": str(loan.start_date),
                                             "expiry_date": str(loan.maturity_date)}).status_code == 302
    assert c.post("/guarantors/new/", data={"loan": str(loan.id), "kind": "person", "name": "郑保人",
                                            "id_number": bf.resident_id(321), "phone": "13700000001",
                                            "guaranteed_amount": "100000"}).status_code == 302
    page = c.get(f"/collaterals/?q_loan_no={loan.loan_no}").get_data(as_text=True)
    assert "存单质押" in page and "质押" in page
    page = c.get("/guarantors/?q_customer=吴").get_data(as_text=True)
    assert "郑保人" in page and "贷款详情" in page


def test_guarantor_delete_refused_after_collection(client_for, db, users):
    loan = bf.overdue_loan()
    g = Guarantor(loan_id=loan.id, kind="person", name="被催担保人", id_number=bf.resident_id(77),
                  phone="13700000077", guaranteed_amount=Decimal("1000"))
    db.session.add(g)
    db.session.flush()
    db.session.add(Collection(collection_no="CS-T-1", loan_id=loan.id, target="guarantor", guarantor_id=g.id,
                              method="sms", contacted_at=date.today(), content="短信", collector_id=users["collector"].id))
    db.session.commit()
    page = client_for("officer").post("/guarantors/delete/", data={"id": str(g.id)},
                                      follow_redirects=True).get_data(as_text=True)
    assert "该担保人已有催收记录" in page
    assert db.session.get(Guarantor, g.id) is not None


# ---- repayments ---------------------------------------------------------------------

def test_repayment_create_posts_through_the_engine(client_for, db):
    loan = bf.overdue_loan(bf.customer("还款人"))
    db.session.commit()
    r = client_for("collector").post("/repayments/new/", data={"loan": str(loan.id), "amount": "2000.00",
                                                               "paid_on": date.today().isoformat()})
    assert r.status_code == 302, r.get_data(as_text=True)
    rep = db.session.query(Repayment).one()
    assert rep.amount == Decimal("2000.00") and rep.penalty_part + rep.interest_part + rep.principal_part == rep.amount
    page = client_for("officer").get("/repayments/?q_customer=还款人").get_data(as_text=True)
    assert "2,000.00" in page and "冲抵罚息" in page


def test_repayment_over_the_amount_owed_is_refused(client_for, db):
    loan = bf.active_loan()
    db.session.commit()
    page = client_for("officer").post("/repayments/new/", data={"loan": str(loan.id), "amount": "99999999",
                                                                "paid_on": date.today().isoformat()}).get_data(as_text=True)
    assert "超过" in page and db.session.query(Repayment).count() == 0


def test_repayments_cannot_be_edited_or_deleted(client_for, db):
    loan = bf.overdue_loan()
    from services.loans import post_repayment

    rep = post_repayment(loan, Decimal("100"), date.today())
    db.session.commit()
    c = client_for("admin")
    assert c.get(f"/repayments/edit/?id={rep.id}").status_code == 403
    assert c.post("/repayments/delete/", data={"id": str(rep.id)}).status_code == 403
    assert client_for("reviewer").get("/repayments/new/").status_code == 403


@pytest.mark.parametrize("url", ["/customers/", "/products/", "/loans/", "/credit_lines/", "/collaterals/",
                                 "/guarantors/", "/repayments/"])
def test_every_basic_data_screen_opens_in_chinese(client_for, db, url):
    bf.book()
    page = client_for("admin").get(url).get_data(as_text=True)
    assert "基础数据" in page and "查询" in page and "重置" in page


def test_customer_export_csv(client_for, db):
    bf.customer("导出客户")
    db.session.commit()
    body = client_for("officer").get("/customers/export/csv/?q_name=导出").get_data(as_text=True)
    assert body.startswith("\ufeff") and "客户名称" in body and "导出客户" in body and "个人" in body
    assert client_for("collector").get("/customers/export/csv/").status_code == 403
