"""导入 客户: the machinery end to end on the simplest kind."""
import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from models.identity import uscc_check_char
from models import AuditLog, Customer, ImportRecord
from services.importing import import_file, template_xlsx
from services.importing.kinds import KINDS
from tests.book_factory import resident_id
from tests.import_files import csv_bytes, xlsx_from_template

HEAD = ["客户类型", "客户名称", "证件号码", "联系电话", "联系人", "地址", "客户经理"]


def good_rows(n=3, start=100):
    return [["个人", f"导入客户{i}", resident_id(i), f"1390000{i:04d}", "", "北京市", "officer"]
            for i in range(start, start + n)]


def customers(db):
    return db.session.scalar(select(func.count()).select_from(Customer))


def run(db, users, data, mode="preview", name="客户.csv", user="admin", **kw):
    return import_file("customers", data, name, user=users[user], mode=mode, **kw)


def test_preview_writes_nothing_and_says_what_each_row_will_do(db, users):
    out = run(db, users, csv_bytes([HEAD] + good_rows()))
    assert out.result.counts["create"] == 3 and not out.result.error_rows
    assert customers(db) == 0
    assert db.session.scalar(select(func.count()).select_from(ImportRecord)) == 0


def test_import_all_then_reimport_changes_nothing_and_says_so(db, users, tmp_path):
    data = csv_bytes([HEAD] + good_rows())
    out = run(db, users, data, mode="all", report_folder=str(tmp_path))
    assert out.result.committed and customers(db) == 3
    c = db.session.scalar(select(Customer).where(Customer.name == "导入客户100"))
    assert c.officer.username == "officer" and c.kind == "person"
    again = run(db, users, data, mode="all", report_folder=str(tmp_path))
    assert again.result.counts["skip"] == 3 and again.result.nothing_to_do
    assert "没有任何变化" in again.message and customers(db) == 3
    records = db.session.scalars(select(ImportRecord).order_by(ImportRecord.id)).all()
    assert [r.outcome for r in records] == ["imported", "unchanged"]
    assert records[0].rows_created == 3 and len(records[0].sha256) == 64
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "import")) == 2


def test_one_bad_row_imports_nothing_under_all_and_the_rest_under_valid_only(db, users, tmp_path):
    rows = good_rows(4)
    bad = list(rows[2])
    bad[2] = bad[2][:-1] + ("0" if bad[2][-1] != "0" else "1")  # wrong check digit
    rows[2] = bad
    data = csv_bytes([HEAD] + rows)
    out = run(db, users, data, mode="all", report_folder=str(tmp_path))
    assert not out.result.committed and customers(db) == 0
    (row,) = out.result.error_rows
    assert row.number == 4 and row.errors == [("证件号码", "身份证号校验位错误")]
    out = run(db, users, data, mode="valid", report_folder=str(tmp_path))
    assert out.result.committed and customers(db) == 3
    report = tmp_path / "import_reports" / out.record.report_name
    text = report.read_bytes().decode("utf-8-sig")
    assert text.splitlines()[0].endswith("错误原因") and "身份证号校验位错误" in text and bad[1] in text
    assert len(text.strip().splitlines()) == 2


def test_errors_name_row_column_and_reason_in_chinese(db, users):
    uscc = "91110000MA0000001" + uscc_check_char("91110000MA0000001")
    existing = Customer(kind="company", name="老客户", id_number=uscc, phone="13900000007", contact_person="张三")
    db.session.add(existing)
    db.session.commit()
    rows = [
        ["个人", "甲", resident_id(1), "12345", "", "", ""],  # bad phone
        ["外星人", "乙", resident_id(2), "13900000002", "", "", ""],  # bad type
        ["企业", "丙公司", "91110000000000000X", "13900000003", "", "", ""],  # bad USCC, no contact
        ["个人", "丁", resident_id(4), "13900000004", "", "", "nobody"],  # unknown officer
        ["个人", "戊", resident_id(5), "13900000005", "", "", ""],
        ["个人", "戊2", resident_id(5), "13900000005", "", "", ""],  # duplicate in file
        ["个人", "", resident_id(8), "13900000008", "", "", ""],  # missing name
    ]
    out = run(db, users, csv_bytes([HEAD] + rows))
    errors = {r.number: r.errors for r in out.result.rows}
    assert errors[2] == [("联系电话", "联系电话格式错误(手机号11位,或区号-座机号)")]
    assert errors[3][0][0] == "客户类型" and "不是允许的值" in errors[3][0][1]
    assert ("证件号码", "统一社会信用代码校验位错误") in errors[4] and ("联系人", "企业客户必须填写联系人") in errors[4]
    assert errors[5] == [("客户经理", "客户经理「nobody」不存在(填写用户名或姓名)")]
    assert errors[6] == [] and "文件内重复" in errors[7][0][1]
    assert errors[8] == [("客户名称", "必填项未填写")]


