"""Files the import hands out: the template (下载模板: the declared headers, one example row,
a 填写说明 sheet, drop-downs for enumerated columns, text format for identifiers) and the
error report (the refused rows as they were, plus 错误原因, in the upload's format)."""
from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from admin_app.export import neutralise
from . import fields as f
from .engine import ERROR_COLUMN, ImportKind, ImportResult
from .fields import cell_text
from .reading import INSTRUCTIONS_SHEET

TEXT_PARSERS = (f.resident_or_credit_code, f.phone, f.card_number)
REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")


def template_xlsx(kind: ImportKind) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = kind.label
    sheet.append([c.header for c in kind.columns])
    sheet.append([c.example if c.example != "" else None for c in kind.columns])
    for index, col in enumerate(kind.columns, start=1):
        letter = get_column_letter(index)
        head = sheet.cell(row=1, column=index)
        head.font = Font(bold=True, color="C00000" if col.required else "000000")
        if col.required:
            head.fill = REQUIRED_FILL
        sheet.column_dimensions[letter].width = max(12, len(col.header) * 2 + 4, len(str(col.example)) + 2)
        if col.parse in TEXT_PARSERS or col.key in ("loan_no", "contract_no", "serial_no", "customer_id_number",
                                                     "customer_phone", "registration_no"):
            for row in range(2, 2001):  # identifiers as text: Excel must not turn them into numbers
                sheet.cell(row=row, column=index).number_format = "@"
        if col.choices:
            options = ",".join(col.choices.values())
            rule = DataValidation(type="list", formula1=f'"{options}"', allow_blank=not col.required,
                                  showErrorMessage=True, errorTitle="取值无效",
                                  error=f"请从下拉列表中选择:{'、'.join(col.choices.values())}")
            rule.add(f"{letter}2:{letter}5000")
            sheet.add_data_validation(rule)
    sheet.freeze_panes = "A2"
    notes = book.create_sheet(INSTRUCTIONS_SHEET)
    notes.append(["列名", "是否必填", "格式 / 可选值", "说明"])
    for col in kind.columns:
        notes.append([col.header, "必填" if col.required else "选填", col.fmt, col.note])
    notes.append([])
    for line in GENERAL_NOTES + kind.instructions:
        notes.append([line])
    if kind.derived_headers:
        notes.append(["由系统计算、导入时忽略的列:" + "、".join(kind.derived_headers)])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCD", (16, 10, 48, 60)):
        notes.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


GENERAL_NOTES = (
    "第一行为表头,按列名识别,列的顺序可以调整;模板以外的列会被忽略并在预览中列出。",
    "第二行是示例,导入前请删除或改为真实数据。",
    "支持 .xlsx 和 .csv(UTF-8 或 GBK 编码)文件;单元格内容按文本数据导入,公式不会被计算。",
    "导入前先预览:每行显示将新增、已存在跳过或更新,以及每个错误的行号和列名。"
    "「全部导入」在有任何错误时不导入任何行;「仅导入无误的行」导入其余行并提供错误报告下载。",
)


def error_report(result: ImportResult, file_format: str) -> tuple[bytes, str]:
    """(content, extension): the refused rows exactly as uploaded plus 错误原因."""
    out = io.BytesIO()
    report = ErrorReport(out, result.kind, result.headers, file_format)
    for row in result.error_rows:
        report.add(row)
    report.close()
    return out.getvalue(), report.ext


class ErrorReport:
    """The error report written row by row as the refused rows are found (a streamed import
    keeps no rows): the header row is written with the first refused row, so a run that
    refuses nothing leaves no file. `target` is a path or a binary file object."""

    def __init__(self, target, kind: ImportKind, headers: list, file_format: str):
        self.target, self.kind = target, kind
        self.headers = [cell_text(h) for h in headers] + [ERROR_COLUMN]
        self.ext = "xlsx" if file_format == "xlsx" else "csv"
        self.rows = 0
        self._fh = self._book = self._sheet = self._writer = None

    def _open(self) -> None:
        header = [neutralise(h) for h in self.headers]
        if self.ext == "xlsx":
            self._book = Workbook(write_only=True)
            self._sheet = self._book.create_sheet(self.kind.label)
            self._sheet.append(header)
            return
        if isinstance(self.target, (str, bytes)) or hasattr(self.target, "__fspath__"):
            self._fh = open(self.target, "w", encoding="utf-8-sig", newline="")
        else:
            self._fh = io.TextIOWrapper(self.target, encoding="utf-8-sig", newline="", write_through=True)
        self._writer = csv.writer(self._fh)
        self._writer.writerow(header)

    def add(self, row) -> None:
        if self.rows == 0:
            self._open()
        self.rows += 1
        line = [_out(c) for c in row.cells] + [row.error_text()]
        if self._sheet is not None:
            self._sheet.append(line)
        else:
            self._writer.writerow(line)

    def close(self) -> None:
        if self.rows == 0:
            if not (isinstance(self.target, (str, bytes)) or hasattr(self.target, "__fspath__")):
                self._open()  # an in-memory report of no rows: the header alone
            else:
                return
        if self._book is not None:
            self._book.save(self.target)
            self._book = self._sheet = None
        elif self._fh is not None:
            self._fh.flush()
            if isinstance(self._fh, io.TextIOWrapper) and not isinstance(self.target, (str, bytes)) \
                    and not hasattr(self.target, "__fspath__"):
                self._fh.detach()  # the caller's file object stays open
            else:
                self._fh.close()
            self._fh = None


def export_csv(kind: ImportKind) -> bytes:
    """A kind's records as an import file (UTF-8 CSV with BOM, the declared headers), for the
    kinds that have no screen of their own (a loan's history)."""
    headers = [c.header for c in kind.columns]
    headers[1:1] = [h for h in kind.derived_headers]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(headers)
    for row in kind.export_rows():
        writer.writerow([_out(row.get(h)) for h in headers])
    return ("\ufeff" + text.getvalue()).encode("utf-8")


def _out(value):
    """A cell written back: text a spreadsheet would run as a formula is neutralised."""
    if value is None:
        return ""
    return neutralise(value) if isinstance(value, str) else value
