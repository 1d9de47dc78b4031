"""Date and time inputs are the app's Chinese date picker (admin_app.date_input), never the
browser's own (<input type="date"> / datetime-local follow the browser's language): every
template, every WTForms date field and Flask-Admin's scaffolded forms; the picker's files are
named only on pages that have a date input."""
import pathlib
import re
from datetime import date, datetime

from werkzeug.datastructures import MultiDict

from admin_app.date_input import DateField, MinuteField
from tests import book_factory as bf

ROOT = pathlib.Path(__file__).resolve().parent.parent
BROWSER_PICKER = re.compile(r"""type\s*=\s*['"](date|datetime-local|month|week|time)['"]|DateTimeLocalField|widgets\.DateInput|import DateInput""")


def test_no_template_or_view_asks_for_the_browsers_picker():
    files = list((ROOT / "admin_app" / "templates").rglob("*.html")) + list((ROOT / "views").glob("*.py")) \
        + list((ROOT / "admin_app").glob("*.py"))
    hits = [f"{p.relative_to(ROOT)}:{n}" for p in files
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if BROWSER_PICKER.search(line)]
    assert not hits, hits


def test_date_and_minute_fields_read_what_the_picker_writes(app):
    from flask_wtf import FlaskForm

    class F(FlaskForm):
        class Meta:
            csrf = False
        day = DateField("日期")
        at = MinuteField("时间")

    with app.test_request_context():
        f = F(formdata=MultiDict({"day": "2025-06-30", "at": "2025-06-30 09:15"}))
        assert f.validate() and f.day.data == date(2025, 6, 30) and f.at.data == datetime(2025, 6, 30, 9, 15)
        assert F(formdata=MultiDict({"day": "2025-06-30", "at": "2025-06-30T09:15"})).validate()  # an old form
        bad = F(formdata=MultiDict({"day": "30/06/2025", "at": "x"}))
        assert not bad.validate()
        assert bad.day.errors and re.search(r"[\u4e00-\u9fff]", bad.day.errors[0])  # wtforms' Chinese
        assert bad.at.errors and re.search(r"[\u4e00-\u9fff]", bad.at.errors[0])
        html = str(f.day())
        assert 'type="text"' in html and 'data-date-picker="date"' in html and 'value="2025-06-30"' in html
        assert 'data-date-picker="minute"' in str(f.at()) and 'value="2025-06-30 09:15"' in str(f.at())


def test_the_picker_is_named_only_on_pages_with_a_date_input(client_for, db):
    loan = bf.active_loan()
    db.session.commit()
    officer = client_for("officer")
    pages = {f"/contract_change/rate/{loan.id}/": True, f"/loan_detail/{loan.id}/": True,
             f"/collection_overdue/": False, "/customers/": False}
    for url, has_picker in pages.items():
        html = officer.get(url).get_data(as_text=True)
        assert ("date-picker.js" in html and "daterangepicker" in html) == has_picker, url
        assert ('data-date-picker="date"' in html) == has_picker, url


def test_scaffolded_admin_forms_use_the_picker(client_for):
    html = client_for("admin").get("/loans/new/").get_data(as_text=True)
    dates = re.findall(r'<input[^>]*data-date-picker="date"[^>]*>', html)
    assert dates and all('type="text"' in d for d in dates)
