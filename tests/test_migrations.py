"""The schema is managed by migrations: `init-db` on an empty database builds exactly the
tables, columns and indexes the models declare."""
import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

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
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        db.session.remove()
        db.engine.dispose()
    if schema:
        eng = create_engine(url)
        with eng.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        eng.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
