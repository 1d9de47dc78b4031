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
