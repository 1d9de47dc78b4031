"""The import run, the same for every kind: match the file's headers to the declaration,
parse every cell, find duplicates within the file, let the kind decide each row (新增 /
已存在,跳过 / 更新 / error) from batch lookups, then apply the rows through the app's
services, each unit (a row, or a loan with its repayments) in a savepoint.

Modes: "preview" writes nothing (what the engine would refuse is found by applying inside a
transaction that is rolled back); "all" commits only when no row has an error (one
transaction); "valid" commits the rows without errors and reports the others."""
from __future__ import annotations

import gc
import hashlib
from contextlib import contextmanager
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

from sqlalchemy.exc import IntegrityError

from admin_app import clock, settings
from admin_app.extensions import db
from services import BusinessError
from .fields import Column, FieldError, cell_text
from .reading import Table

ACTIONS = {"create": "新增", "skip": "已存在,跳过", "update": "更新", "error": "错误"}
MODES = {"preview": "预览", "all": "全部导入", "valid": "仅导入无误的行"}
ERROR_COLUMN = "错误原因"
ROW_LEVEL = ""  # an error about the whole row, not one column


class RowError(Exception):
    """Raised by a kind for a row; `column` is the header it concerns ('' for the row)."""

    def __init__(self, message: str, column: str = ROW_LEVEL):
        super().__init__(message)
        self.column = column


@dataclass
class ImportRow:
    number: int  # the row's number in the file (the header is row 1)
    cells: list  # the cells as read, in the file's column order
    values: dict = field(default_factory=dict)  # column key -> parsed value (None if empty)
    errors: list = field(default_factory=list)  # (header, message)
    action: str | None = None
    note: str = ""  # what an update changes, the figures of a loan, ...

    @property
    def ok(self) -> bool:
        return not self.errors

    def fail(self, message: str, column: str = ROW_LEVEL) -> None:
        if (column, message) not in self.errors:
            self.errors.append((column, message))

    @property
    def outcome(self) -> str:
        return "error" if self.errors else (self.action or "create")

    def error_text(self) -> str:
        return ";".join(f"{col}:{msg}" if col else msg for col, msg in self.errors)


class ImportKind:
    """A kind of record that can be imported: declare `key`, `label`, `columns`; override
    `prepare` (batch lookups into `ctx`), `decide` (the row's action) and `apply`."""

    key: str = ""
    label: str = ""
    endpoint: str = ""  # the screen that offers it
    columns: tuple[Column, ...] = ()
    # Headers an export of the screen carries that the system computes itself: accepted and
    # named as ignored, not reported as unknown.
    derived_headers: tuple[str, ...] = ()
    # Column keys that identify a row within the file (文件内重复).
    file_key: tuple[str, ...] = ()
    # Apply during preview (inside a rolled-back transaction) to find what the services refuse.
    preview_applies: bool = False
    instructions: tuple[str, ...] = ()
    # Rows whose apply only adds or updates plain records (no service can refuse them) are
    # written in batches, without a savepoint each (100,000 customers: minutes -> seconds).
    batched: bool = False
    # A kind with a bulk path (`bulk_apply`) writes its units in batches with the same checks
    # and figures as `apply` (services.importing.bulk); run(bulk=False) takes the per-row path.
    bulk_apply: Callable | None = None
    # Largest file the screens accept (each row of a money kind goes through the engine's
    # services, a preview included); larger files go through `flask import`.
    web_max_rows: int = 100_000
    # Said of a row refused because another row of its unit was.
    unit_refused: str = "同一组的其他行有错误,本行未导入"

    # The columns unit_of reads (none: every row is its own unit). A streamed file is read
    # once for them first, so a unit is applied when its last row has been read.
    unit_columns: tuple[str, ...] = ()

    def unit_of(self, row: ImportRow) -> Any:
        """Rows of one unit are applied (and refused) together."""
        return row.number

    def order(self, rows: list[ImportRow]) -> list[ImportRow]:
        return rows

    def row_rules(self, row: ImportRow, ctx: "Context") -> None:
        """Checks across a row's columns (e.g. 到期日 after 放款日); call row.fail."""

    def prepare(self, rows: list[ImportRow], ctx: "Context") -> None:
        """Batch lookups for every row at once (existing records, referenced entities)."""

    def decide(self, row: ImportRow, ctx: "Context") -> str:
        """'create' | 'skip' | 'update', or raise RowError."""
        return "create"

    def apply(self, row: ImportRow, ctx: "Context") -> None:
        raise NotImplementedError

    def check_unit(self, rows: list[ImportRow], ctx: "Context") -> None:
        """After a unit's rows were applied (e.g. compare a loan's replayed balance)."""

    def release(self, rows: list[ImportRow], ctx: "Context") -> None:
        """After a unit is written (flushed): let go of its objects, so a large file does not
        keep every loan's schedule in the session (memory and garbage collection grow with it)."""

    def after_commit(self, written: int, ctx: "Context") -> None:
        """Work after a successful commit that created or updated `written` rows (e.g.
        导入后立即刷新)."""

    # ---- declared once, read by the template and the matcher -------------------------
    def header_map(self) -> dict[str, Column]:
        out = {}
        for col in self.columns:
            out[col.header] = col
            for alias in col.aliases:
                out[alias] = col
        return out


