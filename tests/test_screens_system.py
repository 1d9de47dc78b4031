"""系统管理: users (roles, hashed passwords never shown) and the read-only audit log."""
import pytest

from models import AuditLog, User
from tests import book_factory as bf


def user_form(**over):
    data = {"username": "zhangsan", "display_name": "张三", "roles": ["officer", "collector"], "active": "y",
            "new_password": "Desk-s3cret-pass", "confirm_password": "Desk-s3cret-pass"}
    data.update(over)
    return data


@pytest.mark.parametrize("role", ["officer", "collector", "risk_checker", "risk_approver", "reviewer"])
def test_only_admin_manages_users(client_for, db, role):
    c = client_for(role)
    assert c.get("/users/").status_code == 403
    assert c.post("/users/new/", data=user_form()).status_code == 403


def test_user_list_shows_role_labels_and_never_the_hash(client_for, db, users):
    page = client_for("admin").get("/users/").get_data(as_text=True)
    assert "客户经理" in page and "风控主管" in page and "用户名" in page
    assert users["admin"].password_hash not in page and "scrypt:" not in page
    form = client_for("admin").get(f"/users/edit/?id={users['officer'].id}").get_data(as_text=True)
    assert "scrypt:" not in form and "password_hash" not in form
    assert 'value="officer" selected' in form or 'selected value="officer"' in form


def test_create_user_hashes_the_password_and_the_user_can_log_in(client_for, db):
    r = client_for("admin").post("/users/new/", data=user_form())
    assert r.status_code == 302, r.get_data(as_text=True)
    u = db.session.query(User).filter_by(username="zhangsan").one()
    assert u.roles == {"officer", "collector"} and u.password_hash != "Desk-s3cret-pass"
    assert u.check_password("Desk-s3cret-pass")
    assert client_for().login("zhangsan", "Desk-s3cret-pass").status_code == 302


def test_create_user_requires_a_password_and_a_role(client_for, db):
    c = client_for("admin")
    page = c.post("/users/new/", data=user_form(new_password="", confirm_password="")).get_data(as_text=True)
    assert "新建用户必须设置密码" in page
    page = c.post("/users/new/", data=user_form(roles=[])).get_data(as_text=True)
    assert "至少选择一个角色" in page
    page = c.post("/users/new/", data=user_form(confirm_password="other-pass")).get_data(as_text=True)
    assert "两次输入的密码不一致" in page
    page = c.post("/users/new/", data=user_form(new_password="short", confirm_password="short")).get_data(as_text=True)
    assert "密码至少 10 位" in page
    assert db.session.query(User).filter_by(username="zhangsan").count() == 0


def test_edit_without_password_keeps_it_and_reset_changes_it(client_for, db, users):
    officer = users["officer"]
    old_hash = officer.password_hash
    c = client_for("admin")
    r = c.post(f"/users/edit/?id={officer.id}", data=user_form(username="officer", display_name="王经理",
                                                               roles=["officer"], new_password="", confirm_password=""))
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, officer.id).password_hash == old_hash
    c.post(f"/users/edit/?id={officer.id}", data=user_form(username="officer", display_name="王经理",
                                                           roles=["officer"], new_password="Reset-pass-123",
                                                           confirm_password="Reset-pass-123"))
    db.session.expire_all()
    assert db.session.get(User, officer.id).check_password("Reset-pass-123")


def test_admin_cannot_lock_themselves_out(client_for, db, users):
    admin = users["admin"]
    page = client_for("admin").post(f"/users/edit/?id={admin.id}", data=user_form(
        username="admin", display_name="管理员", roles=["officer"], new_password="", confirm_password=""),
        follow_redirects=True).get_data(as_text=True)
    assert "不能取消自己的系统管理员角色" in page
    db.session.expire_all()
    assert "admin" in db.session.get(User, admin.id).roles


def test_users_cannot_be_deleted(client_for, db, users):
    assert client_for("admin").post("/users/delete/", data={"id": str(users["officer"].id)}).status_code == 403


def test_audit_log_is_newest_first_with_before_and_after(client_for, db):
    from datetime import date
    from decimal import Decimal

    from services.loans import change_rate

    bf.customer("先建客户")
    db.session.commit()
    bf.customer("后建客户")
    db.session.commit()
    page = client_for("admin").get("/audit_log/?q_table=customer").get_data(as_text=True)
    assert page.index("后建客户") < page.index("先建客户")
    loan = bf.active_loan()
    db.session.commit()
    change_rate(loan, Decimal("14"), date.today(), "审计测试", None)
    db.session.commit()
    page = client_for("admin").get("/audit_log/?q_table=loan").get_data(as_text=True)
    assert "修改前" in page and "修改后" in page and "新增" in page and "修改" in page
    # before/after of the rate change, newest (the update) above the creation
    # in the 详情 dialog: field label, old and new side by side, rates as rates
    change = "<th>年利率(%)</th><td class='old'>12.00%</td><td class='new'>14.00%</td>"
    assert change in page
    assert page.index(change) < page.index("新增贷款")


def test_audit_log_search_by_operator_table_and_record(client_for, db):
    c = client_for("admin")
    c.post("/users/new/", data=user_form())
    created = db.session.query(User).filter_by(username="zhangsan").one()
    bf.customer("日志客户")
    db.session.commit()
    page = c.get("/audit_log/?q_user=admin").get_data(as_text=True)
    assert "zhangsan" in page and "日志客户" not in page
    page = c.get(f"/audit_log/?q_table=user_account&q_record={created.id}").get_data(as_text=True)
    assert "zhangsan" in page and "password_hash" not in page
    assert "日志客户" in c.get("/audit_log/?q_table=customer").get_data(as_text=True)


def test_audit_log_is_read_only_and_risk_approver_may_read(client_for, db):
    assert client_for("risk_approver").get("/audit_log/").status_code == 200
    assert client_for("risk_approver").get("/audit_log/export/csv/").status_code == 403
    admin = client_for("admin")
    assert admin.get("/audit_log/new/").status_code == 403
    assert admin.post("/audit_log/delete/", data={"id": "1"}).status_code == 403
    assert client_for("officer").get("/audit_log/").status_code == 403
