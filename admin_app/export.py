"""Export of exactly the rows a screen's search and filters select, as CSV (UTF-8 with BOM,
so Excel opens the Chinese) or XLSX, in constant memory whatever the row count.

Fast path: when every export column is a table column or a path through relationships
("product.name", or "officer" for a model with `label_sql`), the screen's own query is
turned into a plain SELECT of those columns (related tables outer-joined by alias) and
streamed in chunks — no ORM objects (a server-side cursor on PostgreSQL). A screen whose
export needs Python (a formatter in column_formatters_export, a property) is exported
through its ORM objects instead, also streamed. Either way every text cell a spreadsheet
would run as a formula is neutralised. XLSX is written by admin_app.xlsx_stream while the
rows are read (no temporary file)."""
from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable
from urllib.parse import quote

from flask import Response, abort, stream_with_context
from sqlalchemy.orm import ColumnProperty, RelationshipProperty, aliased

from admin_app import clock, flask_admin_compat
from admin_app.xlsx_stream import stream_xlsx
from models.privacy import MASKS, column_kind, mask_value

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
FORMULA_START = frozenset("".join(FORMULA_PREFIXES))
# Spreadsheets also read full-width ＝＋－＠ as formula characters (IME input), and skip
# leading spaces and line breaks before one.
FORMULA_CHARS = frozenset("=+-@＝＋－＠")
LEADING_BLANKS = " \t\r\n\u3000\xa0"
CHUNK_ROWS = 5000
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would run as a formula is prefixed with an apostrophe; anything
    else (None, numbers) passes unchanged."""
    if isinstance(value, str) and value:
        if value[0] in FORMULA_START:
            return "'" + value
        stripped = value.lstrip(LEADING_BLANKS)
        if stripped and stripped[0] in FORMULA_CHARS:
            return "'" + value
    return value


def cell(value: Any) -> Any:
    """One exported value: numbers and dates stay typed, booleans read 是/否, text is
    neutralised, nothing is an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return clock.shown(value)  # stored UTC, exported as the user's wall time
    if isinstance(value, (Decimal, int, float, date, datetime)):
        return value
    return neutralise(str(value))


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else "是" if value else "否"


def _same(value: Any) -> Any:
    return value


def masking(convert: Callable[[Any], Any], kind: str) -> Callable[[Any], Any]:
    """`convert` of the masked value: identifiers leave the database masked."""
    return lambda value: convert(mask_value(kind, value))


def converter(expr, choices: dict | None) -> Callable[[Any], Any]:
    """The cheapest function that turns one selected column's values into cells (the fast
    path calls it for every cell); None stays None, an empty cell in either format."""
    if choices:
        return lambda value: cell(choices.get(value, value))
    try:
        python_type = expr.type.python_type
    except (AttributeError, NotImplementedError):
        return cell
    if python_type is str:
        return neutralise
    if python_type is bool:
        return _yes_no
    if python_type is datetime:
        return clock.shown
    if python_type in (Decimal, int, float, date):
        return _same
    return cell


class ExportMixin:
    """Mixed into ScreenView: streamed CSV/XLSX of the filtered rows."""

    export_types = ["csv", "xlsx"]
    export_max_rows = 0  # streamed: no cap

    def export_unmasked(self) -> bool:
        """True only inside a full-identifier export (admin_app.privacy_export), which an
        admin started with a recorded reason; every other export is masked."""
        from admin_app.screens import request_cache

        return bool(request_cache().get("pii_export_unmasked"))

    # ---- which rows ----------------------------------------------------------------
    def export_query(self):
        """The list's own query (search fields, filters, sort), without paging."""
        view_args = flask_admin_compat.list_extra_args(self)
        sort = flask_admin_compat.column_by_index(self, view_args.sort)
        _, query = self.get_list(0, sort[0] if sort else None, view_args.sort_desc, None,
                                 view_args.filters, execute=False, page_size=0)
        return query

    def _sql_columns(self) -> tuple[list, list] | None:
        """(column expressions, outer joins) for the fast path, or None if a column needs
        the ORM object."""
        formatters = self.column_formatters_export or {}
        exprs, joins = [], {}
        for name, _label in flask_admin_compat.export_columns(self):
            if name in formatters:
                return None
            entity, path, expr = self.model, name.split("."), None
            for depth, part in enumerate(path):
                attr = getattr(entity, part, None)
                prop = getattr(attr, "property", None)
                last = depth == len(path) - 1
                if isinstance(prop, RelationshipProperty) and not prop.uselist:
                    key = tuple(path[:depth + 1])
                    if key not in joins:
                        joins[key] = (aliased(prop.mapper.class_), attr)
                    entity = joins[key][0]
                    if last:
                        label_sql = getattr(prop.mapper.class_, "label_sql", None)
                        if label_sql is None:
                            return None
                        expr = label_sql(entity)
                elif isinstance(prop, ColumnProperty) and last:
                    expr = attr
                else:
                    return None
            exprs.append(expr)
        return exprs, list(joins.values())

    def export_rows(self):
        """Rows of exported cells, streamed in chunks."""
        query = self.export_query()
        plan = self._sql_columns()
        if plan is None:
            names = [c[0] for c in flask_admin_compat.export_columns(self)]
            for model in query.yield_per(CHUNK_ROWS):
                yield [cell(self.get_export_value(model, n)) for n in names]
            return
        exprs, joins = plan
        query = query.with_entities(*exprs)
        for alias, attr in joins:
            query = query.outerjoin(alias, attr)
        pairs = [(i, converter(expr, flask_admin_compat.column_choices_map(self).get(name)))
                 for i, (expr, (name, _label)) in enumerate(zip(exprs, flask_admin_compat.export_columns(self)))]
        if not self.export_unmasked():
            kinds = [column_kind(expr) for expr in exprs]
            pairs = [(i, masking(convert, kinds[i]) if MASKS.get(kinds[i] or "") else convert)
                     for i, convert in pairs]
        for row in query.yield_per(CHUNK_ROWS):
            yield [convert(row[i]) for i, convert in pairs]

    # ---- files ---------------------------------------------------------------------
    def get_export_name(self, export_type: str = "csv") -> str:
        from admin_app.screens import request_cache

        # A recorded export (admin_app.export_control) names its user and time.
        return request_cache().get("export_name") or f"{self.name}_{clock.business_date():%Y%m%d}.{export_type}"

    def _disposition(self, export_type: str) -> str:
        name = quote(self.get_export_name(export_type))
        return f"attachment; filename=export.{export_type}; filename*=UTF-8''{name}"

    def _headers(self) -> list[str]:
        return [neutralise(str(c[1])) for c in flask_admin_compat.export_columns(self)]

    def _export_csv(self, return_url):
        class Line:
            def write(self, value):
                return value

        writer = csv.writer(Line())

        def generate():
            yield "\ufeff"  # BOM: Excel opens UTF-8 Chinese correctly
            yield writer.writerow(self._headers())
            batch = []
            for row in self.export_rows():
                batch.append(writer.writerow(row))
                if len(batch) >= 500:
                    yield "".join(batch)
                    batch = []
            if batch:
                yield "".join(batch)

        return Response(stream_with_context(generate()), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": self._disposition("csv")})

    def _export_tablib(self, export_type, return_url):
        if export_type != "xlsx":
            abort(404)
        body = stream_xlsx(str(self.name), self._headers(), self.export_rows())
        return Response(stream_with_context(body), mimetype=XLSX_MIME,
                        headers={"Content-Disposition": self._disposition("xlsx")})