@dataclass
class Context:
    """What a run knows besides the rows: the user, their data scope, the business date,
    batch lookups a kind fills in, and options."""

    user: Any
    as_of: date
    own_only: bool  # officer with data scope 本人: only their customers and loans
    refresh: bool = False
    bulk: bool = True
    data: dict = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.__dict__["data"][name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass
class ImportResult:
    kind: ImportKind
    mode: str
    headers: list[str]
    rows: list[ImportRow]
    matched: dict[str, int]  # header -> index in the file
    extra_headers: list[str]
    derived_headers: list[str]
    missing: list[str]  # required headers absent from the file
    committed: bool = False
    conflict: str | None = None
    file_notes: list[str] = field(default_factory=list)
    # A streamed run (run_stream) keeps no rows: the outcomes are counted as the rows go by,
    # the refused rows go to the error report, and the first few are kept to be shown.
    tally: Counter | None = None
    first_errors: list[tuple[int, str]] = field(default_factory=list)  # (row number, error text)

    @property
    def counts(self) -> dict[str, int]:
        c = self.tally if self.tally is not None else Counter(r.outcome for r in self.rows)
        return {k: c.get(k, 0) for k in ACTIONS}

    @property
    def row_count(self) -> int:
        return sum(self.tally.values()) if self.tally is not None else len(self.rows)

    @property
    def error_count(self) -> int:
        return self.counts["error"]

    @property
    def error_rows(self) -> list[ImportRow]:
        return [r for r in self.rows if r.errors]

    @property
    def file_error(self) -> str | None:
        if self.missing:
            return "缺少必填列:" + "、".join(self.missing)
        if not self.row_count:
            return "文件中没有数据行"
        return self.conflict

    def summary(self) -> str:
        c = self.counts
        parts = [f"{ACTIONS[k]} {c[k]} 行" for k in ACTIONS if c[k]]
        return ",".join(parts) or "没有数据行"

    @property
    def nothing_to_do(self) -> bool:
        c = self.counts
        return not c["create"] and not c["update"] and not c["error"] and bool(self.row_count)


def _is_blank(cells: list) -> bool:
    return all(cell_text(v) == "" for v in cells)


def match_headers(kind: ImportKind, headers: list[str]):
    by_header = kind.header_map()
    matched, extra, derived, seen = {}, [], [], set()
    for index, raw in enumerate(headers):
        header = str(raw or "").strip().lstrip("\ufeff").rstrip("*").strip()
        col = by_header.get(header)
        if col is not None and col.key not in seen:
            matched[col.header] = index
            seen.add(col.key)
        elif header in kind.derived_headers:
            derived.append(header)
        elif header:
            extra.append(header)
    missing = [c.header for c in kind.columns if c.required and c.header not in matched]
    return matched, extra, derived, missing


def parse_row(kind: ImportKind, number: int, cells: list, matched: dict[str, int], columns=None) -> ImportRow:
    row = ImportRow(number=number, cells=cells)
    for col in columns if columns is not None else kind.columns:
        index = matched.get(col.header)
        value = cells[index] if index is not None and index < len(cells) else None
        try:
            row.values[col.key] = col.convert(value)
        except FieldError as err:
            row.values[col.key] = None
            row.fail(str(err), col.header)
    return row


def parse_rows(kind: ImportKind, table: Table, matched: dict[str, int]) -> list[ImportRow]:
    return [parse_row(kind, offset + 2, cells, matched) for offset, cells in enumerate(table.rows)
            if not _is_blank(cells)]


def mark_duplicates(kind: ImportKind, rows: list[ImportRow], first: dict | None = None, digest: bool = False) -> None:
    """文件内重复: a row whose file key an earlier row had. `first` (key -> row number) carries
    the keys seen over the chunks of a streamed file; with `digest` it holds a 16-byte hash of
    each key instead of the key (a million keys in some 100 MB less)."""
    if not kind.file_key:
        return
    first = {} if first is None else first
    for row in rows:
        key = tuple(row.values.get(k) for k in kind.file_key)
        if all(v is None for v in key):
            continue
        if digest:
            key = hashlib.blake2b(repr(key).encode(), digest_size=16).digest()
        if key in first:
            row.fail(f"文件内重复(与第 {first[key]} 行相同)")
        else:
            first[key] = row.number


def check_rows(kind: ImportKind, rows: list[ImportRow], ctx: "Context", first: dict | None = None,
               digest: bool = False) -> None:
    """Every check before anything is written: the row rules, 文件内重复, the kind's batch
    lookups and its decision for each row."""
    for row in rows:
        if row.ok:
            kind.row_rules(row, ctx)
    mark_duplicates(kind, rows, first, digest)
    kind.prepare(rows, ctx)
    for row in rows:
        if not row.ok:
            continue
        try:
            row.action = kind.decide(row, ctx)
        except RowError as err:
            row.fail(str(err), err.column)


def run(kind: ImportKind, table: Table, *, user, mode: str = "preview", as_of: date | None = None,
        own_only: bool = False, refresh: bool = False, bulk: bool = True,
        progress: Callable[[int], None] | None = None) -> ImportResult:
    """Check (and, unless previewing, write) `table` as rows of `kind`. The caller commits
    nothing: the run commits or rolls back itself."""
    assert mode in MODES
    matched, extra, derived, missing = match_headers(kind, table.headers)
    rows = [] if missing else parse_rows(kind, table, matched)
    result = ImportResult(kind, mode, table.headers, rows, matched, extra, derived, missing,
                          file_notes=list(table.notes))
    if result.file_error:
        return result
    ctx = Context(user=user, as_of=as_of or clock.business_date(), own_only=own_only, refresh=refresh, bulk=bulk)
    check_rows(kind, rows, ctx)
    session = db.session
    to_apply = mode != "preview" or kind.preview_applies
    if mode == "all" and result.error_rows:
        to_apply = False
    if to_apply:
        if progress is not None and hasattr(progress, "begin"):
            progress.begin(len(rows))
        try:
            with settings.frozen():
                _apply_units(kind, rows, ctx, session, progress)
        except BatchConflict:
            session.rollback()
            result.conflict = "写入时与已有记录冲突(可能有人同时在修改这些记录),没有写入任何数据,请重新预览后再导入"
            return result
    if mode == "preview" or (mode == "all" and result.error_rows):
        session.rollback()
        return result
    session.commit()
    result.committed = True
    kind.after_commit(sum(1 for r in rows if r.ok and r.action in ("create", "update")), ctx)
    return result


STREAM_CHUNK_ROWS = 10_000


@contextmanager
def collector_for_bulk():
    """Python's cycle collector tuned for a long import: by default it runs after every 700
    new container objects and each full pass walks every object the process holds (the app,
    the mappings, the chunk's rows); an import makes millions of short-lived ones, so it ran
    thousands of times (16 % of the CPU of a 10,000-loan import). The objects alive before
    the import are frozen out of its passes and it runs about 70 times less often; what it
    would free is freed a little later (the rows of a chunk are dropped by reference count)."""
    old = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 50)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


