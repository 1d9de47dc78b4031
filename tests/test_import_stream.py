"""The streamed import (services.importing.import_path, what `flask import` runs): a file
checked and written a chunk of rows at a time gives what the whole-file import gives — the
same outcome, errors and note on every row, the same stored figures, the same error report,
the same refusal of a malformed file — and 全部导入 still writes nothing when any row, in any
chunk, is refused."""
import csv
import io
import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from admin_app.extensions import db as _db
from models import Customer, ImportRecord, Loan, Repayment
from services.importing import FileRefused, ErrorReport, error_report, import_file, import_path, read_table
from services.importing.reading import open_table
from tests.book_factory import resident_id
from tests.import_files import csv_bytes
from tests.test_import_bulk import TABLES, book, files, stored
from tests.test_import_fuzz import files as fuzz_files

CUSTOMER_HEAD = ["客户类型", "客户名称", "证件号码", "联系电话"]


def interleave(data: bytes, seed: int = 7) -> bytes:
    """The same CSV with its data rows shuffled: a loan's rows spread over the file."""
    lines = data.decode("utf-8-sig").splitlines(keepends=True)
    body = lines[1:]
    random.Random(seed).shuffle(body)
    return ("\ufeff" + lines[0] + "".join(body)).encode("utf-8")


def whole(users, kind, data, mode="valid", **kw):
    return import_file(kind, data, f"{kind}.csv", user=users["admin"], mode=mode, **kw)


def streamed(users, tmp_path, kind, data, mode="valid", chunk_rows=5, **kw):
    path = tmp_path / f"{kind}.csv"
    path.write_bytes(data)
    report = tmp_path / f"{kind}_错误报告.csv"
    out = import_path(kind, str(path), user=users["admin"], mode=mode, report_path=str(report),
                      report_folder=str(tmp_path / "uploads"),
                      chunk_rows=chunk_rows, **kw)
    return out, report


def wipe():
    for table in reversed(_db.metadata.sorted_tables):
        if table.name in TABLES or "loan_id" in table.c:
            _db.session.execute(table.delete())
    _db.session.commit()


@pytest.mark.parametrize("shuffled", [False, True])
def test_streamed_in_small_chunks_stores_what_the_whole_file_stores(db, users, tmp_path, shuffled):
    book()
    loans, rates, reps = files()
    if shuffled:
        loans, reps = interleave(loans), interleave(reps)
    plan = (("loans", loans), ("rate_changes", rates), ("repayments", reps))
    expected = []
    for kind, data in plan:
        out = whole(users, kind, data)
        expected.append((sorted((r.number, r.outcome, r.error_text()) for r in out.result.rows),
                         out.result.counts, error_report(out.result, "csv")[0]))
    reference = stored()
    wipe()
    for (kind, data), (outcomes, counts, report) in zip(plan, expected):
        out, path = streamed(users, tmp_path, kind, data, chunk_rows=4)
        assert out.result.counts == counts, kind
        errors = [(n, "error", text) for n, _o, text in outcomes if _o == "error"]
        # A unit is checked once its last row is read: in a shuffled file, in that order.
        refused = [(n, text) for n, _o, text in errors]
        assert len(out.result.first_errors) == min(30, len(refused)) and set(out.result.first_errors) <= set(refused)
        assert out.result.first_errors == refused[:30] or shuffled
        if errors:  # the report written row by row is the one the screens give
            mine, theirs = path.read_bytes().splitlines(), report.splitlines()
            assert mine[0] == theirs[0] and sorted(mine[1:]) == sorted(theirs[1:])
            assert mine == theirs or shuffled
            assert out.record.report_name and out.record.rows_error == len(errors)
        else:
            assert not path.exists()
        assert out.record.rows_total == len(outcomes)
    assert stored() == reference
    assert len(reference["repayments"]) > 60 and any(c["error"] for _o, c, _r in expected)


def test_duplicates_across_chunks_are_found_with_the_first_row_named(db, users, tmp_path):
    rows = [["个人", f"流式{i}", resident_id(700 + i), f"1370000{i:04d}"] for i in range(9)]
    rows.append(list(rows[1]))  # row 11 repeats row 3, three chunks later
    out, report = streamed(users, tmp_path, "customers", csv_bytes([CUSTOMER_HEAD] + rows), chunk_rows=3)
    assert out.result.first_errors == [(11, "文件内重复(与第 3 行相同)")]
    assert "文件内重复(与第 3 行相同)" in report.read_bytes().decode("utf-8-sig")
    assert out.result.counts["create"] == 9


def test_all_or_nothing_over_chunks_and_skip_invalid(db, users, tmp_path):
    rows = [["个人", f"全部{i}", resident_id(800 + i), f"1380000{i:04d}"] for i in range(12)]
    rows[10][3] = "123"  # refused in the last chunk, after three chunks were written
    data = csv_bytes([CUSTOMER_HEAD] + rows)
    count = lambda: db.session.scalar(select(func.count()).select_from(Customer))  # noqa: E731
    out, report = streamed(users, tmp_path, "customers", data, mode="all", chunk_rows=3)
    assert not out.result.committed and count() == 0
    assert out.message == "有 1 行错误,全部导入未执行,没有写入任何数据。"
    assert out.record.outcome == "refused"
    out, _ = streamed(users, tmp_path, "customers", data, mode="valid", chunk_rows=3)
    assert out.result.committed and count() == 11
    out, _ = streamed(users, tmp_path, "customers", data, mode="valid", chunk_rows=3)
    assert out.result.counts["skip"] == 11 and count() == 11


