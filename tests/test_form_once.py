"""A create form submitted twice creates once (admin_app.once): every form that creates a
record, fetched and filled in as a browser would, posted twice with the same one-time token,
creates one record; the replay says 「该表单已提交」. The finding: the same 还款 form posted
twice 0.3 s apart booked two repayments."""
import io
import re
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db as _db
from admin_app.once import FIELD, add_tokens
from models import (BankCard, ClassificationChange, Collateral, Collection, CreditLine, Customer,
                    ExtensionApplication, FormSubmission, Guarantor, Inspection, Interview, Loan, LoanProduct,
                    RateChange, Receipt, Repayment, User, WriteOff)
from models.money import add_months
from tests import book_factory as bf
from tests.html_forms import form_by_id, main_form, post_forms

REPLAYED = "该表单已提交"
TODAY = date.today().isoformat()
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def count(model) -> int:
    return _db.session.scalar(select(func.count()).select_from(model))


def _substandard(loan):
    loan.five_class = 3
    _db.session.commit()
    return loan


# Each create form: role, model it creates, the page's URL (from the book), the fields a user
# fills in, and an optional step producing the final form (a preview's 确认).
CASES = {
    "还款记录": ("officer", Repayment, lambda b: "/repayments/new/",
             lambda b: {"loan": b["overdue"].id, "paid_on": TODAY, "amount": "100.00"}),
    "贷款": ("officer", Loan, lambda b: "/loans/new/",
           lambda b: {"customer": b["active"].customer_id, "product": b["active"].product_id,
                      "principal": "50000.00", "term_months": "12", "start_date": TODAY}),
    "客户": ("officer", Customer, lambda b: "/customers/new/",
           lambda b: {"name": "重复提交客户", "id_number": bf.resident_id(777), "phone": "13900000777"}),
    "贷款产品": ("admin", LoanProduct, lambda b: "/products/new/",
             lambda b: {"code": "DUP1", "name": "重复提交产品", "repayment_method": "equal_installment",
                        "min_rate": "6", "default_rate": "12", "max_rate": "18", "min_term": "1",
                        "max_term": "36", "penalty_markup": "50", "grace_days": "3",
                        "inspection_interval_days": "90", "active": "y"}),
    "授信": ("officer", CreditLine, lambda b: "/credit_lines/new/",
           lambda b: {"customer": b["active"].customer_id, "amount": "100000.00", "start_date": TODAY,
                      "expiry_date": (date.today() + timedelta(days=365)).isoformat()}),
    "抵质押物": ("officer", Collateral, lambda b: "/collaterals/new/",
             lambda b: {"loan": b["active"].id, "kind": "mortgage", "description": "房产", "value": "500000.00",
                        "start_date": TODAY, "expiry_date": (date.today() + timedelta(days=365)).isoformat()}),
    "担保人": ("officer", Guarantor, lambda b: "/guarantors/new/",
            lambda b: {"loan": b["active"].id, "kind": "person", "name": "担保人甲",
                       "id_number": bf.resident_id(778), "phone": "13900000778", "guaranteed_amount": "10000.00"}),
    "银行卡": ("officer", BankCard, lambda b: "/bank_cards/new/",
            lambda b: {"customer": b["active"].customer_id, "bank_name": "中国工商银行", "branch": "海淀支行",
                       "account_name": b["active"].customer_name, "card_number": "6222020200112233446"}),
    "用户": ("admin", User, lambda b: "/users/new/",
           lambda b: {"username": "dup_user", "display_name": "重复", "roles": "officer", "active": "y",
                      "new_password": "Str0ng-pass-123", "confirm_password": "Str0ng-pass-123"}),
    "约谈记录": ("officer", Interview, lambda b: f"/inspection_loans/loan/{b['active'].id}/interviews/",
             lambda b: {"place": "公司会议室", "participants": "张三、李四", "content": "了解经营情况"}),
    "贷后检查": ("officer", Inspection, lambda b: f"/inspection_loans/loan/{b['active'].id}/inspections/new",
             lambda b: {"inspected_on": TODAY, "conclusion": "经营正常"}),
    "催收记录": ("collector", Collection, lambda b: f"/collection_overdue/collect/{b['overdue'].id}",
             lambda b: {"content": "电话提醒还款", "contacted_at": f"{date.today() - timedelta(days=1)}T10:00"}),
    "五级分类调整": ("officer", ClassificationChange, lambda b: f"/classification_manage/adjust/{b['active'].id}/",
               lambda b: {"to_class": "2", "reason": "经营下滑"}),
    "核销申请": ("officer", WriteOff, lambda b: "/writeoff_apply/new/",
             lambda b: {"loan_id": _substandard(b["overdue"]).id, "reason": "借款人失联,诉讼终结"}),
    "利率调整": ("officer", RateChange, lambda b: f"/contract_change/rate/{b['active'].id}/",
             lambda b: {"new_rate": "10", "effective_date": TODAY, "reason": "市场利率下调"}),
    # 展期 is an application (展期申请) that waits for its approvals.
    "展期": ("officer", ExtensionApplication, lambda b: f"/contract_change/extension/{b['active'].id}/",
           lambda b: {"new_maturity": add_months(b["active"].maturity_date, 3).isoformat(),
                      "reason": "经营周转困难"}),
}
PREVIEWED = {"利率调整", "展期"}  # the form leads to a preview whose 确认 posts the change