def run_stream(kind: ImportKind, headers: list[str], passes: Callable[[], Any], *, user, mode: str = "preview",
               as_of: date | None = None, own_only: bool = False, refresh: bool = False, bulk: bool = True,
               progress=None, report=None, notes=(), chunk_rows: int = STREAM_CHUNK_ROWS,
               shown_errors: int = 30) -> ImportResult:
    """`run` for a file too large to hold (`flask import`): the same checks, decisions and
    writes, a chunk of rows at a time, in one transaction (committed, or rolled back as `run`
    would). `passes()` gives a fresh iterator of (row number, cells) over the data rows; the
    file is read twice: first for the row count (the progress bar) and the row each unit ends
    at, then to check and write whole units in chunks of about `chunk_rows` rows. What is
    kept across chunks: the keys seen (文件内重复), the outcome counts, the first refused rows;
    each refused row goes to `report` (ErrorReport) as it is found."""
    assert mode in MODES
    matched, extra, derived, missing = match_headers(kind, headers)
    result = ImportResult(kind, mode, headers, [], matched, extra, derived, missing, file_notes=list(notes),
                          tally=Counter())
    if missing:
        return result
    unit_cols = [c for c in kind.columns if c.key in kind.unit_columns]
    ends: dict[Any, int] = {}  # unit -> number of its last row
    total = 0
    for number, cells in passes():
        if _is_blank(cells):
            continue
        total += 1
        if unit_cols:
            ends[kind.unit_of(parse_row(kind, number, cells, matched, unit_cols))] = number
    if not total:
        return result
    if progress is not None and hasattr(progress, "begin"):
        progress.begin(total)
    ctx = Context(user=user, as_of=as_of or clock.business_date(), own_only=own_only, refresh=refresh, bulk=bulk)
    # 文件内重复 across chunks: unless the file key holds the unit's columns (then a duplicate
    # is in the same unit, so in the same chunk), every key is remembered, as a digest.
    across = not unit_cols or not set(kind.unit_columns) <= set(kind.file_key)
    first: dict = {}
    session = db.session
    to_apply = mode != "preview" or kind.preview_applies

    def process(rows: list[ImportRow]) -> None:
        rows.sort(key=lambda r: r.number)
        check_rows(kind, rows, ctx, first if across else {}, digest=True)
        if to_apply:
            _apply_units(kind, rows, ctx, session, None)
        if progress:
            progress(len(rows))
        for row in rows:
            result.tally[row.outcome] += 1
            if row.errors:
                if len(result.first_errors) < shown_errors:
                    result.first_errors.append((row.number, row.error_text()))
                if report is not None:
                    report.add(row)

    try:
        with settings.frozen(), collector_for_bulk():
            waiting: dict[Any, list[ImportRow]] = {}
            ready: list[ImportRow] = []
            for number, cells in passes():
                if _is_blank(cells):
                    continue
                row = parse_row(kind, number, cells, matched)
                if unit_cols:
                    unit = kind.unit_of(row)
                    waiting.setdefault(unit, []).append(row)
                    if ends.get(unit) == number:
                        ready += waiting.pop(unit)
                else:
                    ready.append(row)
                if len(ready) >= chunk_rows:
                    process(ready)
                    ready = []
            for rows in waiting.values():  # not expected: the file changed between the passes
                ready += rows
            if ready:
                process(ready)
    except BatchConflict:
        session.rollback()
        result.conflict = "写入时与已有记录冲突(可能有人同时在修改这些记录),没有写入任何数据,请重新预览后再导入"
        return result
    except BaseException:
        session.rollback()
        raise
    if mode == "preview" or (mode == "all" and result.tally["error"]):
        session.rollback()
        return result
    session.commit()
    result.committed = True
    kind.after_commit(result.tally["create"] + result.tally["update"], ctx)
    return result


