"""Login throttling (issue 15): a delay that grows per (account, address), a lock only after
many failures from many addresses, admins unlock, the user is told when to retry; counters in
the shared store (Redis in production, proven here against a real redis-server when
REDIS_TEST_URL names one: two apps stand for two gunicorn workers); the client address read
from X-Forwarded-For only behind TRUSTED_PROXIES; unknown usernames cost the same hash work."""
import os
import statistics
import time
import uuid

import pytest

from admin_app import login_throttle
from admin_app.auth import BAD_LOGIN

REDIS_URL = os.environ.get("REDIS_TEST_URL", "")


def _login(c, username, password, addr="10.0.0.1", headers=None):
    token = c.token()
    return c.client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                         environ_base={"REMOTE_ADDR": addr}, headers=headers or {})


def test_five_wrong_guesses_no_longer_lock_the_account(client_for):
    """The finding: anyone could lock any account with five wrong guesses."""
    attacker = client_for()
    for _ in range(5):
        _login(attacker, "officer", "wrong-pass", addr="10.9.9.9")
    r = _login(client_for(), "officer", "demo12345", addr="10.0.0.2")
    assert r.status_code == 302


def test_delay_grows_per_account_and_address_and_says_when_to_retry(client_for, monkeypatch):
    c = client_for()
    for _ in range(login_throttle.FREE_FAILURES):
        r = _login(c, "officer", "wrong-pass")
        assert r.status_code == 200 and BAD_LOGIN in r.get_data(as_text=True)
    r = _login(c, "officer", "wrong-pass")  # the fourth failure starts a 2-second wait
    assert BAD_LOGIN in r.get_data(as_text=True)
    r = _login(c, "officer", "demo12345")  # even the right password waits
    text = r.get_data(as_text=True)
    assert r.status_code == 429 and "秒后重试" in text
    # Another address is not slowed down by this one's failures.
    assert _login(client_for(), "officer", "demo12345", addr="10.0.0.3").status_code == 302
    time.sleep(2.1)
    assert _login(c, "officer", "demo12345").status_code == 302


def test_unknown_usernames_are_throttled_exactly_like_known_ones(client_for):
    c = client_for()
    outcomes = {}
    for name in ("officer", "no-such-user"):
        seq = [_login(c, name, "wrong-pass", addr="10.0.0.7").status_code
               for _ in range(login_throttle.FREE_FAILURES + 2)]
        outcomes[name] = seq
    assert outcomes["officer"] == outcomes["no-such-user"] == [200] * (login_throttle.FREE_FAILURES + 1) + [429]


def test_lock_needs_many_failures_from_many_addresses_and_an_admin_unlocks(client_for, monkeypatch):
    monkeypatch.setattr(login_throttle, "LOCK_FAILURES", 12)
    monkeypatch.setattr(login_throttle, "LOCK_ADDRESSES", 4)
    c = client_for()
    for i in range(11):  # one address, many failures: a delay for it, no lock
        login_throttle.record_failure("officer", "10.1.0.1")
    assert not login_throttle.is_locked("officer")
    for i in range(3):  # failures from three more addresses: 14 in all, 4 addresses
        login_throttle.record_failure("officer", f"10.2.0.{i}")
    assert login_throttle.is_locked("officer")
    r = _login(c, "officer", "demo12345", addr="10.3.3.3")
    assert r.status_code == 429 and "临时锁定" in r.get_data(as_text=True) and "联系系统管理员解锁" in r.get_data(as_text=True)

    admin = client_for("admin")
    users = admin.get("/users/").get_data(as_text=True)
    assert "已锁定" in users
    from models import User

    officer_id = User.query.filter_by(username="officer").one().id
    r = admin.post("/users/action/", data={"action": "unlock", "rowid": [str(officer_id)]})
    assert r.status_code == 302
    assert not login_throttle.is_locked("officer")
    assert _login(client_for(), "officer", "demo12345", addr="10.3.3.3").status_code == 302


