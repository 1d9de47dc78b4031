"""Engine tuning per database: SQLite runs in WAL mode with a busy timeout and enforced
foreign keys, so readers never block the daily job and a busy writer waits, not fails; and a
savepoint is always inside a transaction (see _savepoint_in_a_transaction)."""
from sqlalchemy import event
from sqlalchemy.engine import Engine

CACHE_KIB = 65_536  # SQLite page cache per connection


def is_sqlite(engine_or_conn) -> bool:
    return engine_or_conn.dialect.name == "sqlite"


def configure_engine(engine: Engine) -> None:
    if not is_sqlite(engine):
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    @event.listens_for(engine, "savepoint")
    def _savepoint_in_a_transaction(conn, _name):
        """Python's sqlite3 driver opens a transaction only before an INSERT, UPDATE or DELETE.
        A SAVEPOINT issued first (Session.begin_nested() before any write) then starts the
        transaction itself, and releasing it COMMITS everything so far: a later rollback of
        the request left the savepoint's rows behind. Open the transaction first (IMMEDIATE:
        a savepoint is taken to write; a busy writer is waited for, as busy_timeout says)."""
        dbapi_conn = conn.connection.driver_connection
        if not dbapi_conn.in_transaction:
            dbapi_conn.execute("BEGIN IMMEDIATE")
