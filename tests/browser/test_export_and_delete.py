"""Export of exactly the filtered rows (the downloaded file opened and read) and safe bulk
delete (refused while a loan hangs on a customer, allowed otherwise), in a real browser."""
import csv
import io

import pytest
from openpyxl import load_workbook

from models import Customer
from tests import book_factory as bf
from tests.browser.conftest import click_nav, screenshot

pytestmark = pytest.mark.browser


def _download(page, label):
    with page.expect_download() as info:
        page.click(f"a.export-link:has-text('{label}')")
    return info.value


def test_export_csv_and_xlsx_of_the_filtered_rows(page_as, db):
    book = bf.book()
    page = page_as("officer")
    page.goto(page.base + "/query_active/")
    page.fill("#q_customer", "张")
    click_nav(page, "#search-submit")
    assert book["active"].loan_no in page.content() and book["active2"].loan_no not in page.content()

    download = _download(page, "导出 CSV")
    assert download.suggested_filename.endswith(".csv") and "还款中贷款查询" in download.suggested_filename
    raw = open(download.path(), "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel opens the Chinese correctly
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["贷款编号", "客户名称", "贷款产品"]
    assert [r[0] for r in rows[1:]] == [book["active"].loan_no]
    assert rows[1][1] == "张三"

    download = _download(page, "导出 XLSX")
    ws = load_workbook(io.BytesIO(open(download.path(), "rb").read())).active
    values = list(ws.values)
    assert values[0][0] == "贷款编号" and [v[0] for v in values[1:]] == [book["active"].loan_no]


def _select_and_delete(page, ids):
    for i in ids:
        page.check(f"input.action-checkbox[value='{i}']")
    page.click("#bulk-delete")
    # The confirmation dialog names the rows before anything is deleted.
    page.wait_for_selector("#confirm-dialog[open]")
    assert len(page.locator("#confirm-items li").all()) == len(ids)
    click_nav(page, "#confirm-ok")


def test_bulk_delete_refused_then_allowed(page_as, db):
    with_loan = bf.active_loan(bf.customer("删除测试有贷")).customer
    free = bf.customer("删除测试无贷")
    db.session.commit()
    with_loan_id, free_id = with_loan.id, free.id
    page = page_as("officer")
    page.goto(page.base + "/customers/?q_name=删除测试")

    _select_and_delete(page, [with_loan_id, free_id])
    page.wait_for_selector(".alert-danger, .alert-error")
    assert "批量删除被拒绝" in page.content() and "该客户名下有贷款" in page.content()
    screenshot(page, "bulk_delete_refused")
    db.session.expire_all()
    assert db.session.query(Customer).filter(Customer.name.like("删除测试%")).count() == 2

    page.goto(page.base + "/customers/?q_name=删除测试")
    _select_and_delete(page, [free_id])
    page.wait_for_selector(".alert-success")
    assert "已删除 1 条记录" in page.content()
    db.session.expire_all()
    assert db.session.get(Customer, free_id) is None
    assert db.session.get(Customer, with_loan_id) is not None
