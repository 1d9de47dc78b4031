"""Every visible string is Chinese: each role walks every screen it may open (lists, 查看,
新增 and 编辑 forms, every row link of the first rows and the buttons on those pages), posts
each create form and every action and review form it met (审核意见, 利率调整, 展期, 催收, 调整分类,
冲正, 核销 ...) empty, and reads the flash messages; any Latin word outside the allow-list fails
the test. A form posted empty answers with a Chinese message under each of its required
fields (never a 500, never the browser's bubble). Also the error pages (404, 405, 413)."""
import io
import re
from datetime import date
from html.parser import HTMLParser

import pytest

from admin_app.extensions import db as _db
from admin_app.screens import ScreenView
from admin_app.seed import seed_demo
from tests.html_forms import post_forms

ROLES = ("admin", "officer", "collector", "risk_checker", "risk_approver", "reviewer")
# Latin that is data or a unit, not interface text: account names, file types, codes.
ALLOWED = {"admin", "officer", "officer2", "collector", "risk_checker", "risk_approver", "reviewer", "system",
           "CSV", "XLSX", "PDF", "Excel", "GBK", "JPEG", "JPG", "PNG", "MB", "KB", "SHA", "CSRF", "IRR", "LPR", "MOB",
           # the prefixes of 贷款编号 and 合同编号 (DK…, HT…), as the forms explain them
           "DK", "HT",
           # the password rules' example of a common password (如 12345678、password)
           "password",
           # the demo products' codes (贷款产品 代码), data entered by admins
           "GRJY", "XWLD", "CLDY", "XFD", "DQZZ", "FCDY"}
WORD = re.compile(r"(?<![A-Za-z0-9_.@/-])[A-Za-z]{2,}(?![A-Za-z0-9_.@/-])")
# option texts are checked as choices below; a textarea holds what a user typed (or, in
# Flask-Admin's inline lists, the HTML template of a new row)
SKIP_TAGS = {"script", "style", "option", "textarea", "code"}  # <code>: a command or file name


