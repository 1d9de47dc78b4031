"""The permission matrix, generated from the app's URL map and the declared permissions:
every endpoint of every screen × every role and anonymous. Anonymous users are sent to the
login page, a refused role gets 403, an allowed role is let through. An exposed endpoint
without a declared verb fails here (and the app factory refuses to start)."""
import re

import pytest

from admin_app.permissions import ROLES, allowed
from admin_app.screens import PermissionMixin

SKIP_BLUEPRINTS = {"static", "admin.static", "auth", "_debug_toolbar"}


def _views(app):
    admin = app.extensions["postloan_admin"]
    return {v.endpoint: v for v in admin._views}


def _endpoints(app):
    views = _views(app)
    out = []
    for rule in app.url_map.iter_rules():
        if "." not in rule.endpoint:
            continue
        key, method = rule.endpoint.split(".", 1)
        view = views.get(key)
        if view is None or method == "static":
            continue
        out.append((rule, view, method))
    return out


def _url(rule):
    values = {}
    for arg in rule.arguments:
        conv = rule._converters.get(arg)
        values[arg] = 1 if conv is not None and type(conv).__name__ == "IntegerConverter" else (
            "csv" if arg == "export_type" else "1")
    path = rule.build(values, append_unknown=False)[1]
    return path


class User:
    def __init__(self, roles):
        self.roles = set(roles)
        self.is_authenticated = True


def test_every_exposed_endpoint_declares_a_verb(app):
    missing = []
    for rule, view, method in _endpoints(app):
        if isinstance(view, PermissionMixin) and view.verb_for(method) is None:
            missing.append(rule.endpoint)
    assert not missing, f"endpoints without a declared permission: {missing}"


def _cases(app):
    for rule, view, method in _endpoints(app):
        if not isinstance(view, PermissionMixin):
            continue
        verb = view.verb_for(method)
        http = "GET" if "GET" in rule.methods else "POST"
        yield rule, view, method, verb, http


def test_matrix_anonymous_goes_to_login_refused_roles_get_403(app, client_for):
    problems = []
    anon = client_for()
    role_user = {"admin": "admin", "officer": "officer", "collector": "collector",
                 "risk_checker": "risk_checker", "risk_approver": "risk_approver", "reviewer": "reviewer"}
    clients = {role: client_for(user) for role, user in role_user.items()}
    for rule, view, method, verb, http in _cases(app):
        url = _url(rule)
        r = anon.get(url) if http == "GET" else anon.post(url, data={}, csrf=False)
        if http == "GET" and not (r.status_code == 302 and "/login" in r.location):
            problems.append(f"anonymous {http} {url}: {r.status_code}")
        if http == "POST" and r.status_code not in (302, 400):
            problems.append(f"anonymous {http} {url}: {r.status_code}")
        for role, c in clients.items():
            may = allowed(User([role]), view.endpoint, verb)
            if http == "GET":
                r = c.get(url)
            else:
                r = c.post(url, data={})
            r.close()  # finish streamed exports inside this request's context
            if not may and r.status_code != 403:
                problems.append(f"{role} {http} {url} ({verb}): {r.status_code}, expected 403")
            if may and r.status_code in (403, 500):
                problems.append(f"{role} {http} {url} ({verb}): {r.status_code}, expected access")
    assert not problems, "\n".join(problems)


def test_bulk_actions_check_their_own_verb(app, client_for):
    """A role that may view a list but not delete cannot run the delete action by posting it."""
    problems = []
    for key, view in _views(app).items():
        if not isinstance(view, PermissionMixin) or "action_view" not in {u[1] for u in getattr(view, "_urls", [])}:
            continue
        url = f"/{view.url.strip('/')}/action/" if view.url else None
        for role in ROLES:
            if allowed(User([role]), key, "view") and not allowed(User([role]), key, "delete"):
                c = client_for(role)
                r = c.post(url, data={"action": "delete", "rowid": ["1"]})
                if r.status_code != 403:
                    problems.append(f"{role} delete action on {key}: {r.status_code}")
    assert not problems, "\n".join(problems)


def test_posted_money_records_and_audit_log_cannot_be_edited_or_deleted(app):
    """Repayments, rate changes, extensions, approvals and the audit log have no edit or
    delete permission for anyone, admin included: corrections are new records."""
    from admin_app.permissions import permission_table

    table = permission_table()
    for key in ("repayments", "audit_log", "loans"):
        assert "edit" not in table[key] and "delete" not in table[key], key
    for view in _views(app).values():
        model = getattr(view, "model", None)
        if model is not None and model.__name__ in ("Repayment", "RateChange", "Extension",
                                                     "ApprovalStep", "AuditLog", "Receipt"):
            entry = table.get(view.endpoint, {})
            assert "edit" not in entry and "delete" not in entry, view.endpoint


