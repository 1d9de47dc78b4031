"""CSRF on every POST: each POST-accepting rule of the URL map, posted by a user the
permission table lets through (admin when allowed), without a token, with a garbage token
and with a valid token of another session, answers 400 and changes nothing."""
import re

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db as _db
from admin_app.permissions import ROLES, allowed
from admin_app.screens import PermissionMixin
from tests import book_factory as bf


class RoleUser:
    def __init__(self, role):
        self.roles = {role}
        self.is_authenticated = True


def post_rules(app):
    views = {v.endpoint: v for v in app.extensions["postloan_admin"]._views}
    out = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        key, _, method = rule.endpoint.partition(".")
        view = views.get(key)
        role = "admin"
        if isinstance(view, PermissionMixin):
            verb = view.verb_for(method)
            permitted = [r for r in ROLES if allowed(RoleUser(r), view.endpoint, verb)]
            if permitted and "admin" not in permitted:
                role = permitted[0]
        out.append((rule, role))
    return out


def url_of(rule, ids):
    values = {}
    for arg in rule.arguments:
        conv = rule._converters.get(arg)
        if type(conv).__name__ == "IntegerConverter":
            values[arg] = ids
        else:
            values[arg] = "csv" if arg == "export_type" else "1"
    return rule.build(values, append_unknown=False)[1]


def counts():
    return {t.name: _db.session.scalar(select(func.count()).select_from(t)) for t in _db.metadata.sorted_tables}


# plausible form fields, so a request that slipped past CSRF would have something to write
FORM = {"name": "攻击者", "note": "csrf", "content": "csrf", "reason": "csrf", "action": "delete",
        "rowid": ["1", "2"], "id": "1", "amount": "100.00", "username": "admin", "password": "demo12345",
        "value": "1", "list_form_pk": "1", "url": "/"}


def test_the_url_map_has_post_rules_to_check(app):
    endpoints = {rule.endpoint for rule, _ in post_rules(app)}
    assert len(endpoints) > 50
    assert {"settings.save", "job_runs.run_now", "customers.create_view", "customers.delete_view"} <= endpoints


@pytest.mark.parametrize("variant", ["missing", "garbage", "other_session"])
def test_every_post_without_a_valid_token_is_refused_and_changes_nothing(app, db, client_for, variant):
    book = bf.book()
    loan_id = book["active"].id
    clients = {}
    other = client_for("officer")
    other_token = other.csrf_from(other.get("/"))
    problems = []
    for rule, role in post_rules(app):
        c = clients.get(role) or clients.setdefault(role, client_for(role))
        url = url_of(rule, loan_id)
        data = dict(FORM)
        if variant == "garbage":
            data["csrf_token"] = "IjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAi.aaaaaa.bbbbbbbbbbbbbbbb"
        elif variant == "other_session":
            data["csrf_token"] = other_token
        before = counts()
        r = c.post(url, data=data, csrf=False)
        db.session.expire_all()
        if r.status_code != 400:
            problems.append(f"{role} POST {url} ({variant}): {r.status_code}, expected 400")
        after = counts()
        if after != before:
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            problems.append(f"{role} POST {url} ({variant}) changed rows: {changed}")
        still = c.get("/")
        if still.status_code == 302 and "/login" in (still.location or ""):
            problems.append(f"{role} POST {url} ({variant}) logged the user out")
            clients.pop(role)
    assert not problems, "\n".join(problems)


def test_a_valid_token_is_accepted(client_for, db):
    """The control: the same client machinery with its own token gets through, so the 400s
    above come from the token and not from something else."""
    c = client_for("admin")
    before = counts()["audit_log"]
    r = c.post("/customers/new/", data={"kind": "person", "name": "对照客户", "id_number": bf.resident_id(777),
                                         "phone": "13900000777"})
    assert r.status_code == 302, r.get_data(as_text=True)[-1500:]
    from models import Customer
    assert db.session.scalar(select(func.count()).select_from(Customer).where(Customer.name == "对照客户")) == 1
    assert counts()["audit_log"] > before
