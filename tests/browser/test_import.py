"""导入 in a real browser: download the template from the 客户 screen, fill it as a user
would, upload, read the preview (an error row named by row and column), import the valid
rows, download the error report, and see the import under 导入记录."""
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from models import Customer
from tests.book_factory import resident_id
from tests.browser.conftest import click_nav, screenshot

pytestmark = pytest.mark.browser


def test_template_fill_preview_and_import(page_as, db, tmp_path):
    page = page_as("admin")
    page.goto(page.base + "/customers/")
    with page.expect_download() as info:
        page.click("#import-template")
    template = info.value
    assert template.suggested_filename.endswith(".xlsx") and "客户" in template.suggested_filename
    book = load_workbook(io.BytesIO(open(template.path(), "rb").read()))
    sheet = book.worksheets[0]
    assert "填写说明" in book.sheetnames
    rows = [("个人", "浏览器客户甲", resident_id(801), "13600000801"),
            ("个人", "浏览器客户乙", resident_id(802), "136"),  # bad phone
            ("个人", "浏览器客户丙", resident_id(803), "13600000803")]
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            sheet.cell(row=r, column=c).value = value
        sheet.cell(row=r, column=7).value = "officer"
    filled = tmp_path / "客户导入.xlsx"
    book.save(filled)

    click_nav(page, "#import-open")
    page.set_input_files("#import-file", str(filled))
    click_nav(page, "#import-preview")
    content = page.content()
    assert "第 3 行「联系电话」" in content and "浏览器客户甲" in content
    assert page.inner_text(".count-create") == "2" and page.inner_text(".count-error") == "1"
    screenshot(page, "import_preview")
    assert db.session.scalar(select(Customer).where(Customer.name.like("浏览器客户%"))) is None

    click_nav(page, "#import-valid")
    assert "导入完成" in page.inner_text("#import-message")
    with page.expect_download() as info:
        page.click("#import-report")
    report = load_workbook(io.BytesIO(open(info.value.path(), "rb").read())).active
    values = list(report.values)
    assert values[0][-1] == "错误原因" and values[1][1] == "浏览器客户乙" and "联系电话" in values[1][-1]
    screenshot(page, "import_done")
    db.session.expire_all()
    names = set(db.session.scalars(select(Customer.name).where(Customer.name.like("浏览器客户%"))))
    assert names == {"浏览器客户甲", "浏览器客户丙"}

    page.goto(page.base + "/import_records/")
    assert "客户导入.xlsx" in page.content() and "部分导入" in page.content()
    screenshot(page, "import_records")
