"""Reading an uploaded file into a table of cells, through tablib. The format is told by
the CONTENT (an XLSX is a ZIP container; anything else must be text), never by the name.
CSV text is UTF-8 (with or without BOM) or GBK/GB18030, detected. Formula cells of an XLSX
are read as their text (=SUM(...)), never evaluated. Every refusal is a FileRefused with the
Chinese message shown to the user."""
from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field

import tablib
from tablib.exceptions import InvalidDimensions

from services import BusinessError

MAX_COLUMNS = 200
MAX_CELL_CHARS = 5000
DEFAULT_MAX_ROWS = 100_000
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
INSTRUCTIONS_SHEET = "填写说明"


class FileRefused(BusinessError):
    """The file as a whole cannot be read; str() is the Chinese message."""


@dataclass
class Table:
    headers: list[str]
    rows: list[list]  # cells as read: text (CSV) or text/number/date (XLSX)
    file_format: str  # "csv" | "xlsx"
    encoding: str | None = None
    sha256: str = ""
    size: int = 0
    notes: list[str] = field(default_factory=list)


def read_table(data: bytes, max_rows: int = DEFAULT_MAX_ROWS) -> Table:
    if not data:
        raise FileRefused("上传的文件是空的(0 字节)")
    digest = hashlib.sha256(data).hexdigest()
    if data.startswith(XLSX_MAGIC):
        table = _read_xlsx(data, max_rows)
    elif data.startswith(OLE_MAGIC):
        raise FileRefused("不支持旧版 Excel(.xls)文件,请在 Excel 中另存为 .xlsx 后再导入")
    else:
        table = _read_csv(data, max_rows)
    table.sha256, table.size = digest, len(data)
    _check_shape(table)
    return table


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding name shown to the user): UTF-8 (BOM or not), else GB18030 (a superset
    of GBK and GB2312, what Excel writes for 「CSV」 on a Chinese Windows)."""
    if b"\x00" in data:
        raise FileRefused("文件不是 CSV 文本或 XLSX 表格(按文件内容识别),无法导入")
    for encoding, label in (("utf-8-sig", "UTF-8"), ("gb18030", "GBK/GB18030")):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _BINARY.search(text):
            break
        if encoding == "utf-8-sig" and data.startswith(b"\xef\xbb\xbf"):
            label = "UTF-8(带 BOM)"
        return text, label
    raise FileRefused("文件编码无法识别或不是文本文件:CSV 请保存为 UTF-8 或 GBK 编码")


def _read_csv(data: bytes, max_rows: int) -> Table:
    text, encoding = decode_text(data)
    if text.count("\n") > max_rows + 1:
        raise FileRefused(f"文件行数过多(超过 {max_rows:,} 行),请拆分后导入,或使用命令行导入")
    dataset = tablib.Dataset()
    try:
        dataset.load(text, format="csv")
    except InvalidDimensions:
        raise FileRefused("有数据行的列数多于表头(可能有多余的逗号或未加引号的内容),请检查后重新导入") from None
    except csv.Error as err:
        raise FileRefused(f"CSV 格式错误:{'单元格内容过长' if 'field larger' in str(err) else '无法解析'}") from None
    if not dataset.headers:
        raise FileRefused("文件中没有表头行")
    return Table([str(h or "") for h in dataset.headers], [list(r) for r in dataset], "csv", encoding)


def _read_xlsx(data: bytes, max_rows: int) -> Table:
    from openpyxl import load_workbook
    from tablib.formats._xlsx import XLSXFormat

    try:
        # data_only=False: a formula cell is its text, never a computed value.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError, IndexError, AttributeError,
            EOFError, LookupError, SyntaxError):
        raise FileRefused("无法读取该 Excel 文件(文件已损坏或不是 .xlsx 格式)") from None
    except Exception:  # openpyxl raises many parser errors of its own on malformed XML
        raise FileRefused("无法读取该 Excel 文件(文件已损坏或不是 .xlsx 格式)") from None
    try:
        sheets = [s for s in book.worksheets if s.title != INSTRUCTIONS_SHEET] or book.worksheets
        if not sheets:
            raise FileRefused("Excel 文件中没有工作表")
        dataset = tablib.Dataset()
        try:
            XLSXFormat.import_sheet(dataset, _Bounded(sheets[0], max_rows))
        except InvalidDimensions:
            raise FileRefused("有数据行的列数多于表头,请检查后重新导入") from None
        except FileRefused:
            raise
        except Exception:
            raise FileRefused("无法读取该 Excel 文件(文件已损坏或不是 .xlsx 格式)") from None
    finally:
        book.close()
    if not dataset.headers:
        raise FileRefused("文件中没有表头行")
    headers = [str(h) if h is not None else "" for h in dataset.headers]
    rows = [list(r) for r in dataset]
    # Trailing columns without a header and without data (Excel's formatting) are dropped.
    while headers and headers[-1] == "":
        if any(len(r) >= len(headers) and r[len(headers) - 1] not in (None, "") for r in rows):
            break
        headers.pop()
        rows = [r[:len(headers)] for r in rows]
    return Table(headers, rows, "xlsx")


class _Bounded:
    """A worksheet seen by tablib's sheet import, stopping at the row and column limits
    before a crafted file fills the memory, and skipping blank rows Excel leaves behind."""

    def __init__(self, sheet, max_rows: int):
        self.sheet, self.max_rows, self.title = sheet, max_rows, sheet.title

    @property
    def rows(self):
        count = blank_run = 0
        for row in self.sheet.iter_rows():
            if len(row) > MAX_COLUMNS:
                row = row[:MAX_COLUMNS + 1]
            if all(c.value in (None, "") for c in row):
                blank_run += 1
                if blank_run > 1000:  # formatting left far below the data
                    return
            else:
                blank_run = 0
            count += 1
            if count > self.max_rows + 1:
                raise FileRefused(f"文件行数过多(超过 {self.max_rows:,} 行),请拆分后导入,或使用命令行导入")
            yield [_Cell(c.value) for c in row]


class _Cell:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _check_shape(table: Table) -> None:
    if len(table.headers) > MAX_COLUMNS:
        raise FileRefused(f"列数过多(超过 {MAX_COLUMNS} 列),请只保留模板中的列")
    if all(not str(h).strip() for h in table.headers):
        raise FileRefused("文件的第一行应为表头(列名),但第一行是空的")
    for number, row in enumerate(table.rows, start=2):
        for value in row:
            if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
                raise FileRefused(f"第 {number} 行有单元格内容过长(超过 {MAX_CELL_CHARS} 个字)")


# ---- a file too large to hold (`flask import`) ------------------------------------------

READ_BLOCK = 1 << 20


@dataclass
class StreamedTable(Table):
    """A file read from disk a row at a time: `passes()` gives a fresh iterator of (row
    number, cells) over its data rows, numbered as `read_table` numbers them (the header is
    row 1). `rows` stays empty. A CSV file is streamed; an XLSX file is read whole."""

    passes: object = None


def open_table(path: str, max_rows: int = DEFAULT_MAX_ROWS) -> StreamedTable:
    """Check a file as `read_table` checks it (same refusals, same messages), reading it
    once without holding it, and return how to read its rows again."""
    digest, size, nul = hashlib.sha256(), 0, False
    with open(path, "rb") as fh:
        head = fh.read(len(XLSX_MAGIC))
        fh.seek(0)
        while block := fh.read(READ_BLOCK):
            digest.update(block)
            size += len(block)
            nul = nul or b"\x00" in block
    if not size:
        raise FileRefused("上传的文件是空的(0 字节)")
    if head.startswith(XLSX_MAGIC) or head.startswith(OLE_MAGIC):
        with open(path, "rb") as fh:
            whole = read_table(fh.read(), max_rows)
        rows = whole.rows
        return StreamedTable(whole.headers, [], whole.file_format, whole.encoding, whole.sha256, whole.size,
                             whole.notes, passes=lambda: ((offset + 2, cells) for offset, cells in enumerate(rows)))
    if nul:
        raise FileRefused("文件不是 CSV 文本或 XLSX 表格(按文件内容识别),无法导入")
    for encoding, label in (("utf-8-sig", "UTF-8"), ("gb18030", "GBK/GB18030")):
        try:
            shape = _csv_shape(path, encoding, max_rows)
        except UnicodeDecodeError:
            continue
        if shape["binary"]:
            break
        if encoding == "utf-8-sig" and head.startswith(b"\xef\xbb\xbf"):
            label = "UTF-8(带 BOM)"
        if shape["too_many"]:
            raise FileRefused(f"文件行数过多(超过 {max_rows:,} 行),请拆分后导入,或使用命令行导入")
        if shape["refusal"]:
            raise FileRefused(shape["refusal"])
        headers = shape["headers"]
        if not headers:
            raise FileRefused("文件中没有表头行")
        table = StreamedTable(headers, [], "csv", label, digest.hexdigest(), size,
                              passes=lambda: _csv_rows(path, encoding, len(headers)))
        _check_shape(table)
        if shape["long_row"]:
            raise FileRefused(f"第 {shape['long_row']} 行有单元格内容过长(超过 {MAX_CELL_CHARS} 个字)")
        return table
    raise FileRefused("文件编码无法识别或不是文本文件:CSV 请保存为 UTF-8 或 GBK 编码")


def _csv_reader(fh):
    return csv.reader(fh, delimiter=",")


def _csv_shape(path: str, encoding: str, max_rows: int) -> dict:
    """One pass over a CSV file in `encoding` (UnicodeDecodeError if it is not): its headers
    and what read_table would refuse, as tablib reads it (rows wider than the header refused,
    narrower ones padded, empty lines skipped)."""
    out = {"headers": None, "binary": False, "too_many": False, "refusal": None, "long_row": None}
    with open(path, encoding=encoding, newline="") as fh:
        reader = _csv_reader(fh)
        width, number = None, 1
        try:
            for i, row in enumerate(reader):
                if not out["binary"] and any(_BINARY.search(c) for c in row):
                    out["binary"] = True
                if reader.line_num > max_rows + 1:
                    out["too_many"] = True
                    break
                if i == 0:
                    out["headers"] = [str(h or "") for h in row]
                    width = len(row) or None
                    continue
                if not row:
                    continue
                if width is None:
                    width = len(row)
                if len(row) > width and out["refusal"] is None:
                    out["refusal"] = "有数据行的列数多于表头(可能有多余的逗号或未加引号的内容),请检查后重新导入"
                number += 1
                if out["long_row"] is None and any(len(c) > MAX_CELL_CHARS for c in row):
                    out["long_row"] = number
        except csv.Error as err:
            if out["refusal"] is None:
                out["refusal"] = f"CSV 格式错误:{'单元格内容过长' if 'field larger' in str(err) else '无法解析'}"
    return out


def _csv_rows(path: str, encoding: str, width: int):
    with open(path, encoding=encoding, newline="") as fh:
        reader = _csv_reader(fh)
        next(reader, None)
        number = 1
        for row in reader:
            if not row:
                continue
            if len(row) < width:
                row += [""] * (width - len(row))
            number += 1
            yield number, row
