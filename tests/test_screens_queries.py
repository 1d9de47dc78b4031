"""贷后业务查询: each screen lists exactly its status, searches, exports the filtered rows."""
import csv
import io

import pytest
from openpyxl import load_workbook

from tests import book_factory as bf
from views.queries import QUERIES

SCREEN_OF = {"active": "/query_active/", "extended": "/query_extended/", "overdue": "/query_overdue/",
             "settled": "/query_settled/"}


@pytest.fixture
def book(db):
    return bf.book()


def test_the_four_screens_are_declared_once_in_the_menu_order_of_the_spec():
    assert [q.name for q in QUERIES] == ["还款中贷款查询", "已展期贷款查询", "逾期贷款查询", "已结清贷款查询"]


@pytest.mark.parametrize("status", ["active", "extended", "overdue", "settled"])
def test_each_screen_lists_only_its_status(client_for, book, status):
    page = client_for("officer").get(SCREEN_OF[status]).get_data(as_text=True)
    for key in ("active", "extended", "overdue", "settled"):
        assert (book[key].loan_no in page) == (key == status), key
    for label in ("客户名称", "贷款编号", "贷款产品", "查询", "重置", "贷款详情"):
        assert label in page


def test_overdue_screen_shows_days_and_amounts(client_for, book):
    page = client_for("collector").get("/query_overdue/").get_data(as_text=True)
    loan = book["overdue"]
    assert "逾期天数" in page and "逾期本金" in page and "罚息" in page
    assert loan.days_overdue > 0 and f">{loan.days_overdue}<" in page.replace(" ", "").replace("\n", "")


def test_settled_screen_shows_the_settled_date(client_for, book):
    page = client_for("risk_checker").get("/query_settled/").get_data(as_text=True)
    assert "结清日" in page and str(book["settled"].settled_date) in page


def test_search_by_customer_loan_number_and_product(client_for, book):
    c = client_for("officer")
    page = c.get("/query_active/?q_customer=李").get_data(as_text=True)
    assert book["active2"].loan_no in page and book["active"].loan_no not in page
    page = c.get(f"/query_active/?q_loan_no={book['active'].loan_no}").get_data(as_text=True)
    assert book["active"].loan_no in page and book["active2"].loan_no not in page
    page = c.get(f"/query_active/?q_product={book['products'][0].id}").get_data(as_text=True)
    assert book["active"].loan_no in page and book["active2"].loan_no not in page


def test_csv_export_has_bom_chinese_headers_labels_and_only_filtered_rows(client_for, book):
    r = client_for("officer").get("/query_active/export/csv/?q_customer=张")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    body = r.get_data(as_text=True)
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][:3] == ["贷款编号", "客户名称", "贷款产品"]
    assert [r[0] for r in rows[1:]] == [book["active"].loan_no]
    assert "等额本息" in rows[1] and "正常" in rows[1]


def test_xlsx_export_of_the_overdue_screen(client_for, book):
    r = client_for("risk_approver").get("/query_overdue/export/xlsx/")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.data)).active
    rows = list(ws.values)
    assert "逾期天数" in rows[0] and "罚息" in rows[0]
    assert [row[0] for row in rows[1:]] == [book["overdue"].loan_no]


def test_anonymous_goes_to_login(client_for):
    r = client_for().get("/query_active/")
    assert r.status_code == 302 and "/login" in r.location


def test_export_refused_without_permission(app, client_for, book):
    # Every role of LOAN_STAFF may export here; a user with no role is refused everywhere.
    from models import User
    from admin_app.extensions import db

    u = User(username="norole", display_name="无角色")
    u.set_password("demo12345")
    db.session.add(u)
    db.session.commit()
    c = client_for("norole")
    assert c.get("/query_active/").status_code == 403
    assert c.get("/query_active/export/csv/").status_code == 403
