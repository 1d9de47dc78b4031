"""Bulk writer of the demo seeder: buffered rows go to the database in large batches on the
session's own connection (one transaction), bypassing the ORM and so the audit hook.

Rows are tuples of plain values in wire form: int, str (dates as YYYY-MM-DD), None, and money
as `sink.money(Decimal)` gives it. SQLite gets `executemany` on the DBAPI cursor (money as
float, which is what SQLite stores for NUMERIC columns anyway); PostgreSQL gets
`COPY ... FROM STDIN` (money as exact text); any other dialect gets `executemany` with its
parameter style.

Batches are written by one background thread while the caller generates the next batch: the
database drivers release the GIL while the engine works, so the two cores both do work. The
caller must not use the connection until `close()` returns."""
import io
import queue
import threading

from sqlalchemy import text

_COPY_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class BulkSink:
    def __init__(self, connection, tables: dict[str, tuple[str, ...]], batch_rows: int = 20000,
                 threaded: bool = True):
        """`tables`: table name -> columns, in parent-before-child order (every batch is
        written in that order, so foreign keys always point at rows already written)."""
        self.connection = connection
        self.dialect = connection.dialect.name
        self.tables = tables
        self.batch_rows = batch_rows
        self.buffers: dict[str, list[tuple]] = {name: [] for name in tables}
        self.counts: dict[str, int] = {name: 0 for name in tables}
        self._pending = 0
        self._raw = connection.connection.driver_connection
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        self._sql = {name: f'INSERT INTO "{name}" ({", ".join(cols)}) '
                           f'VALUES ({", ".join(mark for _ in cols)})'
                     for name, cols in tables.items()}
        if self.dialect == "sqlite":
            self.money, self.zero = float, 0
        else:
            self.money, self.zero = str, "0.00"
        self._queue: queue.Queue | None = None
        self._error: BaseException | None = None
        if threaded:
            self._queue = queue.Queue(maxsize=2)
            self._thread = threading.Thread(target=self._worker, name="seed-writer", daemon=True)
            self._thread.start()

    # -- buffering -------------------------------------------------------------------------
    def add(self, table: str, row: tuple) -> None:
        self.buffers[table].append(row)
        self._pending += 1

    def extend(self, table: str, rows: list[tuple]) -> None:
        self.buffers[table].extend(rows)
        self._pending += len(rows)

    def maybe_flush(self) -> None:
        if self._pending >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        batch = [(name, rows) for name, rows in self.buffers.items() if rows]
        for name, rows in batch:
            self.counts[name] += len(rows)
        self.buffers = {name: [] for name in self.tables}
        self._pending = 0
        if not batch:
            return
        if self._queue is None:
            self._write_batch(batch)
            return
        self._raise_worker_error()
        self._queue.put(batch)

    def close(self) -> None:
        """Write what is buffered and wait until every batch is in the database."""
        self.flush()
        if self._queue is not None:
            self._queue.put(None)
            self._thread.join()
            self._queue = None
        self._raise_worker_error()

    def abort(self) -> None:
        """Stop the writer after a failure of the caller (the transaction is rolled back)."""
        if self._queue is not None:
            self._error = self._error or RuntimeError("aborted")
            while True:  # drop queued batches, then stop the worker
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
            self._queue.put(None)
            self._thread.join()
            self._queue = None

    # -- writing ---------------------------------------------------------------------------
    def _worker(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is None:
                return
            if self._error is not None:
                continue
            try:
                self._write_batch(batch)
            except BaseException as exc:  # handed to the caller's thread
                self._error = exc

    def _raise_worker_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _write_batch(self, batch) -> None:
        for name, rows in batch:
            self._write(name, rows)

    def _write(self, name: str, rows: list[tuple]) -> None:
        if self.dialect == "postgresql":
            buf = io.StringIO()
            write = buf.write
            for row in rows:
                write("\t".join("\\N" if v is None else str(v).translate(_COPY_ESCAPE)
                                for v in row))
                write("\n")
            buf.seek(0)
            with self._raw.cursor() as cur:
                cur.copy_expert(f'COPY "{name}" ({", ".join(self.tables[name])}) FROM STDIN', buf)
        else:
            cur = self._raw.cursor()
            try:
                cur.executemany(self._sql[name], rows)
            finally:
                cur.close()

    def fix_sequences(self, tables_with_ids) -> None:
        """PostgreSQL: move each id sequence past the ids written explicitly."""
        if self.dialect != "postgresql":
            return
        for name in tables_with_ids:
            self.connection.execute(text(
                f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM \"{name}\"), 0) + 1, false)"))