# ---- the data-scope axis (数据权限) ------------------------------------------------------
SECRET_NAME = "机密客户甲"


def _officers_book(users):
    """One of every record kind, all on officer's loan, each the first of its table (id 1)."""
    import io
    from datetime import date, datetime, timedelta
    from decimal import Decimal

    from werkzeug.datastructures import FileStorage

    from admin_app.extensions import db
    from jobs.daily import run_daily
    from models import BankCard, Collateral, CreditLine, Guarantor
    from services import classification, collection, inspection, writeoff
    from services.uploads import store_upload
    from tests import review_factory as make

    officer = users["officer"]
    cust = make.customer(name=SECRET_NAME)
    cust.officer_id = officer.id
    loan = make.loan(cust=cust, officer=officer, days_overdue=400, five_class=3,
                     overdue_interest="100.00")
    today = date.today()
    db.session.add_all([
        BankCard(customer_id=cust.id, bank_name="中国工商银行", account_name=SECRET_NAME,
                 card_number="6222020200112233445", is_default=True),
        CreditLine(customer_id=cust.id, amount=Decimal("500000"), start_date=today - timedelta(days=300),
                   expiry_date=today + timedelta(days=5)),
        Guarantor(loan_id=loan.id, kind="person", name="机密担保人", id_number="110101199001011234",
                  phone="13700000000", guaranteed_amount=Decimal("50000")),
        Collateral(loan_id=loan.id, kind="mortgage", description="机密房产", value=Decimal("900000"),
                   start_date=today - timedelta(days=300), expiry_date=today + timedelta(days=5)),
    ])
    db.session.flush()
    png = FileStorage(io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64), filename="a.png")
    inspection.record_interview(loan.id, officer, held_at=datetime.now() - timedelta(hours=1), place="A",
                                participants="B", content="C")
    inspection.create_inspection(loan.id, officer, kind="routine", method="onsite", inspected_on=today,
                                 conclusion="正常", attachment=store_upload(png))
    classification.propose(loan.id, 5, "逾期超过一年", officer, submit=True)
    writeoff.apply(loan.id, officer, reason="借款人失联", submit=True)
    record = collection.record_collection(
        loan, target="borrower", method="letter", contacted_at=datetime.now().replace(hour=10) - timedelta(days=1),
        content="寄送催收函", collector=officer)
    collection.attach_receipt(record, FileStorage(io.BytesIO(b"%PDF-1.4\n%%EOF\n"), filename="r.pdf"), officer)
    db.session.commit()
    run_daily(today)
    return loan


def test_matrix_data_scope_an_officer_never_reaches_another_officers_records(app, client_for, users):
    """officer2 (客户经理, 数据权限 本人) asks every endpoint it may use for officer's records:
    lists and exports show none of them, and every URL naming one by id answers 404."""
    loan = _officers_book(users)
    from admin_app.data_scope import scope_rules
    from admin_app.extensions import db

    secrets = (SECRET_NAME, loan.loan_no, "机密担保人", "机密房产")
    db.session.expunge_all()
    owner, other = client_for("officer"), client_for("officer2")
    assert SECRET_NAME in owner.get("/customers/").get_data(as_text=True)
    problems = []
    for rule, view, method, verb, http in _cases(app):
        if not allowed(User(["officer"]), view.endpoint, verb):
            continue
        url = _url(rule)
        by_id = bool(set(rule.arguments) - {"export_type"})
        if method in ("details_view", "edit_view"):
            shown = view.can_view_details if method == "details_view" else view.can_edit
            if not shown or getattr(view, "model", None) not in scope_rules():
                continue  # the screen has no such page, or its rows belong to nobody's book
            url, by_id = url + "?id=1", True
        if http == "POST":
            if by_id:
                r = other.post(url, data={"opinion": "x", "decision": "approve", "reason": "x"})
                if r.status_code != 404:
                    problems.append(f"POST {url}: {r.status_code}, expected 404")
            continue
        r = other.get(url)
        body = r.get_data().decode("utf-8", "replace")
        r.close()
        # 404, or (待上传回执's upload page) back to the screen's own list with a message.
        explained = r.status_code == 302 and r.location.split("?")[0].rstrip("/").endswith(view.url.rstrip("/"))
        if by_id and r.status_code != 404 and not explained:
            problems.append(f"GET {url}: {r.status_code}, expected 404")
        leaked = [s for s in secrets if s in body]
        if leaked:
            problems.append(f"GET {url} shows {leaked}")
    lookup = other.get("/loans/ajax/lookup/?name=customer&query=机").get_data(as_text=True)
    if SECRET_NAME in lookup:
        problems.append("AJAX lookup offers officer's customer")
    assert not problems, "\n".join(problems)
