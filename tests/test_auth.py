"""Login and session rules: one message for unknown user and wrong password, lockout,
`next` stays inside the app, a fresh session on login, logout by POST only, cookie flags."""
from admin_app.auth import BAD_LOGIN, safe_next
from models import User


def _login(c, username, password):
    return c.client.post("/login", data={"username": username, "password": password,
                                         "csrf_token": c.token()})


def test_unknown_user_and_wrong_password_get_the_same_message(client_for):
    c = client_for()
    unknown = _login(c, "nobody", "whatever1").get_data(as_text=True)
    wrong = _login(c, "officer", "wrong-pass").get_data(as_text=True)
    assert BAD_LOGIN in unknown and BAD_LOGIN in wrong


def test_passwords_are_hashed_with_scrypt(db, app, monkeypatch):
    # The suite lowers the hash cost for speed; the configuration every deployment uses is scrypt.
    from admin_app.config import Config, ProductionConfig

    assert Config.PASSWORD_HASH_METHOD == ProductionConfig.PASSWORD_HASH_METHOD == "scrypt"
    monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", Config.PASSWORD_HASH_METHOD)
    user = db.session.query(User).filter_by(username="admin").one()
    user.set_password("demo12345")
    assert user.password_hash.startswith("scrypt:") and "demo12345" not in user.password_hash
    assert user.check_password("demo12345")


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


# ---- idle timeout --------------------------------------------------------------------
# The session cookie is signed with a timestamp; Flask refuses (on the server) a cookie
# signed longer ago than PERMANENT_SESSION_LIFETIME (IDLE_TIMEOUT_MINUTES), and re-signs it
# on every request (SESSION_REFRESH_EACH_REQUEST, the session is permanent from login).
# The tests move the signer's clock instead of waiting.
class _Clock:
    def __init__(self):
        import time

        self.now = time.time()

    def time(self):
        return self.now


def _frozen_clock(monkeypatch):
    import itsdangerous.timed

    clock = _Clock()
    monkeypatch.setattr(itsdangerous.timed, "time", clock)
    return clock


def _session_cookie(c):
    return c.client.get_cookie("session").value


def _replay(c, value):
    c.client.set_cookie("session", value)


def test_idle_timeout_comes_from_config(app):
    import os
    from datetime import timedelta

    minutes = int(os.environ.get("IDLE_TIMEOUT_MINUTES", "30"))
    assert app.permanent_session_lifetime == timedelta(minutes=minutes)
    assert app.config["SESSION_REFRESH_EACH_REQUEST"] is True


def test_session_idle_longer_than_the_limit_is_sent_to_login(client_for, app, monkeypatch):
    clock = _frozen_clock(monkeypatch)
    c = client_for("officer")
    assert c.get("/bank_cards/").status_code == 200
    limit = app.permanent_session_lifetime.total_seconds()
    clock.now += limit - 60  # idle just under the limit: still in
    assert c.get("/bank_cards/").status_code == 200
    clock.now += limit + 1  # idle past the limit since that request
    r = c.get("/bank_cards/")
    assert r.status_code == 302 and "/login" in r.location


def test_activity_keeps_the_session_alive_past_the_limit(client_for, app, monkeypatch):
    clock = _frozen_clock(monkeypatch)
    c = client_for("officer")
    limit = app.permanent_session_lifetime.total_seconds()
    for _ in range(4):  # four requests, each 2/3 of the limit after the last: 8/3 limits in all
        clock.now += limit * 2 / 3
        assert c.get("/bank_cards/").status_code == 200


def test_an_old_session_cookie_replayed_is_refused(client_for, app, monkeypatch):
    """A cookie's own expiry is not the enforcement: a client that kept an old cookie and
    sends it again after the limit is treated as logged out, even though the same session
    stayed alive on another tab by activity."""
    clock = _frozen_clock(monkeypatch)
    c = client_for("officer")
    old = _session_cookie(c)
    limit = app.permanent_session_lifetime.total_seconds()
    clock.now += limit / 2
    assert c.get("/bank_cards/").status_code == 200  # fresh cookie issued now
    assert _session_cookie(c) != old
    clock.now += limit / 2 + 1
    _replay(c, old)
    r = c.get("/bank_cards/")
    assert r.status_code == 302 and "/login" in r.location
    with c.client.session_transaction() as s:
        assert "_user_id" not in s


def test_login_does_not_set_a_remember_me_cookie(client_for):
    """A long-lived remember-me cookie would log the user back in after the idle timeout."""
    c = client_for("officer")
    assert c.client.get_cookie("remember_token") is None
    c.get("/bank_cards/")
    assert c.client.get_cookie("remember_token") is None


def test_production_cookie_flags(app, monkeypatch):
    """Production config: the session cookie is Secure, HttpOnly and SameSite=Lax. (The
    settings of ProductionConfig are put on the test app: a second app in one process would
    register the audit hooks twice.)"""
    from admin_app.config import load_config

    prod = load_config("production")
    assert prod.SESSION_COOKIE_SECURE is True and prod.REMEMBER_COOKIE_SECURE is True
    assert prod.SESSION_COOKIE_HTTPONLY is True and prod.SESSION_COOKIE_SAMESITE == "Lax"
    for key in ("SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE"):
        monkeypatch.setitem(app.config, key, getattr(prod, key))
    r = app.test_client().get("/login", base_url="https://localhost")
    cookie = r.headers.get("Set-Cookie", "")
    assert "; Secure" in cookie and "; HttpOnly" in cookie and "SameSite=Lax" in cookie
