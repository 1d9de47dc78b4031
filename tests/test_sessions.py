"""Server-side session validity (issue 15): the cookie carries a token of a row in
user_session; logout, a password change or reset, a role change and deactivation end every
session of the user at once; idle (30 min) and absolute (12 h) limits are enforced against
server times, so a replayed or refreshed cookie does not outlive them."""
from datetime import timedelta

import pytest

from admin_app import sessions
from models import User, UserSession


class Clock:
    def __init__(self, monkeypatch):
        self.at = sessions.now()
        monkeypatch.setattr(sessions, "now", lambda: self.at)

    def advance(self, **kw):
        self.at += timedelta(**kw)


def _cookie(c):
    return c.client.get_cookie("session").value


def _sent_to_login(r):
    return r.status_code == 302 and "/login" in r.location


def test_a_cookie_captured_before_logout_opens_nothing_after(client_for):
    c = client_for("officer")
    captured = _cookie(c)
    assert c.post("/logout").status_code == 302
    thief = client_for()
    thief.client.set_cookie("session", captured)
    assert _sent_to_login(thief.get("/bank_cards/"))


def test_logout_ends_the_users_other_sessions_too(client_for):
    laptop, phone = client_for("officer"), client_for("officer")
    laptop.post("/logout")
    assert _sent_to_login(phone.get("/bank_cards/"))


@pytest.mark.parametrize("change", ["password", "roles", "deactivate"])
def test_an_account_change_by_an_admin_ends_every_session_of_that_user(client_for, db, change):
    officer = client_for("officer")
    other = client_for("collector")
    assert officer.get("/bank_cards/").status_code == 200
    user = db.session.query(User).filter_by(username="officer").one()
    if change == "password":
        user.set_password("Another-pass-2026")
    elif change == "roles":
        user.roles = {"officer", "collector"}
    else:
        user.active = False
    db.session.commit()
    assert _sent_to_login(officer.get("/bank_cards/"))
    assert other.get("/bank_cards/").status_code == 200  # nobody else is touched


def test_password_reset_on_the_users_screen_ends_the_old_cookie(client_for, db):
    officer = client_for("officer")
    captured = _cookie(officer)
    user = db.session.query(User).filter_by(username="officer").one()
    admin = client_for("admin")
    r = admin.post(f"/users/edit/?id={user.id}", data={
        "username": "officer", "display_name": "王经理", "roles": ["officer"], "active": "y",
        "new_password": "Reset-by-admin-77", "confirm_password": "Reset-by-admin-77"})
    assert r.status_code == 302, r.get_data(as_text=True)
    replay = client_for()
    replay.client.set_cookie("session", captured)
    assert _sent_to_login(replay.get("/bank_cards/"))


def test_idle_limit_is_enforced_on_the_server_even_for_a_refreshed_cookie(client_for, app, monkeypatch):
    clock = Clock(monkeypatch)
    c = client_for("officer")
    idle = app.config["IDLE_TIMEOUT_MINUTES"]
    clock.advance(minutes=idle - 1)
    assert c.get("/bank_cards/").status_code == 200
    captured = _cookie(c)
    clock.advance(minutes=idle + 1)
    # The browser's cookie is freshly signed; the server's last-seen time decides.
    replay = client_for()
    replay.client.set_cookie("session", captured)
    assert _sent_to_login(replay.get("/bank_cards/"))
    assert _sent_to_login(c.get("/bank_cards/"))


def test_activity_keeps_a_session_but_not_past_the_absolute_limit(client_for, app, monkeypatch):
    clock = Clock(monkeypatch)
    c = client_for("officer")
    idle = app.config["IDLE_TIMEOUT_MINUTES"]
    hours = app.config["ABSOLUTE_TIMEOUT_HOURS"]
    assert (idle, hours) == (30, 12)  # the defaults of issue 15
    steps = int(hours * 60 / (idle - 5))
    for _ in range(steps - 1):
        clock.advance(minutes=idle - 5)
        assert c.get("/bank_cards/").status_code == 200
    clock.advance(minutes=idle - 5)
    clock.advance(minutes=idle - 5)
    r = c.get("/bank_cards/")
    assert _sent_to_login(r)


def test_login_stores_only_a_hash_of_the_token(client_for, db):
    c = client_for("officer")
    with c.client.session_transaction() as s:
        token = s[sessions.SESSION_KEY]
    rows = db.session.query(UserSession).all()
    assert len(rows) == 1 and token not in rows[0].token_hash and len(rows[0].token_hash) == 64


def test_expired_rows_are_purged_at_the_next_login(client_for, db, monkeypatch):
    clock = Clock(monkeypatch)
    client_for("officer")
    clock.advance(hours=13)
    client_for("collector")
    assert {r.user_id for r in db.session.query(UserSession)} == \
        {db.session.query(User).filter_by(username="collector").one().id}


def test_spent_form_tokens_are_forgotten_once_no_page_carrying_them_can_be_submitted(client_for, db, monkeypatch):
    """form_submission grew by one row per saved form, for ever: a token older than the
    longest session (plus a day) goes at the next login; a younger one stays, so a replay
    from a live page is still recognised."""
    from datetime import datetime

    from models import FormSubmission

    clock = Clock(monkeypatch)
    db.session.add_all([
        FormSubmission(token="old-token-0000000001", endpoint="x", created_at=clock.at - timedelta(hours=12 + 25)),
        FormSubmission(token="live-token-000000001", endpoint="x", created_at=clock.at - timedelta(hours=11)),
    ])
    db.session.commit()
    client_for("officer")
    assert {r.token for r in db.session.query(FormSubmission)} == {"live-token-000000001"}
    assert isinstance(clock.at, datetime)
