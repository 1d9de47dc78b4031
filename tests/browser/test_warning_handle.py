"""A loan officer opens 还款逾期预警, searches, records a follow-up (跟进) and sees it in the list."""
from datetime import date

import pytest

from jobs.daily import run_daily
from tests.browser.conftest import click_nav, screenshot
from tests.warning_book import Book

pytestmark = pytest.mark.browser


def test_officer_handles_an_overdue_warning(page_as, db):
    book = Book(date.today())
    p = book.product()
    for name, days in (("周逾期", 35), ("吴逾期", 8)):
        c = book.customer(name)
        book.loan(c, p, start=book.day(-60), installments=[(book.day(-days), 5000, 80), (book.day(20), 5000, 80)])
    db.session.commit()
    assert run_daily(book.as_of).ok

    page = page_as("officer")
    page.click("text=贷后预警")
    click_nav(page, "a:has-text('还款逾期预警')")
    page.wait_for_url("**/warn_repayment_overdue/**")
    assert "逾期 35 天" in page.content()
    page.fill("#q_customer", "周")
    click_nav(page, "#search-submit")
    assert "吴逾期" not in page.content()
    click_nav(page, "a.row-link:has-text('跟进')")
    page.wait_for_url("**/handle/**")
    page.select_option("#state", "done")
    page.fill("#note", "已电话联系借款人,承诺三日内结清逾期款项")
    click_nav(page, "#handle-submit")
    page.wait_for_url("**/warn_repayment_overdue/**")
    content = page.content()
    assert "已记录跟进" in content and "已处理" in content and "周逾期" in content
    assert "q_customer" in page.url  # back to the filtered list
    screenshot(page, "warning_handled")
    click_nav(page, "#search-reset")
    assert "吴逾期" in page.content()
