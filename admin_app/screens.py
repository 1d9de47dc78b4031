"""The shared list machinery every screen declares instead of writing:

- ScreenView: a Flask-Admin ModelView whose permissions come from admin_app.permissions
  (menu, buttons, every exposed endpoint, checked on the server), with
- SearchField: the always-visible search form (查询 / 重置) of SPEC §3,
- streamed CSV (UTF-8 with BOM) and XLSX export of exactly the filtered rows (admin_app.export), formulas
  neutralised,
- safe delete: refused with a message when money or an approval hangs on a record,
- personal data masked in every list, detail and export cell, as each model column declares
  (models.privacy; admin_app.privacy shows a revealed value and the 查看完整信息 link).

A screen is a short class: model, columns, labels, search_fields, base filters."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import BaseView
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from flask_admin.model import typefmt
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup, escape
from sqlalchemy import func, select
from wtforms.fields import DateField

from admin_app.date_input import DatePickerInput

from admin_app import flask_admin_compat, formats
from admin_app.i18n import ScreenForm
from admin_app import privacy
from admin_app.export import ExportMixin
from admin_app.extensions import db
from admin_app.export_control import ExportControlMixin
from admin_app.permissions import allowed, permission_table
from models.search import contains

# Verbs of Flask-Admin's own endpoints; custom endpoints declare theirs in `verbs`.
BUILTIN_VERBS = {
    "index_view": "view",
    "details_view": "view",
    "create_view": "create",
    "edit_view": "edit",
    "delete_view": "delete",
    "action_view": "view",  # each action is checked again by its own verb
    "export": "export",
    "export_confirmed": "export",  # a large export of personal data, confirmed with a reason
    "export_full": "export_full",  # identifiers in full (admin_app.export_control)
    "ajax_lookup": "view",
    "ajax_update": "edit",
}

@dataclass
class SearchField:
    """One field of a screen's search form, read from `q_<name>` in the query string.

    mode: "prefix" (index-friendly starts-with), "exact", "contains" or "choice".
    `column` is a column expression; `join` lists entities the query must join first."""

    name: str
    label: str
    column: Any
    mode: str = "prefix"
    choices: dict | Callable[[], dict] | None = None  # a callable is read per request
    join: tuple = ()
    coerce: Callable[[str], Any] = str
    # mode "custom": build(column, raw) gives the where-clause.
    build: Callable[[Any, str], Any] | None = None

    def choice_items(self):
        choices = self.choices() if callable(self.choices) else self.choices
        return [(str(k), v) for k, v in (choices or {}).items()]

    @property
    def arg(self) -> str:
        return "q_" + self.name

    def value(self) -> str:
        return (request.args.get(self.arg) or "").strip()

    def clause(self, raw: str, counting: bool = False):
        """`counting`: for the list's capped count (a contains search may phrase it for that)."""
        col = self.column
        if self.build is not None:
            return self.build(col, raw)
        if self.mode == "prefix":
            # A range the column's index serves on SQLite and PostgreSQL alike.
            return (col >= raw) & (col < raw + "\U0010ffff")
        if self.mode == "contains":
            # Through the trigram or gram index of either database (models.search).
            return contains(col, raw, db.engine.dialect.name, db.session, ScreenView.COUNT_CAP, counting)
        try:
            return col == self.coerce(raw)
        except (TypeError, ValueError):
            return col == None  # noqa: E711 - an impossible value matches nothing


@dataclass
class DeleteGuard:
    """Refuse deleting a row while rows of `model` point at it through `fk`."""

    model: Any
    fk: str
    message: str
    extra: Callable | None = field(default=None)


