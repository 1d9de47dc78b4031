"""Search that finds: 客户名称, 贷款编号, 联系人, 担保人名称 and 催收编号 match anywhere in the
text; 担保人催收 searches by guarantor name; 贷后业务查询 filters by 五级分类, 客户经理 and a
放款日期 range; 催收查询 by 状态, 催收方式, 催收人 and a 下次跟进 date range."""
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from admin_app.extensions import db
from models import Customer, Guarantor
from services import collection
from tests import review_factory as make


@pytest.fixture
def book(users):
    company = Customer(kind="company", name="重庆华信包装材料有限公司", id_number="91500000MA5U0AB123",
                       phone="13800000001", contact_person="王建国")
    db.session.add(company)
    db.session.flush()
    loan = make.loan(cust=company, days_overdue=30, five_class=2)
    other = make.loan(cust=make.customer(name="北京远大商贸"))
    db.session.add(Guarantor(loan_id=loan.id, kind="person", name="欧阳明辉", id_number="110101199001011234",
                             phone="13700000000", guaranteed_amount=Decimal("50000")))
    contacted = datetime.combine(date.today() - timedelta(days=2), datetime.min.time()).replace(hour=10)
    rec = collection.record_collection(loan, target="borrower", method="visit", contacted_at=contacted,
                                       content="上门", next_follow_up=date.today() + timedelta(days=3),
                                       collector=users["collector"])
    db.session.commit()
    return {"loan": loan, "other": other, "rec": rec}


def _rows(client, url) -> str:
    html = client.get(url).get_data(as_text=True)
    return html.split("</thead>", 1)[1] if "</thead>" in html else ""


def test_names_and_numbers_match_anywhere(client_for, book):
    loan, other = book["loan"], book["other"]
    c = client_for("admin")
    middle = loan.loan_no[-6:-2]
    for url in (f"/query_overdue/?q_customer=华信", f"/query_overdue/?q_loan_no={middle}",
                f"/loans/?q_customer=华信", "/customers/?q_name=华信", "/customers/?q_contact=建国",
                f"/query_overdue/?q_customer=华信&q_loan_no={loan.loan_no[-2:]}", "/loans/?q_customer=华",
                "/collection_guarantor/?q_guarantor=明辉", "/guarantors/?q_name=明辉",
                f"/collection_query/?q_collection_no={book['rec'].collection_no[-4:]}",
                f"/receipt_borrower/?q_collection_no={book['rec'].collection_no[-4:]}"):
        rows = _rows(c, url)
        assert ("华信" in rows or loan.loan_no in rows), url
        assert other.loan_no not in rows and "远大" not in rows, url


def test_query_screens_filter_by_class_officer_and_start_dates(client_for, users, book):
    loan = book["loan"]
    c = client_for("admin")
    base = "/query_overdue/"
    assert loan.loan_no in _rows(c, f"{base}?q_five_class=2")
    assert loan.loan_no not in _rows(c, f"{base}?q_five_class=3")
    assert loan.loan_no in _rows(c, f"{base}?q_officer={users['officer'].id}")
    assert loan.loan_no not in _rows(c, f"{base}?q_officer={users['officer2'].id}")
    start = loan.start_date
    assert loan.loan_no in _rows(c, f"{base}?q_start_from={start}&q_start_to={start}")
    assert loan.loan_no not in _rows(c, f"{base}?q_start_from={start + timedelta(days=1)}")
    assert loan.loan_no not in _rows(c, f"{base}?q_start_from=not-a-date")
    page = c.get(base).get_data(as_text=True)
    for label in ("五级分类", "客户经理", "放款日期起"):
        assert label in page


def test_collection_query_filters(client_for, users, book):
    rec = book["rec"]
    c = client_for("collector")
    url = "/collection_query/"
    follow = rec.next_follow_up
    hits = {f"{url}?q_status=following", f"{url}?q_method=visit", f"{url}?q_collector={users['collector'].id}",
            f"{url}?q_follow_from={follow}&q_follow_to={follow}"}
    misses = {f"{url}?q_status=done", f"{url}?q_method=phone", f"{url}?q_collector={users['officer'].id}",
              f"{url}?q_follow_from={follow + timedelta(days=1)}"}
    for u in hits:
        assert rec.collection_no in _rows(c, u), u
    for u in misses:
        assert rec.collection_no not in _rows(c, u), u
