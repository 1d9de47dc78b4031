"""Hostile text typed into every text field staff can fill renders escaped wherever it shows:
lists (and their search boxes), detail and history pages, review pages, 贷款详情, flash
messages and CSV exports; exports neutralise cells a spreadsheet would run as a formula.

Data-driven: FIELDS says, for each text field, which form/service writes it (through the
same service the form calls, or the model a Flask-Admin form saves) and on which pages it
must show. One hypothesis example writes every field (each text tagged with its field's
number so it can be told apart), then crawls the app: every list screen plain and searched,
every same-site link one step away (details, reviews, histories, 贷款详情, follow-ups) and
every CSV export. No page may carry a hostile text raw; every field must show, escaped, on
each page FIELDS names for it. A second test posts hostile text into every text input of
every create form and checks the re-rendered form escapes it."""
import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from tests import book_factory as bf
from tests.test_form_fuzz import book, forms, fresh_tables

HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', '=HYPERLINK("http://x")',
           "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "</textarea><svg onload=alert(1)>",
           "'';!--\"<XSS>=&{()}", "<a href='javascript:alert(1)'>x</a>"]
# printable text: no control characters or surrogates (the form layer refuses those anyway)
free_text = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=30) \
    .filter(lambda s: s.strip() != "")
payloads = st.one_of(st.sampled_from(HOSTILE), st.tuples(st.sampled_from(HOSTILE), free_text).map("".join),
                     free_text)
FORMULA = ("=", "+", "-", "@")
SHOWN = 24  # characters of a text that every page shows at least (lists cut long texts)


def yesterday_ten() -> datetime:
    d = datetime.now() - timedelta(days=1)
    return d.replace(hour=10, minute=0, second=0, microsecond=0)


# ---- the fields -------------------------------------------------------------------------
@dataclass
class Field:
    key: str  # what is written, e.g. "bank_card.note"
    form: str  # the form that writes it in the app
    pages: tuple  # regexes of page paths (or "csv:<path>") where the text must show
    limit: int = 64  # column length


