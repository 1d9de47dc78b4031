import pytest

from tests.browser.conftest import click_nav, screenshot

pytestmark = pytest.mark.browser


def test_login_shows_menu_in_chinese_and_search_then_reset(page_as):
    page = page_as("officer")
    assert "首页" in page.content()
    page.goto(page.base + "/bank_cards/")
    page.fill("#q_customer", "张")
    click_nav(page, "#search-submit")
    assert "q_customer=" in page.url
    click_nav(page, "#search-reset")
    assert "q_customer" not in page.url
    assert page.input_value("#q_customer") == ""
    screenshot(page, "bank_cards")


def test_wrong_password_is_refused(browser, live_url):
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(live_url + "/login")
    page.fill("#username", "officer")
    page.fill("#password", "wrong-password")
    click_nav(page, "#login-submit")
    assert "用户名或密码错误" in page.content()
    ctx.close()
