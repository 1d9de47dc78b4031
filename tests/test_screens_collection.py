"""催收管理 screens through the test client: each opens in Chinese with its rows and search
fields for the roles allowed, and is refused (403) for the others; the 催收 form, 跟进,
export and 上传回执 work end to end."""
import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from models import Collection
from tests.test_collection import make_overdue_loan, record

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
SCREENS = {
    "collection_overdue": ("还款催收", ("客户名称", "贷款编号")),
    "collection_query": ("催收查询", ("客户名称", "贷款编号")),
    "collection_guarantor": ("担保人催收", ("客户名称", "贷款编号")),
    "receipt_borrower": ("待上传借款人催收回执", ("客户名称", "催收编号")),
    "receipt_guarantor": ("待上传担保人或公司催收回执", ("客户名称", "催收编号")),
}
ALLOWED = ("admin", "officer", "collector")
REFUSED = ("risk_checker", "risk_approver", "reviewer")


@pytest.fixture
def book(users):
    """Overdue loans (one with a guarantor, one a company), a current loan, and records
    waiting for receipts on both lists."""
    alpha = make_overdue_loan("甲逾期客户", guarantors=1, days_overdue=40)
    beta = make_overdue_loan("乙企业有限公司", kind="company", days_overdue=95)
    current = make_overdue_loan("丙正常客户", status="active")
    g = alpha.guarantors[0]
    rec = {
        "phone": record(alpha, method="phone", collector=users["collector"]),
        "visit": record(alpha, method="visit", content="上门拜访借款人", collector=users["collector"]),
        "letter_g": record(alpha, method="letter", target="guarantor", guarantor=g, content="向担保人发函"),
        "lawyer_c": record(beta, method="lawyer_letter", target="company", content="律师函"),
    }
    db.session.commit()
    return {"alpha": alpha, "beta": beta, "current": current, "guarantor": g, **rec}


def page(client, url):
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code)
    return r.get_data(as_text=True)


@pytest.mark.parametrize("endpoint", list(SCREENS))
@pytest.mark.parametrize("role", ALLOWED)
def test_screens_open_in_chinese_with_search_fields_for_allowed_roles(book, client_for, endpoint, role):
    name, fields = SCREENS[endpoint]
    html = page(client_for(role), f"/{endpoint}/")
    assert name in html and "催收管理" in html
    for label in fields:
        assert label in html
    assert "查询" in html and "重置" in html


@pytest.mark.parametrize("endpoint", list(SCREENS))
@pytest.mark.parametrize("role", REFUSED)
def test_screens_refuse_other_roles_and_anonymous(book, client_for, endpoint, role):
    c = client_for(role)
    assert c.get(f"/{endpoint}/").status_code == 403
    assert endpoint not in page(c, "/").split("<body", 1)[-1].split("</nav>")[0]
    anon = client_for().get(f"/{endpoint}/")
    assert anon.status_code == 302 and "/login" in anon.location


@pytest.mark.parametrize("role", REFUSED)
def test_custom_pages_refuse_other_roles(book, client_for, role):
    c = client_for(role)
    alpha, g = book["alpha"], book["guarantor"]
    urls = [f"/collection_overdue/collect/{alpha.id}", f"/collection_overdue/history/{alpha.id}",
            f"/collection_guarantor/collect/{g.id}", f"/collection_guarantor/loan/{g.id}",
            f"/collection_query/follow-up/{book['phone'].id}", f"/receipt_borrower/upload/{book['visit'].id}"]
    for url in urls:
        assert c.get(url).status_code == 403, url
    r = c.post(f"/collection_overdue/collect/{alpha.id}", data={"content": "x"})
    assert r.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Collection)) == 4


def test_overdue_list_shows_only_overdue_loans_with_what_is_owed_and_searches(book, client_for):
    c = client_for("collector")
    html = page(c, "/collection_overdue/")
    assert "甲逾期客户" in html and "乙企业有限公司" in html and "丙正常客户" not in html
    assert "11,088.75" in html  # 9,800.00 + 1,200.50 + 88.25
    for link in ("催收", "催收历史记录", "贷款详情"):
        assert link in html
    html = page(c, "/collection_overdue/?q_customer=甲")
    assert "甲逾期客户" in html and "乙企业有限公司" not in html
    html = page(c, f"/collection_overdue/?q_loan_no={book['beta'].loan_no}")
    assert "乙企业有限公司" in html and "甲逾期客户" not in html


