"""Report pages (统计 screens) declared as data: a Report is its title, the as-of date and
filters (meta), and tables of cells. One template macro renders any table (numbers formatted,
a cell with a link opens the loans behind it) and one function exports any report as CSV or
XLSX: the title, as-of date and filters in the first rows, then each table with its header,
numbers as numbers (money as Decimal, shares as percent numbers), text formula-neutralised
(admin_app.export.cell), XLSX through admin_app.xlsx_stream."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from flask import Response, abort

from admin_app import clock
from admin_app.formats import count_text, money_text, percent_text
from admin_app.export import XLSX_MIME, cell as export_cell, neutralise
from admin_app.xlsx_stream import stream_xlsx

KINDS = ("text", "int", "money", "pct")
DISPLAY = {"int": count_text, "money": money_text, "pct": percent_text}  # admin_app.formats: the one rule


@dataclass(frozen=True)
class Cell:
    value: Any
    kind: str = "text"  # text / int / money / pct
    url: str | None = None
    css: str = ""

    @property
    def display(self) -> str:
        v = self.value
        if v is None:
            return "—"
        if self.kind in DISPLAY:
            return DISPLAY[self.kind](v)
        return str(v)

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "money", "pct")


def cells(*values, kind="text") -> list[Cell]:
    return [v if isinstance(v, Cell) else Cell(v, kind) for v in values]


@dataclass
class Table:
    key: str  # element id
    title: str
    headers: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    foot: list[list[Cell]] = field(default_factory=list)
    note: str = ""

    def export_header(self) -> list[str]:
        return [h + ("(%)" if any(r[i].kind == "pct" for r in self.rows + self.foot if i < len(r)) and "%" not in h
                     else "") for i, h in enumerate(self.headers)]


@dataclass
class Report:
    title: str
    meta: list[tuple[str, str]]  # (label, value): 统计日期, 口径, filters
    tables: list[Table] = field(default_factory=list)

    def export_rows(self):
        yield [self.title]
        for label, value in self.meta:
            yield [neutralise(label), neutralise(str(value))]
        yield ["导出时间", clock.local_now().replace(microsecond=0)]
        for table in self.tables:
            yield []
            yield [neutralise(table.title)]
            yield [neutralise(h) for h in table.export_header()]
            for row in table.rows + table.foot:
                yield [export_cell(c.value) if c.value is not None else "" for c in row]


def export_response(report: Report, export_type: str, stamp: str) -> Response:
    """The report as a CSV (UTF-8 with BOM) or XLSX download named 「标题_stamp」."""
    name = quote(f"{report.title}_{stamp}.{export_type}")
    disposition = f"attachment; filename=report.{export_type}; filename*=UTF-8''{name}"
    if export_type == "csv":
        out = io.StringIO()
        out.write("\ufeff")
        csv.writer(out).writerows(report.export_rows())
        return Response(out.getvalue(), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": disposition})
    if export_type == "xlsx":
        rows = report.export_rows()
        header = next(rows)
        return Response(b"".join(stream_xlsx(report.title, header, rows)), mimetype=XLSX_MIME,
                        headers={"Content-Disposition": disposition})
    abort(404)
