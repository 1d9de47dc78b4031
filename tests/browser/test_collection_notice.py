"""In a browser: a collector prints a 催收通知书 from 还款催收; printed to PDF it is one A4
page with the notice, the debtor, the loan number and the 回执 with the same 催收编号."""
import re

import pytest

from admin_app.extensions import db
from tests.browser.conftest import click_nav, screenshot
from tests.browser.test_print import look_at_pdf
from tests.test_collection import make_overdue_loan

pytestmark = pytest.mark.browser


def test_print_a_notice_to_one_a4_page(page_as, tmp_path):
    loan = make_overdue_loan("打印测试客户")
    db.session.commit()
    page = page_as("collector")
    page.goto(page.base + "/collection_overdue/?q_customer=打印测试")
    click_nav(page, "a.row-link:text-is('通知书')")
    click_nav(page, "#notice-submit")
    number = page.locator("#notice-no").inner_text().strip()
    assert re.match(r"CS\d{8}", number)
    page.emulate_media(media="print")
    text = page.locator("body").inner_text()
    assert "打印" not in page.locator("body").inner_text().split("催收编号")[0]  # the toolbar is hidden in print
    for expected in ("催收通知书", "打印测试客户", loan.loan_no, "回 执"):
        assert expected in text
    assert text.count(number) >= 2
    screenshot(page, "collection_notice_print")
    pdf = page.pdf(format="A4", print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pages == 1, f"the notice prints on {pages} pages"
    (tmp_path / "notice.pdf").write_bytes(pdf)
    look_at_pdf(str(tmp_path / "notice.pdf"), "notice")