LOAN = r"/loan_detail/\d+/"
CSV = "csv:/{}/export/csv/".format
FIELDS = [
    Field("customer.name", "基础数据 › 客户", (
        "/customers/$", "/customers/details/", LOAN, "/loans/$", "/query_overdue/$", "/contract_change/$",
        "/collection_overdue/$", "/bank_cards/$", "/warn_repayment_overdue/$", "/classification_manage/history/",
        "/writeoff_stage_risk_apply/review/", CSV("customers"), CSV("loans"), CSV("query_overdue"),
        CSV("bank_cards"), CSV("warn_repayment_overdue")), limit=128),
    Field("customer.contact_person", "基础数据 › 客户", ("/customers/$", "/customers/details/",
                                                  "/warn_repayment_overdue/handle/", CSV("customers"))),
    # customer.address is shown only down to its district (models.privacy): text below it,
    # hostile or not, appears on no page (tests/test_privacy_masking.py).
    Field("product.name", "基础数据 › 贷款产品", ("/products/$", "/products/details/", LOAN, "/query_overdue/$",
                                             "/writeoff_apply/$", CSV("products"), CSV("loans"))),
    *[Field(f"bank_card.{name}", "客户银行卡账户管理", ("/bank_cards/$", "/bank_cards/details/", CSV("bank_cards")))
      for name in ("bank_name", "branch", "account_name")],
    Field("bank_card.note", "客户银行卡账户管理", ("/bank_cards/details/", "/bank_cards/edit/")),
    *[Field(f"collateral.{name}", "基础数据 › 抵质押物", ("/collaterals/$", "/collaterals/details/", LOAN,
                                                    CSV("collaterals")))
      for name in ("description", "registration_no")],
    Field("guarantor.name", "基础数据 › 担保人", ("/guarantors/$", "/guarantors/details/", LOAN,
                                             "/collection_guarantor/$", CSV("guarantors"),
                                             CSV("collection_guarantor"))),
    Field("user.display_name", "系统管理 › 用户", ("/users/$", LOAN, "/classification_stage_risk_approve/review/",
                                              "/collection_query/$", "/audit_log/$", CSV("users"))),
    Field("rate_change.reason", "合同变更 › 利率调整", ("/contract_change/rate_history/", LOAN)),
    Field("extension.reason", "合同变更 › 展期", (LOAN, "/audit_log/details/")),
    *[Field(f"interview.{name}", "贷后检查 › 约谈记录", ("/inspection_loans/loan/\\d+/interviews/", LOAN))
      for name in ("place", "participants", "content", "follow_up")],
    *[Field(f"inspection.{name}", "贷后检查 › 贷后检查", ("/inspection_stage_risk_check/review/",
                                                    "/audit_log/details/"))
      for name in ("operation_findings", "finance_findings", "fund_usage_findings", "collateral_findings",
                   "guarantor_findings")],
    Field("inspection.risk_signals", "贷后检查 › 贷后检查", ("/inspection_stage_risk_check/review/", LOAN)),
    Field("inspection.conclusion", "贷后检查 › 贷后检查", (
        "/inspection_stage_risk_check/$", "/inspection_stage_risk_check/review/",
        "/inspection_loans/loan/\\d+/inspections/", LOAN)),
    Field("classification.reason", "五级分类 › 调整", (
        "/classification_stage_risk_approve/$", "/classification_stage_risk_approve/review/",
        "/classification_manage/history/", LOAN)),
    Field("approval.opinion", "审核环节 › 审核意见", ("/classification_stage_risk_approve/review/",
                                                "/classification_manage/history/", LOAN)),
    Field("writeoff.reason", "核销管理 › 不良贷款核销", (
        "/writeoff_apply/$", "/writeoff_apply/item/", "/writeoff_stage_risk_apply/$",
        "/writeoff_stage_risk_apply/review/", LOAN, CSV("writeoff_apply"))),
    Field("collection.content", "催收管理 › 还款催收", ("/collection_query/details/", "/collection_overdue/history/",
                                                  "/collection_query/follow-up/", LOAN)),
    Field("collection.result", "催收管理 › 还款催收", ("/collection_query/$", LOAN, CSV("collection_query"))),
    Field("collection.follow_up", "催收管理 › 催收查询 › 跟进", ("/collection_query/$", "/collection_overdue/history/",
                                                       LOAN)),
    Field("warning.note", "贷后预警 › 跟进", ("/warn_repayment_overdue/handle/",)),
    Field("search.q_customer", "列表查询框 (echo)", ("/loans/\\?q_customer=",)),
]


def write_everything(db, users, text: Callable[[str], str]) -> dict:
    """A small book with `text(key)` in every field of FIELDS, written through the services
    the forms call (Flask-Admin forms: the models they save)."""
    from jobs.daily import run_daily
    from models import BankCard, Collateral, Guarantor, Warning
    from services import classification, inspection, writeoff
    from services import collection as collection_svc
    from services import warnings as warning_svc
    from services.loans import change_rate, extend_loan
    from models.money import add_months

    officer = users["officer"]
    officer.display_name = text("user.display_name")
    cust = bf.customer(text("customer.name"))
    cust.contact_person = text("customer.contact_person")
    cust.address = "浙江省杭州市西湖区" + text("customer.contact_person")  # shown masked: 浙江省杭州市西湖区****
    prod = bf.product(text("product.name"))
    db.session.add(BankCard(customer_id=cust.id, bank_name=text("bank_card.bank_name"),
                            branch=text("bank_card.branch"), account_name=text("bank_card.account_name"),
                            card_number="6222020200112233445", is_default=True, note=text("bank_card.note")))
    loan = bf.overdue_loan(cust, prod)
    loan.five_class = 3  # 次级: may be written off
    db.session.add(Collateral(loan_id=loan.id, kind="mortgage", description=text("collateral.description"),
                              value=Decimal("80000.00"), registration_no=text("collateral.registration_no"),
                              start_date=loan.start_date, expiry_date=loan.maturity_date))
    db.session.add(Guarantor(loan_id=loan.id, kind="person", name=text("guarantor.name"),
                             id_number=bf.resident_id(901), phone="13700000000",
                             guaranteed_amount=Decimal("50000.00")))
    db.session.flush()
    change_rate(loan, Decimal("13.5"), date.today(), text("rate_change.reason"), officer)

    active = bf.active_loan(cust, prod)
    extend_loan(active, add_months(active.maturity_date, 3), text("extension.reason"), officer)
    inspection.record_interview(loan.id, officer, held_at=datetime.now() - timedelta(hours=2),
                                place=text("interview.place"), participants=text("interview.participants"),
                                content=text("interview.content"), follow_up=text("interview.follow_up"))
    inspection.create_inspection(
        loan.id, officer, kind="routine", method="onsite", inspected_on=date.today(),
        conclusion=text("inspection.conclusion"),
        **{k: text(f"inspection.{k}") for k in ("operation_findings", "finance_findings", "fund_usage_findings",
                                                  "collateral_findings", "guarantor_findings", "risk_signals")})
    change = classification.propose(loan.id, 4, text("classification.reason"), officer, submit=True)
    from services import approvals

    approvals.approve("classification", change.id, users["risk_checker"], text("approval.opinion"))
    writeoff.apply(loan.id, users["officer2"], submit=True, reason=text("writeoff.reason"))
    record = collection_svc.record_collection(loan, target="borrower", method="phone",
                                              contacted_at=yesterday_ten(), content=text("collection.content"),
                                              result=text("collection.result"))
    collection_svc.follow_up(record, "following", date.today() + timedelta(days=3),
                             text("collection.follow_up"), officer)
    db.session.commit()
    run_daily(date.today())
    warning = db.session.query(Warning).filter_by(kind="repayment_overdue", loan_id=loan.id).first()
    assert warning is not None, "the daily job made no 逾期 warning for the overdue loan"
    warning_svc.handle_warning(db.session, warning, state="following", note=text("warning.note"), user=officer)
    db.session.commit()
    return {"loan": loan.id}


