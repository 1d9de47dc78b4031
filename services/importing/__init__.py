"""导入: bringing an existing book in from Excel and CSV, with preview, row errors and
nothing half-done. One machinery (engine, reading, files) and one declaration per kind
(kinds); the screens, the CLI and the benchmark call `import_file`."""
from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import date

from admin_app.extensions import db
from .engine import ACTIONS, MODES, ImportResult, RowError  # noqa: F401
from .files import ErrorReport, error_report, export_csv, template_xlsx  # noqa: F401
from .kinds import KINDS
from .reading import FileRefused, Table, open_table, read_table  # noqa: F401

REPORT_DIR = "import_reports"


@dataclass
class ImportOutcome:
    result: ImportResult
    table: Table
    record: object | None = None  # models.ImportRecord, for committed or refused runs

    @property
    def message(self) -> str:
        r = self.result
        if r.file_error:
            return r.file_error
        if r.mode == "preview":
            return "预览:" + r.summary()
        if not r.committed:
            return f"有 {r.error_count} 行错误,全部导入未执行,没有写入任何数据。"
        if r.nothing_to_do:
            return "文件中的记录均已存在,没有任何变化(重复导入)。"
        text = "导入完成:" + r.summary()
        if r.error_count:
            text += ",错误行未导入,可下载错误报告。"
        return text


def kind_of(key: str):
    try:
        return KINDS[key]
    except KeyError:
        raise FileRefused("不支持的导入类型") from None


def import_file(kind_key: str, data: bytes, file_name: str, *, user, mode: str = "preview",
                own_only: bool = False, refresh: bool = False, as_of: date | None = None,
                max_rows: int | None = None, report_folder: str | None = None, progress=None,
                bulk: bool = True) -> ImportOutcome:
    """Read, check and (unless previewing) import one file; a non-preview run is recorded in
    导入记录 and the audit log, with an error report when rows were refused."""
    kind = kind_of(kind_key)
    table = read_table(data, **({"max_rows": max_rows} if max_rows else {}))
    result = engine_run(kind, table, user=user, mode=mode, own_only=own_only, refresh=refresh, as_of=as_of,
                        progress=progress, bulk=bulk)
    outcome = ImportOutcome(result, table)
    if mode != "preview":
        outcome.record = record_import(outcome, file_name, user, report_folder)
    return outcome


def import_path(kind_key: str, path: str, *, user, mode: str = "preview", refresh: bool = False,
                as_of: date | None = None, max_rows: int = 10_000_000, report_path: str | None = None,
                report_folder: str | None = None, progress=None, bulk: bool = True,
                chunk_rows: int | None = None) -> ImportOutcome:
    """`import_file` for a file on disk too large to hold (`flask import`, a migration): read,
    checked and written a chunk of rows at a time (engine.run_stream) with the same checks,
    messages and all-or-nothing as the screens. Refused rows are written to `report_path` as
    they are found (none refused: no file); a non-preview run is recorded in 导入记录 with a copy
    of that report."""
    from .engine import STREAM_CHUNK_ROWS, run_stream

    kind = kind_of(kind_key)
    table = open_table(path, max_rows)
    report = ErrorReport(report_path, kind, table.headers, table.file_format) if report_path else None
    try:
        result = run_stream(kind, table.headers, table.passes, user=user, mode=mode, as_of=as_of, refresh=refresh,
                            bulk=bulk, progress=progress, report=report, notes=table.notes,
                            chunk_rows=chunk_rows or STREAM_CHUNK_ROWS)
    finally:
        if report is not None:
            report.close()
    outcome = ImportOutcome(result, table)
    if mode != "preview":
        written = report_path if report is not None and report.rows else None
        outcome.record = record_import(outcome, os.path.basename(path), user, report_folder, report_file=written)
    return outcome


def engine_run(kind, table, **kw) -> ImportResult:
    from .engine import run

    return run(kind, table, **kw)


def record_import(outcome: ImportOutcome, file_name: str, user, report_folder: str | None,
                  report_file: str | None = None):
    from admin_app.audit import log_action
    from models import ImportBalanceCheck, ImportRecord

    result, table = outcome.result, outcome.table
    counts = result.counts
    if result.file_error:
        status = "refused"
    elif not result.committed:
        status = "refused"
    elif result.nothing_to_do:
        status = "unchanged"
    else:
        status = "partial" if counts["error"] else "imported"
    report_name = None
    if result.error_count and report_folder:
        folder = os.path.join(report_folder, REPORT_DIR)
        os.makedirs(folder, exist_ok=True)
        if report_file:  # written as the rows were refused (a streamed run)
            report_name = f"{uuid.uuid4().hex}{os.path.splitext(report_file)[1]}"
            shutil.copyfile(report_file, os.path.join(folder, report_name))
        elif result.error_rows:
            content, ext = error_report(result, table.file_format)
            report_name = f"{uuid.uuid4().hex}.{ext}"
            with open(os.path.join(folder, report_name), "wb") as fh:
                fh.write(content)
    record = ImportRecord(kind=result.kind.key, file_name=(file_name or "")[:255] or "(未命名)",
                          sha256=table.sha256, file_format=table.file_format, mode=result.mode, outcome=status,
                          rows_total=result.row_count, rows_created=counts["create"],
                          rows_updated=counts["update"], rows_skipped=counts["skip"], rows_error=counts["error"],
                          report_name=report_name, note=outcome.message[:2000],
                          user_id=getattr(user, "id", None), username=getattr(user, "username", "system"))
    db.session.add(record)
    db.session.flush()
    # Balances a loan import left to check belong to this record.
    if result.committed and result.kind.key == "loans":
        db.session.query(ImportBalanceCheck).filter(ImportBalanceCheck.import_record_id.is_(None)) \
            .update({"import_record_id": record.id}, synchronize_session=False)
    log_action(db.session, record, "import",
               f"导入{result.kind.label}「{record.file_name}」:{MODES[result.mode]},{outcome.message}")
    db.session.commit()
    return record


def report_path(report_folder: str, report_name: str) -> str | None:
    import re

    if not report_name or not re.fullmatch(r"[0-9a-f]{32}\.(csv|xlsx)", report_name):
        return None
    path = os.path.join(report_folder, REPORT_DIR, report_name)
    return path if os.path.isfile(path) else None
