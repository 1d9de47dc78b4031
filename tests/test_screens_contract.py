"""合同变更: open loans only, search, 利率调整 preview then confirm, 利率调整记录, 展期."""
from datetime import date, timedelta
from decimal import Decimal

import pytest

from models import Extension, ExtensionApplication, Installment, Loan, RateChange
from models.approval import WORKFLOWS
from models.money import add_months
from tests import book_factory as bf


@pytest.fixture
def book(db):
    return bf.book()


def test_lists_only_open_loans_with_row_links(client_for, book):
    page = client_for("officer").get("/contract_change/").get_data(as_text=True)
    for key in ("active", "active2", "overdue", "extended"):
        assert book[key].loan_no in page
    assert book["settled"].loan_no not in page
    for label in ("利率调整", "利率调整记录", "展期", "贷款详情", "查询", "重置", "贷款产品"):
        assert label in page


def test_search_by_customer_name_and_product(client_for, book):
    c = client_for("officer")
    page = c.get("/contract_change/?q_customer=张").get_data(as_text=True)
    assert book["active"].loan_no in page and book["active2"].loan_no not in page
    p2 = book["products"][1]
    page = c.get(f"/contract_change/?q_product={p2.id}").get_data(as_text=True)
    assert book["active2"].loan_no in page and book["active"].loan_no not in page


def test_risk_roles_see_list_but_not_the_change_links_or_forms(client_for, book):
    c = client_for("risk_checker")
    page = c.get("/contract_change/").get_data(as_text=True)
    assert book["active"].loan_no in page
    assert f"/contract_change/rate/{book['active'].id}/" not in page
    assert c.get(f"/contract_change/rate/{book['active'].id}/").status_code == 403
    assert c.get(f"/contract_change/extension/{book['active'].id}/").status_code == 403
    assert c.get(f"/contract_change/rate_history/{book['active'].id}/").status_code == 200


@pytest.mark.parametrize("role", ["collector"])
def test_collector_is_refused(client_for, role, book):
    assert client_for(role).get("/contract_change/").status_code == 403


def _rate_form(loan, rate="15.5", effective=None, reason="央行LPR调整,经协商上调利率"):
    return {"new_rate": rate, "effective_date": (effective or date.today()).isoformat(), "reason": reason}


def test_rate_change_preview_shows_old_and_new_schedule_and_changes_nothing(client_for, book, db):
    loan = book["active"]
    c = client_for("officer")
    form_page = c.get(f"/contract_change/rate/{loan.id}/").get_data(as_text=True)
    assert "新年利率" in form_page and "生效日期" in form_page and "调整原因" in form_page
    r = c.post(f"/contract_change/rate/{loan.id}/", data={**_rate_form(loan), "preview": "1"})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "利率调整预览" in page and "确认调整" in page, page[:3000]
    assert "调整前" in page and "调整后" in page and "将变更" in page
    first = db.session.query(Installment).filter_by(loan_id=loan.id, period=1).one()
    assert f"{first.interest_due:,.2f}" in page  # old interest shown beside the new
    db.session.expire_all()
    assert db.session.get(Loan, loan.id).rate == Decimal("12")
    assert db.session.query(RateChange).count() == 0


def test_rate_change_confirm_posts_the_change_and_recomputes(client_for, book, db):
    loan = book["active"]
    before = {i.period: i.interest_due for i in db.session.query(Installment).filter_by(loan_id=loan.id)}
    r = client_for("officer").post(f"/contract_change/rate/{loan.id}/", data={**_rate_form(loan), "confirm": "1"})
    assert r.status_code == 302 and f"/contract_change/rate_history/{loan.id}/" in r.location
    db.session.expire_all()
    assert db.session.get(Loan, loan.id).rate == Decimal("15.5")
    change = db.session.query(RateChange).one()
    assert (change.old_rate, change.new_rate) == (Decimal("12"), Decimal("15.5"))
    after = {i.period: i.interest_due for i in db.session.query(Installment).filter_by(loan_id=loan.id)}
    assert after[len(after)] != before[len(before)]
    history = client_for("risk_approver").get(f"/contract_change/rate_history/{loan.id}/").get_data(as_text=True)
    assert "央行LPR调整" in history and ">15.50%<" in history and ">12.00%<" in history


def test_rate_change_refused_by_the_service_is_shown_as_error(client_for, book, db):
    loan = book["active"]
    r = client_for("officer").post(f"/contract_change/rate/{loan.id}/",
                                   data={**_rate_form(loan, rate="30"), "confirm": "1"})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "利率范围" in page
    assert db.session.query(RateChange).count() == 0


def test_rate_change_form_errors_are_in_chinese(client_for, book):
    loan = book["active"]
    r = client_for("officer").post(f"/contract_change/rate/{loan.id}/",
                                   data={"new_rate": "", "effective_date": "", "reason": "", "preview": "1"})
    page = r.get_data(as_text=True)
    assert "请填写新年利率" in page and "请填写调整原因" in page


def test_back_from_preview_returns_to_the_form_with_values(client_for, book):
    loan = book["active"]
    page = client_for("officer").post(f"/contract_change/rate/{loan.id}/",
                                      data={**_rate_form(loan), "back": "1"}).get_data(as_text=True)
    assert 'id="rate-form"' in page and "央行LPR调整" in page