def test_a_loans_repayments_refused_together_when_split_over_chunks(db, users, tmp_path):
    book()
    loans, _rates, reps = files()
    whole(users, "loans", loans)
    lines = reps.decode("utf-8-sig").splitlines()
    head, body = lines[0], lines[1:]
    first = body[0].split(",")[0]
    mine = [i for i, line in enumerate(body) if line.startswith(first + ",")]
    bad = body[mine[-1]].split(",")
    bad[2] = "-1"  # its last repayment unreadable: the loan's earlier rows refused with it
    body[mine[-1]] = ",".join(bad)
    body.append(body.pop(mine[-1]))  # at the very end of the file, chunks after the others
    data = ("\n".join([head] + body) + "\n").encode("utf-8")
    out, report = streamed(users, tmp_path, "repayments", data, chunk_rows=2)
    assert out.result.committed
    loan = db.session.scalar(select(Loan).where(Loan.loan_no == first))
    assert db.session.scalar(select(func.count()).select_from(Repayment).where(Repayment.loan_id == loan.id)) == 0
    numbers = [i + 2 for i, line in enumerate(body) if line.startswith(first + ",")]
    assert numbers[-1] - numbers[0] > 2 * 2  # the loan's rows spanned more than one chunk's worth
    texts = [r[-1] for r in csv.reader(io.StringIO(report.read_bytes().decode("utf-8-sig"))) if r[0] == first]
    assert sorted(texts) == sorted(["同一贷款的其他还款行有错误,该贷款的还款均未导入"] * (len(mine) - 1)
                                   + [next(t for t in texts if t.startswith("还款金额:"))])


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=fuzz_files)
def test_a_malformed_file_is_refused_with_the_same_words(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("f") / "f.csv"
    path.write_bytes(data)
    try:
        expected = read_table(data)
    except FileRefused as err:
        with pytest.raises(FileRefused) as streamed_err:
            open_table(str(path), 100_000)
        assert str(streamed_err.value) == str(err)
        return
    table = open_table(str(path), 100_000)
    assert (table.headers, table.file_format, table.encoding, table.sha256, table.size) == (
        expected.headers, expected.file_format, expected.encoding, expected.sha256, expected.size)
    assert list(table.passes()) == [(i + 2, row) for i, row in enumerate(expected.rows)]


def test_cli_streams_with_the_report_beside_the_file(app, db, users, tmp_path):
    rows = [["个人", f"命令{i}", resident_id(900 + i), f"1390000{i:04d}"] for i in range(4)]
    rows[2][2] = "110101199001011234"  # wrong check digit
    path = tmp_path / "客户.csv"
    path.write_bytes(csv_bytes([CUSTOMER_HEAD] + rows, encoding="gbk"))
    r = app.test_cli_runner().invoke(args=["import", "customers", str(path), "--commit", "--skip-invalid"])
    assert r.exit_code == 2 and "第 4 行" in r.output and "新增 3" in r.output
    report = (tmp_path / "客户_错误报告.csv").read_bytes().decode("utf-8-sig")
    assert report.splitlines()[0].endswith("错误原因") and len(report.splitlines()) == 2
    record = db.session.scalar(select(ImportRecord))
    assert record.rows_total == 4 and record.rows_error == 1 and record.report_name.endswith(".csv")


def test_error_report_in_memory_has_its_header_when_nothing_was_refused(db, users):
    from services.importing.kinds import KINDS

    out = io.BytesIO()
    report = ErrorReport(out, KINDS["customers"], CUSTOMER_HEAD, "csv")
    report.close()
    assert out.getvalue().decode("utf-8-sig").strip() == ",".join(CUSTOMER_HEAD + ["错误原因"])


def _strptime_day(raw):
    from datetime import datetime

    from services.importing.fields import DATE_FORMATS

    for fmt in DATE_FORMATS:
        try:
            parsed = datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
        return parsed if 1900 <= parsed.year <= 2999 else None
    return None


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z"), st.from_regex(r"\A\d{4}-\d{1,2}-\d{1,2}\Z"),
                 st.text(max_size=12)))
def test_dates_read_as_strptime_reads_them(raw):
    """The YYYY-MM-DD fast path of fields.day gives what the formats give (strptime)."""
    from services.importing.fields import FieldError, day

    try:
        got = day(raw)
    except FieldError:
        got = None
    assert got == _strptime_day(raw.strip())


def test_cli_xlsx_report_beside_the_file_is_xlsx(app, db, users, tmp_path):
    from openpyxl import load_workbook

    from tests.import_files import xlsx_from_template

    rows = [{"客户类型": "个人", "客户名称": f"表格{i}", "证件号码": resident_id(950 + i), "联系电话": f"1360000{i:04d}"}
            for i in range(3)]
    rows[1]["联系电话"] = "12"
    path = tmp_path / "客户.xlsx"
    path.write_bytes(xlsx_from_template("customers", rows))
    r = app.test_cli_runner().invoke(args=["import", "customers", str(path), "--commit"])
    assert r.exit_code == 2 and "第 3 行" in r.output
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0
    sheet = load_workbook(tmp_path / "客户_错误报告.xlsx").worksheets[0]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][-1] == "错误原因" and len(values) == 2 and "联系电话" in values[1][-1]
