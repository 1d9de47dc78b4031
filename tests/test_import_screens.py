"""导入 through the screens: buttons, template download, upload + preview, commit in both
modes, error report, 导入记录, and who may do it."""
import io
import re

from openpyxl import load_workbook
from sqlalchemy import func, select

from models import Customer, ImportRecord
from tests.book_factory import resident_id
from tests.import_files import csv_bytes

HEAD = ["客户类型", "客户名称", "证件号码", "联系电话", "联系人", "地址", "客户经理"]
SCREENS = ("customers", "bank_cards", "credit_lines", "loans", "repayments", "guarantors", "collaterals",
           "rate_changes", "extensions", "writeoff_book")


def rows(n=3, bad_at=None):
    out = [["个人", f"页面客户{i}", resident_id(200 + i), f"1380000{i:04d}", "", "上海市", ""] for i in range(n)]
    if bad_at is not None:
        out[bad_at][3] = "12"
    return out


def upload(c, data, name="客户.csv", screen="customers"):
    return c.post(f"/{screen}/import/preview/", data={"file": (io.BytesIO(data), name)},
                  content_type="multipart/form-data")


def token_of(response) -> str:
    return re.search(r'name="token" value="([0-9a-f]{32})"', response.get_data(as_text=True)).group(1)


def test_every_import_screen_offers_template_and_import_to_admin(client_for):
    c = client_for("admin")
    for screen in SCREENS:
        page = c.get(f"/{screen}/").get_data(as_text=True)
        assert "下载模板" in page and f"/{screen}/import/" in page, screen
        r = c.get(f"/{screen}/import/template/")
        assert r.status_code == 200 and r.data.startswith(b"PK"), screen
        book = load_workbook(io.BytesIO(r.data))
        assert book.sheetnames[1] == "填写说明"
        assert "导入" in c.get(f"/{screen}/import/").get_data(as_text=True)


def test_roles_without_import_see_no_button_and_get_403(client_for):
    c = client_for("risk_checker")
    assert "下载模板" not in c.get("/customers/").get_data(as_text=True)
    assert c.get("/customers/import/template/").status_code == 403
    assert upload(c, csv_bytes([HEAD] + rows())).status_code == 403


def test_upload_preview_then_import_all(client_for, db):
    c = client_for("admin")
    r = upload(c, csv_bytes([HEAD] + rows()))
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "预览" in html and "新增" in html and "页面客户1" in html
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0
    r = c.post("/customers/import/commit/", data={"token": token_of(r), "mode": "all"})
    assert "导入完成" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 3
    # The token is spent: posting it again imports nothing twice.
    again = c.post("/customers/import/commit/", data={"token": token_of(upload(c, csv_bytes([HEAD] + rows()))),
                                                        "mode": "all"})
    assert "没有任何变化" in again.get_data(as_text=True)


def test_one_bad_row_refuses_all_then_valid_only_with_error_report(client_for, db):
    c = client_for("admin")
    r = upload(c, csv_bytes([HEAD] + rows(4, bad_at=1)))
    html = r.get_data(as_text=True)
    assert "第 3 行「联系电话」" in html
    token = token_of(r)
    r = c.post("/customers/import/commit/", data={"token": token, "mode": "all"})
    assert "全部导入未执行" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0
    r = c.post("/customers/import/commit/", data={"token": token, "mode": "valid"})
    html = r.get_data(as_text=True)
    assert "下载错误报告" in html and db.session.scalar(select(func.count()).select_from(Customer)) == 3
    link = re.search(r'href="(/customers/import/report/\d+/)"', html).group(1)
    report = c.get(link)
    text = report.data.decode("utf-8-sig")
    assert "错误原因" in text.splitlines()[0] and "联系电话格式错误" in text
    records = db.session.scalars(select(ImportRecord).order_by(ImportRecord.id)).all()
    assert [r.outcome for r in records] == ["refused", "partial"]
    listing = c.get("/import_records/").get_data(as_text=True)
    assert "客户.csv" in listing and "部分导入" in listing and "错误报告" in listing
    assert c.get(f"/import_records/report/{records[1].id}/").status_code == 200
    # Another officer cannot fetch the admin's report through the screen.
    assert client_for("officer").get(link).status_code == 404


