"""In a browser: a collector records a visit (上门) on an overdue loan, finds it on
待上传借款人催收回执, uploads a receipt and sees the record leave the waiting list."""
import pytest

from admin_app.extensions import db
from tests.browser.conftest import click_nav, screenshot
from tests.test_collection import make_overdue_loan

pytestmark = pytest.mark.browser

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40


def test_record_a_visit_upload_its_receipt_and_it_leaves_the_waiting_list(page_as, users, tmp_path):
    loan = make_overdue_loan("上门测试客户")
    db.session.commit()
    page = page_as("collector")

    page.goto(page.base + "/collection_overdue/")
    page.fill("#q_customer", "上门测试")
    click_nav(page, "#search-submit")
    click_nav(page, "a.row-link:text-is('催收')")
    page.select_option("#target", "borrower")
    page.select_option("#method", "visit")
    page.fill("#contacted_at", "2024-06-20T10:30")
    page.fill("#content", "上门拜访借款人,当面送达催收通知书")
    page.fill("#result", "客户签收,承诺月底前还款")
    click_nav(page, "#collection-submit")
    assert "需上传回执" in page.content()
    number = page.locator("#collection-history tbody tr td").first.inner_text().strip()
    assert number.startswith("CS20240620")
    screenshot(page, "collection_history")

    page.goto(page.base + "/receipt_borrower/")
    page.fill("#q_collection_no", number)
    click_nav(page, "#search-submit")
    assert number in page.content()
    click_nav(page, "a.row-link:text-is('上传回执')")
    bad = tmp_path / "receipt.pdf"
    bad.write_bytes(b"MZ\x90\x00" + b"\x00" * 100)
    page.set_input_files("#receipt", str(bad))
    click_nav(page, "#receipt-submit")
    assert "文件类型不支持" in page.content()

    good = tmp_path / "上门回执.png"
    good.write_bytes(PNG)
    page.set_input_files("#receipt", str(good))
    click_nav(page, "#receipt-submit")
    assert "已移出待上传列表" in page.content()
    screenshot(page, "receipt_uploaded")

    page.goto(page.base + "/receipt_borrower/")
    table = page.locator("table").last.inner_text()
    assert number not in table
    page.goto(page.base + f"/collection_overdue/history/{loan.id}")
    with page.expect_download() as info:
        page.click("a:text-is('上门回执.png')")
    assert info.value.suggested_filename == "上门回执.png"
