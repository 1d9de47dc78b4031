"""One daily-job run at a time per database.

PostgreSQL: a session-level advisory lock held on a dedicated connection (released by the
server if the process dies). SQLite: an exclusive flock on a file beside the database file
(released by the kernel if the process dies). A second run does not wait: it is refused
with JobAlreadyRunning, whose message is shown to the user."""
from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Engine

ALREADY_RUNNING = "日终任务正在运行(另一个进程持有运行锁),本次未执行,请稍后再试。"


class JobAlreadyRunning(RuntimeError):
    def __init__(self, message: str = ALREADY_RUNNING):
        super().__init__(message)
        self.message = message


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for pg_try_advisory_lock, derived from the job name."""
    digest = hashlib.sha256(f"postloan.job.{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_file_path(engine: Engine, name: str) -> str:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        tag = hashlib.sha256(str(engine.url).encode()).hexdigest()[:12]
        return os.path.join(tempfile.gettempdir(), f"postloan-{name}-{tag}.lock")
    return f"{database}.{name}-job.lock"


@contextmanager
def exclusive_run(engine: Engine, name: str = "daily"):
    """Hold the run lock of job `name` for the `with` body, or raise JobAlreadyRunning."""
    if engine.dialect.name == "postgresql":
        # Keyed by schema too: deployments (or parallel test workers) sharing one database
        # in separate schemas do not block each other.
        with engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar()
        with _advisory_lock(engine, advisory_key(f"{name}:{schema}")):
            yield
    else:
        with _file_lock(lock_file_path(engine, name)):
            yield


@contextmanager
def _advisory_lock(engine: Engine, key: int):
    conn = engine.connect()
    try:
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        conn.commit()
        if not got:
            raise JobAlreadyRunning()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()
    except BaseException:
        # Never hand a connection that may still hold the lock back to the pool.
        conn.invalidate()
        raise
    finally:
        conn.close()


@contextmanager
def _file_lock(path: str):
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise JobAlreadyRunning() from None
        try:
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
