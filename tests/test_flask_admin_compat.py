"""The private Flask-Admin names of admin_app/flask_admin_compat.py, one test each against the
installed Flask-Admin: a rename, a removed attribute or a changed signature fails here by
name. And no module outside the compat module touches a private Flask-Admin name."""
import importlib
import inspect
import pathlib
import re

import pytest
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader

from admin_app import flask_admin_compat as compat

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _cls(path):
    module, name = path.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def _screen(app, endpoint="loans"):
    return next(v for v in compat.registered_views(app.extensions["postloan_admin"]) if v.endpoint == endpoint)


@pytest.mark.parametrize("name", sorted(compat.HOOKS))
def test_each_overridden_hook_keeps_its_parameters(name):
    path, params = compat.HOOKS[name]
    method = getattr(_cls(path), name)
    found = tuple(p for p in inspect.signature(method).parameters if p != "self")
    assert found == params, f"{path}.{name}{found}: Flask-Admin changed a hook we override"


def test_registered_views(app):
    views = compat.registered_views(app.extensions["postloan_admin"])
    assert {"loans", "users", "job_runs"} <= {v.endpoint for v in views}


def test_view_url_rules(app):
    rules = compat.view_url_rules(_screen(app, "job_runs"))
    assert ("/run/", "run_now", ("POST",)) in [(u, n, tuple(m)) for u, n, m in rules]


def test_list_extra_args(app, db):
    view = _screen(app)
    with app.test_request_context("/loans/?page=2&sort=1&desc=1&search=x"):
        args = compat.list_extra_args(view)
    assert (args.page, args.sort, args.sort_desc, args.search) == (2, 1, 1, "x")


def test_column_by_index(app):
    view = _screen(app)
    column = compat.column_by_index(view, 0)
    assert column is not None and column[0] == "loan_no"
    assert compat.column_by_index(view, 10_000) is None


def test_export_columns(app):
    names = [name for name, _label in compat.export_columns(_screen(app))]
    assert "loan_no" in names


def test_column_choices_map(app):
    choices = compat.column_choices_map(_screen(app))
    assert choices["status"]["active"] == "还款中"


def test_list_columns(app):
    columns = compat.list_columns(_screen(app))
    assert ("loan_no", "贷款编号") in columns


def test_list_value(app, db):
    from tests import book_factory as bf

    loan = bf.book()["active"]
    with app.test_request_context("/loans/"):
        assert compat.list_value(_screen(app), loan, "status") == "还款中"


def test_primary_key(app):
    assert compat.primary_key(_screen(app)) == "id"


def test_ajax_search_fields(app):
    loader = _screen(app).form_ajax_refs["customer"]
    assert isinstance(loader, QueryAjaxModelLoader)
    assert [f.key for f in compat.ajax_search_fields(loader)] == ["name", "id_number", "phone"]


def test_every_read_name_exists_in_the_installed_flask_admin(app):
    for name, path in compat.READS.items():
        cls = _cls(path)
        assert hasattr(cls, name) or name in inspect.getsource(cls), f"{path}.{name} is gone"


def test_no_private_flask_admin_name_outside_the_compat_module():
    private = set(compat.READS)
    users = {}
    for path in list((ROOT / "admin_app").rglob("*.py")) + list((ROOT / "views").rglob("*.py")):
        if path.name == "flask_admin_compat.py":
            continue
        text = path.read_text(encoding="utf-8")
        for name in private:
            # An overridden hook may defer to Flask-Admin's own through super().
            pattern = rf"(?<!super\(\))\.{name}\b" if name in compat.HOOKS else rf"\.{name}\b"
            if re.search(pattern, text):
                users.setdefault(name, []).append(str(path.relative_to(ROOT)))
    assert users == {}, f"private Flask-Admin names used outside flask_admin_compat: {users}"
