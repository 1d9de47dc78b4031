"""Malformed import files (wrong types, missing headers, huge cells, 10,000 columns, binary
junk, broken XLSX): the answer is always a Chinese message, never a 500, and the database
is unchanged."""
import io
import re

from hypothesis import HealthCheck, given, settings, strategies as st
from openpyxl import Workbook
from sqlalchemy import func, select

from models import Customer, ImportRecord, Loan
from services.importing import FileRefused, import_file
from services.importing.kinds import KINDS
from tests.import_files import csv_bytes

HEADERS = sorted({c.header for k in KINDS.values() for c in k.columns} | {"备注", "", "=SUM(A1)"})
CHINESE = re.compile(r"[\u4e00-\u9fff]")
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))

# Text a worksheet can hold (openpyxl refuses control characters); CSV cells get them too.
sheet_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
cells = st.one_of(sheet_text, st.integers(), st.floats(allow_nan=True), st.booleans(),
                  st.just("=1+1"), st.just("x" * 6000), st.just("-1"), st.just("2026-02-30"), st.none())


@st.composite
def tables(draw):
    head = draw(st.lists(st.sampled_from(HEADERS), min_size=0, max_size=10))
    rows = draw(st.lists(st.lists(cells, min_size=0, max_size=len(head) + 2), max_size=6))
    return head, rows


def _csv(head, rows, encoding):
    text = [[("" if v is None else str(v)) for v in r] for r in [head] + rows]
    return csv_bytes(text, encoding="utf-8-sig" if encoding == "utf8" else "gb18030")


def _xlsx(head, rows):
    book = Workbook()
    sheet = book.active
    for r in [head] + rows:
        sheet.append([v if not isinstance(v, float) or v == v else None for v in r])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


files = st.one_of(
    st.binary(max_size=400),
    st.binary(max_size=200).map(lambda b: b"PK\x03\x04" + b),
    tables().flatmap(lambda t: st.sampled_from(["utf8", "gbk"]).map(lambda e: _csv(*t, e))),
    tables().map(lambda t: _xlsx(*t)),
    st.just(csv_bytes([[f"列{i}" for i in range(10_000)], ["1"] * 10_000])),
    st.just(b"\xef\xbb\xbf" + "客户类型,客户名称\n".encode() + b"\xff\xfe\xfa"),
)


def snapshot(db):
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Customer, Loan, ImportRecord))


@FUZZ
@given(data=files, kind=st.sampled_from(sorted(KINDS)))
def test_any_file_gets_a_chinese_answer_and_changes_nothing(db, users, data, kind):
    before = snapshot(db)
    try:
        out = import_file(kind, data, "f.csv", user=users["admin"], mode="all")
    except FileRefused as err:
        db.session.rollback()
        assert CHINESE.search(str(err))
        assert snapshot(db) == before
        return
    result = out.result
    if result.file_error or result.error_rows:
        assert CHINESE.search(out.message)
        for row in result.error_rows:
            assert all(CHINESE.search(msg) for _col, msg in row.errors)
        assert snapshot(db)[:2] == before[:2]


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=files)
def test_the_screen_never_answers_500(client_for, db, data):
    client = _admin(client_for)
    r = client.post("/customers/import/preview/", data={"file": (io.BytesIO(data), "f.xlsx")},
                    content_type="multipart/form-data")
    assert r.status_code in (200, 302)
    page = client.get(r.location).get_data(as_text=True) if r.status_code == 302 else r.get_data(as_text=True)
    assert CHINESE.search(page)
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0


_clients = {}


def _admin(client_for):
    key = id(client_for)
    if key not in _clients:
        _clients.clear()
        _clients[key] = client_for("admin")
    return _clients[key]
