"""查看完整信息 with a reason (issue 18): who may reveal what, the record each reveal leaves
in 敏感信息查看记录, and that record's append-only guard (session and database)."""
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from admin_app.extensions import db as _db
from admin_app.privacy import AppendOnlyError
from models import AuditLog, Customer, Guarantor, PiiAccess
from tests import book_factory as bf


def _guarantor(loan, n):
    g = Guarantor(loan_id=loan.id, kind="person", name=f"担保人{n}", id_number=bf.resident_id(500 + n),
                  phone=f"137{n:08d}", guaranteed_amount=Decimal("10000.00"))
    _db.session.add(g)
    _db.session.flush()
    return g


@pytest.fixture
def people(db, users):
    own = bf.customer("张三")
    own.officer_id = users["officer"].id
    own.address = "浙江省杭州市西湖区文三路12号3幢101室"
    bf.active_loan(own, officer=users["officer"])
    other = bf.customer("李四")
    other.officer_id = users["officer2"].id
    bf.active_loan(other, officer=users["officer2"])
    overdue = bf.overdue_loan(bf.customer("王五"))
    settled = bf.settled_loan(bf.customer("赵六"))
    company = bf.customer("某某有限公司")
    company.kind, company.contact_person = "company", "钱七"
    bf.settled_loan(company)
    out = {"own": own, "other": other, "overdue_g": _guarantor(overdue, 1), "settled_g": _guarantor(settled, 2),
           "company": company}
    db.session.commit()
    return out


def reveal_url(obj, field, back=None):
    url = f"/pii/reveal/{obj.__tablename__}/{obj.id}/{field}/"
    return url + (f"?url={back}" if back else "")


def test_details_page_is_masked_and_offers_the_reveal_to_the_customers_officer(client_for, people):
    own = people["own"]
    page = client_for("officer").get(f"/customers/details/?id={own.id}").get_data(as_text=True)
    assert own.id_number not in page and own.phone not in page
    assert own.id_number[:6] + "********" + own.id_number[-4:] in page
    assert own.phone[:3] + "****" + own.phone[-4:] in page
    assert "浙江省杭州市西湖区****" in page and "文三路" not in page
    assert reveal_url(own, "id_number") in page and "查看完整信息" in page
    # Another officer's customer: masked, no reveal offered.
    page = client_for("officer2").get(f"/customers/details/?id={own.id}").get_data(as_text=True)
    assert own.id_number not in page and reveal_url(own, "id_number") not in page


def test_a_reveal_with_a_reason_is_recorded_and_shows_the_value_on_the_page(client_for, people, db):
    own = people["own"]
    officer = client_for("officer")
    back = f"/customers/details/?id={own.id}"
    form = officer.get(reveal_url(own, "id_number", back))
    assert form.status_code == 200 and own.id_number not in form.get_data(as_text=True)
    # 其他 needs its text: refused, nothing recorded.
    refused = officer.post(reveal_url(own, "id_number", back), {"reason": "other", "reason_text": ""})
    assert refused.status_code == 200 and "请填写原因说明" in refused.get_data(as_text=True)
    assert db.session.query(PiiAccess).count() == 0
    done = officer.post(reveal_url(own, "id_number", back), {"reason": "verify"})
    assert done.status_code == 302 and done.headers["Location"].endswith(back)
    page = officer.get(back).get_data(as_text=True)
    assert own.id_number in page  # revealed: this field of this record
    assert own.phone not in page  # not revealed
    row = db.session.query(PiiAccess).one()
    assert (row.username, row.action, row.table_name, row.record_id, row.field, row.reason) == \
        ("officer", "reveal", "customer", str(own.id), "id_number", "verify")
    assert row.client_ip == "127.0.0.1" and row.at is not None
    # The list shows the revealed value too; another user's session does not.
    assert own.id_number in officer.get("/customers/?q_name=张三").get_data(as_text=True)
    assert own.id_number not in client_for("admin").get("/customers/?q_name=张三").get_data(as_text=True)


def test_reveal_without_a_return_page_shows_the_full_value(client_for, people):
    own = people["own"]
    page = client_for("officer").post(reveal_url(own, "phone"), {"reason": "other", "reason_text": "客户来电核对"})
    assert page.status_code == 200 and own.phone in page.get_data(as_text=True)


@pytest.mark.parametrize("username,target,allowed", [
    ("officer", "own", True), ("officer", "other", False), ("officer2", "own", False),
    ("admin", "own", True), ("admin", "settled_g", True),
    ("collector", "overdue_g", True), ("collector", "settled_g", False), ("collector", "company", False),
    ("collector", "own", False), ("risk_checker", "own", False), ("risk_approver", "overdue_g", False),
    ("reviewer", "own", False),
])
def test_who_may_reveal(client_for, people, db, username, target, allowed):
    obj = people[target]
    response = client_for(username).post(reveal_url(obj, "phone"), {"reason": "collect"})
    assert response.status_code == (200 if allowed else 403)
    assert db.session.query(PiiAccess).count() == (1 if allowed else 0)


def test_collector_reveals_a_guarantor_only_while_the_loan_is_in_collection(client_for, people, db):
    g = people["overdue_g"]
    collector = client_for("collector")
    page = collector.get(f"/loan_detail/{g.loan_id}/").get_data(as_text=True)
    assert g.phone not in page and reveal_url(g, "phone") in page
    page = collector.get(f"/loan_detail/{people['settled_g'].loan_id}/").get_data(as_text=True)
    assert people["settled_g"].phone not in page and "/pii/reveal/guarantor/" not in page


