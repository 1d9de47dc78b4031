"""Browser tests: the app served on a local port by a thread, driven by Playwright with the
system Chromium (no browser download). Screenshots land in test-artifacts/."""
import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "..", "test-artifacts")


@pytest.fixture(scope="session")
def live_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM:
        pytest.fail("Chromium not found: install Debian's `chromium` (the .ci/run script does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture
def page_as(browser, live_url, db):
    """page_as('officer') -> a logged-in Playwright page (its own browser context)."""
    contexts = []

    def make(username: str, password: str = "demo12345"):
        ctx = browser.new_context(accept_downloads=True, locale="zh-CN", viewport={"width": 1400, "height": 900})
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(15000)
        page.goto(live_url + "/login")
        page.fill("#username", username)
        page.fill("#password", password)
        click_nav(page, "#login-submit")
        page.wait_for_url(lambda url: "/login" not in url)
        page.base = live_url
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def screenshot(page, name: str) -> str:
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, name + ".png")
    page.screenshot(path=path, full_page=True)
    return path


def click_nav(page, selector: str) -> None:
    """Click something that loads a new page and wait until that page has loaded, so the
    next read sees the new page and never the old one or an empty document mid-navigation."""
    with page.expect_navigation():
        page.click(selector)


def approve_at(page, endpoint: str, loan_no: str, opinion: str) -> None:
    """Open the stage screen filtered to one loan, open 审核, approve with an opinion."""
    page.goto(f"{page.base}/{endpoint}/?q_loan_no={loan_no}")
    click_nav(page, "a.row-link:has-text('审核')")
    assert loan_no in page.content()
    page.fill("#opinion", opinion)
    click_nav(page, "#btn-approve")
    page.wait_for_selector(".alert-success")
    assert "已通过" in page.content()


def pick_loan(page, loan_no: str) -> None:
    """Pick a loan in a form's AJAX loan select (Flask-Admin's select2): type, then click
    the offered loan."""
    page.click("#s2id_loan a")
    page.keyboard.type(loan_no)
    page.click(f".select2-results li:has-text('{loan_no}')")
