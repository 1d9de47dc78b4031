"""The backup command copies a live SQLite database consistently; a restore finds every record."""
import sqlite3

import pytest
from sqlalchemy import func, select

from admin_app.backup import backup_sqlite
from models import AuditLog, User


def test_backup_of_live_sqlite_restores_every_record(db, tmp_path):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite online backup; PostgreSQL uses pg_dump (README)")
    users = db.session.execute(select(func.count()).select_from(User)).scalar()
    audits = db.session.execute(select(func.count()).select_from(AuditLog)).scalar()
    target = backup_sqlite(db.engine, str(tmp_path / "copy.db"))
    con = sqlite3.connect(target)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT count(*) FROM user_account").fetchone()[0] == users
        assert con.execute("SELECT count(*) FROM audit_log").fetchone()[0] == audits
        names = {r[0] for r in con.execute("SELECT username FROM user_account")}
        assert {"admin", "officer", "reviewer"} <= names
    finally:
        con.close()


def test_sqlite_runs_in_wal_mode_with_busy_timeout(db):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
