"""Exports (admin_app.export, admin_app.xlsx_stream): on every screen that exports, the fast
column path gives exactly the cells the ORM path gives; the streamed XLSX opens in openpyxl
with the values, types and dates written; hostile text stays text."""
import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from admin_app.export import ExportMixin, cell
from admin_app.seed import seed_demo
from admin_app.xlsx_stream import stream_xlsx

AS_OF = date(2025, 6, 30)


def exporting_views(app):
    admin = app.extensions["postloan_admin"]
    return [v for v in admin._views if isinstance(v, ExportMixin) and "export" in v._entry()]


def _norm(row):
    return ["" if v is None else v for v in row]


@pytest.fixture
def book(db):
    seed_demo(loans=60, seed=3, as_of=AS_OF)
    db.session.commit()


def test_fast_path_equals_orm_path_on_every_exporting_screen(app, book, monkeypatch):
    views = exporting_views(app)
    assert len(views) > 10
    fast_screens = 0
    for view in views:
        with app.test_request_context(f"/{view.endpoint}/export/csv/"):
            from flask_login import login_user

            from models import User

            login_user(User.query.filter_by(username="admin").one())
            view._refresh_cache()
            if view._sql_columns() is None:
                continue
            fast_screens += 1
            fast = [_norm(r) for r in view.export_rows()]
            with monkeypatch.context() as m:
                m.setattr(type(view), "_sql_columns", lambda self: None)
                slow = [_norm(r) for r in view.export_rows()]
            assert fast == slow, view.endpoint
    assert fast_screens >= 10


def test_xlsx_stream_round_trips_types_and_hostile_text():
    rows = [["=HYPERLINK(\"x\")", Decimal("1234.56"), 7, date(2024, 2, 29), datetime(2024, 6, 20, 10, 30),
             "a\x01b<tag>&\"", None, "是"]]
    data = b"".join(stream_xlsx("还款中贷款查询", ["文本", "金额", "整数", "日期", "时间", "特殊", "空", "布尔"],
                                rows, rows_per_chunk=1))
    ws = load_workbook(io.BytesIO(data)).active
    header, first = list(ws.values)
    assert header[0] == "文本" and ws.title == "还款中贷款查询"
    assert first[0] == '=HYPERLINK("x")' and ws["A2"].data_type == "s"  # text, never a formula
    assert first[1] == pytest.approx(1234.56) and first[2] == 7
    assert first[3] == datetime(2024, 2, 29) and ws["D2"].number_format == "yyyy-mm-dd"
    assert first[4] == datetime(2024, 6, 20, 10, 30)
    assert first[5] == 'ab<tag>&"' and first[6] is None and first[7] == "是"


def test_many_rows_stream_in_chunks():
    chunks = list(stream_xlsx("s", ["n"], ([i] for i in range(5000)), rows_per_chunk=1000))
    assert len(chunks) >= 5
    ws = load_workbook(io.BytesIO(b"".join(chunks)), read_only=True).active
    assert [r[0] for r in ws.iter_rows(min_row=2, values_only=True)] == list(range(5000))


def test_cell_neutralises_formulas_and_reads_booleans():
    assert cell("=1+1") == "'=1+1" and cell("-2") == "'-2" and cell("@x") == "'@x"
    assert cell(True) == "是" and cell(None) == "" and cell(Decimal("1.10")) == Decimal("1.10")


def test_export_endpoint_streams_filtered_rows(client_for, book):
    officer = client_for("officer")
    r = officer.get("/query_active/export/csv/?q_customer=%E5%BC%A0")
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "贷款编号" and all(row[1].startswith("张") for row in rows[1:])
    x = officer.get("/query_active/export/xlsx/?q_customer=%E5%BC%A0")
    ws = load_workbook(io.BytesIO(x.data)).active
    assert [list(map(str, r))[0] for r in ws.iter_rows(min_row=2, values_only=True)] == [r[0] for r in rows[1:]]
