"""Consistent copies of a live SQLite database through SQLite's online backup API (pages are
copied while writers keep working; the copy is a point-in-time snapshot). PostgreSQL is
backed up with pg_dump (see README)."""
import os
import sqlite3

from sqlalchemy.engine import Engine


def backup_sqlite(engine: Engine, target: str) -> str:
    if engine.dialect.name != "sqlite":
        raise RuntimeError("backup 命令只用于 SQLite;PostgreSQL 请使用 pg_dump(见 README)")
    source_path = engine.url.database
    target = os.path.abspath(target)
    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    src = sqlite3.connect(source_path, timeout=30)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst, pages=4096)
        dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained single file
    finally:
        dst.close()
        src.close()
    return target
