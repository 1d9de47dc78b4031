"""Login and session rules: one message for unknown user and wrong password, lockout,
`next` stays inside the app, a fresh session on login, logout by POST only, cookie flags."""
from datetime import datetime

from admin_app.auth import BAD_LOGIN, MAX_FAILURES, safe_next
from models import User


def _login(c, username, password):
    return c.client.post("/login", data={"username": username, "password": password,
                                         "csrf_token": c.token()})


def test_unknown_user_and_wrong_password_get_the_same_message(client_for):
    c = client_for()
    unknown = _login(c, "nobody", "whatever1").get_data(as_text=True)
    wrong = _login(c, "officer", "wrong-pass").get_data(as_text=True)
    assert BAD_LOGIN in unknown and BAD_LOGIN in wrong


def test_account_locks_after_repeated_failures_even_with_right_password(client_for, db):
    c = client_for()
    for _ in range(MAX_FAILURES):
        _login(c, "officer", "wrong-pass")
    user = db.session.query(User).filter_by(username="officer").one()
    db.session.refresh(user)
    assert user.locked_until is not None and user.locked_until > datetime.now()
    r = _login(c, "officer", "demo12345")
    assert r.status_code == 200 and BAD_LOGIN in r.get_data(as_text=True)


def test_passwords_are_hashed_with_scrypt(db):
    user = db.session.query(User).filter_by(username="admin").one()
    assert user.password_hash.startswith("scrypt:") and "demo12345" not in user.password_hash


def test_next_parameter_only_redirects_inside_the_app(app):
    with app.test_request_context():
        assert safe_next("/bank_cards/") == "/bank_cards/"
        for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
            assert safe_next(evil) == "/"


def test_login_redirects_to_next_inside_app(client_for):
    c = client_for()
    r = c.client.post("/login?next=/bank_cards/", data={
        "username": "officer", "password": "demo12345", "csrf_token": c.token()})
    assert r.status_code == 302 and r.location.endswith("/bank_cards/")
    c2 = client_for()
    r = c2.client.post("/login?next=https://evil.example/", data={
        "username": "officer", "password": "demo12345", "csrf_token": c2.token()})
    assert r.status_code == 302 and "evil" not in r.location


def test_login_starts_a_fresh_session(client_for):
    c = client_for()
    with c.client.session_transaction() as s:
        s["planted"] = "by-attacker"
    c.login("officer")
    with c.client.session_transaction() as s:
        assert "planted" not in s and s.get("_user_id")


def test_logout_is_post_only_and_needs_csrf(client_for):
    c = client_for("officer")
    assert c.get("/logout").status_code == 405
    assert c.post("/logout", csrf=False).status_code == 400
    r = c.post("/logout")
    assert r.status_code == 302 and "/login" in r.location
    assert c.get("/bank_cards/").status_code == 302


def test_login_form_without_csrf_is_refused(client_for):
    c = client_for()
    r = c.client.post("/login", data={"username": "officer", "password": "demo12345"})
    assert r.status_code == 400
    assert c.get("/bank_cards/").status_code == 302


def test_session_cookie_flags_and_security_headers(client_for):
    c = client_for()
    r = c.get("/login")
    cookie = r.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "nonce-" in r.headers["Content-Security-Policy"]


def test_production_config_marks_cookies_secure():
    from admin_app.config import load_config

    assert load_config("production").SESSION_COOKIE_SECURE is True


def test_deactivated_user_cannot_log_in(client_for, db):
    user = db.session.query(User).filter_by(username="collector").one()
    user.active = False
    db.session.commit()
    r = _login(client_for(), "collector", "demo12345")
    assert BAD_LOGIN in r.get_data(as_text=True)
