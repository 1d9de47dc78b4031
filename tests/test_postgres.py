"""PostgreSQL is production. The whole suite runs again on it when TEST_DATABASE_URL names a
server (run-tests.sh does that); this module states plainly when that did not happen."""
import os

import pytest
import sqlalchemy

PG_URL = os.environ.get("TEST_DATABASE_URL") or os.environ.get(
    "PG_TEST_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _reachable() -> str | None:
    try:
        sqlalchemy.create_engine(PG_URL).connect().close()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        return f"{exc.__class__.__name__}: {str(exc).splitlines()[0][:120]}"


pytestmark = pytest.mark.postgres


def test_postgresql_server_is_reachable_for_the_postgres_run():
    reason = _reachable()
    if reason:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL} ({reason}); the PostgreSQL run of "
                    "the suite was SKIPPED, not passed")
    engine = sqlalchemy.create_engine(PG_URL)
    with engine.connect() as conn:
        assert conn.execute(sqlalchemy.text("select 1")).scalar() == 1
        version = conn.execute(sqlalchemy.text("show server_version")).scalar()
    assert int(version.split(".")[0]) >= 12


def test_suite_database_is_postgresql_when_asked(db):
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("this pass runs on SQLite; run-tests.sh repeats the suite on PostgreSQL")
    assert db.engine.dialect.name == "postgresql"
