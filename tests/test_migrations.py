"""The schema is managed by migrations: `init-db` on an empty database builds exactly the
tables, columns and indexes the models declare."""
import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import CheckConstraint, create_engine, inspect, text

from admin_app import create_app
from admin_app.extensions import db


def _fresh_url(tmp_path):
    pg = os.environ.get("TEST_DATABASE_URL", "")
    if pg.startswith("postgresql"):
        return pg, "migcheck"
    return "sqlite:///" + str(tmp_path / "migrated.db"), None


def test_init_db_builds_the_schema_the_models_declare(tmp_path):
    url, schema = _fresh_url(tmp_path)
    if schema:
        # A separate schema, so the suite's own tables are untouched.
        eng = create_engine(url)
        with eng.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        eng.dispose()
        url_opts = {"SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}}}
    else:
        url_opts = {}
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "UPLOAD_FOLDER": str(tmp_path / "up"), **url_opts})
    with app.app_context():
        from admin_app.cli import init_schema

        init_schema()
        with db.engine.connect() as conn:
            from models.search import include_name, missing_objects

            diff = compare_metadata(MigrationContext.configure(conn, opts={"include_name": include_name}),
                                    db.metadata)
            missing_search = missing_objects(conn)
            # Alembic's comparison leaves CHECK constraints out: compare their names here.
            inspector = inspect(conn)
            declared = {(t.name, c.name) for t in db.metadata.sorted_tables
                        for c in t.constraints if isinstance(c, CheckConstraint)}
            migrated = {(t.name, c["name"]) for t in db.metadata.sorted_tables
                        for c in inspector.get_check_constraints(t.name)}
        db.session.remove()
        db.engine.dispose()
    if schema:
        eng = create_engine(url)
        with eng.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        eng.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
    assert missing_search == [], f"trigram search objects missing after the migrations: {missing_search}"
    assert len(declared) > 20 and migrated == declared, (declared ^ migrated)


def test_a_failed_sqlite_upgrade_leaves_the_database_as_it_was(tmp_path):
    """Migrations on SQLite run in one transaction with the keys checked before commit: an
    upgrade that meets a row breaking a new CHECK stops with nothing changed (no half-built
    table, the old revision), and runs once the row is put right."""
    from flask_migrate import upgrade

    url = "sqlite:///" + str(tmp_path / "upgrade.db")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "UPLOAD_FOLDER": str(tmp_path / "up")})
    before = "e5b1c7d93a20"  # the revision before the money CHECK constraints
    with app.app_context():
        upgrade(revision=before)
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO loan_product (code, name, repayment_method, min_rate, max_rate, default_rate,"
                " min_term, max_term, penalty_markup, grace_days, inspection_interval_days, active)"
                " VALUES ('BAD', '利率颠倒', 'bullet', 12, 6, 8, 1, 12, 50, 3, 90, 1)"))
            schema = conn.execute(text("SELECT type, name, sql FROM sqlite_master ORDER BY name")).all()
        with pytest.raises(Exception, match="ck_product_rate_range"):
            upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == before
            assert conn.execute(text("SELECT type, name, sql FROM sqlite_master ORDER BY name")).all() == schema
            assert conn.execute(text("SELECT count(*) FROM loan_product WHERE code = 'BAD'")).scalar() == 1
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE loan_product SET min_rate = 6, max_rate = 12 WHERE code = 'BAD'"))
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() != before
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1  # the app's connections keep them on
        db.session.remove()
        db.engine.dispose()
