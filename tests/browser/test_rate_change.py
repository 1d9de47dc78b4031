"""合同变更 in a real browser: 利率调整 form → preview of the new schedule → 确认调整 in the\npage's own Chinese dialog (never the browser's confirm())."""
from datetime import date
from decimal import Decimal

import pytest

from models import Loan, RateChange
from tests import book_factory as bf
from tests.browser.conftest import click_nav, screenshot

pytestmark = pytest.mark.browser


def test_rate_change_with_preview_then_confirm(page_as, db):
    loan = bf.active_loan(bf.customer("浏览器客户"))
    db.session.commit()
    page = page_as("officer")
    page.goto(page.base + "/contract_change/")
    page.fill("#q_customer", "浏览器")
    click_nav(page, "#search-submit")
    click_nav(page, f"a.row-link[href$='/contract_change/rate/{loan.id}/']")
    page.fill("#new_rate", "15.5")
    page.fill("#effective_date", date.today().isoformat())
    page.fill("#reason", "市场利率上行,经协商上调")
    click_nav(page, "#rate-preview")
    page.wait_for_selector("#schedule-compare")
    assert "利率调整预览" in page.content()
    assert page.locator("#schedule-compare tbody tr").count() == 12
    assert page.inner_text("#total-old-interest") != page.inner_text("#total-new-interest")
    screenshot(page, "rate_change_preview")
    db.session.expire_all()
    assert db.session.query(RateChange).count() == 0  # a preview writes nothing

    native = []
    page.on("dialog", lambda d: (native.append(d.message), d.dismiss()))
    page.click("#rate-confirm")
    page.wait_for_selector("#confirm-dialog[open]")
    assert "确定" in page.inner_text("#confirm-text")
    assert page.inner_text("#confirm-ok") == page.inner_text("#rate-confirm")
    screenshot(page, "rate_change_confirm_dialog")
    page.click("#confirm-ok")
    page.wait_for_url(f"**/contract_change/rate_history/{loan.id}/")
    assert "15.5" in page.inner_text("#rate-history")
    assert "市场利率上行" in page.inner_text("#rate-history")
    screenshot(page, "rate_change_history")
    db.session.expire_all()
    assert db.session.get(Loan, loan.id).rate == Decimal("15.5")
    assert native == []  # the browser's own confirm() never showed


def test_dismissing_the_confirm_dialog_changes_nothing(page_as, db):
    loan = bf.active_loan()
    db.session.commit()
    page = page_as("officer")
    page.goto(page.base + f"/contract_change/rate/{loan.id}/")
    page.fill("#new_rate", "10")
    page.fill("#effective_date", date.today().isoformat())
    page.fill("#reason", "测试取消")
    click_nav(page, "#rate-preview")
    native = []
    page.on("dialog", lambda d: (native.append(d.message), d.dismiss()))
    page.click("#rate-confirm")
    page.wait_for_selector("#confirm-dialog[open]")
    page.click("#confirm-cancel")
    assert not page.locator("#confirm-dialog").is_visible()
    assert "利率调整预览" in page.content()
    assert native == []
    db.session.expire_all()
    assert db.session.query(RateChange).count() == 0


def test_run_now_asks_in_the_styled_dialog(page_as, db):
    from models import JobRun

    page = page_as("admin")
    native = []
    page.on("dialog", lambda d: (native.append(d.message), d.dismiss()))
    page.goto(page.base + "/job_runs/")
    before = db.session.query(JobRun).count()
    page.click("#run-now")
    page.wait_for_selector("#confirm-dialog[open]")
    assert page.inner_text("#confirm-text") == "立即为今天运行日终任务?"
    assert page.inner_text("#confirm-ok") == "立即运行"
    assert not page.locator("#confirm-dialog .confirm-note").is_visible()  # not a delete
    screenshot(page, "run_now_confirm_dialog")
    page.click("#confirm-cancel")
    db.session.expire_all()
    assert db.session.query(JobRun).count() == before
    page.click("#run-now")
    page.wait_for_selector("#confirm-dialog[open]")
    click_nav(page, "#confirm-ok")
    db.session.expire_all()
    assert db.session.query(JobRun).count() == before + 1
    assert native == []
