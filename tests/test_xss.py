"""Hostile text typed into records (customer name, collection content, classification
reason, interview content, warning-free flash of a looked-up loan number) renders escaped
in list pages, in 贷款详情 and in flash messages; CSV export neutralises cells a spreadsheet
would run as a formula (leading = + - @)."""
import csv
import io
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from services import classification, inspection
from services import collection as collection_svc
from tests import book_factory as bf

HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', '=HYPERLINK("http://x")',
           "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "</textarea><svg onload=alert(1)>",
           "'';!--\"<XSS>=&{()}"]
# printable text: no control characters or surrogates (the form layer refuses those anyway)
free_text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40) \
    .filter(lambda s: s.strip() != "")
payloads = st.one_of(st.sampled_from(HOSTILE), free_text,
                     st.tuples(st.sampled_from(HOSTILE), free_text).map("".join))

LIST_PAGES = ("/loans/", "/query_overdue/", "/customers/", "/collection_overdue/", "/collection_query/",
              "/classification_manage/", "/inspection_loans/")
FORMULA = ("=", "+", "-", "@")


def assert_safe(body: str, text: str, where: str):
    if "<" in text or '"' in text and ">" in text:
        assert text not in body, f"raw hostile text in {where}: {text!r}"


def yesterday_ten() -> datetime:
    d = datetime.now() - timedelta(days=1)
    return d.replace(hour=10, minute=0, second=0, microsecond=0)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=payloads)
def test_hostile_text_renders_escaped_everywhere(db, users, client_for, text):
    stored = text.strip()
    loan = bf.overdue_loan(bf.customer(stored))
    collection_svc.record_collection(loan, target="borrower", method="phone", contacted_at=yesterday_ten(),
                                     content=text)
    inspection.record_interview(loan.id, users["officer"], held_at=datetime.now() - timedelta(hours=2),
                                place="客户厂区", participants="借款人", content=text)
    to_class = 5 if loan.five_class != 5 else 4
    classification.propose(loan.id, to_class, text, users["officer"])
    db.session.commit()
    c = client_for("admin")

    detail = c.get(f"/loan_detail/{loan.id}/")
    assert detail.status_code == 200
    body = detail.get_data(as_text=True)
    assert_safe(body, stored, "贷款详情")
    assert body.count(str(escape(stored))) >= 3, "name, collection content, interview content, reason"

    for url in LIST_PAGES:
        r = c.get(url)
        assert r.status_code == 200, url
        assert_safe(r.get_data(as_text=True), stored, url)

    # a flash message quoting what the user typed (贷款编号 lookup that finds nothing)
    r = c.get("/loan_detail/", query_string={"loan_no": text}, follow_redirects=True)
    assert r.status_code == 200
    flashed = r.get_data(as_text=True)
    assert "没有找到贷款编号为" in flashed
    assert_safe(flashed, stored, "flash")
    assert str(escape(stored)) in flashed

    # CSV export: a formula-looking cell gets an apostrophe, anything else is kept as typed
    r = c.get("/customers/export/csv/")
    assert r.status_code == 200
    names = [row for row in csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff")))]
    cells = [cell for row in names for cell in row]
    expected = ("'" + stored) if stored.startswith(FORMULA) else stored
    assert expected in cells, (expected, cells[:20])
    assert not any(cell.startswith(FORMULA) for cell in cells), "a formula cell leaked into the export"