def test_collect_form_records_a_contact_and_history_shows_it(book, client_for):
    c = client_for("collector")
    alpha = book["alpha"]
    form = page(c, f"/collection_overdue/collect/{alpha.id}")
    assert "借款人:甲逾期客户" in form and f"guarantor:{book['guarantor'].id}" in form
    assert "11,088.75" in form
    r = c.post(f"/collection_overdue/collect/{alpha.id}", data={
        "target": "borrower", "method": "visit", "contacted_at": "2024-06-20T10:30",
        "content": "上门催收,客户承诺月底还款", "result": "承诺还款", "promised_date": "2024-06-30",
        "promised_amount": "5000", "next_follow_up": "2024-06-25"}, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "已保存(需上传回执)" in html and "上门催收,客户承诺月底还款" in html
    rec = db.session.execute(select(Collection).where(Collection.content.like("上门催收%"))).scalar_one()
    assert rec.collection_no.startswith("CS20240620") and rec.needs_receipt and rec.collector.username == "collector"
    assert str(rec.promised_amount) == "5000.00"


def test_collect_form_refuses_calls_at_night_with_the_conduct_message(book, client_for):
    c = client_for("officer")
    r = c.post(f"/collection_overdue/collect/{book['alpha'].id}", data={
        "target": "borrower", "method": "phone", "contacted_at": "2024-06-20T21:30", "content": "夜间电话"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "根据催收行为规范" in html and "08:00–21:00" in html
    assert db.session.scalar(select(func.count()).select_from(Collection)) == 4


def test_collect_form_refuses_a_guarantor_of_another_loan(book, client_for, users):
    other = make_overdue_loan("丁客户", guarantors=1)
    db.session.commit()
    c = client_for("collector")
    r = c.post(f"/collection_overdue/collect/{book['alpha'].id}", data={
        "target": f"guarantor:{other.guarantors[0].id}", "method": "sms",
        "contacted_at": "2024-06-20T10:00", "content": "短信"})
    assert r.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Collection)) == 4


def test_collect_on_a_loan_not_overdue_is_not_found(book, client_for):
    c = client_for("collector")
    assert c.get(f"/collection_overdue/collect/{book['current'].id}").status_code == 404


def test_guarantor_screen_lists_guarantors_of_overdue_loans_and_collects_from_them(book, client_for):
    c = client_for("collector")
    g = book["guarantor"]
    html = page(c, "/collection_guarantor/")
    assert g.name in html and "甲逾期客户" in html and "乙企业有限公司" not in html
    for link in ("借款信息", "催收", "催收历史记录"):
        assert link in html
    info = page(c, f"/collection_guarantor/loan/{g.id}")
    assert "所担保的贷款" in info and book["alpha"].loan_no in info and "11,088.75" in info
    form = page(c, f"/collection_guarantor/collect/{g.id}")
    assert f"guarantor:{g.id}" in form and 'value="borrower"' not in form
    r = c.post(f"/collection_guarantor/collect/{g.id}", data={
        "target": f"guarantor:{g.id}", "method": "letter", "contacted_at": "2024-06-21T09:00",
        "content": "向担保人发出催收函"}, follow_redirects=True)
    assert "向担保人发出催收函" in r.get_data(as_text=True)
    history = page(c, f"/collection_guarantor/history/{g.id}")
    assert "向担保人发出催收函" in history and "向担保人发函" in history
    assert "上门拜访借款人" not in history  # only this guarantor's records


def test_query_lists_every_record_searches_follows_up_and_exports(book, client_for):
    c = client_for("collector")
    html = page(c, "/collection_query/")
    for key in ("phone", "visit", "letter_g", "lawyer_c"):
        assert book[key].collection_no in html
    assert "跟进中" in html and "跟进" in html
    html = page(c, "/collection_query/?q_customer=乙")
    assert book["lawyer_c"].collection_no in html and book["phone"].collection_no not in html
    html = page(c, f"/collection_query/?q_loan_no={book['alpha'].loan_no}")
    assert book["phone"].collection_no in html and book["lawyer_c"].collection_no not in html

    rec = book["phone"]
    next_day = (date.today() + timedelta(days=3)).isoformat()
    r = c.post(f"/collection_query/follow-up/{rec.id}", data={
        "status": "following", "next_follow_up": next_day, "note": "再次致电"}, follow_redirects=True)
    assert "已更新为「跟进中」" in r.get_data(as_text=True)
    r = c.post(f"/collection_query/follow-up/{rec.id}", data={"status": "done", "note": "已还款"},
               follow_redirects=True)
    assert "已更新为「已完成」" in r.get_data(as_text=True)
    db.session.expire_all()
    rec = db.session.get(Collection, rec.id)
    assert rec.status == "done" and rec.next_follow_up is None and "已还款" in rec.result

    csv_r = c.get("/collection_query/export/csv/?q_customer=乙")
    assert csv_r.status_code == 200
    rows = list(csv.reader(io.StringIO(csv_r.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "催收编号" and len(rows) == 2 and rows[1][0] == book["lawyer_c"].collection_no
    assert "律师函" in rows[1] and "企业" in rows[1]
    xlsx = c.get("/collection_query/export/xlsx/")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_follow_up_requires_a_next_date_while_following(book, client_for):
    c = client_for("officer")
    r = c.post(f"/collection_query/follow-up/{book['phone'].id}", data={"status": "following", "note": "x"})
    assert "请填写下次跟进日期" in r.get_data(as_text=True)


def test_receipt_lists_split_by_target_search_and_upload(book, client_for):
    c = client_for("collector")
    borrower = page(c, "/receipt_borrower/")
    assert book["visit"].collection_no in borrower
    assert book["phone"].collection_no not in borrower and book["letter_g"].collection_no not in borrower
    guarantor = page(c, "/receipt_guarantor/")
    assert book["letter_g"].collection_no in guarantor and book["lawyer_c"].collection_no in guarantor
    assert book["visit"].collection_no not in guarantor
    assert "上传回执" in guarantor
    html = page(c, f"/receipt_guarantor/?q_collection_no={book['lawyer_c'].collection_no}")
    assert book["lawyer_c"].collection_no in html and book["letter_g"].collection_no not in html
    html = page(c, "/receipt_guarantor/?q_customer=甲")
    assert book["letter_g"].collection_no in html and book["lawyer_c"].collection_no not in html

    url = f"/receipt_guarantor/upload/{book['lawyer_c'].id}"
    form = page(c, url)
    assert 'enctype="multipart/form-data"' in form and 'name="csrf_token"' in form
    r = c.client.post(url, data={"receipt": (io.BytesIO(PNG), "律师函回执.png"), "csrf_token": c.csrf_from(c.get(url))},
                      content_type="multipart/form-data", follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "已移出待上传列表" in html
    assert book["lawyer_c"].collection_no not in page(c, "/receipt_guarantor/")
    # The record is no longer on the list: its upload page sends the user back.
    again = c.get(url, follow_redirects=True).get_data(as_text=True)
    assert "不在待上传回执列表中" in again
    # The upload page of the other list does not open records of this one.
    assert "不在待上传回执列表中" in c.get(f"/receipt_borrower/upload/{book['letter_g'].id}",
                                          follow_redirects=True).get_data(as_text=True)
    history = page(c, f"/collection_overdue/history/{book['beta'].id}")
    assert "律师函回执.png" in history and f"/collection_query/receipt/{book['lawyer_c'].id}" in history


def test_no_create_edit_or_delete_on_collection_screens(book, client_for):
    c = client_for("admin")
    for endpoint in SCREENS:
        assert c.get(f"/{endpoint}/new/").status_code == 403
        assert c.get(f"/{endpoint}/edit/?id=1").status_code == 403


def test_guarantor_screen_sorts_by_days_overdue_without_duplicating_rows(users, client_for):
    young = make_overdue_loan("短逾期客户", guarantors=1, days_overdue=10)
    old = make_overdue_loan("长逾期客户", guarantors=2, days_overdue=200)
    db.session.commit()
    c = client_for("collector")
    index = 8  # loan.days_overdue in column_list
    html = page(c, f"/collection_guarantor/?sort={index}&desc=1")
    names = [g.name for g in old.guarantors] + [young.guarantors[0].name]
    positions = [html.index(n) for n in names]
    assert positions[0] < positions[2] and positions[1] < positions[2]
    assert html.count(young.guarantors[0].name) == 1
    html = page(c, f"/collection_guarantor/?sort={index}&q_customer=长逾期")
    assert all(g.name in html for g in old.guarantors) and young.guarantors[0].name not in html
