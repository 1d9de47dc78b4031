"""客户银行卡账户管理 rules: one default card per customer (the new default clears the old;
a partial unique index backs it), a card number once per customer, 账户名 = the customer's or
company's name, 对公账户 8-30 digits without Luhn, 开户行 required; the card search takes the
full number or the last four digits only."""
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from admin_app.extensions import db
from models import BankCard, Customer
from tests import book_factory as bf

CARD_A = "6222020200112233446"  # Luhn-valid UnionPay numbers
CARD_B = "6222020200112233453"


def _luhn_ok(n):
    from models.identity import is_valid_luhn
    return is_valid_luhn(n)


def _form(customer, **over):
    data = {"customer": str(customer.id), "bank_name": "中国工商银行", "branch": "北京朝阳支行",
            "account_name": customer.name, "card_number": CARD_A, "is_default": "y"}
    data.update(over)
    return data


@pytest.fixture
def person(db):
    c = bf.customer("孙梅")
    db.session.commit()
    return c


def _cards(cid):
    db.session.expire_all()
    return list(db.session.execute(select(BankCard).where(BankCard.customer_id == cid)
                                   .order_by(BankCard.id)).unique().scalars())


def test_fixture_numbers_are_luhn_valid():
    assert _luhn_ok(CARD_A) and _luhn_ok(CARD_B)


def test_a_new_default_card_clears_the_old_default(client_for, person):
    c = client_for("officer")
    assert c.post("/bank_cards/new/", _form(person)).status_code == 302
    assert c.post("/bank_cards/new/", _form(person, card_number=CARD_B)).status_code == 302
    cards = _cards(person.id)
    assert [card.is_default for card in cards] == [False, True]


def test_the_database_refuses_two_default_cards(person):
    db.session.add_all([BankCard(customer_id=person.id, bank_name="a", branch="b", account_name="孙梅",
                                 card_number=CARD_A, is_default=True),
                        BankCard(customer_id=person.id, bank_name="a", branch="b", account_name="孙梅",
                                 card_number=CARD_B, is_default=True)])
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_the_same_card_number_twice_for_one_customer_is_refused(client_for, person):
    c = client_for("officer")
    assert c.post("/bank_cards/new/", _form(person)).status_code == 302
    page = c.post("/bank_cards/new/", _form(person, is_default="")).get_data(as_text=True)
    assert "该客户已登记过此卡号" in page
    assert len(_cards(person.id)) == 1


def test_account_name_must_be_the_customers_name(client_for, person):
    page = client_for("officer").post("/bank_cards/new/", _form(person, account_name="张三")).get_data(as_text=True)
    assert "账户名须与客户本人姓名「孙梅」一致" in page
    assert _cards(person.id) == []


def test_a_company_account_takes_8_to_30_digits_without_luhn(client_for, db):
    company = Customer(kind="company", name="重庆华信包装材料有限公司", id_number="91500000MA5U000000",
                       phone="13800000000", contact_person="王五")
    db.session.add(company)
    db.session.commit()
    c = client_for("officer")
    twenty = "11001234567890123456"  # 20 digits, no Luhn
    assert c.post("/bank_cards/new/", _form(company, card_number=twenty)).status_code == 302
    page = c.post("/bank_cards/new/", _form(company, card_number="1234567", is_default="")).get_data(as_text=True)
    assert "对公账户账号应为8-30位数字" in page
    # A personal card still needs Luhn for UnionPay numbers.
    person = bf.customer("赵六")
    db.session.commit()
    page = c.post("/bank_cards/new/", _form(person, card_number="6222020200112233447")).get_data(as_text=True)
    assert "银行卡号无效" in page


def test_branch_is_required(client_for, person):
    page = client_for("officer").post("/bank_cards/new/", _form(person, branch=" ")).get_data(as_text=True)
    assert "请填写开户行" in page
    assert _cards(person.id) == []


def test_customer_form_inline_cards_follow_the_same_rules(client_for, person):
    c = client_for("officer")
    data = {"kind": "person", "name": "孙梅", "id_number": person.id_number, "phone": person.phone,
            "contact_person": "", "address": "",
            "bank_cards-0-bank_name": "中国银行", "bank_cards-0-branch": "朝阳支行",
            "bank_cards-0-account_name": "张三", "bank_cards-0-card_number": CARD_A}
    page = c.post(f"/customers/edit/?id={person.id}", data).get_data(as_text=True)
    assert "账户名须与客户本人姓名「孙梅」一致" in page
    assert _cards(person.id) == []


def test_card_search_takes_the_full_number_or_last_four_only(client_for, person):
    c = client_for("officer")
    c.post("/bank_cards/new/", _form(person))
    def found(q):
        return "孙梅" in c.get(f"/bank_cards/?q_card={q}").get_data(as_text=True).split("<tbody", 1)[-1]
    assert found(CARD_A) and found(CARD_A[-4:])
    for probe in (CARD_A[:6], CARD_A[:12], CARD_A[:-1], "62", CARD_A[-5:]):
        assert not found(probe), probe
