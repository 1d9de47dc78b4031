"""客户经理 and loan numbers (issue 15): the field offers and accepts only active users holding
the officer role (the finding: a collector, an admin or a deactivated user's id was taken);
typed loan and contract numbers follow the company's pattern (`=1+2` and markup refused),
empty ones are generated."""
from datetime import date

import pytest

from models import Customer, Loan, User
from tests import book_factory as bf


def _loan_form(cust, prod, **over):
    data = {"customer": str(cust.id), "product": str(prod.id), "principal": "36000", "rate": "",
            "term_months": "12", "start_date": date.today().isoformat(), "officer": "",
            "loan_no": "", "contract_no": ""}
    data.update(over)
    return data


@pytest.mark.parametrize("who", ["collector", "admin", "deactivated"])
def test_a_loans_officer_must_be_an_active_officer(client_for, db, users, who):
    cust, prod = bf.customer("借款人甲"), bf.product("产品甲")
    if who == "deactivated":
        users["officer2"].active = False
        target = users["officer2"]
    else:
        target = users[who]
    db.session.commit()
    r = client_for("officer").post("/loans/new/", data=_loan_form(cust, prod, officer=str(target.id)))
    assert r.status_code == 200 and "客户经理须为在职且具有客户经理角色的用户" in r.get_data(as_text=True)
    assert db.session.query(Loan).count() == 0


def test_an_active_officer_is_accepted_and_an_admin_must_choose_one(client_for, db, users):
    cust, prod = bf.customer("借款人乙"), bf.product("产品乙")
    db.session.commit()
    admin = client_for("admin")
    r = admin.post("/loans/new/", data=_loan_form(cust, prod))
    assert "请选择客户经理" in r.get_data(as_text=True) and db.session.query(Loan).count() == 0
    r = admin.post("/loans/new/", data=_loan_form(cust, prod, officer=str(users["officer2"].id)))
    assert r.status_code == 302
    assert db.session.query(Loan).one().officer_id == users["officer2"].id


def test_the_officer_lookup_offers_only_active_officers(client_for, db, users):
    users["officer2"].active = False
    db.session.commit()
    r = client_for("admin").get("/loans/ajax/lookup/?name=officer&query=o")
    names = [row[1] for row in r.get_json()]
    assert any("王经理" in n for n in names) and not any("李经理" in n for n in names)
    assert not any("赵催收" in n for n in names)


def test_a_customers_officer_must_be_an_active_officer(client_for, db, users):
    r = client_for("officer").post("/customers/new/", data={
        "kind": "person", "name": "客户丙", "id_number": "11010519491231002X", "phone": "13800138000",
        "officer": str(users["collector"].id)})
    assert "客户经理须为在职且具有客户经理角色的用户" in r.get_data(as_text=True)
    assert db.session.query(Customer).filter_by(name="客户丙").count() == 0


@pytest.mark.parametrize("field,value", [("loan_no", "=1+2"), ("loan_no", "<b>DK1</b>"), ("contract_no", "＝SUM(A1)"),
                                         ("loan_no", "dk-lower"), ("contract_no", "HT 2026")])
def test_typed_numbers_follow_the_company_pattern(client_for, db, field, value):
    cust, prod = bf.customer("借款人丁"), bf.product("产品丁")
    db.session.commit()
    r = client_for("officer").post("/loans/new/", data=_loan_form(cust, prod, **{field: value}))
    assert "不符合公司编号规则" in r.get_data(as_text=True)
    assert db.session.query(Loan).count() == 0


def test_numbers_that_follow_the_pattern_or_are_left_empty_are_taken(client_for, db):
    cust, prod = bf.customer("借款人戊"), bf.product("产品戊")
    db.session.commit()
    c = client_for("officer")
    assert c.post("/loans/new/", data=_loan_form(cust, prod, loan_no="XD-2026-0001",
                                                 contract_no="HT-2026-0001")).status_code == 302
    assert c.post("/loans/new/", data=_loan_form(cust, prod)).status_code == 302
    numbers = sorted(n for (n,) in db.session.query(Loan.loan_no))
    assert numbers[0].startswith("DK") and numbers[1] == "XD-2026-0001"


def test_typed_loan_numbers_do_not_make_generated_contract_numbers_collide(client_for, db):
    """Two loans on one start date, each with a typed 贷款编号 and no 合同编号: the generated
    contract numbers took their serial from the DK loan numbers only (none on that day), so
    both were HT<date>000001 and the second was a database error."""
    cust, prod = bf.customer("借款人己"), bf.product("产品己")
    db.session.commit()
    c = client_for("officer")
    for typed in ("XD-2026-0101", "XD-2026-0102"):
        r = c.post("/loans/new/", data=_loan_form(cust, prod, loan_no=typed, contract_no=""))
        assert r.status_code == 302, r.get_data(as_text=True)[:500]
    contracts = sorted(n for (n,) in db.session.query(Loan.contract_no))
    assert len(set(contracts)) == 2 and all(n.startswith("HT") for n in contracts)
    # and the other way round: a typed contract number, a generated loan number
    r = c.post("/loans/new/", data=_loan_form(cust, prod, loan_no="", contract_no="HT-TYPED-0001"))
    assert r.status_code == 302
    assert db.session.query(Loan).count() == 3