BATCH_ROWS = 2000


class BatchConflict(Exception):
    """A batch of plain rows broke a database constraint (someone changed the data meanwhile)."""


def _apply_batched(kind, rows, ctx, session, progress) -> None:
    live = [r for r in rows if r.ok and r.action in ("create", "update")]
    for start in range(0, len(live), BATCH_ROWS):
        for r in live[start:start + BATCH_ROWS]:
            kind.apply(r, ctx)
        try:
            session.flush()
        except IntegrityError as err:
            raise BatchConflict() from err
        if progress:
            progress(len(live[start:start + BATCH_ROWS]))


BULK_UNITS = 1000


def _apply_units(kind, rows, ctx, session, progress) -> None:
    if kind.batched:
        return _apply_batched(kind, rows, ctx, session, progress)
    units: dict[Any, list[ImportRow]] = defaultdict(list)
    for row in kind.order(rows):
        units[kind.unit_of(row)].append(row)
    bulk = ctx.bulk and kind.bulk_apply is not None
    batch, batch_rows = [], 0
    for unit_rows in units.values():
        live = [r for r in unit_rows if r.ok and r.action in ("create", "update")]
        if live and len(live) < len([r for r in unit_rows if r.action != "skip"]):
            # One bad row refuses its whole unit (a loan's repayments post together or not at all).
            for r in live:
                r.fail(kind.unit_refused)
            live = []
        if bulk:
            if live:
                batch.append(live)
            batch_rows += len(unit_rows)
            if len(batch) >= BULK_UNITS:
                _apply_bulk(kind, batch, ctx, session)
                batch = []
                if progress:
                    progress(batch_rows)
                batch_rows = 0
            continue
        if live:
            _apply_unit(kind, unit_rows, live, ctx, session)
        if progress:
            progress(len(unit_rows))
    if batch:
        _apply_bulk(kind, batch, ctx, session)
    if progress and batch_rows:
        progress(batch_rows)