class PermissionMixin:
    """Server-side checks for any admin view: every exposed method maps to a verb, and the
    permission table decides. Anonymous users go to the login page; others get 403."""

    verbs: dict[str, str] = {}

    def allowed(self, verb: str) -> bool:
        return allowed(current_user, self.endpoint, verb)

    def is_accessible(self) -> bool:
        return self.allowed("view")

    def verb_for(self, method_name: str) -> str | None:
        return self.verbs.get(method_name) or BUILTIN_VERBS.get(method_name)

    def _handle_view(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        verb = self.verb_for(name)
        if verb is None or not self.allowed(verb):
            abort(403)
        return None



class _SessionHolder:
    def __init__(self, session):
        self.session = session


def record_id(value) -> int | None:
    """A primary key from untrusted text: a plain decimal integer a database column can hold
    (an id like 9223372036854775808 is not found, not an OverflowError), else None."""
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or int(text) > 2**63 - 1:
        return None
    return int(text)


class CountAtLeast(int):
    """A list total past ScreenView.COUNT_CAP. As a number it sizes the pager (up to the
    page being shown, plus one more while pages are full, so paging on never dead-ends); as
    text it reads 「超过 N」, N the cap or the rows on the pages before this one."""

    def __new__(cls, pager_rows: int, known: int):
        value = super().__new__(cls, pager_rows)
        value.known = known
        return value

    def __str__(self) -> str:
        return f"超过 {self.known:,}"


# Columns that name the row, in the order they are looked for: at most two stay fixed at the
# left of a list (a screen may declare its own identity_columns).
IDENTITY_CANDIDATES = ("loan_no", "loan.loan_no", "customer_name", "loan.customer_name", "collection_no",
                       "customer.name", "name", "username")

# How values of each Python type read in lists and details (exports keep their own, typed).
SCREEN_TYPE_FORMATTERS = dict(typefmt.BASE_FORMATTERS)
SCREEN_TYPE_FORMATTERS.update({
    bool: lambda view, value, name: formats.yesno_text(value),
    type(None): lambda view, value, name: "",
})


class ScreenView(PermissionMixin, ExportControlMixin, ExportMixin, ModelView):
    # Flask-Admin 2.x takes the Flask-SQLAlchemy `db` (passing db.session is deprecated) and
    # keeps it in `session`; our screens query through `self.session`, the request's session.
    @property
    def session(self):
        return self._db.session

    @session.setter
    def session(self, value):
        self._db = value if hasattr(value, "session") else _SessionHolder(value)

    list_template = "admin/screen_list.html"
    details_template = "admin/screen_details.html"
    create_template = "admin/screen_create.html"
    edit_template = "admin/screen_edit.html"
    page_size = 20
    can_set_page_size = True
    page_size_options = (20, 50, 100)
    column_type_formatters = SCREEN_TYPE_FORMATTERS
    form_base_class = ScreenForm
    column_type_formatters_detail = SCREEN_TYPE_FORMATTERS
    # Columns in priority order: the identity columns (fixed at the left), then the screen's
    # key columns (what the screen is for; kept in view at 1366 px), then the rest as declared.
    identity_columns: tuple[str, ...] | None = None
    key_columns: tuple[str, ...] = ()
    can_view_details = True
    column_display_actions = True
    simple_list_pager = False
    named_filter_urls = True

    search_fields: tuple[SearchField, ...] = ()
    delete_guards: tuple[DeleteGuard, ...] = ()
    # Custom exposed methods: method name -> verb in the permission table.
    verbs: dict[str, str] = {}
    # Links shown per row: (label, endpoint, kwargs builder) resolved in the template.
    row_links: tuple = ()
    # Where-clauses every query of this screen carries (e.g. status == 'overdue').
    def base_filters(self) -> list:
        return []

    def count_filters(self) -> list:
        """base_filters as the row count should apply them (the same rows; a screen may
        phrase them so the count reads a narrower index)."""
        return self.base_filters()

    def _entry(self) -> dict:
        return permission_table().get(self.endpoint, {})

    @property
    def can_create(self):  # type: ignore[override]
        return "create" in self._entry() and self.allowed("create")

    @property
    def can_edit(self):  # type: ignore[override]
        return "edit" in self._entry() and self.allowed("edit")

    @property
    def can_delete(self):  # type: ignore[override]
        return "delete" in self._entry() and self.allowed("delete")

    @property
    def can_export(self):  # type: ignore[override]
        return "export" in self._entry() and self.allowed("export")

    def is_action_allowed(self, name: str) -> bool:
        verb = "delete" if name == "delete" else getattr(self, "action_verbs", {}).get(name, name)
        return self.allowed(verb) and super().is_action_allowed(name)

    def handle_action(self, return_view=None):
        name = request.form.get("action")
        if name and not self.is_action_allowed(name):
            abort(403)
        return super().handle_action(return_view)

    # ---- columns ---------------------------------------------------------------------
    def get_identity_columns(self) -> tuple[str, ...]:
        if self.identity_columns is not None:
            return self.identity_columns
        declared = [str(c) for c in (self.column_list or ())]
        return tuple(c for c in IDENTITY_CANDIDATES if c in declared)[:2]

    def get_list_columns(self):
        columns = super().get_list_columns()
        first = list(self.get_identity_columns()) + [c for c in self.key_columns
                                                     if c not in self.get_identity_columns()]
        rank = {c: i for i, c in enumerate(first)}
        return sorted(columns, key=lambda col: rank.get(col[0], len(rank)))

    def column_kind(self, name: str) -> str | None:
        """money / rate / date / datetime / bool from the column's SQL type (admin_app.formats)."""
        kinds = self.__dict__.setdefault("_column_kinds", {})
        if name not in kinds:
            kinds[name] = formats.column_kind(self.model, name)
        return kinds[name]

    def column_align(self, name: str) -> str:
        return "num" if self.column_kind(name) in formats.RIGHT_ALIGNED else ""

    @pass_context
    def get_detail_value(self, context, model, name):
        return formats.cell_text(self.column_kind(name), super().get_detail_value(context, model, name))

    def scaffold_form(self):
        """Date fields open the app's Chinese date picker (admin_app.date_input), not Flask-Admin's
        English date-range picker nor the browser's own."""
        form_class = super().scaffold_form()
        for name in dir(form_class):
            unbound = getattr(form_class, name, None)
            if getattr(unbound, "field_class", None) is not None and issubclass(unbound.field_class, DateField):
                unbound.kwargs["widget"] = DatePickerInput("date")
        return form_class

    # ---- querying ------------------------------------------------------------------
    def active_search(self) -> list[tuple[SearchField, str]]:
        return [(f, f.value()) for f in self.search_fields if f.value()]

    def _apply_screen_filters(self, query, base: list | None = None, counting: bool = False):
        joined = set()
        for entity in self.base_joins():
            query = query.join(entity)
            joined.add(entity)
        clauses = list(self.base_filters() if base is None else base)
        for f, raw in self.active_search():
            for entity in f.join:
                if entity not in joined:
                    query = query.join(entity)
                    joined.add(entity)
            clauses.append(f.clause(raw, counting))
        for c in clauses:
            query = query.filter(c)
        return query

    def base_joins(self) -> tuple:
        return ()

    def get_query(self):
        return self._apply_screen_filters(super().get_query())

    def get_one(self, id):
        """Only rows this screen lists (within the user's data scope) can be opened by id
        (details, edit, delete); any other id answers 404, as if it did not exist."""
        row = self.find_one(id)
        if row is None:
            abort(404)
        return row

    def find_one(self, id):
        """The row with this id if this screen lists it, else None (for pages that explain)."""
        pk = record_id(id)
        if pk is None:
            return None
        return self.get_query().filter(self.model.id == pk).one_or_none()

    def _apply_sorting(self, query, joins, sort_column, sort_desc):
        """A column the user sorts by is followed by the id in the same direction: rows with
        equal values keep one order, so paging neither repeats nor skips a row."""
        query, joins = super()._apply_sorting(query, joins, sort_column, sort_desc)
        if sort_column is not None:
            query = query.order_by(self.model.id.desc() if sort_desc else self.model.id)
        return query, joins

    # Pages from this offset on select the page's ids first (from the index alone), then
    # load and join only those rows: the database skips index entries, not joined rows.
    DEFERRED_JOIN_OFFSET = 1000

    def _apply_pagination(self, query, page, page_size):
        size = self.page_size if page_size is None else page_size
        if not (page and size) or page * size < self.DEFERRED_JOIN_OFFSET:
            return super()._apply_pagination(query, page, page_size)
        pk = self.model.id
        ids = query.enable_eagerloads(False).with_entities(pk).limit(size).offset(page * size)
        return query.filter(pk.in_(ids.scalar_subquery())).limit(size)

    # Totals count at most this many rows: past it the list reads 「超过 10,000」 and the
    # count costs a bounded index walk, not a scan of a million-row book.
    COUNT_CAP = 10_000

    def get_count_query(self):
        rows = self._apply_screen_filters(self.session.query(self.model.id), self.count_filters(), counting=True)
        return self.session.query(func.count()).select_from(rows.limit(self.COUNT_CAP + 1).subquery())

    # Past this many rows no pager leads; a page number beyond it (or below 0) is clamped,
    # never sent to the database as an offset it cannot hold.
    MAX_OFFSET = 10**9

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        if page_size is not None and page_size < 0:
            page_size = None  # 0 stays: an export's "every row"
        size = self.page_size if page_size is None else page_size
        if page is not None:
            page = min(max(page, 0), self.MAX_OFFSET // max(size or 1, 1))
        count, rows = super().get_list(page, sort_column, sort_desc, search, filters, execute, page_size)
        if count is not None and count > self.COUNT_CAP:
            size = self.page_size if page_size is None else page_size
            shown = len(rows) if execute else 0
            before = (page or 0) * size  # rows on the pages before this one
            pager_rows = max(self.COUNT_CAP, before + shown) + (size if size and shown == size else 0)
            count = CountAtLeast(pager_rows, max(self.COUNT_CAP, before))
        return count, rows

    def get_url(self, endpoint, **kwargs):
        return fast_url_for(endpoint, kwargs)

    # ---- rows ------------------------------------------------------------------------
    # The row-actions cell is rendered once per page by Flask-Admin's own macros for this
    # stand-in id (see screen_list.html), then copied into each row with the row's id.
    ROW_PK = "\x00rowpk\x00"
    ROW_PK_QUOTED = "%00rowpk%00"

    @property
    def pk_stand_in(self):
        return _StandIn(flask_admin_compat.primary_key(self), self.ROW_PK)

    def row_label(self, row) -> str:
        """What a row is called in a confirmation (「删除 DK2024… 张三?」)."""
        parts = []
        for c in self.get_identity_columns():
            value = row
            for part in c.split("."):
                value = getattr(value, part, None)
            if value not in (None, ""):
                parts.append(str(value))
        if parts:
            return " ".join(parts)
        return str(row) if type(row).__str__ is not object.__str__ else f"#{self.get_pk_value(row)}"

    def row_cells(self, row, actions_cell: str, more_cell: str, checkbox_title: str | None) -> Markup:
        """One list row's cells, in the order of the header (screen_list.html): selection
        checkbox, each column's value by Flask-Admin's own rules then formatted by its kind
        (admin_app.formats), and the row actions at the right: 查看 · 编辑 · the screen's row
        links · 更多 ▾ (删除). Built in Python: a page of 20 rows is a third of the time the
        template's per-cell macros took."""
        pk = str(escape(self.get_pk_value(row)))
        out = []
        identity = self.get_identity_columns()
        if checkbox_title is not None:
            out.append(f'<td class="list-checkbox-column fix-l"><input type="checkbox" name="rowid" '
                       f'class="action-checkbox" value="{pk}" title="{escape(checkbox_title)}" /></td>')
        for c, _name in flask_admin_compat.list_columns(self):
            kind = self.column_kind(c)
            value = formats.cell_text(kind, flask_admin_compat.list_value(self, row, c))
            classes = "col-" + c.replace(".", "-")
            if c in identity:
                classes += " fix-l"
            if formats.is_right_aligned(kind, value):
                classes += " num"
            title = ""
            if isinstance(value, str) and not isinstance(value, Markup) and len(value) > 10:
                title = f' title="{escape(value)}"'
            out.append(f'<td class="{classes}"{title}>{escape(value)}</td>')
        if self.column_display_actions:
            links = [actions_cell.replace(self.ROW_PK_QUOTED, pk).replace(self.ROW_PK, pk)]
            for link in self.row_links:
                url = link.url(row, self)
                if url:
                    links.append(f'<a class="row-link" href="{escape(url)}">{escape(link.label)}</a>')
            more = more_cell.replace(self.ROW_PK_QUOTED, pk).replace(self.ROW_PK, pk).strip()
            if more:
                links.append(f'<details class="row-more"><summary>更多 ▾</summary><div class="row-more-menu">'
                             f'{more}</div></details>')
            out.append(f'<td class="list-buttons-column fix-r" data-row-label="{escape(self.row_label(row))}">'
                       + "".join(x for x in links if x.strip()) + "</td>")
        return Markup("".join(out))

    # ---- personal data ---------------------------------------------------------------
    def pii_column(self, name) -> privacy.PathColumn | None:
        """The declared personal column a screen column shows, if it is masked."""
        known = self.__dict__.setdefault("_pii_columns", {})
        if name not in known:
            known[name] = privacy.path_column(self.model, name)
        return known[name]

    def _get_list_value(self, context, model, name, column_formatters, column_type_formatters):
        pii = self.pii_column(name)
        if pii is None:
            return super()._get_list_value(context, model, name, column_formatters, column_type_formatters)
        owner = pii.owner(model)
        return "" if owner is None else privacy.shown(owner, pii.field, pii.kind) or ""

    @pass_context  # as Flask-Admin's own: the details template passes its context
    def get_detail_value(self, context, model, name):
        pii = self.pii_column(name)
        if pii is None:
            return super().get_detail_value(context, model, name)
        return privacy.pii_cell(pii.owner(model), pii.field)

    def get_export_value(self, model, name):
        pii = self.pii_column(name)
        if pii is None:
            return super().get_export_value(model, name)
        owner = pii.owner(model)
        value = None if owner is None else getattr(owner, pii.field)
        return value if self.export_unmasked() else privacy.mask_value(pii.kind, value)


    # ---- safe delete ---------------------------------------------------------------
    def delete_refusal(self, model) -> str | None:
        """The message why `model` may not be deleted, or None."""
        for guard in self.delete_guards:
            col = getattr(guard.model, guard.fk)
            hit = self.session.execute(select(col).where(col == model.id).limit(1)).first()
            if hit is not None:
                return guard.message
            if guard.extra and guard.extra(model):
                return guard.message
        return None

    def delete_model(self, model):
        reason = self.delete_refusal(model)
        if reason:
            flash(f"不能删除「{model}」:{reason}", "error")
            return False
        return super().delete_model(model)

    @action("delete", "删除", "确定删除选中的记录吗?")
    def action_delete(self, ids):
        rows = self.session.query(self.model).filter(self.model.id.in_([int(i) for i in ids])).all()
        refused = [(m, self.delete_refusal(m)) for m in rows]
        refused = [(m, r) for m, r in refused if r]
        if refused:
            names = "、".join(str(m) for m, _ in refused[:5])
            flash(f"批量删除被拒绝,未删除任何记录。{names} 等 {len(refused)} 条:{refused[0][1]}", "error")
            return
        for m in rows:
            self.session.delete(m)
        self.session.commit()
        flash(f"已删除 {len(rows)} 条记录。", "success")

    # ---- notes under form fields ---------------------------------------------------------
    # field name -> callable giving the line shown under the field (read per request: a
    # parameter such as the single-loan limit may change at any time).
    form_notes: dict[str, Callable[[], str]] = {}

    def _with_notes(self, form):
        for name, note in self.form_notes.items():
            if name in getattr(form, "_fields", {}):
                form[name].description = note()
        return form

    def create_form(self, obj=None):
        return self._with_notes(super().create_form(obj))

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        # Personal fields show their masks; a posted mask stands for the stored value.
        privacy.mask_form(form, obj, posted=request.method == "POST")
        form._pii_obj = obj
        return self._with_notes(form)

    # ---- bounds ------------------------------------------------------------------------
    def validate_form(self, form):
        """Flask-Admin's validation, then the bounds of admin_app.bounds on every money, rate
        and date column of the model the form edits (each message under its field)."""
        ok = super().validate_form(form)
        from admin_app.bounds import column_problems

        fields = getattr(form, "_fields", {})
        problems = column_problems(self.model, {n: f.data for n, f in fields.items()},
                                   {n: f.label.text for n, f in fields.items() if f.label})
        for name, message in problems.items():
            fields[name].errors = list(fields[name].errors) + [message]
        if not (ok and not problems) and getattr(form, "_pii_obj", None) is not None:
            privacy.mask_form(form, form._pii_obj, posted=False)  # shown again: masked again
        return ok and not problems

    # ---- misc ----------------------------------------------------------------------
    def get_empty_list_message(self) -> str:
        return "没有符合条件的记录。"

    def handle_view_exception(self, exc):
        from sqlalchemy.exc import IntegrityError

        if isinstance(exc, IntegrityError):
            flash("保存失败:数据违反约束(可能重复或与其他记录冲突)。", "error")
            return True
        return super().handle_view_exception(exc)


def request_cache() -> dict:
    """A dict that lives as long as the current request. Not flask.g: an app context may
    outlive the requests made in it (tests, scripts), and g with it."""
    return request.__dict__.setdefault("_postloan_cache", {})


class _StandIn:
    """A row standing in for every row of a page: only its primary key is read."""

    def __init__(self, attr: str, value: str):
        setattr(self, attr, value)


# Ints stand in for a link's integer arguments while its URL is built once per request.
_URL_MARK = 10 ** 30


def fast_url_for(endpoint: str, args: dict) -> str:
    """url_for(endpoint, **args), building the URL once per request for each endpoint and
    set of non-integer arguments, then filling in the integers (ids, page and sort numbers):
    a list page asked for 60 URLs differing only in those, a fifth of its time."""
    ints = sorted(k for k, v in args.items() if type(v) is int)
    try:
        key = (endpoint, tuple(ints), tuple(sorted((k, v) for k, v in args.items() if k not in ints)))
        hash(key)
    except TypeError:
        return url_for(endpoint, **args)
    if endpoint == "static" or endpoint.endswith(".static"):
        # A static file's URL is the same for every request to this deployment.
        cache, key = current_app.extensions.setdefault("postloan_static_urls", {}), (request.script_root, key)
    else:
        cache = request_cache().setdefault("fast_urls", {})
    template = cache.get(key)
    if template is None:
        marks = {k: str(_URL_MARK + i) for i, k in enumerate(ints)}
        built = url_for(endpoint, **{**args, **{k: int(m) for k, m in marks.items()}})
        # A mark must occur once, where the id goes; otherwise build every row's URL itself.
        usable = all(built.count(m) == 1 for m in marks.values())
        template = cache[key] = (built, marks) if usable else None
    if template is None:
        return url_for(endpoint, **args)
    url, marks = template
    for k, m in marks.items():
        url = url.replace(m, str(args[k]))
    return url


@dataclass
class RowLink:
    """A link shown in each row: to another screen's endpoint, or to a custom endpoint of
    this view ("." prefix). Shown only to users the target's permission admits."""

    label: str
    endpoint: str
    args: Callable[[Any], dict]
    verb: str = "view"
    when: Callable[[Any], bool] | None = None

    def url(self, row, view) -> str | None:
        if self.when is not None and not self.when(row):
            return None
        if self.endpoint.startswith("."):
            key, target = view.endpoint, view.endpoint + self.endpoint
        else:
            key, target = self.endpoint.split(".", 1)[0], self.endpoint
        permitted = request_cache().setdefault("row_links_allowed", {})
        if (key, self.verb) not in permitted:
            permitted[key, self.verb] = allowed(current_user, key, self.verb)
        if not permitted[key, self.verb]:
            return None
        return fast_url_for(target, self.args(row))


def loan_detail_link(get_loan_id=lambda row: row.loan_id) -> RowLink:
    return RowLink("贷款详情", "loan_detail.index", lambda row: {"loan_id": get_loan_id(row)})


class PageView(PermissionMixin, BaseView):
    """A custom page (not a model list) under the same permission rules; declare each
    exposed method's verb in `verbs` (default "view")."""

    def verb_for(self, method_name: str) -> str | None:
        return self.verbs.get(method_name, "view")
