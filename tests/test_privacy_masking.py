"""Personal data is masked by default everywhere (issue 18): the masking rules themselves
(property tests over random declarations), and a walk of every page each demo role can
reach — lists, details, 贷款详情, collection and warning pages, lookups, exports, the audit
log — failing on any full 身份证号, phone or card number of the demo book."""
import io
import re
import zipfile
from datetime import date
from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import given, settings, strategies as st

from models.privacy import ADDRESS_FILL, MASKS, DistrictMask, Mask, declared_fields, mask_value


# ---- the rules -----------------------------------------------------------------------------
def test_declared_masks_read_as_the_issue_shows():
    assert mask_value("id_number", "110101199003071234") == "110101********1234"
    assert mask_value("phone", "13812345678") == "138****5678"
    assert mask_value("account", "6222021234567890123") == "6222 **** **** 0123"
    assert mask_value("address", "浙江省杭州市西湖区文三路12号3幢101室") == "浙江省杭州市西湖区****"
    assert mask_value("address", "上海市浦东新区张杨路1号") == "上海市浦东新区****"
    assert mask_value("address", "文三路12号") == "****"
    assert mask_value("name", "张三") == "张三"  # personal, not masked
    assert mask_value(None, "13812345678") == "13812345678"


def test_every_identifier_column_is_declared():
    from models import BankCard, Customer, Guarantor, Warning

    assert declared_fields(Customer) == {"name": "name", "id_number": "id_number", "phone": "phone",
                                         "contact_person": "name", "address": "address"}
    assert declared_fields(Guarantor) == {"name": "name", "id_number": "id_number", "phone": "phone"}
    assert declared_fields(BankCard)["card_number"] == "account"
    assert declared_fields(Warning)["phone"] == "phone"


@settings(max_examples=400, deadline=None)
@given(head=st.integers(0, 12), tail=st.integers(0, 12), fill=st.one_of(st.none(), st.text("* ", max_size=12)),
       value=st.text(min_size=1, max_size=40))
def test_a_mask_never_shows_more_than_its_declared_characters(head, tail, fill, value):
    rule = Mask("x", head=head, tail=tail, fill=fill)
    out = rule.apply(value)
    kept_head, kept_tail = rule.kept(len(value))
    assert kept_head <= head and kept_tail <= tail
    # At least a third of the value is hidden, whatever the declaration.
    assert kept_head + kept_tail <= len(value) - -(-len(value) // 3)
    assert out.startswith(value[:kept_head])
    assert out.endswith(value[len(value) - kept_tail:] if kept_tail else "")
    middle = out[kept_head:len(out) - kept_tail]
    assert middle == (fill if fill is not None else "*" * (len(value) - kept_head - kept_tail))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([k for k, v in MASKS.items() if isinstance(v, Mask)]),
       st.text(alphabet="0123456789X-", min_size=1, max_size=24))
def test_declared_kinds_never_leak_more_digits_than_declared(kind, value):
    rule = MASKS[kind]
    shown = mask_value(kind, value)
    digits_shown = sum(c.isdigit() for c in shown)
    assert digits_shown <= rule.head + rule.tail
    assert digits_shown <= sum(c.isdigit() for c in value)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["浙江省", "杭州市", "西湖区", "余杭县", "路", "12", "号", "幢", "室", "中山",
                                 "自治区", "市", "区", "A", "3"]), min_size=1, max_size=10).map("".join))
def test_an_address_shows_its_district_at_most(address):
    out = DistrictMask("地址").apply(address)
    assert out.endswith(ADDRESS_FILL)
    prefix = out[:-len(ADDRESS_FILL)]
    assert address.startswith(prefix)
    assert not any(c.isdigit() for c in prefix)  # no house numbers, buildings or rooms
    assert prefix == "" or prefix[-1] in "省区市县旗州盟"


# ---- the walk ------------------------------------------------------------------------------
ROLES = ("admin", "officer", "officer2", "collector", "risk_checker", "risk_approver", "reviewer")
SKIP = ("/logout", "/static/", "/pii/reveal/")
PER_PATTERN = 2
MAX_PAGES = 700


