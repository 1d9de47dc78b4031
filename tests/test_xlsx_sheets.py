"""Exports every spreadsheet opens (issue 15): the streamed XLSX carries no ZIP64 headers
(the writer forced them on every sheet; Excel rejects them in streamed files); past Excel's
1,048,576 rows a sheet continues on a second one under the same header."""
import io
import struct
import time
import zipfile

from openpyxl import load_workbook

from admin_app.xlsx_stream import EXCEL_MAX_ROWS, stream_xlsx


def _local_headers(data: bytes):
    """(name, version needed, extra field ids) of every local file header, read raw."""
    out, pos = [], 0
    while True:
        pos = data.find(b"PK\x03\x04", pos)
        if pos < 0:
            return out
        version, _flag, _method, _t, _d, _crc, _csize, _usize, name_len, extra_len = \
            struct.unpack("<HHHHHIIIHH", data[pos + 4:pos + 30])
        name = data[pos + 30:pos + 30 + name_len].decode()
        extra = data[pos + 30 + name_len:pos + 30 + name_len + extra_len]
        ids = []
        while len(extra) >= 4:
            header_id, size = struct.unpack("<HH", extra[:4])
            ids.append(header_id)
            extra = extra[4 + size:]
        out.append((name, version, ids))
        pos += 30


def test_no_zip64_headers_anywhere():
    data = b"".join(stream_xlsx("贷款", ["编号", "金额"], ([f"DK{i}", i] for i in range(5000))))
    local = _local_headers(data)
    assert {name for name, _, _ in local} >= {"xl/worksheets/sheet1.xml", "xl/workbook.xml"}
    assert all(version < 45 and 0x0001 not in ids for _, version, ids in local), local
    for info in zipfile.ZipFile(io.BytesIO(data)).infolist():
        assert info.extract_version < 45 and b"\x01\x00" not in info.extra[:2]


def test_rows_past_the_limit_continue_on_the_next_sheet_under_the_header():
    data = b"".join(stream_xlsx("催收查询", ["编号", "名称"], ([i, f"n{i}"] for i in range(7)), max_rows=3))
    wb = load_workbook(io.BytesIO(data), read_only=True)
    assert wb.sheetnames == ["催收查询", "催收查询(2)", "催收查询(3)", "催收查询(4)"]
    sheets = [list(ws.iter_rows(values_only=True)) for ws in wb.worksheets]
    assert all(rows[0] == ("编号", "名称") for rows in sheets)
    assert [r[0] for rows in sheets for r in rows[1:]] == list(range(7))


def test_a_sheet_near_the_size_limit_also_continues_on_the_next():
    data = b"".join(stream_xlsx("大", ["x"], (["很长的文本" * 20] for _ in range(50)), max_sheet_bytes=2000))
    wb = load_workbook(io.BytesIO(data), read_only=True)
    assert len(wb.sheetnames) > 1
    assert sum(len(list(ws.iter_rows(values_only=True))) - 1 for ws in wb.worksheets) == 50


def test_excels_own_limit_at_full_size():
    """1,048,576 data rows: the header and 1,048,575 rows on the first sheet, one on the second."""
    assert EXCEL_MAX_ROWS == 1_048_576
    started = time.perf_counter()
    body = stream_xlsx("全部", ["n"], ([i] for i in range(EXCEL_MAX_ROWS)), rows_per_chunk=50_000)
    data = b"".join(body)
    zf = zipfile.ZipFile(io.BytesIO(data))
    second = zf.read("xl/worksheets/sheet2.xml").decode()
    assert second.count("<row ") == 2 and f"<v>{EXCEL_MAX_ROWS - 1}</v>" in second
    first_tail = zf.read("xl/worksheets/sheet1.xml")[-200:].decode()
    assert f'<row r="{EXCEL_MAX_ROWS}">' in first_tail
    assert time.perf_counter() - started < 120