def test_refused_files_get_a_chinese_message(client_for, db):
    c = client_for("admin")
    for data, words in ((b"\x00\x01\x02binary", "不是 CSV"), (b"PK\x03\x04junk", "无法读取该 Excel"),
                        (b"\xd0\xcf\x11\xe0old", ".xls"), (b"", "空的")):
        r = upload(c, data, name="x.csv")
        page = c.get(r.location).get_data(as_text=True) if r.status_code == 302 else r.get_data(as_text=True)
        assert r.status_code in (200, 302) and words in page, (data, page[-800:])


def test_officer_imports_customers_as_their_own(client_for, db, users):
    c = client_for("officer")
    r = upload(c, csv_bytes([HEAD] + rows(2)))
    c.post("/customers/import/commit/", data={"token": token_of(r), "mode": "all"})
    officers = set(db.session.scalars(select(Customer.officer_id)))
    assert officers == {users["officer"].id}
    # Their imports are listed on the upload page; another officer's are not.
    assert "客户.csv" in c.get("/customers/import/").get_data(as_text=True)
    assert "客户.csv" not in client_for("officer2").get("/customers/import/").get_data(as_text=True)


def test_screen_refuses_files_beyond_its_row_limit_pointing_at_the_cli(client_for, db):
    c = client_for("admin")
    head = ["贷款编号", "客户名称", "贷款产品", "贷款金额", "期限(月)", "放款日"]
    data = csv_bytes([head] + [[f"DK{i}", "甲", "经营贷", "1000", "12", "2026-01-01"] for i in range(5_002)])
    r = upload(c, data, name="贷款.csv", screen="loans")
    assert r.status_code == 200  # the upload form again, the reason under the file field
    page = r.get_data(as_text=True)
    assert 'class="invalid-feedback d-block">无法导入' in page and "行数过多" in page and "命令行" in page


def test_a_loans_history_is_imported_by_admins_only(client_for, db, users):
    """利率调整记录 / 展期记录 (基础数据) and 核销台账 take the old system's history: admins only."""
    from models import RateChange
    from services.importing import import_file
    from tests.book_factory import customer, months_ago, product

    product("经营贷")
    customer("历史甲")
    db.session.commit()
    start = months_ago(6)
    loans = csv_bytes([["贷款编号", "客户名称", "贷款产品", "贷款金额", "年利率(%)", "期限(月)", "放款日"],
                       ["DKHIST001", "历史甲", "经营贷", "60000", "10.8", "12", start.isoformat()]])
    assert import_file("loans", loans, "loans.csv", user=users["admin"], mode="all").result.committed
    officer = client_for("officer")
    assert "下载模板" not in officer.get("/writeoff_book/").get_data(as_text=True)
    for screen in ("rate_changes", "extensions", "writeoff_book"):
        assert officer.get(f"/{screen}/import/").status_code == 403, screen
    assert officer.get("/rate_changes/").status_code == 403
    c = client_for("admin")
    day = months_ago(3)
    data = csv_bytes([["贷款编号", "生效日期", "原年利率(%)", "调整后年利率(%)", "调整原因"],
                      ["DKHIST001", day.isoformat(), "12", "10.8", "按合同约定下调"]])
    r = upload(c, data, name="利率调整.csv", screen="rate_changes")
    assert r.status_code == 200 and "新增" in r.get_data(as_text=True)
    r = c.post("/rate_changes/import/commit/", data={"token": token_of(r), "mode": "all"})
    assert "导入完成" in r.get_data(as_text=True)
    change = db.session.scalar(select(RateChange))
    assert change.effective_date == day and "DKHIST001" in c.get("/rate_changes/").get_data(as_text=True)