# ---- the crawl ----------------------------------------------------------------------------
LINK = re.compile(r'href="(/[^"#]*)"')
SKIP = re.compile(r"/logout|/export/xlsx|/attachment|/receipt/|/static/|/download|\.(png|pdf|js|css)"
                  r"|/import/template|/import/report/|/import_records/report/")


def list_urls(app) -> list[str]:
    """Every list screen's index, plus the loan list searched (the query echoed in its box)."""
    urls = []
    for view in app.extensions["postloan_admin"]._views:
        try:
            urls.append(app.url_map.bind("localhost").build(f"{view.endpoint}.index_view"))
        except Exception:
            try:
                urls.append(app.url_map.bind("localhost").build(f"{view.endpoint}.index"))
            except Exception:
                continue
    return urls


def crawl(c, app, db, extra: list[str]) -> dict[str, str]:
    """GET every list screen and every same-site link on them once (one step deep)."""
    from html import unescape

    pages: dict[str, str] = {}
    todo = list_urls(app) + extra
    first_level = set(todo)
    while todo:
        url = todo.pop(0)
        if url in pages or SKIP.search(url) or len(pages) > 400:
            continue
        # Each request of the real app has its own session; the test client's requests share
        # the fixture's, where one page's noload() would leave another page an empty relation.
        db.session.rollback()
        db.session.expunge_all()
        r = c.get(url)
        assert r.status_code in (200, 302, 403), f"{url}: {r.status_code}"
        if r.status_code != 200:
            continue
        body = r.get_data(as_text=True)
        if url.split("?")[0].endswith("/export/csv/"):
            pages["csv:" + url] = body
            continue
        pages[url] = body
        if url in first_level:
            for link in LINK.findall(body):
                link = unescape(link)
                if link not in pages and not SKIP.search(link) and "page=" not in link and "sort=" not in link:
                    todo.append(link)
    return pages


def export_urls(app) -> list[str]:
    out = []
    for view in app.extensions["postloan_admin"]._views:
        if getattr(view, "can_export", False) and "csv" in getattr(view, "export_types", ()):
            out.append(f"/{view.url.strip('/')}/export/csv/")
    return out


