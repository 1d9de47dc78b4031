"""Exports of personal data (issue 18): masked by default on both export paths, a full
export for admins only with a reason, large exports confirmed; each recorded in
敏感信息查看记录 with the row count, filters and a file name carrying user and time."""
import json
from urllib.parse import unquote

import pytest

from admin_app.settings import set_value
from models import Customer, PiiAccess
from tests import book_factory as bf


@pytest.fixture
def customers(db, users):
    rows = []
    for i in range(6):
        c = bf.customer(f"张{i}")
        c.officer_id = users["officer"].id
        c.address = f"浙江省杭州市西湖区文三路{i + 1}号"
        rows.append(c)
    db.session.commit()
    return rows


def _csv(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data().decode("utf-8-sig")


def _file_name(response) -> str:
    return unquote(response.headers["Content-Disposition"].split("filename*=UTF-8''")[1])


def test_exports_are_masked_on_both_paths(client_for, customers, app):
    officer = client_for("officer")
    body = _csv(officer.get("/customers/export/csv/"))  # fast SQL path
    for c in customers:
        assert c.id_number not in body and c.phone not in body
        assert c.id_number[:6] + "********" + c.id_number[-4:] in body
    assert "文三路" not in body and "浙江省杭州市西湖区****" in body
    # The ORM path (a screen whose export needs Python) masks the same.
    view = next(v for v in app.extensions["postloan_admin"]._views if v.endpoint == "customers")
    with app.test_request_context("/customers/export/csv/"):
        from flask_login import login_user
        from models import User

        login_user(User.query.filter_by(username="officer").one())
        row = customers[0]
        assert view.get_export_value(row, "id_number") == row.id_number[:6] + "********" + row.id_number[-4:]
        assert view.get_export_value(row, "phone") == row.phone[:3] + "****" + row.phone[-4:]


def test_full_export_is_for_admins_with_a_reason_and_recorded(client_for, customers, db):
    assert client_for("officer").get("/customers/export_full/csv/").status_code == 403
    assert client_for("officer").post("/customers/export_full/csv/", {"reason": "verify"}).status_code == 403
    assert "pii-export-full" not in client_for("officer").get("/customers/").get_data(as_text=True)
    admin = client_for("admin")
    page = admin.get("/customers/").get_data(as_text=True)
    assert "pii-export-full" in page and "/customers/export_full/csv/" in page
    form = admin.get("/customers/export_full/csv/?q_name=张")
    assert form.status_code == 200 and "完整信息导出" in form.get_data(as_text=True)
    assert db.session.query(PiiAccess).count() == 0
    refused = admin.post("/customers/export_full/csv/?q_name=张", {"reason": "other"})
    assert refused.status_code == 200 and db.session.query(PiiAccess).count() == 0
    response = admin.post("/customers/export_full/csv/?q_name=张", {"reason": "other", "reason_text": "导入核对"})
    body = _csv(response)
    for c in customers:
        assert c.id_number in body and c.phone in body
    name = _file_name(response)
    assert name.startswith("客户_完整信息_admin_") and name.endswith(".csv")
    row = db.session.query(PiiAccess).one()
    assert (row.action, row.username, row.table_name, row.row_count, row.reason, row.reason_text) == \
        ("export_full", "admin", "customer", 6, "other", "导入核对")
    assert json.loads(row.filters) == {"q_name": "张"} and row.file_name == name
    # The next ordinary export is masked again.
    assert customers[0].id_number not in _csv(admin.get("/customers/export/csv/"))


def test_full_export_xlsx(client_for, customers, db):
    response = client_for("admin").post("/customers/export_full/xlsx/", {"reason": "contract"})
    assert response.status_code == 200 and response.get_data()[:2] == b"PK"
    assert _file_name(response).endswith(".xlsx")
    assert db.session.query(PiiAccess).one().row_count == 6


def test_large_export_of_personal_data_asks_for_a_reason_and_is_recorded(client_for, customers, db):
    set_value("privacy.export_confirm_rows", "5")
    db.session.commit()
    officer = client_for("officer")
    page = officer.get("/customers/export/csv/")
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    assert "超过 5 行" in page.get_data(as_text=True) and db.session.query(PiiAccess).count() == 0
    response = officer.post("/customers/export_confirmed/csv/", {"reason": "contract"})
    body = _csv(response)
    assert customers[0].id_number not in body and customers[0].name in body  # still masked
    row = db.session.query(PiiAccess).one()
    assert (row.action, row.username, row.row_count) == ("export_large", "officer", 6)
    assert _file_name(response).startswith("客户_个人信息_officer_")
    # At or under the threshold: no question asked, nothing recorded.
    assert _csv(officer.get("/customers/export/csv/?q_name=张1")).count("张1") == 1
    assert db.session.query(PiiAccess).count() == 1
    # Without the export right, the confirmation endpoint refuses too.
    assert client_for("risk_checker").post("/customers/export_confirmed/csv/", {"reason": "verify"}).status_code == 403


def test_every_screen_offers_the_full_export_to_admins_only(app):
    from admin_app.permissions import permission_table

    for endpoint, entry in permission_table().items():
        assert entry["export_full"] <= {"admin"}, endpoint