def test_only_an_admin_may_unlock(client_for, db):
    from models import User

    login_throttle.storage().incr("login:lock:officer", 60)
    officer_id = db.session.query(User).filter_by(username="officer").one().id
    r = client_for("risk_approver").post("/users/action/", data={"action": "unlock", "rowid": [str(officer_id)]})
    assert r.status_code == 403
    assert login_throttle.is_locked("officer")


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(app, monkeypatch):
    from admin_app.login_throttle import client_address, parse_trusted_proxies

    headers = {"X-Forwarded-For": "203.0.113.9, 198.51.100.7"}
    with app.test_request_context("/", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.5"}):
        assert client_address() == "10.0.0.5"  # no trusted proxies: the header is the client's own words
    monkeypatch.setitem(app.config, "TRUSTED_PROXIES", parse_trusted_proxies("10.0.0.0/8"))
    with app.test_request_context("/", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.5"}):
        assert client_address() == "198.51.100.7"  # the nearest hop the proxy saw
    monkeypatch.setitem(app.config, "TRUSTED_PROXIES", parse_trusted_proxies("10.0.0.0/8, 198.51.100.7"))
    with app.test_request_context("/", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.5"}):
        assert client_address() == "203.0.113.9"
    with app.test_request_context("/", headers=headers, environ_base={"REMOTE_ADDR": "192.0.2.1"}):
        assert client_address() == "192.0.2.1"  # an untrusted peer cannot claim an address


def test_users_behind_a_trusted_proxy_are_throttled_by_their_own_address(client_for, app, monkeypatch):
    monkeypatch.setitem(app.config, "TRUSTED_PROXIES", login_throttle.parse_trusted_proxies("127.0.0.1"))
    c = client_for()
    for _ in range(login_throttle.FREE_FAILURES + 1):
        _login(c, "officer", "wrong-pass", addr="127.0.0.1", headers={"X-Forwarded-For": "198.51.100.1"})
    blocked = _login(c, "officer", "demo12345", addr="127.0.0.1", headers={"X-Forwarded-For": "198.51.100.1"})
    assert blocked.status_code == 429
    other = _login(client_for(), "officer", "demo12345", addr="127.0.0.1",
                   headers={"X-Forwarded-For": "198.51.100.2"})
    assert other.status_code == 302


def test_unknown_and_known_usernames_cost_the_same_hash_work(client_for, app, db, monkeypatch):
    """The finding: unknown user ≈ 14 ms, known user with a wrong password ≈ 252 ms. With the
    production hash (scrypt) both now run one hash; the medians are within a factor of 1.5."""
    from models import User

    monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", "scrypt")
    user = db.session.query(User).filter_by(username="officer").one()
    user.set_password("Known-user-2026")
    db.session.commit()
    c = client_for()
    times = {"known": [], "unknown": []}
    for i in range(5):
        for kind, name in (("known", "officer"), ("unknown", f"ghost{i}")):
            login_throttle.storage().reset()
            token = c.token()
            started = time.perf_counter()
            c.client.post("/login", data={"username": name, "password": "wrong-pass", "csrf_token": token})
            times[kind].append(time.perf_counter() - started)
    known, unknown = statistics.median(times["known"]), statistics.median(times["unknown"])
    assert known > 0.02, "the production hash should dominate a login's time"
    assert 1 / 1.5 < known / unknown < 1.5, (known, unknown)


@pytest.mark.skipif(not REDIS_URL, reason="REDIS_TEST_URL not set (CI starts redis-server and sets it)")
def test_counters_are_shared_by_workers_through_redis(app, tmp_path):
    """Two apps on one Redis stand for two gunicorn workers: failures seen by one slow the
    other down, and Flask-Limiter's per-address limit counts across both."""
    from limits.storage import storage_from_string

    from admin_app.login_throttle import Refusal

    user = f"u{uuid.uuid4().hex[:8]}"
    store_a = storage_from_string(REDIS_URL)
    store_b = storage_from_string(REDIS_URL)
    with app.app_context():
        app.extensions["login_throttle"] = store_a
        try:
            for _ in range(login_throttle.FREE_FAILURES + 1):
                login_throttle.record_failure(user, "10.5.5.5")
            app.extensions["login_throttle"] = store_b
            refused = login_throttle.refusal(user, "10.5.5.5")
            assert isinstance(refused, Refusal) and not refused.locked
            assert "秒后重试" in refused.message()
        finally:
            app.extensions.pop("login_throttle", None)
            for key in ("fail", "wait"):
                store_a.clear(f"login:{key}:{user}:10.5.5.5")
            for key in ("total", "addrs"):
                store_a.clear(f"login:{key}:{user}")


_WORKER = r"""
import json, os, sys
from admin_app import create_app
from tests.conftest import StaffClient
app = create_app(json.loads(os.environ["WORKER_CONFIG"]))
out = []
with app.app_context():
    for i in range(int(sys.argv[1])):
        c = StaffClient(app.test_client())
        token = c.token()
        r = c.client.post("/login", data={"username": f"nobody{i}", "password": "wrong-pass",
                                          "csrf_token": token}, environ_base={"REMOTE_ADDR": "10.7.7.7"})
        out.append(r.status_code)
print(json.dumps(out))
"""


@pytest.mark.skipif(not REDIS_URL, reason="REDIS_TEST_URL not set (CI starts redis-server and sets it)")
def test_two_worker_processes_on_redis_share_the_login_limit(app):
    """The finding: under gunicorn -w 4, 71 of 90 failed logins in a minute got through. Two
    processes configured like production (RATELIMIT_STORAGE_URI=redis://…) each make 12 failed
    logins from one address: the per-address limit (20 a minute) holds across both. With
    per-process memory counters the second process would see no 429 at all."""
    import json
    import subprocess
    import sys

    from limits.storage import storage_from_string

    storage_from_string(REDIS_URL).reset()
    config = {k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS", "UPLOAD_FOLDER",
                                         "SECRET_KEY", "PASSWORD_HASH_METHOD")}
    config.update(TESTING=True, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=REDIS_URL)
    env = {**os.environ, "WORKER_CONFIG": json.dumps(config)}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        runs = [json.loads(subprocess.run([sys.executable, "-c", _WORKER, "12"], env=env, cwd=root, check=True,
                                          capture_output=True, text=True, timeout=120).stdout.strip().splitlines()[-1])
                for _ in range(2)]
    finally:
        storage_from_string(REDIS_URL).reset()
    assert runs[0] == [200] * 12
    assert runs[1] == [200] * 8 + [429] * 4, runs