def test_update_when_other_fields_differ(db, users):
    run(db, users, csv_bytes([HEAD] + good_rows(1)), mode="all")
    changed = good_rows(1)
    changed[0][3] = "13911112222"
    out = run(db, users, csv_bytes([HEAD] + changed), mode="all")
    assert out.result.counts["update"] == 1 and "联系电话" in out.result.rows[0].note
    assert db.session.scalar(select(Customer.phone)) == "13911112222"


def test_headers_any_order_extra_columns_listed_missing_required_refused(db, users):
    head = ["备注", "证件号码", "客户名称", "联系电话", "客户类型"]
    rows = [["x", resident_id(9), "甲", "13900000009", "个人"]]
    out = run(db, users, csv_bytes([head] + rows))
    assert out.result.extra_headers == ["备注"] and out.result.counts["create"] == 1
    out = run(db, users, csv_bytes([["客户名称", "联系电话"], ["甲", "13900000009"]]))
    assert out.result.file_error == "缺少必填列:客户类型、证件号码"


def test_gbk_csv_and_template_xlsx_import_the_same(db, users):
    rows = good_rows(3)
    gbk = run(db, users, csv_bytes([HEAD] + rows, encoding="gbk"), name="gbk.csv")
    assert gbk.table.encoding == "GBK/GB18030"
    xlsx = run(db, users, xlsx_from_template("customers", [dict(zip(HEAD, r)) for r in rows]), name="t.xlsx")
    utf = run(db, users, csv_bytes([HEAD] + rows, encoding="utf-8"), name="utf.csv")
    assert utf.table.encoding == "UTF-8"
    values = [[(r.action, r.values["id_number"], r.values["name"], r.values["phone"]) for r in o.result.rows]
              for o in (gbk, xlsx, utf)]
    assert values[0] == values[1] == values[2] and len(values[0]) == 3


def test_template_has_headers_example_instructions_and_dropdowns():
    book = load_workbook(io.BytesIO(template_xlsx(KINDS["customers"])))
    sheet, notes = book.worksheets
    assert [c.value for c in sheet[1]] == HEAD and sheet["A2"].value == "个人"
    assert notes.title == "填写说明"
    lines = {r[0].value: (r[1].value, r[2].value) for r in notes.iter_rows(min_row=2) if r[0].value in HEAD}
    assert lines["客户类型"] == ("必填", "可选值:个人 / 企业") and lines["地址"][0] == "选填"
    (rule,) = sheet.data_validations.dataValidation
    assert rule.formula1 == '"个人,企业"' and "A2:A5000" in str(rule.sqref)


def test_formula_looking_cells_are_data_never_evaluated(db, users):
    rows = [["个人", "=1+1", resident_id(11), "13900000011", "", "=HYPERLINK(\"http://x\")", ""]]
    data = xlsx_from_template("customers", [dict(zip(HEAD, r)) for r in rows])
    out = run(db, users, data, mode="all", name="f.xlsx")
    assert out.result.committed
    c = db.session.scalar(select(Customer))
    assert c.name == "=1+1" and c.address.startswith("=HYPERLINK")


def test_officer_imports_only_within_their_scope(db, users):
    rows = good_rows(2)
    rows[1][6] = "officer2"
    out = run(db, users, csv_bytes([HEAD] + rows), user="officer", own_only=True)
    assert out.result.rows[0].ok and out.result.rows[1].errors == [("客户经理", "只能导入本人名下的记录(数据权限:本人)")]
    # A customer of another officer is outside the scope: a conflict, not an update.
    run(db, users, csv_bytes([HEAD] + [good_rows(1, start=300)[0][:6] + ["officer2"]]), mode="all")
    out = run(db, users, csv_bytes([HEAD] + [good_rows(1, start=300)[0][:6] + [""]]), user="officer", own_only=True)
    assert "与已有记录冲突" in out.result.rows[0].errors[0][1]


def test_every_template_example_row_reads_cleanly(db, users):
    """Each kind's template imports as downloaded: the example row has no cell errors (only
    lookups of records the empty database does not have)."""
    for key in KINDS:
        out = import_file(key, template_xlsx(KINDS[key]), "t.xlsx", user=users["admin"])
        assert not out.result.file_error and len(out.result.rows) == 1, key
        for col, message in out.result.rows[0].errors:
            assert "不存在" in message, (key, col, message)
    out = import_file("customers", template_xlsx(KINDS["customers"]), "t.xlsx", user=users["admin"])
    assert out.result.rows[0].action == "create" and out.result.rows[0].ok
