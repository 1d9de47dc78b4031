"""查看完整信息 (reveal one personal field of one record with a reason) and 系统管理 ›
敏感信息查看记录 (the append-only record of reveals and personal-data exports)."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.helpers import get_redirect_target
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from admin_app import privacy
from admin_app.extensions import db
from admin_app.screens import PageView, ScreenView, SearchField
from models.privacy import ACCESS_ACTIONS, MASKS, REVEAL_REASONS, PiiAccess, declared_fields
from views.system import TABLE_LABELS

CATEGORY = "系统管理"


class ReasonForm(FlaskForm):
    """Why personal data is seen or taken out: a reason from the list, text for 其他."""

    reason = SelectField("查看原因", choices=list(REVEAL_REASONS.items()), validators=[DataRequired("请选择查看原因")])
    reason_text = StringField("原因说明", validators=[Optional(), Length(max=200, message="原因说明不超过200字")],
                              description="选择「其他」时必填")

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and self.reason.data == "other" and not (self.reason_text.data or "").strip():
            self.reason_text.errors = list(self.reason_text.errors) + ["选择「其他」时请填写原因说明"]
            return False
        return ok


class RevealView(PageView):
    """GET: the masked value and the reason form; POST: record the reveal, then show the
    full value here and, for REVEAL_SECONDS, wherever this field of this record appears."""

    verbs = {"index": "view", "reveal": "view"}

    def is_visible(self) -> bool:
        return False

    @expose("/")
    def index(self):
        # Reveals are per record and field: links on the pages lead here, not this root.
        return redirect(url_for("admin.index"))

    @expose("/<table>/<int:record_id>/<field>/", methods=("GET", "POST"))
    def reveal(self, table: str, record_id: int, field: str):
        model = privacy.revealable_models().get(table)
        kind = declared_fields(model).get(field) if model is not None else None
        if MASKS.get(kind or "") is None:
            abort(404)
        obj = db.session.get(model, record_id)
        if obj is None:
            abort(404)
        if not privacy.may_reveal(current_user, obj):
            abort(403)
        form = ReasonForm()
        back = get_redirect_target()
        full = None
        if form.validate_on_submit():
            privacy.record_access("reveal", table, form.reason.data, (form.reason_text.data or "").strip() or None,
                                  record_id=record_id, field=field)
            db.session.commit()
            privacy.remember_reveal(obj, field)
            if back:
                flash(f"已记录查看原因,{MASKS[kind].label}完整信息在 {privacy.REVEAL_SECONDS // 60} 分钟内可见。",
                      "success")
                return redirect(back)
            full = getattr(obj, field)
        return self.render("privacy/reveal.html", form=form, record=obj, field=field,
                           table_label=TABLE_LABELS.get(table, table), field_label=MASKS[kind].label,
                           masked=privacy.mask_value(kind, getattr(obj, field)), full=full,
                           return_url=back or request.referrer)


class PiiAccessView(ScreenView):
    """Read-only: no create, edit or delete for anyone (none in the permission table; the
    database refuses UPDATE and DELETE as well)."""

    column_list = ("at", "username", "action", "table_name", "record_id", "field", "reason", "reason_text",
                   "client_ip", "row_count", "filters", "file_name")
    column_details_list = column_list
    column_labels = {"at": "时间", "username": "操作人", "action": "操作", "table_name": "表", "record_id": "记录",
                     "field": "字段", "reason": "原因", "reason_text": "原因说明", "client_ip": "客户端地址",
                     "row_count": "导出行数", "filters": "导出条件", "file_name": "文件名"}
    column_choices = {"action": list(ACCESS_ACTIONS.items()), "reason": list(REVEAL_REASONS.items()),
                      "table_name": list(TABLE_LABELS.items())}
    column_formatters = {"field": lambda v, c, m, n: _field_label(m.table_name, m.field)}
    column_sortable_list = ("at",)
    column_default_sort = ("id", True)
    search_fields = (SearchField("user", "操作人", PiiAccess.username),
                     SearchField("action", "操作", PiiAccess.action, mode="choice", choices=ACCESS_ACTIONS),
                     SearchField("table", "表", PiiAccess.table_name, mode="choice", choices=TABLE_LABELS),
                     SearchField("record", "记录", PiiAccess.record_id, mode="exact"))


def _field_label(table: str, field: str | None) -> str:
    if not field:
        return ""
    model = privacy.revealable_models().get(table)
    kind = declared_fields(model).get(field) if model is not None else None
    rule = MASKS.get(kind or "")
    return rule.label if rule is not None else field


def register(admin) -> None:
    admin.add_view(PiiAccessView(PiiAccess, db, name="敏感信息查看记录", category=CATEGORY,
                                 endpoint="pii_access"))
    admin.add_view(RevealView(name="查看完整信息", endpoint="pii_reveal", url="/pii/reveal"))
