"""Shared fixtures. The database is SQLite in a temp file unless TEST_DATABASE_URL names
another (CI runs the suite again on PostgreSQL). Every test starts from empty tables with
the demo accounts present; data is built through the app's own services."""
import os
import re

import pytest
from sqlalchemy import text

from admin_app import create_app
from admin_app.extensions import db as _db

PG_URL = os.environ.get("TEST_DATABASE_URL", "")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if PG_URL:
        return PG_URL
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")


PG_EXTENSION_LOCK = 7_310_421  # an advisory lock key of the test setup's own


def _pg_schema_options(worker: str) -> dict:
    """Parallel workers (pytest-xdist) on one PostgreSQL database each get their own schema."""
    from sqlalchemy import create_engine

    schema = f"test_{worker}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        # pg_trgm (models.search) is one per database: created once, in public, by whichever
        # worker comes first (the lock: two concurrent CREATE EXTENSION IF NOT EXISTS collide),
        # and never inside a worker's schema, which the DROP SCHEMA ... CASCADE below would
        # take with it while the other worker uses it.
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_EXTENSION_LOCK})
        where = conn.execute(text("SELECT extnamespace::regnamespace::text FROM pg_extension "
                                  "WHERE extname = 'pg_trgm'")).scalar()
        if where is None:
            conn.execute(text("CREATE EXTENSION pg_trgm SCHEMA public"))
        elif where != "public":
            conn.execute(text("ALTER EXTENSION pg_trgm SET SCHEMA public"))
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}}}


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    extra = _pg_schema_options(worker) if PG_URL else {}
    app = create_app({
        **extra,
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("uploads")),
        "SECRET_KEY": "test-secret",
        "RATELIMIT_ENABLED": False,
        # One pbkdf2 round: the demo accounts made for every test cost microseconds, not the
        # ~0.9 s that seven scrypt hashes take (tests that time hashing set scrypt themselves).
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
    })
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        if PG_URL:
            _db.drop_all()


def _truncate_all():
    tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
    if _db.engine.dialect.name == "postgresql":
        _db.session.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    else:
        from models.privacy import set_append_only_guard

        connection = _db.session.connection()
        set_append_only_guard(connection, False)  # the access record refuses DELETE
        for t in tables:
            _db.session.execute(text(f'DELETE FROM "{t}"'))
        set_append_only_guard(connection, True)
    _db.session.commit()


@pytest.fixture(autouse=True)
def db(app):
    """An app context with empty tables and the demo accounts."""
    with app.app_context():
        _truncate_all()
        from admin_app.seed.accounts import ensure_demo_users

        ensure_demo_users()
        _db.session.commit()
        from admin_app import login_throttle

        login_throttle.storage().reset()  # login counters of the previous test
        yield _db
        _db.session.rollback()
        _db.session.remove()


@pytest.fixture
def users(db):
    from models import User

    return {u.username: u for u in db.session.query(User).all()}


class StaffClient:
    """A test client logged in as one user; `post` adds the CSRF token of the session."""

    def __init__(self, client):
        self.client = client
        self._token = None

    def token(self) -> str:
        self._fresh()
        page = self.client.get("/login", follow_redirects=True)
        m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
        if m is None:
            m = re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page.get_data(as_text=True))
        return m.group(1)

    def login(self, username, password="demo12345"):
        token = self.token()
        self._fresh()
        return self.client.post("/login", data={"username": username, "password": password,
                                                "csrf_token": token})

    @staticmethod
    def _fresh():
        # The `db` fixture's app context is shared by every request of a test, and with it
        # `g`: drop the user and CSRF token another client's request cached there.
        from flask import g, has_app_context

        if has_app_context():
            g.pop("_login_user", None)
            g.pop("csrf_token", None)

    def get(self, *a, **kw):
        self._fresh()
        return self.client.get(*a, **kw)

    def post(self, url, data=None, csrf=True, **kw):
        self._fresh()
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            data["csrf_token"] = self.csrf_from(self.client.get("/", follow_redirects=True))
            self._fresh()
        return self.client.post(url, data=data, **kw)

    @staticmethod
    def csrf_from(response) -> str:
        html = response.get_data(as_text=True)
        m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
            re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
        assert m, "no csrf_token on the page"
        return m.group(1)


@pytest.fixture
def client_for(app, db):
    """client_for('officer') -> a StaffClient logged in as that demo user."""

    def make(username=None):
        c = StaffClient(app.test_client())
        if username:
            r = c.login(username)
            assert r.status_code == 302, f"login as {username} failed"
        return c

    return make
