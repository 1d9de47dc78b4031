"""Printing 贷款详情: Chromium's own PDF (page.pdf, A4) of the page as a person prints it: no
menu, top bar, action buttons or 试算 form, every tab one after another under its name, A4
pages. With poppler (pdftoppm, pdftotext) on the machine each page lands in
test-artifacts/print/ as a PNG to look at, and the text the paper carries is checked.
(The 催收通知书: tests/browser/test_collection_notice.py, one A4 page without its toolbar.)"""
import os
import re
import shutil
import subprocess
from datetime import date

import pytest

from admin_app.seed import seed_demo
from models import Collection, Loan
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser
OUT = os.path.join(ARTIFACTS, "print")
A4 = re.compile(rb"/MediaBox\s*\[\s*0 0 (59[45](?:\.\d+)?) (84[12](?:\.\d+)?)\s*\]")
PRINT_STATE = """() => {
  const shown = sel => [...document.querySelectorAll(sel)].filter(e => getComputedStyle(e).display !== 'none' && e.offsetParent !== null);
  return {
    frame: shown('#topbar, #sidebar, #loan-actions, #loan-tabs, #quote-form, .flash').map(e => e.id || e.className),
    buttons: shown('#main-content button, #main-content .btn, #main-content .pii-reveal').map(e => e.innerText.trim()),
    panels: [...document.querySelectorAll('.tab-panel')].map(p => ({
      id: p.id, visible: p.offsetParent !== null && getComputedStyle(p).display !== 'none',
      title: getComputedStyle(p, '::before').content})),
  };
}"""


def _pages(pdf: bytes) -> list[tuple[float, float]]:
    return [(float(w), float(h)) for w, h in A4.findall(pdf)]


def look_at_pdf(pdf_path: str, name: str) -> str:
    """PNGs of the PDF for a person to look at, and its text (poppler), when installed."""
    os.makedirs(OUT, exist_ok=True)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "70", pdf_path, os.path.join(OUT, name)], check=True)
    if shutil.which("pdftotext"):
        return subprocess.run(["pdftotext", "-layout", pdf_path, "-"], check=True, capture_output=True).stdout.decode()
    return ""


@pytest.fixture
def overdue_loan_with_history(db):
    seed_demo(loans=40, seed=7, as_of=date(2025, 6, 30))
    db.session.commit()
    loan = db.session.query(Loan).join(Collection, Collection.loan_id == Loan.id) \
        .filter(Loan.status == "overdue").order_by(Loan.id).first()
    assert loan is not None
    return loan


def test_loan_detail_prints_the_content_on_a4(page_as, overdue_loan_with_history):
    os.makedirs(OUT, exist_ok=True)
    loan = overdue_loan_with_history
    page = page_as("officer")
    page.goto(f"{page.base}/loan_detail/{loan.id}/")
    assert page.locator("#loan-tabs").is_visible() and page.locator("#act-print").is_visible()
    assert sum(p["visible"] for p in page.evaluate(PRINT_STATE)["panels"]) == 1  # on screen: one tab

    page.emulate_media(media="print")
    state = page.evaluate(PRINT_STATE)
    assert state["frame"] == [], f"printed: {state['frame']}"
    assert state["buttons"] == [], f"buttons on paper: {state['buttons']}"
    assert len(state["panels"]) == 8 and all(p["visible"] for p in state["panels"]), state["panels"]
    titles = [p["title"].strip('"') for p in state["panels"]]
    assert titles == ["还款计划", "还款记录", "利率调整", "展期", "催收", "检查", "审批", "担保与抵质押"]

    path = os.path.join(OUT, "loan_detail.pdf")
    pdf = page.pdf(path=path, format="A4", print_background=True)
    pages = _pages(pdf)
    assert pages and all(abs(w - 595.3) < 1.5 and abs(h - 841.9) < 1.5 for w, h in pages), pages
    text = look_at_pdf(path, "loan_detail")
    if text:
        for must in (loan.loan_no, "剩余本金", "还款计划", "催收", "担保与抵质押"):
            assert must in text, must
        for never in ("退出登录", "贷后预警", "试算日期", "打印", "查看完整信息"):
            assert never not in text, never
        assert text.count("还款计划") == 1  # the tab's name once, not again as the panel's heading
