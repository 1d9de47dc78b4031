"""Helpers for import tests: files written the way users write them (CSV in UTF-8 or GBK,
XLSX filled into the downloaded template)."""
import csv
import io

from openpyxl import load_workbook

from services.importing import template_xlsx
from services.importing.kinds import KINDS


def csv_bytes(rows, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_from_template(kind_key: str, rows) -> bytes:
    """The downloaded template with its example row replaced by `rows` (dicts by header)."""
    book = load_workbook(io.BytesIO(template_xlsx(KINDS[kind_key])))
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    for col in range(1, len(headers) + 1):
        sheet.cell(row=2, column=col).value = None
    for r, row in enumerate(rows, start=2):  # typed into the template's rows, as a user does
        for c, h in enumerate(headers, start=1):
            sheet.cell(row=r, column=c).value = row.get(h)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
