"""The Chinese date picker (admin_app/date_input.py, static/date-picker.js): a date field opens
Flask-Admin's bundled daterangepicker with Chinese month and weekday names, weeks from
Monday; picking a day fills YYYY-MM-DD and the form submits it. Its scripts load only on
pages with a date input."""
import re
from datetime import date

import pytest

from tests import book_factory as bf
from tests.browser.conftest import click_nav, screenshot

pytestmark = pytest.mark.browser
ENGLISH = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|Su|Mo|Tu|We|Th|Fr|Sa|Apply|Cancel)\b")


def test_rate_change_date_is_picked_in_chinese(page_as, db):
    loan = bf.active_loan(bf.customer("日期客户"))
    db.session.commit()
    page = page_as("officer")
    scripts = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    page.goto(page.base + f"/contract_change/rate/{loan.id}/")
    assert page.get_attribute("#effective_date", "type") == "text"
    page.click("#effective_date")
    picker = page.locator(".daterangepicker:visible .calendar:visible")
    picker.wait_for()
    head = picker.locator("thead").inner_text()
    months = picker.locator("select.monthselect option").all_inner_texts()
    # The year before the month, as Chinese dates are written: 2026年 12月.
    selects = picker.locator("th.month select").evaluate_all("els => els.map(e => e.className)")
    assert selects == ["yearselect", "monthselect"], selects
    year = picker.locator("select.yearselect option:checked").inner_text()
    assert year == f"{date.today().year}年", year
    assert months[:3] == ["1月", "2月", "3月"] and months[-1] == "12月"
    weekdays = picker.locator("thead tr").nth(1).locator("th").all_inner_texts()
    assert weekdays == ["一", "二", "三", "四", "五", "六", "日"]  # weeks from Monday
    assert not ENGLISH.search(head + " " + picker.inner_text()), picker.inner_text()
    screenshot(page, "date_picker_rate_change")
    # Pick the 15th of the month shown.
    today = date.today()
    picker.locator("td.available:not(.off)", has_text=re.compile(r"^15$")).first.click()
    assert page.input_value("#effective_date") == today.replace(day=15).isoformat()
    assert not page.locator(".daterangepicker").first.is_visible()
    assert any("daterangepicker.js" in s for s in scripts) and any("date-picker.js" in s for s in scripts)
    page.fill("#new_rate", "15.5")
    page.fill("#reason", "日期选择测试")
    page.fill("#effective_date", today.isoformat())  # typed dates work as well
    click_nav(page, "#rate-preview")
    assert "利率调整预览" in page.content(), page.locator(".invalid-feedback").all_inner_texts()


def test_a_picked_day_is_submitted(page_as, db):
    loan = bf.active_loan(bf.customer("日期客户二"))
    db.session.commit()
    page = page_as("officer")
    page.goto(page.base + f"/contract_change/rate/{loan.id}/")
    page.fill("#new_rate", "15.5")
    page.fill("#reason", "选择生效日期")
    page.click("#effective_date")
    picker = page.locator(".daterangepicker:visible .calendar:visible")
    today = date.today()
    picker.locator("td.available:not(.off)", has_text=re.compile(rf"^{today.day}$")).first.click()
    assert page.input_value("#effective_date") == today.isoformat()
    click_nav(page, "#rate-preview")
    assert "利率调整预览" in page.content(), page.locator(".invalid-feedback, .alert").all_inner_texts()
    assert today.isoformat() in page.content()


def test_pages_without_a_date_input_load_no_picker(page_as, db):
    page = page_as("officer")
    scripts = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    page.goto(page.base + "/customers/")
    page.wait_for_load_state("networkidle")
    assert scripts and not any("moment" in s or "daterangepicker" in s or "jquery" in s for s in scripts)
