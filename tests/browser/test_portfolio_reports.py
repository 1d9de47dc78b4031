"""The portfolio reports in a real browser: a risk manager opens the five screens on a seeded
book with three month-ends, reads a tooltip, clicks a class bar and lands on the loans behind
it, and downloads the XLSX of the migration matrix (as-of dates in its first rows)."""
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from jobs.daily import run_daily
from services import snapshots
from tests.browser.conftest import click_nav, screenshot

pytestmark = pytest.mark.browser
AS_OF = date(2025, 6, 30)


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
    for path, marker in (("/classification_migration/", "#migration-rates"), ("/overdue_ageing/", "#ageing-balance"),
                         ("/vintage/", "#vintage-30"), ("/writeoff_recovery/", "#writeoff-months")):
        page.goto(page.base + path)
        assert page.locator(marker).count() == 1, path
        screenshot(page, "portfolio" + path.strip("/").replace("/", "_"))
    page.goto(page.base + "/classification_migration/")
    with page.expect_download() as info:
        page.click("#export-xlsx")
    ws = load_workbook(io.BytesIO(open(info.value.path(), "rb").read())).active
    first = [[c.value for c in row] for row in ws.iter_rows(max_row=3)]
    assert first[0][0] == "五级分类迁徙" and first[1][:2] == ["期初", "2025-05-31 月末"]
