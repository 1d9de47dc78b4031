"""Every private Flask-Admin name this project uses, in one place (issue 15).

Flask-Admin 2.x has no public API for these; each is read or overridden here only, and
tests/test_flask_admin_compat.py checks each against the installed Flask-Admin, so an upgrade
that renames or reshapes one fails a named test instead of a page at run time.

Two kinds:
- READ: attributes and helper methods we call (wrapped by the functions below);
- HOOKS: private methods our view classes override (ScreenView, ExportMixin, HomeView). Their
  names and parameters are listed in HOOKS and compared with the installed classes."""
from __future__ import annotations

from typing import Any

TESTED_VERSION = "2.2.1"


# ---- READ -------------------------------------------------------------------------------------
def registered_views(admin) -> list:
    """Admin._views: the views added to the Admin, in order."""
    return admin._views


def view_url_rules(view) -> list[tuple[str, str, tuple]]:
    """BaseView._urls: (url, method name, HTTP methods) of each @expose'd method."""
    return view._urls


def list_extra_args(view):
    """BaseModelView._get_list_extra_args(): the list's page, sort, search and filters from
    the request (an object with .page, .sort, .sort_desc, .search, .filters)."""
    return view._get_list_extra_args()


def column_by_index(view, index):
    """BaseModelView._get_column_by_idx(index): the (column, name) of a sort index, or None."""
    return view._get_column_by_idx(index)


def export_columns(view) -> list[tuple[str, str]]:
    """BaseModelView._export_columns: (name, label) of each exported column."""
    return view._export_columns


def column_choices_map(view) -> dict:
    """BaseModelView._column_choices_map: {column: {value: label}} from column_choices."""
    return view._column_choices_map


def list_columns(view) -> list[tuple[str, str]]:
    """BaseModelView._list_columns: (name, label) of each list column."""
    return view._list_columns


def list_value(view, model, name: str) -> Any:
    """BaseModelView._get_list_value: a list cell as Flask-Admin's own list renders it
    (formatters, type formatters, choices)."""
    return view._get_list_value(None, model, name, view.column_formatters, view.column_type_formatters)


def primary_key(view) -> str:
    """ModelView._primary_key: the name of the model's primary key attribute."""
    return view._primary_key


def ajax_search_fields(loader) -> list:
    """QueryAjaxModelLoader._cached_fields: the columns a lookup searches."""
    return loader._cached_fields


# ---- HOOKS ------------------------------------------------------------------------------------
# name -> (class path, parameters after self) of each private method our classes override.
HOOKS = {
    "_handle_view": ("flask_admin.base.BaseView", ("name", "kwargs")),
    "_apply_sorting": ("flask_admin.contrib.sqla.view.ModelView", ("query", "joins", "sort_column", "sort_desc")),
    "_apply_pagination": ("flask_admin.contrib.sqla.view.ModelView", ("query", "page", "page_size")),
    "_export_csv": ("flask_admin.model.base.BaseModelView", ("return_url",)),
    "_export_tablib": ("flask_admin.model.base.BaseModelView", ("export_type", "return_url")),
    # ScreenView masks personal columns in list cells (issue 18) and defers to Flask-Admin's own.
    "_get_list_value": ("flask_admin.model.base.BaseModelView",
                        ("context", "model", "name", "column_formatters", "column_type_formatters")),
}
READS = {
    "_views": "flask_admin.base.Admin",
    "_urls": "flask_admin.base.BaseView",
    "_get_list_extra_args": "flask_admin.model.base.BaseModelView",
    "_get_column_by_idx": "flask_admin.model.base.BaseModelView",
    "_export_columns": "flask_admin.model.base.BaseModelView",
    "_column_choices_map": "flask_admin.model.base.BaseModelView",
    "_list_columns": "flask_admin.model.base.BaseModelView",
    "_get_list_value": "flask_admin.model.base.BaseModelView",
    "_primary_key": "flask_admin.contrib.sqla.view.ModelView",
    "_cached_fields": "flask_admin.contrib.sqla.ajax.QueryAjaxModelLoader",
}
