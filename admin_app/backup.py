"""Consistent copies of a live SQLite database through SQLite's online backup API (pages are
copied while writers keep working; the copy is a point-in-time snapshot). PostgreSQL is
backed up with pg_dump (see README)."""
import os
import sqlite3

from sqlalchemy.engine import Engine


def backup_sqlite(engine: Engine, target: str, on_pages=None) -> str:
    """Copy the database to `target`; `on_pages(copied, total)` after each batch of pages."""
    if engine.dialect.name != "sqlite":
        raise RuntimeError("backup 命令只用于 SQLite;PostgreSQL 请使用 pg_dump(见 README)")
    source_path = engine.url.database
    target = os.path.abspath(target)
    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    src = sqlite3.connect(source_path, timeout=30)
    dst = sqlite3.connect(target)
    try:
        with dst:
            progress = (lambda status, remaining, total: on_pages(total - remaining, total)) if on_pages else None
            src.backup(dst, pages=4096, progress=progress)
        dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained single file
    finally:
        dst.close()
        src.close()
    return target
