"""贷后预警: the six warning screens, one declaration per kind (SCREENS below), all showing
the rows of the newest daily run (jobs.daily) sorted by urgency, with search, export,
贷款详情 and 跟进 (services.warnings.handle_warning)."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.helpers import get_redirect_target
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import true
from sqlalchemy.orm import joinedload, lazyload
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from admin_app import formats
from admin_app.extensions import db
from admin_app.screens import RowLink, ScreenView, SearchField, record_id, request_cache
from admin_app.settings import PARAMS_BY_KEY, get_int
from models import Collateral, Warning
from models.enums import HANDLING_STATES, WARNING_KINDS, WARNING_LEVELS
from services import BusinessError
from services.warnings import HANDLED_STATES, NOTE_MAX, handle_warning, latest_as_of

CATEGORY = "贷后预警"

SEARCH = {
    "customer": SearchField("customer", "客户名称", Warning.customer_name, mode="contains"),
    "phone": SearchField("phone", "联系电话", Warning.phone),
    "contact": SearchField("contact", "联系人", Warning.contact_person, mode="contains"),
    "loan_no": SearchField("loan_no", "贷款编号", Warning.loan_no, mode="contains"),
}
LABELS = {
    "customer_name": "客户名称", "loan_no": "贷款编号", "phone": "联系电话", "contact_person": "联系人",
    "due_date": "到期日", "days": "剩余/逾期天数", "amount": "金额", "overdue_principal": "逾期本金",
    "overdue_interest": "逾期利息", "penalty_interest": "罚息", "level": "预警级别",
    "handling_state": "处理状态", "handled_by": "处理人", "handled_at": "处理时间", "note": "跟进记录",
    "collateral.description": "抵质押物", "collateral.registration_no": "登记编号",
}
HANDLING_COLUMNS = ("level", "handling_state", "handled_by", "handled_at")
LEVEL_BADGES = {3: "badge-danger", 2: "badge-warning", 1: "badge-secondary"}


@dataclass(frozen=True)
class WarningScreen:
    """One warning screen: its kind (models.enums.WARNING_KINDS), search fields, columns
    and the labels that differ from LABELS. `past` names what a positive `days` means."""

    kind: str
    search: tuple[str, ...]
    columns: tuple[str, ...]
    labels: dict = field(default_factory=dict)
    past: str = "逾期"

    @property
    def name(self) -> str:
        return WARNING_KINDS[self.kind]

    @property
    def endpoint(self) -> str:
        return "warn_" + self.kind


LOAN_SEARCH = ("customer", "loan_no")
SCREENS = (
    WarningScreen("credit_expiry", ("customer", "phone", "contact"),
                  ("customer_name", "phone", "contact_person", "amount", "due_date", "days"),
                  {"amount": "授信金额", "due_date": "授信到期日"}, past="已过期"),
    WarningScreen("mortgage_expiry", LOAN_SEARCH,
                  ("loan_no", "customer_name", "phone", "collateral.description",
                   "collateral.registration_no", "amount", "due_date", "days"),
                  {"collateral.description": "抵押物", "amount": "抵押物价值", "due_date": "抵押到期日"},
                  past="已过期"),
    WarningScreen("pledge_expiry", LOAN_SEARCH,
                  ("loan_no", "customer_name", "phone", "collateral.description",
                   "collateral.registration_no", "amount", "due_date", "days"),
                  {"collateral.description": "质押物", "amount": "质押物价值", "due_date": "质押到期日"},
                  past="已过期"),
    WarningScreen("inspection_due", LOAN_SEARCH,
                  ("loan_no", "customer_name", "phone", "amount", "due_date", "days"),
                  {"amount": "剩余本金", "due_date": "应检查日期"}),
    WarningScreen("repayment_overdue", LOAN_SEARCH,
                  ("loan_no", "customer_name", "phone", "due_date", "days", "overdue_principal",
                   "overdue_interest", "penalty_interest", "amount"),
                  {"amount": "逾期合计", "due_date": "应还日期", "days": "逾期天数"}),
    WarningScreen("repayment_due", LOAN_SEARCH,
                  ("loan_no", "customer_name", "phone", "due_date", "days", "amount"),
                  {"amount": "应还金额", "due_date": "应还日期", "days": "剩余天数"}),
)


def days_text(days: int, past: str) -> str:
    if days > 0:
        return f"{past} {days} 天"
    return "今日到期" if days == 0 else f"剩余 {-days} 天"


class HandleForm(FlaskForm):
    state = SelectField("处理状态", choices=[(s, HANDLING_STATES[s]) for s in HANDLED_STATES])
    note = TextAreaField("跟进说明", validators=[DataRequired("请填写跟进说明"),
                                                 Length(max=NOTE_MAX, message=f"跟进说明不能超过 {NOTE_MAX} 字")])


class WarningView(ScreenView):
    """The list every warning screen shares; subclasses set `screen` (see make_view)."""

    screen: WarningScreen
    list_template = "warnings/list.html"
    can_view_details = False
    column_choices = {"level": list(WARNING_LEVELS.items()),
                      "handling_state": list(HANDLING_STATES.items())}
    # Days are as_of - due_date on every current row: sorting by 到期日 is sorting by days.
    column_sortable_list = ("customer_name", "loan_no", "due_date", "amount", "level",
                            "handling_state", "handled_at")
    column_default_sort = [("due_date", False), ("id", False)]  # ix_warning_current_due
    verbs = {"handle_view": "handle"}
    row_links = (
        RowLink("贷款详情", "loan_detail.index", lambda w: {"loan_id": w.loan_id},
                when=lambda w: w.loan_id is not None),
        # `url` brings the user back to the list as filtered, sorted and paged.
        RowLink("跟进", ".handle_view", lambda w: {"id": w.id, "url": request.full_path}, verb="handle"),
    )

    def base_filters(self) -> list:
        return [Warning.kind == self.screen.kind, Warning.is_current == true()]

    def as_of(self):
        # Read once per request: the list, its count and the page header all use it.
        cache = request_cache()
        if "warning_as_of" not in cache:
            cache["warning_as_of"] = latest_as_of(db.session)
        return cache["warning_as_of"]

    def get_query(self):
        query = super().get_query()
        if any(c.startswith("collateral.") for c in self.column_list):
            query = query.options(joinedload(Warning.collateral).options(lazyload(Collateral.loan)))
        return query

    def lead_days(self) -> int | None:
        key = f"lead_days.{self.screen.kind}"
        return get_int(key) if key in PARAMS_BY_KEY else None

    # ---- 跟进 ---------------------------------------------------------------------------
    @expose("/handle/", methods=("GET", "POST"))
    def handle_view(self):
        return_url = get_redirect_target() or url_for(".index_view")
        warning = db.session.get(Warning, record_id(request.args.get("id")) or 0)
        if warning is None or warning.kind != self.screen.kind:
            abort(404)
        form = HandleForm()
        if request.method == "GET" and warning.handling_state in HANDLED_STATES:
            form.state.data = warning.handling_state
        if form.validate_on_submit():
            try:
                handle_warning(db.session, warning, state=form.state.data, note=form.note.data,
                               user=current_user)
            except BusinessError as exc:
                db.session.rollback()
                flash(str(exc), "error")
            else:
                db.session.commit()
                flash(f"已记录跟进:{warning.customer_name} {HANDLING_STATES[warning.handling_state]}", "success")
                return redirect(return_url)
        return self.render("warnings/handle.html", warning=warning, form=form, screen=self.screen,
                           labels=self._labels(), days=days_text(warning.days, self.screen.past),
                           states=HANDLING_STATES, return_url=return_url)

    def _labels(self) -> dict:
        return {**LABELS, **self.screen.labels}


def _formatters(screen: WarningScreen, html: bool) -> dict:
    def days(view, context, model, name):
        return days_text(model.days, screen.past)

    def level(view, context, model, name):
        label = WARNING_LEVELS.get(model.level, "")
        if not html:
            return label
        return Markup('<span class="badge {}">{}</span>').format(LEVEL_BADGES.get(model.level, ""), label)

    def handled_at(view, context, model, name):
        return formats.minute_text(model.handled_at)

    def money(view, context, model, name):
        return formats.money_text(getattr(model, name))

    money_columns = ("amount", "overdue_principal", "overdue_interest", "penalty_interest")
    # Exports keep amounts as numbers (spreadsheets sum them); the list shows 1,234.56.
    return {"days": days, "level": level, "handled_at": handled_at,
            **({c: money for c in money_columns} if html else {})}


def make_view(screen: WarningScreen) -> type[WarningView]:
    columns = screen.columns + HANDLING_COLUMNS
    return type(f"{screen.kind.title().replace('_', '')}WarningView", (WarningView,), {
        "screen": screen,
        "column_list": columns,
        "key_columns": tuple(c for c in ("days", "overdue_principal", "overdue_interest", "penalty_interest",
                                         "due_date", "level", "handling_state") if c in columns),
        "column_export_list": columns + ("note",),
        "column_labels": {**LABELS, **screen.labels},
        "search_fields": tuple(SEARCH[name] for name in screen.search),
        "column_formatters": _formatters(screen, html=True),
        "column_formatters_export": _formatters(screen, html=False),
    })


def register(admin) -> None:
    for screen in SCREENS:
        admin.add_view(make_view(screen)(Warning, db, name=screen.name, category=CATEGORY,
                                         endpoint=screen.endpoint))
