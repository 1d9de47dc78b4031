"""Migration f4b8d2e6a1c9 (one time rule): a book written before it holds Python-stamped times
in the app server's zone (assumed Asia/Shanghai) and database-stamped ones in the database's
(SQLite: UTC); after the upgrade both are naive UTC, and the downgrade restores them."""
import os
from datetime import datetime

from sqlalchemy import create_engine, text

from admin_app import create_app
from admin_app.extensions import db

BEFORE = "f4b8c2d6e1a9"
TARGET = "f4b8d2e6a1c9"


def _app(tmp_path):
    pg = os.environ.get("TEST_DATABASE_URL", "")
    if pg.startswith("postgresql"):
        schema = "migtime"
        eng = create_engine(pg)
        with eng.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        eng.dispose()
        # The database session writes in Shanghai time, as a server set up in China would.
        opts = {"SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {
            "options": f"-csearch_path={schema} -ctimezone=Asia/Shanghai"}}}
        return create_app({"SQLALCHEMY_DATABASE_URI": pg, "UPLOAD_FOLDER": str(tmp_path / "up"), **opts}), True
    url = "sqlite:///" + str(tmp_path / "time.db")
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "UPLOAD_FOLDER": str(tmp_path / "up")}), False


def _stamp(conn, sql, **params):
    return conn.execute(text(sql), params).scalar()


def test_upgrade_stores_both_old_conventions_as_utc_and_downgrade_restores_them(tmp_path):
    from flask_migrate import downgrade, upgrade

    app, pg = _app(tmp_path)
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            # Python-stamped: the audit entry at 07:24 Shanghai wall time.
            conn.execute(text("INSERT INTO user_account (username, display_name, password_hash, roles_csv, active, "
                              "must_change_password) VALUES ('u', 'u', 'x', 'admin', true, false)"))
            conn.execute(text("INSERT INTO audit_log (at, username, action, table_name, summary) "
                              "VALUES (:at, 'u', 'update', 'loan', 'x')"), {"at": datetime(2026, 3, 2, 7, 24, 5, 123456)})
            # Database-stamped: the user row's created_at from the column default, now.
            db_stamp_before = _stamp(conn, "SELECT created_at FROM user_account WHERE username = 'u'")
            utc_now_db = _stamp(conn, "SELECT CURRENT_TIMESTAMP")
        upgrade(revision=TARGET)
        with db.engine.begin() as conn:
            audit_at = _stamp(conn, "SELECT at FROM audit_log")
            created = _stamp(conn, "SELECT created_at FROM user_account WHERE username = 'u'")
            conn.execute(text("INSERT INTO user_account (username, display_name, password_hash, roles_csv, active, "
                              "must_change_password) VALUES ('v', 'v', 'x', 'admin', true, false)"))
            default_now = _stamp(conn, "SELECT created_at FROM user_account WHERE username = 'v'")
        as_dt = lambda v: v if isinstance(v, datetime) else datetime.fromisoformat(str(v))  # noqa: E731
        assert as_dt(audit_at) == datetime(2026, 3, 1, 23, 24, 5, 123456)
        if pg:
            # now() in a Shanghai session was Shanghai wall time: 8 hours are taken off.
            assert (as_dt(db_stamp_before) - as_dt(created)).total_seconds() == 8 * 3600
        else:
            assert as_dt(created) == as_dt(db_stamp_before)  # CURRENT_TIMESTAMP was UTC already
        utc = datetime.utcnow()
        assert abs((as_dt(default_now) - utc).total_seconds()) < 120, (default_now, utc, utc_now_db)
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            assert as_dt(_stamp(conn, "SELECT at FROM audit_log")) == datetime(2026, 3, 2, 7, 24, 5, 123456)
            assert as_dt(_stamp(conn, "SELECT created_at FROM user_account WHERE username = 'u'")) \
                == as_dt(db_stamp_before)
        db.session.remove()
        db.engine.dispose()