def raw_hostile(text: str) -> list[str]:
    """The pieces of `text` that must never appear unescaped: the whole text and the prefix a
    list shows, when they hold markup characters."""
    return [t for t in {text, text[:SHOWN]} if "<" in t or ('"' in t and ">" in t)]


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                HealthCheck.too_slow])
@given(payload=payloads)
def test_hostile_text_in_every_field_renders_escaped_everywhere(app, db, users, client_for, payload):
    fresh_tables(db)
    users = {u.username: u for u in db.session.query(type(users["admin"])).all()}
    texts = {f.key: (f"F{i:02d}" + payload)[:f.limit].strip() for i, f in enumerate(FIELDS)}
    write_everything(db, users, texts.__getitem__)
    c = client_for("admin")
    pages = crawl(c, app, db, export_urls(app) + [
        "/loans/?q_customer=" + _quote(texts["search.q_customer"])])

    problems = []
    for url, body in pages.items():
        if url.startswith("csv:"):
            problems += csv_problems(url, body)
            continue
        for key, text in texts.items():
            for raw in raw_hostile(text):
                if raw in body:
                    problems.append(f"raw {key} text {raw!r} in {url}")
    for field in FIELDS:
        text = texts[field.key]
        for pattern in field.pages:
            shown = [u for u, body in pages.items() if re.search(pattern, u) and shows(body, text, u)]
            if not shown:
                problems.append(f"{field.key} ({field.form}) not shown escaped on any page matching {pattern!r}")
    assert not problems, "\n".join(problems[:30])


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def shows(body: str, text: str, url: str) -> bool:
    if url.startswith("csv:"):
        cells = {cell for row in csv.reader(io.StringIO(body.lstrip("\ufeff"))) for cell in row}
        return any(cell.lstrip("'").startswith(text[:SHOWN]) for cell in cells)
    return str(escape(text[:SHOWN])) in body


def csv_problems(url: str, body: str) -> list[str]:
    """No cell a spreadsheet would evaluate (leading = + - @, except plain numbers)."""
    out = []
    for row in csv.reader(io.StringIO(body.lstrip("\ufeff"))):
        for cell in row:
            if cell.startswith(FORMULA) and not re.fullmatch(r"-?\d[\d,]*(\.\d+)?", cell):
                out.append(f"formula cell {cell!r} in {url}")
    return out


# ---- flash messages and exports of a formula-looking name --------------------------------
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=payloads)
def test_flash_and_export_of_hostile_text(db, users, client_for, text):
    stored = text.strip()
    bf.overdue_loan(bf.customer(stored[:128]))
    db.session.commit()
    c = client_for("admin")
    # a flash message quoting what the user typed (贷款编号 lookup that finds nothing)
    r = c.get("/loan_detail/", query_string={"loan_no": text}, follow_redirects=True)
    assert r.status_code == 200
    flashed = r.get_data(as_text=True)
    assert "没有找到贷款编号为" in flashed
    for raw in raw_hostile(stored):
        assert raw not in flashed
    assert str(escape(stored)) in flashed

    # CSV export: a formula-looking cell gets an apostrophe, anything else is kept as typed
    r = c.get("/customers/export/csv/")
    assert r.status_code == 200
    cells = [cell for row in csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))) for cell in row]
    expected = ("'" + stored) if stored.startswith(FORMULA) else stored
    assert expected in cells, (expected, cells[:20])
    assert not csv_problems("/customers/export/csv/", r.get_data(as_text=True))


# ---- every create form echoes hostile input escaped ------------------------------------------
TEXT_INPUT = re.compile(r'<(?:input|textarea)\b[^>]*\bname="([^"]+)"[^>]*>', re.I)


def test_every_create_form_echoes_hostile_text_escaped(app, db, client_for):
    """Each text input of each create/edit form posted with hostile text (other fields
    empty, so the form comes back with validation messages) shows it escaped, never raw."""
    book()
    hostile = '"><script>alert("f")</script>'
    problems, clients = [], {}
    for role, url in forms(app, db):
        c = clients.get(role) or clients.setdefault(role, client_for(role))
        page = c.get(url).get_data(as_text=True)
        names = set()
        for tag in TEXT_INPUT.finditer(page):
            kind = re.search(r'type="([^"]+)"', tag.group(0))
            if tag.group(0).lower().startswith("<textarea") or kind is None or kind.group(1) in ("text", "search"):
                names.add(tag.group(1))
        names.discard("csrf_token")
        names = {n for n in names if not n.startswith("q_")}
        if not names:
            continue
        r = c.post(url, data={n: hostile for n in names}, follow_redirects=True)
        body = r.get_data(as_text=True)
        if r.status_code >= 500 or "<script>alert(\"f\")" in body:
            problems.append(f"{role} {url}: {r.status_code}, raw hostile text in the answer")
    assert not problems, "\n".join(problems)