def fill(client, url, fields):
    page = client.get(url)
    assert page.status_code == 200, url
    form = main_form(page.get_data(as_text=True))
    assert form.value(FIELD), f"{url}: the form carries no one-time token"
    return (form.action or url), form.data(**{k: str(v) for k, v in fields.items()})


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_create_form_submitted_twice_creates_once(app, db, client_for, name):
    role, model, url_of, fields_of = CASES[name]
    book = bf.book()
    db.session.commit()
    client = client_for(role)
    action, data = fill(client, url_of(book), fields_of(book))
    if name in PREVIEWED:
        preview = client.post(action, data=data)
        assert preview.status_code == 200
        confirm = form_by_id(preview.get_data(as_text=True), f"{'rate' if name == '利率调整' else 'extension'}-confirm-form")
        action, data = confirm.action, confirm.data(confirm="1")
    before = count(model)
    first = client.post(action, data=data)
    assert first.status_code in (200, 302), first.get_data(as_text=True)[:500]
    assert count(model) == before + 1, f"{name}: the first submission created nothing"
    second = client.post(action, data=data, follow_redirects=True)
    assert count(model) == before + 1, f"{name}: the replay created a second record"
    assert REPLAYED in second.get_data(as_text=True)
    assert count(FormSubmission) == 1


def test_the_replay_lands_where_the_first_submission_went(app, db, client_for):
    loan = bf.overdue_loan()
    db.session.commit()
    client = client_for("officer")
    action, data = fill(client, "/repayments/new/", {"loan": loan.id, "paid_on": TODAY, "amount": "100.00"})
    first = client.post(action, data=data)
    second = client.post(action, data=data)
    assert second.status_code == 303 and second.location == first.location


def test_a_refused_form_keeps_its_token_free_and_the_page_shown_again_carries_a_new_one(app, db, client_for):
    loan = bf.overdue_loan()
    db.session.commit()
    client = client_for("officer")
    action, data = fill(client, "/repayments/new/", {"loan": loan.id, "paid_on": TODAY, "amount": "99999999.00"})
    refused = client.post(action, data=data)
    assert refused.status_code == 200 and count(Repayment) == 0 and count(FormSubmission) == 0
    again = main_form(refused.get_data(as_text=True))
    assert again.value(FIELD) and again.value(FIELD) != data[FIELD]
    # The user corrects the amount on the page shown again: booked once.
    client.post(action, data=again.data(amount="100.00"))
    assert count(Repayment) == 1


def test_every_post_form_of_every_list_page_carries_a_token(app, db, client_for):
    bf.book()
    db.session.commit()
    admin = app.extensions["postloan_admin"]
    client = client_for("admin")
    seen = 0
    for view in admin._views:
        if not getattr(view, "url", None):
            continue
        page = client.get(view.url.rstrip("/") + "/")
        if page.status_code != 200:
            continue
        for form in post_forms(page.get_data(as_text=True)):
            seen += 1
            assert form.value(FIELD), f"{view.endpoint}: POST form {form.action} carries no token"
    assert seen > 30


def test_tokens_are_added_to_post_forms_only_one_each():
    html = ('<form method="get" action="/q"></form><form method="POST" action="/a"></form>'
            "<form class='x' method='post'></form>")
    out = add_tokens(html)
    tokens = re.findall(r'name="form_once" value="([^"]+)"', out)
    assert len(tokens) == 2 and tokens[0] != tokens[1]
    assert out.index("/q") < out.index("form_once")


def test_two_submissions_at_the_same_moment_book_once(app, db, client_for):
    """Two requests with one token in flight together: the token's key lets one through."""
    loan = bf.overdue_loan()
    db.session.commit()
    client = client_for("officer")
    action, data = fill(client, "/repayments/new/", {"loan": loan.id, "paid_on": TODAY, "amount": "100.00"})
    cookie = client.client.get_cookie("session")
    results = []

    def submit():
        with app.test_client() as c:
            c.set_cookie("session", cookie.value)
            results.append(c.post(action, data=data).status_code)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _db.session.expire_all()
    assert count(Repayment) == 1, results