def test_settled_loan_cannot_be_changed(client_for, book):
    c = client_for("officer")
    assert c.get(f"/contract_change/rate/{book['settled'].id}/").status_code == 404
    assert c.post(f"/contract_change/rate/{book['settled'].id}/",
                  data={**_rate_form(book["settled"]), "confirm": "1"}).status_code == 404


def test_rate_change_without_csrf_is_refused(client_for, book, db):
    loan = book["active"]
    r = client_for("officer").post(f"/contract_change/rate/{loan.id}/",
                                   data={**_rate_form(loan), "confirm": "1"}, csrf=False)
    assert r.status_code == 400
    assert db.session.query(RateChange).count() == 0


def test_extension_is_an_application_that_takes_effect_on_the_final_approval(client_for, book, db, users):
    """展期 through approval: preview → 提交展期申请 (nothing changes on the loan) → 展期风控审查
    (risk_checker) → 展期风控审核 (risk_approver), which posts the extension."""
    loan = book["active"]
    old_maturity = loan.maturity_date
    new_maturity = add_months(loan.maturity_date, 6)
    c = client_for("officer")
    data = {"new_maturity": new_maturity.isoformat(), "reason": "受市场影响回款延迟"}
    page = c.post(f"/contract_change/extension/{loan.id}/", data={**data, "preview": "1"}).get_data(as_text=True)
    assert "展期申请预览" in page and "提交展期申请" in page
    r = c.post(f"/contract_change/extension/{loan.id}/", data={**data, "confirm": "1"})
    assert r.status_code == 302 and f"/loan_detail/{loan.id}/" in r.location
    db.session.expire_all()
    assert db.session.get(Loan, loan.id).maturity_date == old_maturity
    assert db.session.query(Extension).filter_by(loan_id=loan.id).count() == 0
    detail = c.get(f"/loan_detail/{loan.id}/").get_data(as_text=True)
    assert "待展期风控审查" in detail and new_maturity.isoformat() in detail
    # A second application while one waits: the page shows the waiting one instead of a form.
    assert "已有展期申请待审批" in c.get(f"/contract_change/extension/{loan.id}/").get_data(as_text=True)

    item = db.session.query(ExtensionApplication).filter_by(loan_id=loan.id).one()
    for role, stage in (("risk_checker", "risk_check"), ("risk_approver", "risk_approve")):
        endpoint = WORKFLOWS["extension"].stage(stage).endpoint
        listed = client_for(role).get(f"/{endpoint}/").get_data(as_text=True)
        assert loan.loan_no in listed
        r = client_for(role).post(f"/{endpoint}/review/{item.id}/decide", {"decision": "approve", "opinion": "同意展期"})
        assert r.status_code == 302
        db.session.expire_all()
        if stage == "risk_check":
            assert db.session.get(Loan, loan.id).maturity_date == old_maturity
    loan = db.session.get(Loan, loan.id)
    assert loan.status == "extended" and loan.maturity_date == new_maturity
    assert db.session.query(Extension).filter_by(loan_id=loan.id).one().reason == "受市场影响回款延迟"
    # 已展期贷款查询 shows both maturities.
    listed = client_for("officer").get("/query_extended/").get_data(as_text=True)
    assert "原到期日" in listed and "展期后到期日" in listed
    row = listed.split(loan.loan_no, 1)[1].split("</tr>", 1)[0]
    assert old_maturity.isoformat() in row and new_maturity.isoformat() in row


def test_extension_is_refused_on_an_overdue_loan_unless_the_parameter_allows(client_for, book, db):
    from admin_app import settings

    loan = book["overdue"]
    data = {"new_maturity": add_months(loan.maturity_date, 3).isoformat(), "reason": "资金周转困难", "confirm": "1"}
    page = client_for("officer").post(f"/contract_change/extension/{loan.id}/", data=data).get_data(as_text=True)
    assert "逾期贷款可申请展期" in page
    assert db.session.query(ExtensionApplication).count() == 0
    settings.set_value("extension.allow_overdue", "yes")
    db.session.commit()
    r = client_for("officer").post(f"/contract_change/extension/{loan.id}/", data=data)
    assert r.status_code == 302
    assert db.session.query(ExtensionApplication).filter_by(loan_id=loan.id).count() == 1


def test_extension_is_refused_at_or_after_maturity(book, db, users):
    from services import BusinessError, extension

    loan = book["active"]
    with pytest.raises(BusinessError, match="之前申请"):
        extension.apply(loan.id, users["officer"], new_maturity=add_months(loan.maturity_date, 3),
                        reason="到期后申请", as_of=loan.maturity_date)


def test_extension_beyond_the_limit_is_refused_with_message(client_for, book, db):
    loan = book["active"]
    r = client_for("officer").post(f"/contract_change/extension/{loan.id}/", data={
        "new_maturity": (loan.maturity_date + timedelta(days=3650)).isoformat(), "reason": "x", "confirm": "1"})
    assert "展期期限超过规定" in r.get_data(as_text=True)
    assert db.session.query(Extension).filter_by(loan_id=loan.id).count() == 0
    assert db.session.query(ExtensionApplication).count() == 0


def test_export_contains_only_open_loans(client_for, book):
    body = client_for("officer").get("/contract_change/export/csv/").get_data(as_text=True)
    assert body.startswith("\ufeff") and "贷款编号" in body
    assert book["overdue"].loan_no in body and book["settled"].loan_no not in body
