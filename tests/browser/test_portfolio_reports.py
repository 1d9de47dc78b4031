"""The portfolio reports in a real browser: a risk manager opens the five screens on a seeded
book with three month-ends, reads a tooltip, clicks a class bar and lands on the loans behind
it, and downloads the XLSX of the migration matrix (as-of dates in its first rows)."""
import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook

from jobs.daily import run_daily
from services import snapshots
from tests.browser.conftest import click_nav, screenshot

pytestmark = pytest.mark.browser
AS_OF = date(2025, 6, 30)
MONEY = re.compile(r"^-?\d{1,3}(,\d{3})*\.\d{2}$")
NUMBER = re.compile(r"^(-?\d{1,3}(,\d{3})*(\.\d{2})?%?|—)$")  # money, count, share (12.34%), or none
CELLS = """() => ({
  cells: [...document.querySelectorAll('#main-content table td.num, #main-content table td.money')].map(td => ({
    text: td.innerText.trim(), money: td.classList.contains('money'), align: getComputedStyle(td).textAlign})),
  headings: [...document.querySelectorAll('#main-content h1, #main-content h2, #main-content h3, #main-content h4, #main-content h5, #main-content h6')]
    .map(h => h.tagName + ':' + (h.className || ''))
})"""


def report_layout_problems(page, where: str) -> list[str]:
    """Amount cells right-aligned in the one money format (admin_app.formats); one page title
    (h1.page-title), sections and charts titled by the shared h2 classes."""
    found = page.evaluate(CELLS)
    out = [f"{where}: {c['text']!r} aligned {c['align']}" for c in found["cells"] if c["align"] != "right"]
    out += [f"{where}: {c['text']!r} not a formatted number" for c in found["cells"] if not NUMBER.match(c["text"])]
    out += [f"{where}: money cell {c['text']!r}" for c in found["cells"]
            if c["money"] and c["text"] != "—" and not MONEY.match(c["text"])]
    if not found["cells"]:
        out.append(f"{where}: no amount cells")
    heads = found["headings"]
    if heads.count("H1:page-title") != 1:
        out.append(f"{where}: {heads.count('H1:page-title')} page titles")
    out += [f"{where}: heading {h}" for h in heads
            if h not in ("H1:page-title", "H2:section-title", "H2:chart-title")]
    return out


def test_risk_manager_reads_the_reports_and_opens_the_loans_behind_a_bar(page_as, db):
    from admin_app.seed import book

    book.run(loans=120, seed=9, as_of=AS_OF)
    db.session.commit()
    assert run_daily(AS_OF).ok
    for day in (date(2025, 4, 30), date(2025, 5, 31)):
        snapshots.rebuild(day, "测试", as_of=date(2025, 7, 1))
    page = page_as("risk_approver")
    page.goto(page.base + "/classification_stats/?by=officer")
    assert "2025-06-30 月末" in page.inner_text("#report-meta")
    assert page.locator("#chart-class-balance rect").count() == 5
    assert page.locator("#chart-npl-trend circle").count() == 3
    tip = page.locator("#chart-class-balance title").first.text_content()
    assert tip.startswith("正常:") and "笔" in tip
    screenshot(page, "portfolio_class_stats")
    click_nav(page, "#chart-class-balance a >> nth=2")  # 次级
    assert "/snapshot_loans/" in page.url and "q_five_class=3" in page.url
    rows = page.locator("table.model-list tbody tr")
    assert rows.count() > 0 and "次级" in rows.first.inner_text()
    problems = []
    for path, marker in (("/classification_stats/", "#snapshot-months"), ("/classification_migration/", "#migration-rates"),
                         ("/overdue_ageing/", "#ageing-balance"), ("/vintage/", "#vintage-30"),
                         ("/writeoff_recovery/", "#writeoff-months")):
        page.goto(page.base + path)
        assert page.locator(marker).count() == 1, path
        problems += report_layout_problems(page, path)
        screenshot(page, "portfolio" + path.strip("/").replace("/", "_"))
    assert not problems, "\n".join(problems)
    page.goto(page.base + "/classification_migration/")
    with page.expect_download() as info:
        page.click("#export-xlsx")
    ws = load_workbook(io.BytesIO(open(info.value.path(), "rb").read())).active
    first = [[c.value for c in row] for row in ws.iter_rows(max_row=3)]
    assert first[0][0] == "五级分类迁徙" and first[1][:2] == ["期初", "2025-05-31 月末"]
