"""催收通知书: from 还款催收 (borrower version) and 担保人催收 (guarantor version): the company
name parameter, the debtor, the loan number, the amounts owed today per the loan's position,
a 催收编号 and a tear-off 回执 with the same number; printing records a 信函 collection that
waits on the 待上传…回执 lists."""
import re
from datetime import date

from admin_app.extensions import db
from models import Collection
from services.loans import amount_owed
from tests.test_collection import make_overdue_loan


def _print(client, url_prefix, row_id):
    page = client.get(f"/{url_prefix}/notice/{row_id}").get_data(as_text=True)
    assert "生成并打印催收通知书" in page
    r = client.post(f"/{url_prefix}/notice/{row_id}", {})
    assert r.status_code == 302
    return client.get(r.location).get_data(as_text=True)


def test_borrower_notice_prints_figures_and_number_and_waits_for_its_receipt(client_for):
    from admin_app import settings

    loan = make_overdue_loan("通知测试客户")
    settings.set_value("company.name", "重庆某某小额贷款有限公司")
    db.session.commit()
    c = client_for("collector")
    assert ">通知书<" in c.get("/collection_overdue/").get_data(as_text=True)
    html = _print(c, "collection_overdue", loan.id)
    record = db.session.query(Collection).filter_by(loan_id=loan.id).one()
    assert record.method == "letter" and record.needs_receipt and not record.has_receipt
    assert html.count(record.collection_no) >= 2  # the notice and its 回执
    for text in ("催收通知书", "回 执", "通知测试客户", loan.loan_no, "重庆某某小额贷款有限公司"):
        assert text in html, text
    owed = amount_owed(loan, date.today())
    assert f"{owed['due_now']:,.2f}" in html and f"{owed['overdue_principal']:,.2f}" in html
    waiting = c.get("/receipt_borrower/").get_data(as_text=True)
    assert record.collection_no in waiting


def test_guarantor_notice_is_addressed_to_the_guarantor_and_waits_on_the_guarantor_list(client_for):
    loan = make_overdue_loan("担保通知客户", guarantors=1)
    db.session.commit()
    guarantor = loan.guarantors[0]
    c = client_for("collector")
    html = _print(c, "collection_guarantor", guarantor.id)
    record = db.session.query(Collection).filter_by(loan_id=loan.id).one()
    assert record.target == "guarantor" and record.guarantor_id == guarantor.id
    assert re.search(rf"<strong id=\"notice-debtor\">{guarantor.name}</strong>", html)
    assert "履行担保责任" in html and "担保通知客户" in html
    assert record.collection_no in c.get("/receipt_guarantor/").get_data(as_text=True)


def test_a_print_page_belongs_to_its_row(client_for):
    loan = make_overdue_loan("甲")
    other = make_overdue_loan("乙")
    db.session.commit()
    c = client_for("collector")
    c.post(f"/collection_overdue/notice/{loan.id}", {})
    record = db.session.query(Collection).filter_by(loan_id=loan.id).one()
    assert c.get(f"/collection_overdue/notice/{other.id}/{record.id}").status_code == 404
    assert client_for("risk_checker").get(f"/collection_overdue/notice/{loan.id}").status_code == 403