def _apply_bulk(kind, units, ctx, session) -> None:
    """A batch of units through the kind's bulk path; the units it leaves go one by one."""
    try:
        rest = kind.bulk_apply(units, ctx)
        session.flush()
    except IntegrityError as err:
        raise BatchConflict() from err
    for live in rest:
        _apply_unit(kind, live, live, ctx, session)


def _apply_unit(kind, unit_rows, live, ctx, session) -> None:
    savepoint = session.begin_nested()
    current = None
    try:
        for current in live:
            kind.apply(current, ctx)
        current = None
        kind.check_unit(live, ctx)
        session.flush()
        savepoint.commit()
        kind.release(live, ctx)
    except (RowError, BusinessError, IntegrityError) as err:
        savepoint.rollback()
        if isinstance(err, IntegrityError):
            err = RowError(INTEGRITY)
        refuse_unit(kind, live, err, current)


INTEGRITY = "与已有记录冲突(违反数据库唯一性或取值约束)"


def refuse_unit(kind, live, err, current=None) -> None:
    """A unit refused: the row that failed (`current`; every row when the unit as a whole
    failed) carries the reason, the others the kind's unit_refused."""
    column = getattr(err, "column", ROW_LEVEL)
    for r in live:
        r.note = ""  # what the row would have done did not happen
        if current is None or r is current:
            r.fail(str(err), column)
        else:
            r.fail(kind.unit_refused)
