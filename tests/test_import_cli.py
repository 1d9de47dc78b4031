"""`flask --app wsgi import KIND FILE`: preview by default, --commit, --skip-invalid, the
error report beside the file, exit codes."""
from sqlalchemy import func, select

from models import Customer, ImportRecord
from tests.book_factory import resident_id
from tests.import_files import csv_bytes

HEAD = ["客户类型", "客户名称", "证件号码", "联系电话"]


def write(tmp_path, rows, name="客户.csv"):
    path = tmp_path / name
    path.write_bytes(csv_bytes([HEAD] + rows, encoding="gbk"))
    return path


def count(db):
    return db.session.scalar(select(func.count()).select_from(Customer))


def good(n):
    return [["个人", f"命令行{i}", resident_id(500 + i), f"1370000{i:04d}"] for i in range(n)]


def test_preview_commit_and_reimport(app, db, tmp_path):
    path = write(tmp_path, good(3))
    cli = app.test_cli_runner()
    r = cli.invoke(args=["import", "customers", str(path)])
    assert r.exit_code == 0 and "新增 3" in r.output and count(db) == 0
    r = cli.invoke(args=["import", "customers", str(path), "--commit", "--user", "admin"])
    assert r.exit_code == 0 and "导入完成" in r.output and count(db) == 3
    r = cli.invoke(args=["import", "customers", str(path), "--commit"])
    assert r.exit_code == 0 and "没有任何变化" in r.output and count(db) == 3
    assert db.session.scalar(select(func.count()).select_from(ImportRecord)) == 2


def test_bad_rows_refuse_all_or_skip_with_report_beside_the_file(app, db, tmp_path):
    rows = good(3)
    rows[1][3] = "123"
    path = write(tmp_path, rows)
    cli = app.test_cli_runner()
    r = cli.invoke(args=["import", "customers", str(path), "--commit"])
    assert r.exit_code == 2 and "第 3 行" in r.output and count(db) == 0
    report = tmp_path / "客户_错误报告.csv"
    assert "联系电话格式错误" in report.read_bytes().decode("utf-8-sig")
    r = cli.invoke(args=["import", "customers", str(path), "--commit", "--skip-invalid"])
    assert r.exit_code == 2 and count(db) == 2


def test_unreadable_file_exits_1(app, db, tmp_path):
    path = tmp_path / "junk.csv"
    path.write_bytes(b"\x00\xff\x00junk")
    r = app.test_cli_runner().invoke(args=["import", "customers", str(path), "--commit"])
    assert r.exit_code == 1 and "无法导入" in r.output