def demo_identifiers(db) -> dict[str, str]:
    """Every full identifier of the book: value -> what it is."""
    from models import BankCard, Customer, Guarantor

    found = {}
    for model, fields in ((Customer, ("id_number", "phone")), (Guarantor, ("id_number", "phone")),
                          (BankCard, ("card_number",))):
        for field in fields:
            for (value,) in db.session.query(getattr(model, field)):
                found[value] = f"{model.__tablename__}.{field}"
    return found


def _pattern(url: str) -> str:
    parts = urlsplit(url)
    keys = sorted(k.split("=")[0] for k in parts.query.split("&") if k)
    return re.sub(r"\d+", "N", parts.path) + "?" + "&".join(keys)


def walk(client, start=("/",), max_pages=MAX_PAGES):
    """Every page reachable by GET links from `start`, a couple per URL pattern; yields
    (url, response). AJAX lookups found in forms are called with a one-digit term."""
    queue, seen, per_pattern = list(start), set(), {}
    while queue and len(seen) < max_pages:
        url = queue.pop(0)
        if url in seen or any(s in url for s in SKIP):
            continue
        pattern = _pattern(url)
        if per_pattern.get(pattern, 0) >= PER_PATTERN:
            continue
        per_pattern[pattern] = per_pattern.get(pattern, 0) + 1
        seen.add(url)
        response = client.get(url)
        yield url, response
        if not response.content_type.startswith("text/html"):
            continue
        html = response.get_data(as_text=True)
        for href in re.findall(r'href="([^"#]+)"', html):
            href = urljoin(url, href.replace("&amp;", "&"))
            if href.startswith("/") and href not in seen:
                queue.append(href)
        for lookup in re.findall(r'data-url="([^"]+)"', html):
            for term in ("1", "3", "6"):
                queue.append(urljoin(url, lookup.replace("&amp;", "&")) + f"?name=x&query={term}")


@pytest.fixture
def demo_book(db):
    from admin_app.seed import seed_demo

    seed_demo(loans=80, seed=11, as_of=date(2025, 6, 30))
    db.session.commit()
    return demo_identifiers(db)


def _screen_urls(app) -> list[str]:
    from flask import url_for

    with app.test_request_context():
        return [url_for(v.endpoint + "." + v._default_view) for v in app.extensions["postloan_admin"]._views
                if v.endpoint != "pii_reveal"]


def _ajax_lookup_urls(app) -> list[str]:
    """The AJAX lookup of every screen's foreign-key pickers, by its fields."""
    from flask import url_for

    urls = []
    with app.test_request_context():
        for view in app.extensions["postloan_admin"]._views:
            for name in (getattr(view, "form_ajax_refs", None) or {}):
                for term in ("1", "3", "6", "张"):
                    urls.append(url_for(view.endpoint + ".ajax_lookup", name=name, query=term))
    return urls


def _text(response) -> str:
    """A page's text; an XLSX export's cells (every XML member of the zip)."""
    data = response.get_data()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            return "".join(book.read(n).decode() for n in book.namelist() if n.endswith(".xml"))
    return data.decode("utf-8", "replace")


@pytest.mark.parametrize("username", ROLES)
def test_no_role_sees_a_full_identifier_it_has_not_revealed(app, db, client_for, demo_book, username):
    identifiers = demo_book
    assert len(identifiers) > 150
    pattern = re.compile("|".join(sorted(map(re.escape, identifiers), key=len, reverse=True)))
    client = client_for(username)
    start = ["/"] + _screen_urls(app) + _ajax_lookup_urls(app)
    leaks, pages, kinds = [], 0, set()
    for url, response in walk(client, start):
        if response.status_code != 200:
            continue
        pages += 1
        kinds.add(response.content_type.split(";")[0])
        body = _text(response)
        for hit in set(pattern.findall(body)):
            leaks.append(f"{url}: {identifiers[hit]} {hit}")
    assert not leaks, "\n".join(leaks[:20])
    assert pages > 40, pages
    if username in ("admin", "officer"):
        assert "text/csv" in kinds  # exports were walked too