class VisibleText(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIP_TAGS:
            self._skip += 1
        for name, value in attrs:
            if name in ("placeholder", "title", "aria-label") and value:
                self.parts.append(value)
            if tag == "input" and name == "value" and dict(attrs).get("type") in ("submit", "button"):
                self.parts.append(value or "")

    def handle_endtag(self, tag):
        if tag in SKIP_TAGS and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def latin_words(html: str) -> set[str]:
    # Flask-Admin's inline lists keep a new row's HTML as hidden, escaped text.
    html = re.sub(r'<div class="inline-field-template d-none">.*?</div>', "", html, flags=re.S)
    parser = VisibleText()
    parser.feed(html)
    text = " ".join(parser.parts)
    options = " ".join(re.findall(r"<option[^>]*>([^<]*)</option>", html))
    return {w for w in WORD.findall(text + " " + options) if w not in ALLOWED}


def screen_urls(app) -> list[tuple[str, object]]:
    admin = app.extensions["postloan_admin"]
    return [(f"/{(v.url or '').strip('/')}/".replace('//', '/'), v) for v in admin._views]


@pytest.fixture
def book(db):
    seed_demo(loans=60, seed=5, as_of=date(2025, 6, 30))
    db.session.commit()


REQUIRED_LABEL = re.compile(r'<label[^>]*\bfor="([^"]+)"[^>]*>(?:(?!</label>).)*?<span class="text-danger">\*</span>', re.S)
BUTTON_LINK = re.compile(r'<a class="btn[^"]*" (?:id="[^"]*" )?href="(/[^"#]+)"')
FORM_BLOCK = re.compile(r'<form\b[^>]*\bmethod="post"[^>]*>.*?</form>', re.S | re.I)


def required_forms(html: str) -> list[tuple[str, list[str]]]:
    """(action, ids of required fields) of the page's POST forms that mark a field required."""
    out = []
    for block in FORM_BLOCK.findall(html):
        ids = REQUIRED_LABEL.findall(block)
        if ids:
            out.append((post_forms(block)[0].action, ids))
    return out


def check_empty_post(client, page_url: str, action: str, ids: list[str], found: dict, problems: list) -> None:
    """Post the form with nothing but its CSRF token: each required field is marked invalid
    with a message under it, in Chinese; the answer is the form again (or a redirect with a
    message), never a 500."""
    target = (action or page_url).replace("&amp;", "&")
    _db.session.expunge_all()
    r = client.post(target, data={})
    where = f"POST {target} (from {page_url})"
    if r.status_code >= 500 or r.status_code in (400, 403, 404, 405):
        problems.append(f"{where}: {r.status_code}")
        return
    page = r.get_data(as_text=True)
    if r.status_code != 200:
        problems.append(f"{where}: answered {r.status_code} instead of the form with its messages")
        return
    for field_id in ids:
        m = re.search(r'<(?:input|select|textarea)\b[^>]*\bid="%s"[^>]*>' % re.escape(field_id), page)
        if m is None or "is-invalid" not in m.group(0):
            problems.append(f"{where}: required field {field_id} not marked invalid")
            continue
        after = page[m.end():m.end() + 1500]
        message = re.search(r'<div class="invalid-feedback[^"]*">([^<]+)</div>', after)
        if message is None or not re.search(r"[\u4e00-\u9fff]", message.group(1)):
            problems.append(f"{where}: no Chinese message under {field_id}")
    if "novalidate" not in page:
        problems.append(f"{where}: the form lets the browser validate")
    words = latin_words(page)
    if words:
        found[where] = words


def _walk(client, url, seen, found, depth=0):
    if url in seen or len(seen) > 400:
        return None
    seen.add(url)
    # Each request of the app has a session of its own; here they share one: start clean.
    _db.session.expunge_all()
    r = client.get(url)
    if r.status_code != 200 or not r.mimetype.startswith("text/html"):
        return None
    html = r.get_data(as_text=True)
    words = latin_words(html)
    if words:
        found[url] = words
    return html


@pytest.mark.parametrize("role", ROLES)
def test_every_screen_form_and_message_is_chinese(app, client_for, book, role):
    client = client_for(role)
    seen, found, pages = set(), {}, {}
    for url, view in screen_urls(app):
        html = _walk(client, url, seen, found)
        if html is None:
            continue
        pages[url] = html
        # The first rows' links (查看, 编辑, 催收, 审核, 贷款详情 ...) and 新增, then the buttons
        # on those pages (新增检查, 约谈记录, 调整分类 ...).
        links = re.findall(r'<a class="(?:row-action|row-link)" href="([^"]+)"', html)[:12]
        links += re.findall(r'id="create-record" href="([^"]+)"', html) + BUTTON_LINK.findall(html)[:4]
        for link in links:
            link = link.replace("&amp;", "&")
            inner = _walk(client, link, seen, found)
            if inner is None:
                continue
            pages[link] = inner
            for button in BUTTON_LINK.findall(inner)[:8]:
                button = button.replace("&amp;", "&")
                deeper = _walk(client, button, seen, found)
                if deeper is not None:
                    pages[button] = deeper
        if isinstance(view, ScreenView) and view.can_create and 'id="create-record"' in html:
            # An empty create form: every validation message in Chinese, no browser bubble.
            _db.session.expunge_all()
            r = client.post(f"{url}new/", data={})
            page = r.get_data(as_text=True)
            assert "novalidate" in page, url
            words = latin_words(page)
            if words:
                found[f"POST {url}new/"] = words
    # Every action and review form met on the way, posted empty (each action once).
    problems, posted = [], set()
    for page_url, html in pages.items():
        for action, ids in required_forms(html):
            key = re.sub(r"/\d+", "/N", (action or page_url).split("?")[0])
            if key in posted:
                continue
            posted.add(key)
            check_empty_post(client, page_url, action, ids, found, problems)
    assert EXPECTED_FORMS.get(role, set()) <= posted, EXPECTED_FORMS[role] - posted
    assert len(seen) > 30
    assert not problems, "\n".join(problems)
    assert not found, f"Latin words on screens of {role}: {found}"


# The action and review forms each role must have met (so a change in the walk cannot
# silently skip them).
EXPECTED_FORMS = {
    "admin": {"/writeoff_apply/new/", "/contract_change/rate/N/", "/inspection_loans/loan/N/inspections/new"},
    "officer": {"/contract_change/rate/N/", "/contract_change/extension/N/", "/collection_overdue/collect/N",
                "/classification_manage/adjust/N/save", "/repayments/reverse/N",
                "/inspection_loans/loan/N/inspections/new", "/inspection_loans/loan/N/interviews/add"},
    "collector": {"/collection_overdue/collect/N", "/collection_query/follow-up/N"},
    "risk_checker": {"/classification_stage_risk_review/review/N/decide", "/writeoff_stage_risk_apply/review/N/decide",
                     "/inspection_stage_risk_check/review/N/decide"},
    "risk_approver": {"/classification_stage_risk_approve/review/N/decide", "/writeoff_stage_risk_approve/review/N/decide"},
    "reviewer": {"/classification_stage_final_review/review/N/decide"},
}


def _first_link(client, list_url: str, pattern: str) -> str:
    m = re.search(pattern, client.get(list_url).get_data(as_text=True))
    assert m, f"no link {pattern} on {list_url}"
    return m.group(0).replace("&amp;", "&")


def test_forms_off_the_walk_posted_empty(client_for, book):
    """The forms the walk does not post (login, 修改密码, 预警参数, 预警跟进, 上传回执, 导入, 完整信息导出,
    查看完整信息):
    posted empty, each required field gets its Chinese message inline, on the same grid macro."""
    from models import Customer

    problems, found = [], {}
    check_empty_post(client_for(None), "/login", "/login", ["username", "password"], found, problems)
    admin = client_for("admin")
    check_empty_post(admin, "/password", "/password",
                     ["current_password", "new_password", "confirm_password"], found, problems)
    check_empty_post(admin, "/customers/export_full/csv/", "/customers/export_full/csv/", ["reason"],
                     found, problems)
    from admin_app import settings
    from views.system_jobs import _required

    required = [p.key for p in settings.PARAMS if _required(p.key)]
    assert len(required) > 10
    check_empty_post(admin, "/settings/", "/settings/save/", required, found, problems)
    check_empty_post(admin, "/customers/import/", "/customers/import/preview/", ["import-file"], found, problems)
    customer = _db.session.query(Customer).filter(Customer.phone.isnot(None)).first()
    reveal = f"/pii/reveal/customer/{customer.id}/phone/"
    check_empty_post(admin, reveal, reveal, ["reason"], found, problems)
    handle = _first_link(admin, "/warn_repayment_overdue/", r"/warn_repayment_overdue/handle/\?id=\d+")
    check_empty_post(admin, handle, handle, ["state"], found, problems)
    collector = client_for("collector")
    upload = _first_link(collector, "/receipt_borrower/", r"/receipt_borrower/upload/\d+")
    check_empty_post(collector, upload, upload, ["receipt"], found, problems)
    assert not problems, "\n".join(problems)
    assert not found, found
    for url, client in (("/login", client_for(None)), ("/password", admin), (upload, collector),
                        ("/customers/import/", admin)):
        page = client.get(url).get_data(as_text=True)
        assert "novalidate" in page and 'class="invalid-feedback' not in page, url


def test_error_pages_are_chinese(client_for, app):
    client = client_for("officer")
    for url, method in (("/no-such-page/", "get"), ("/login", "put")):
        r = getattr(client.client, method)(url)
        assert r.status_code in (404, 405)
        assert not latin_words(r.get_data(as_text=True)), url


def test_405_and_413_pages_are_chinese(client_for, app):
    """A logged-in user posting to a page that only shows (405), and an upload over
    MAX_CONTENT_LENGTH (413): the app's own Chinese error page, with the limit stated."""
    client = client_for("collector")
    r = client.post("/receipt_borrower/", data={})
    page = r.get_data(as_text=True)
    assert r.status_code == 405 and "不支持此操作方式" in page and not latin_words(page)
    too_big = b"\x89PNG" + b"\x00" * app.config["MAX_CONTENT_LENGTH"]
    r = client.client.post("/receipt_borrower/upload/1", data={"receipt": (io.BytesIO(too_big), "a.png")},
                           content_type="multipart/form-data")
    page = r.get_data(as_text=True)
    mb = app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024)
    assert r.status_code == 413 and "上传的文件过大" in page and f"{mb} MB" in page, page
    assert not latin_words(page)


def test_flask_admin_messages_are_chinese():
    from admin_app.i18n import ScreenTranslations, flash_text

    assert flash_text("Failed to create record.") == "创建记录失败。"
    assert "Integrity" not in flash_text("Integrity error. UNIQUE constraint failed: x")
    t = ScreenTranslations()
    assert t.gettext("Not a valid choice") == "请选择列表中的一项"
    assert t.gettext("This field is required.") == "此项必填"
