"""Exports of personal data under control (issue 18), mixed into every screen:

- every export is masked (admin_app.screens / admin_app.export read the declarations);
- an export with personal columns over a parameter of rows (privacy.export_confirm_rows,
  default 5,000) asks for confirmation and a reason first, and is recorded;
- 完整信息导出 (identifiers in full) is a separate action for admins only (the permission
  table's export_full), asks for a reason, and is recorded;
recorded in 敏感信息查看记录 with the row count, the filters and the file name, which
carries the user and the time."""
from __future__ import annotations


from flask import abort, request
from flask_admin import expose
from flask_admin.helpers import get_redirect_target
from flask_login import current_user
from sqlalchemy import func

from admin_app import clock, flask_admin_compat as compat, privacy
from admin_app.extensions import db


class ExportControlMixin:
    # ---- what the export holds ---------------------------------------------------------
    def personal_export_columns(self) -> list[str]:
        """Export columns holding personal data (names included, masked or not)."""
        return [name for name, _ in compat.export_columns(self)
                if privacy.path_column(self.model, name, masked_only=False) is not None]

    def masked_export_columns(self) -> list[str]:
        return [name for name, _ in compat.export_columns(self) if privacy.path_column(self.model, name) is not None]

    @property
    def can_export_full(self) -> bool:
        return self.can_export and self.allowed("export_full")

    @property
    def offers_export_full(self) -> bool:
        """The list page shows 完整信息导出 where it differs from the ordinary export."""
        return self.can_export_full and bool(self.masked_export_columns())

    def export_row_count(self, cap: int | None = None) -> int:
        """Rows the export would hold (at most cap + 1 when a cap is given)."""
        ids = self.export_query().order_by(None).with_entities(self.model.id)
        if cap is not None:
            ids = ids.limit(cap + 1)
        return self.session.query(func.count()).select_from(ids.subquery()).scalar()

    # ---- endpoints -------------------------------------------------------------------------
    @expose("/export/<export_type>/")
    def export(self, export_type: str):
        self._check_export(export_type)
        if self.personal_export_columns():
            from admin_app.settings import get_int

            threshold = get_int("privacy.export_confirm_rows")
            if self.export_row_count(cap=threshold) > threshold:
                return self._reason_page(export_type, "export_large")
        return self._stream(export_type)

    @expose("/export_confirmed/<export_type>/", methods=("POST",))
    def export_confirmed(self, export_type: str):
        """A large export of personal data, confirmed with a reason (masked as every export)."""
        self._check_export(export_type)
        return self._recorded_export(export_type, "export_large")

    @expose("/export_full/<export_type>/", methods=("GET", "POST"))
    def export_full(self, export_type: str):
        """Identifiers in full: admins only, with a reason, recorded."""
        self._check_export(export_type)
        if not self.can_export_full:
            abort(403)
        if request.method == "GET":
            return self._reason_page(export_type, "export_full")
        return self._recorded_export(export_type, "export_full")

    # ---- machinery -------------------------------------------------------------------------
    def _check_export(self, export_type: str) -> None:
        if not self.can_export or export_type not in self.export_types:
            abort(403)

    def _reason_page(self, export_type, action, form=None):
        from admin_app.settings import get_int
        from views.privacy import ReasonForm

        target = "export_full" if action == "export_full" else "export_confirmed"
        return self.render("privacy/export_confirm.html", form=form or ReasonForm(), action=action,
                           threshold=get_int("privacy.export_confirm_rows"), export_type=export_type,
                           post_url=self.get_url("." + target, export_type=export_type, **request.args),
                           return_url=get_redirect_target() or self.get_url(".index_view", **request.args),
                           personal=[self.column_labels.get(n, n) for n in self.personal_export_columns()])

    def _recorded_export(self, export_type: str, action: str):
        from views.privacy import ReasonForm

        form = ReasonForm()
        if not form.validate_on_submit():
            return self._reason_page(export_type, action, form=form)
        name = self.recorded_export_name(export_type, full=action == "export_full")
        filters = {k: v for k, v in request.args.items() if v and k != "url"}
        privacy.record_access(action, self.model.__tablename__, form.reason.data,
                              (form.reason_text.data or "").strip() or None,
                              row_count=self.export_row_count(), filters=filters or None, file_name=name)
        db.session.commit()
        from admin_app.screens import request_cache

        cache = request_cache()
        cache["export_name"] = name
        cache["pii_export_unmasked"] = action == "export_full"
        return self._stream(export_type)

    def recorded_export_name(self, export_type: str, full: bool) -> str:
        kind = "完整信息" if full else "个人信息"
        return f"{self.name}_{kind}_{current_user.username}_{clock.local_now():%Y%m%d_%H%M%S}.{export_type}"

    def _stream(self, export_type: str):
        return_url = self.get_url(".index_view")
        if export_type == "csv":
            return self._export_csv(return_url)
        return self._export_tablib(export_type, return_url)
