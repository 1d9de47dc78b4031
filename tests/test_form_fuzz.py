"""Form fuzzing: every create and edit form of every ScreenView screen, posted with random
and hostile values by a role allowed to use it, never answers 500 (nor raises): bad input
is a validation message, never a crash."""
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from admin_app.permissions import ROLES, allowed
from admin_app.screens import ScreenView
from tests import book_factory as bf

WEIRD = ["", " ", "0", "-1", "-0.001", "1e309", "NaN", "inf", "99999999999999999999999", "0.005",
         "12,000.00", "2024-02-30", "9999-12-31", "0001-01-01", "2024-13-01 25:61:00", "abc", "None",
         "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', '=HYPERLINK("http://x")',
         "' OR 1=1 --", "x" * 5000, "１２３", "١٢٣", "\u202e反转", "😀", "a\x00b", "\r\n"]
values = st.one_of(st.sampled_from(WEIRD), st.text(max_size=30),
                   st.integers(-10**12, 10**12).map(str), st.decimals(allow_nan=False, places=3).map(str))

FIELD = re.compile(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"', re.I)


class RoleUser:
    def __init__(self, role):
        self.roles = {role}
        self.is_authenticated = True


def role_for(view, verb):
    permitted = [r for r in ROLES if allowed(RoleUser(r), view.endpoint, verb)]
    if not permitted:
        return None
    return "admin" if "admin" in permitted else permitted[0]


def forms(app, db):
    """(role, url) of every create and edit form of the ScreenView screens."""
    out = []
    for view in app.extensions["postloan_admin"]._views:
        if not isinstance(view, ScreenView):
            continue
        base = "/" + view.url.strip("/")
        role = role_for(view, "create")
        if role:
            out.append((role, f"{base}/new/"))
        role = role_for(view, "edit")
        if role:
            row = db.session.execute(select(view.model).where(*view.base_filters()).limit(1)).scalar()
            if row is not None:
                pk = view.get_pk_value(row)
                out.append((role, f"{base}/edit/?id={pk}"))
    return out


def book():
    """The loan book plus one row for each screen that has an edit form."""
    from datetime import date, timedelta
    from decimal import Decimal

    from admin_app.extensions import db
    from models import Guarantor
    from tests.warning_book import Book

    loans = bf.book()
    loan = loans["active"]
    wb = Book(date.today())
    wb.collateral(loan, "mortgage", date.today() + timedelta(days=300))
    wb.credit_line(loan.customer, date.today() + timedelta(days=300))
    db.session.add(Guarantor(loan_id=loan.id, kind="person", name="担保人甲", id_number="GT0000000000000001",
                             phone="13700000000", guaranteed_amount=Decimal("50000.00")))
    db.session.commit()
    return loans


def fresh_tables(db):
    """Each hypothesis example starts from the same empty book (the fixture runs once)."""
    from admin_app.seed.accounts import ensure_demo_users
    from tests.conftest import _truncate_all

    db.session.rollback()
    _truncate_all()
    db.session.expunge_all()
    ensure_demo_users()
    db.session.commit()


def test_there_are_forms_to_fuzz(app, db):
    book()
    urls = [u for _, u in forms(app, db)]
    assert {"/customers/new/", "/loans/new/", "/repayments/new/", "/users/new/"} <= set(urls)
    assert {"/customers/edit/", "/collaterals/edit/", "/credit_lines/edit/", "/guarantors/edit/"} <= \
        {u.split("?")[0] for u in urls}


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_and_hostile_input_never_crashes_a_form(app, db, client_for, data):
    fresh_tables(db)
    book()
    clients = {}
    problems = []
    for role, url in forms(app, db):
        c = clients.get(role) or clients.setdefault(role, client_for(role))
        page = c.get(url)
        if page.status_code != 200:
            problems.append(f"{role} GET {url}: {page.status_code}")
            continue
        html = page.get_data(as_text=True)
        names = sorted({n for n in FIELD.findall(html) if n != "csrf_token" and not n.startswith("q_")})
        form = {n: data.draw(values, label=f"{url} {n}") for n in names}
        try:
            r = c.post(url, data=form)
            status = r.status_code
        except Exception as exc:  # TESTING propagates exceptions instead of answering 500
            status = f"{type(exc).__name__}: {exc}"[:300]
            db.session.rollback()
        if status == 500 or not isinstance(status, int):
            problems.append(f"{role} POST {url}: {status} with {form!r}"[:1500])
    assert not problems, "\n".join(problems)
