"""数据权限: a 客户经理 sees only the loans where they are 客户经理, those loans' customers and
the records hanging on them — in lists, counts, details, exports, lookups, downloads and by id
(404) — unless an admin sets the role to 全部 in 系统管理. Other roles see everything by default."""
import io
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from models import Customer, Inspection, Loan, RateChange, User
from tests import review_factory as make

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def two_books(users):
    """officer's and officer2's loans, each on a customer of their own."""
    mine = make.loan(cust=make.customer(name="张明远"), officer=users["officer"])
    mine.customer.officer_id = users["officer"].id
    theirs = make.loan(cust=make.customer(name="孙梅"), officer=users["officer2"])
    theirs.customer.officer_id = users["officer2"].id
    db.session.commit()
    books = tuple(SimpleNamespace(id=ln.id, loan_no=ln.loan_no, customer_id=ln.customer_id)
                  for ln in (mine, theirs))
    db.session.expunge_all()  # requests start from an empty session, as in production
    return books


def _inspection_with_attachment(client_for, loan):
    r = client_for("officer").post(f"/inspection_loans/loan/{loan.id}/inspections/new", {
        "kind": "first", "inspected_on": date.today().isoformat(), "method": "onsite", "conclusion": "正常",
        "attachment": (io.BytesIO(PNG), "现场照片.png")}, content_type="multipart/form-data")
    assert r.status_code == 302
    return db.session.execute(select(Inspection).where(Inspection.loan_id == loan.id)).unique().scalar_one()


def test_officer2_cannot_change_the_rate_on_officers_loan(client_for, two_books):
    mine, _ = two_books
    c = client_for("officer2")
    assert c.get(f"/contract_change/rate/{mine.id}/").status_code == 404
    r = c.post(f"/contract_change/rate/{mine.id}/", {"new_rate": "9.5", "effective_date": date.today().isoformat(),
                                                    "reason": "越权", "confirm": "1"})
    assert r.status_code == 404
    assert db.session.execute(select(RateChange)).first() is None


def test_officer2_cannot_open_or_edit_officers_customer(client_for, two_books):
    mine, _ = two_books
    c = client_for("officer2")
    cid = mine.customer_id
    assert c.get(f"/customers/edit/?id={cid}").status_code == 404
    assert c.get(f"/customers/details/?id={cid}").status_code == 404
    r = c.post(f"/customers/edit/?id={cid}", {"name": "改名", "kind": "person"})
    assert r.status_code == 404
    db.session.expire_all()
    assert db.session.get(Customer, cid).name == "张明远"


def test_officer2_cannot_download_officers_inspection_attachment(client_for, two_books):
    mine, _ = two_books
    item = _inspection_with_attachment(client_for, mine)
    assert client_for("officer").get(f"/inspection_loans/inspection/{item.id}/attachment").status_code == 200
    c = client_for("officer2")
    assert c.get(f"/inspection_loans/inspection/{item.id}/attachment").status_code == 404
    assert c.get(f"/inspection_loans/inspection/{item.id}/").status_code == 404
    # Risk staff see everything by default.
    assert client_for("risk_checker").get(
        f"/inspection_stage_risk_check/review/{item.id}/attachment").status_code == 200


def test_officer2_sees_none_of_officers_loans_in_lists_details_exports_and_lookups(client_for, two_books):
    mine, theirs = two_books
    c = client_for("officer2")
    for url in ("/contract_change/", "/inspection_loans/", "/query_active/", "/loans/", "/customers/",
                "/contract_change/export/csv/", "/query_active/export/csv/"):
        page = c.get(url).get_data(as_text=True)
        assert mine.loan_no not in page and "张明远" not in page, url
    assert theirs.loan_no in c.get("/contract_change/").get_data(as_text=True)
    assert c.get(f"/loan_detail/{mine.id}/").status_code == 404
    assert c.get(f"/loan_detail/{theirs.id}/").status_code == 200
    lookup = c.get("/loans/ajax/lookup/?name=customer&query=张").get_data(as_text=True)
    assert "张明远" not in lookup
    # officer sees their own and not officer2's.
    mine_page = client_for("officer").get("/contract_change/").get_data(as_text=True)
    assert mine.loan_no in mine_page and theirs.loan_no not in mine_page


def test_other_roles_see_every_book_by_default(client_for, two_books):
    mine, theirs = two_books
    for role in ("admin", "risk_checker", "collector"):
        page = client_for(role).get("/query_active/").get_data(as_text=True)
        assert mine.loan_no in page and theirs.loan_no in page, role


def test_admin_widens_the_officer_scope_to_all_in_system_settings(client_for, two_books):
    mine, _ = two_books
    from admin_app import settings

    admin = client_for("admin")
    page = admin.get("/settings/").get_data(as_text=True)
    assert "客户经理数据权限" in page and "本人" in page
    form = {p.key: (p.default) for p in settings.PARAMS}
    form["scope.officer"] = "all"
    r = admin.post("/settings/save/", form, follow_redirects=True)
    assert r.status_code == 200
    assert client_for("officer2").get(f"/loan_detail/{mine.id}/").status_code == 200
    form["scope.officer"] = "sideways"
    assert "只能选择" in admin.post("/settings/save/", form).get_data(as_text=True)


def test_the_scope_does_not_reach_jobs_or_code_outside_requests(two_books):
    assert len(db.session.execute(select(Loan)).unique().scalars().all()) == 2
    assert db.session.execute(select(User).where(User.username == "officer2")).scalar_one()