def test_the_reveal_roles_are_a_parameter(client_for, people, db):
    from admin_app.settings import set_value

    set_value("privacy.reveal_roles", "admin")
    db.session.commit()
    assert client_for("officer").post(reveal_url(people["own"], "phone"), {"reason": "verify"}).status_code == 403
    assert client_for("admin").post(reveal_url(people["own"], "phone"), {"reason": "verify"}).status_code == 200
    with pytest.raises(ValueError):
        set_value("privacy.reveal_roles", "admin,nobody")


def test_unknown_record_or_field_is_not_found(client_for, people):
    admin = client_for("admin")
    assert admin.get("/pii/reveal/customer/999999/phone/").status_code == 404
    assert admin.get(f"/pii/reveal/customer/{people['own'].id}/name/").status_code == 404  # not masked
    assert admin.get(f"/pii/reveal/user_account/1/password_hash/").status_code == 404
    assert admin.post(reveal_url(people["own"], "phone"), {"reason": "verify"}, csrf=False).status_code == 400


def test_edit_form_shows_masks_and_keeps_the_stored_values_when_left_as_shown(client_for, people, db):
    own = people["own"]
    officer = client_for("officer")
    stored_id, stored_phone = own.id_number, own.phone
    page = officer.get(f"/customers/edit/?id={own.id}").get_data(as_text=True)
    assert own.id_number not in page and own.phone not in page
    masked_id = own.id_number[:6] + "********" + own.id_number[-4:]
    masked_phone = own.phone[:3] + "****" + own.phone[-4:]
    form = {"kind": "person", "name": "张三", "id_number": masked_id, "phone": masked_phone,
            "address": "浙江省杭州市西湖区****", "officer": str(own.officer_id)}
    saved = officer.post(f"/customers/edit/?id={own.id}", form)
    assert saved.status_code == 302, saved.get_data(as_text=True)[-3000:]
    db.session.expire_all()
    kept = db.session.get(Customer, own.id)
    assert (kept.id_number, kept.phone) == (stored_id, stored_phone)
    assert kept.address == "浙江省杭州市西湖区文三路12号3幢101室"
    # A value typed in replaces the stored one.
    form["phone"] = "13900001111"
    assert officer.post(f"/customers/edit/?id={own.id}", form).status_code == 302
    db.session.expire_all()
    assert db.session.get(Customer, own.id).phone == "13900001111"
    # An invalid typed value is refused and the page shows the others masked again.
    form["phone"], form["id_number"] = "12", masked_id
    page = officer.post(f"/customers/edit/?id={own.id}", form).get_data(as_text=True)
    assert kept.id_number not in page


def test_audit_log_keeps_identifiers_masked(client_for, people, db):
    rows = db.session.query(AuditLog).filter(AuditLog.table_name == "customer").all()
    assert rows
    for row in rows:
        for blob in (row.before, row.after):
            if blob:
                values = json.loads(blob)
                for key in ("id_number", "phone"):
                    if values.get(key):
                        assert "*" in values[key]
    page = client_for("admin").get("/audit_log/?q_table=customer").get_data(as_text=True)
    assert people["own"].id_number not in page and people["own"].phone not in page


def test_access_records_cannot_be_changed_or_deleted(client_for, people, db):
    client_for("officer").post(reveal_url(people["own"], "phone"), {"reason": "verify"})
    row = db.session.query(PiiAccess).one()
    row.reason = "other"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.query(PiiAccess).one())
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    for statement in ("UPDATE pii_access SET reason = 'other'", "DELETE FROM pii_access"):
        with pytest.raises(DatabaseError, match="不可修改或删除"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert db.session.query(PiiAccess).one().reason == "verify"


def test_access_record_screen_is_read_only_for_admin_and_risk_approver(client_for, people, db):
    client_for("officer").post(reveal_url(people["own"], "phone"), {"reason": "verify"})
    row_id = db.session.query(PiiAccess.id).scalar()
    for username in ("admin", "risk_approver"):
        c = client_for(username)
        page = c.get("/pii_access/")
        assert page.status_code == 200 and "核实身份" in page.get_data(as_text=True)
        assert c.get(f"/pii_access/edit/?id={row_id}").status_code == 403
        assert c.post("/pii_access/delete/", {"id": str(row_id)}).status_code == 403
        assert c.get(f"/pii_access/details/?id={row_id}").status_code == 200
    for username in ("officer", "collector", "risk_checker", "reviewer"):
        assert client_for(username).get("/pii_access/").status_code == 403
    assert db.session.query(PiiAccess).count() == 1


def test_a_migrated_database_refuses_changes_to_the_access_record(tmp_path):
    from admin_app import create_app
    from admin_app.cli import init_schema

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "migrated.db"),
                      "UPLOAD_FOLDER": str(tmp_path / "up")})
    with app.app_context():
        init_schema()
        engine = _db.engine
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO pii_access (username, action, table_name, reason) "
                              "VALUES ('admin', 'reveal', 'customer', 'verify')"))
        for statement in ("UPDATE pii_access SET reason = 'other'", "DELETE FROM pii_access"):
            with pytest.raises(DatabaseError, match="不可修改或删除"):
                with engine.begin() as conn:
                    conn.execute(text(statement))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT reason FROM pii_access")).scalar() == "verify"
        _db.session.remove()
        engine.dispose()
