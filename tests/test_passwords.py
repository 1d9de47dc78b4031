"""Password rules and usernames (issue 15): at least 10 characters, not all one character,
not containing the username, not among the 10,000 most common passwords (shipped in
admin_app/data); usernames unique without regard to case; an admin-made or admin-reset
password must be replaced by the user at the next login; users change their own."""
import pytest

from admin_app.passwords import common_passwords, password_problems
from models import User


@pytest.mark.parametrize("password,username,expected", [
    ("12345678", "", "至少 10 位"),
    ("aaaaaaaaaaaa", "", "同一个字符"),
    ("          ", "", "同一个字符"),
    ("zhangsan2026zhangsan", "zhangsan", "包含用户名"),
    ("ZhangSan-loans", "zhangsan", "包含用户名"),
    ("1234567890", "", "常见"),
    ("qwertyuiop", "", "常见"),
    ("Password1234", "", None),
])
def test_each_rule_names_itself(password, username, expected):
    problems = "".join(password_problems(password, username))
    if expected is None:
        assert problems == ""
    else:
        assert expected in problems


def test_the_common_list_has_ten_thousand_entries_most_common_first():
    assert len(common_passwords()) == 10_000
    assert {"123456", "password", "12345678", "qwerty", "iloveyou"} <= common_passwords()


def _create(admin, username, password, roles=("officer",)):
    return admin.post("/users/new/", data={"username": username, "display_name": "测试", "roles": list(roles),
                                           "active": "y", "new_password": password, "confirm_password": password})


@pytest.mark.parametrize("password", ["12345678", "aaaaaaaaaa", "newbie-newbie-1", "        ", "1234567890"])
def test_the_users_screen_refuses_weak_passwords_with_the_rule(client_for, db, password):
    r = _create(client_for("admin"), "newbie", password)
    assert r.status_code == 200 and "密码" in r.get_data(as_text=True)
    assert db.session.query(User).filter_by(username="newbie").count() == 0


def test_usernames_differing_only_in_case_are_refused(client_for, db):
    r = _create(client_for("admin"), "Admin", "Strong-pass-2026")
    assert "已存在" in r.get_data(as_text=True)
    assert db.session.query(User).filter(User.username == "Admin").count() == 0


def test_login_finds_the_user_whatever_the_case(client_for):
    c = client_for()
    r = c.client.post("/login", data={"username": "OFFICER", "password": "demo12345", "csrf_token": c.token()})
    assert r.status_code == 302


def test_an_admin_made_account_must_choose_its_own_password_first(client_for, db):
    assert _create(client_for("admin"), "newbie", "Given-by-admin-1").status_code == 302
    user = db.session.query(User).filter_by(username="newbie").one()
    assert user.must_change_password
    c = client_for()
    r = c.client.post("/login", data={"username": "newbie", "password": "Given-by-admin-1", "csrf_token": c.token()})
    assert r.status_code == 302 and r.location.endswith("/password")
    r = c.get("/bank_cards/")  # anything else sends them back
    assert r.status_code == 302 and r.location.endswith("/password")
    page = c.get("/password").get_data(as_text=True)
    assert "须先设置您自己的密码" in page and "至少 10 位" in page
    r = c.post("/password", data={"current_password": "Given-by-admin-1", "new_password": "1234567890",
                                  "confirm_password": "1234567890"})
    assert r.status_code == 200 and "常见" in r.get_data(as_text=True)
    r = c.post("/password", data={"current_password": "Given-by-admin-1", "new_password": "My-own-choice-9",
                                  "confirm_password": "My-own-choice-9"})
    assert r.status_code == 302
    db.session.expire_all()
    user = db.session.query(User).filter_by(username="newbie").one()
    assert not user.must_change_password and user.check_password("My-own-choice-9")
    assert c.get("/bank_cards/").status_code == 200  # still logged in after the change


def test_a_user_changes_their_own_password_and_other_sessions_end(client_for, db):
    phone = client_for("officer")
    c = client_for("officer")
    r = c.post("/password", data={"current_password": "wrong", "new_password": "Loans-desk-2026",
                                  "confirm_password": "Loans-desk-2026"})
    assert "当前密码不正确" in r.get_data(as_text=True)
    r = c.post("/password", data={"current_password": "demo12345", "new_password": "Loans-desk-2026",
                                  "confirm_password": "Loans-desk-2026"})
    assert r.status_code == 302
    assert c.get("/bank_cards/").status_code == 200
    r = phone.get("/bank_cards/")
    assert r.status_code == 302 and "/login" in r.location


def test_change_password_needs_login(client_for):
    r = client_for().get("/password")
    assert r.status_code == 302 and "/login" in r.location
