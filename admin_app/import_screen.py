"""导入 on a screen: 下载模板, upload, preview, commit, error report. A screen declares only
`import_kind` (a key of services.importing.KINDS); permissions come from the screen's
`import` verb in admin_app.permissions, checked on the server like every other verb.

Between preview and commit the uploaded file waits under UPLOAD_FOLDER (outside the web
root) by a random token kept in the user's session; the commit reads it again and checks
every row again (the database may have changed since the preview)."""
from __future__ import annotations

import os
import re
import time
import uuid
from urllib.parse import quote

from flask import abort, current_app, flash, redirect, request, send_file, session, url_for
from flask_admin import expose
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from admin_app.extensions import db
from admin_app.permissions import allowed
from services.importing import (MODES, FileRefused, ImportOutcome, import_file, kind_of, report_path,
                                template_xlsx)
from models.import_record import IMPORT_OUTCOMES
from services.importing.engine import ACTIONS
from admin_app.formats import money_text
from services.importing import fields as import_fields
from services.importing.fields import FieldError, cell_text

PENDING_DIR = "import_pending"
PENDING_KEY = "import_pending"
PENDING_MAX_AGE = 24 * 3600
PREVIEW_OK_ROWS = 200  # rows without errors shown in the preview (all rows with errors are shown)
PREVIEW_ERROR_ROWS = 2000
IMPORT_VERBS = {"import_form": "import", "import_template": "import", "import_preview": "import",
                "import_commit": "import", "import_report": "import"}
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def is_money(column) -> bool:
    return column.parse in (import_fields.money, import_fields.positive_money)


def preview_cell(column, raw) -> tuple[str, bool]:
    """A file cell as the preview shows it, and whether it is right-aligned: an amount that
    reads as one in the money format (admin_app.formats); anything else as the file has it."""
    text = cell_text(raw)
    if is_money(column) and text.strip():
        try:
            return money_text(column.parse(raw)), True
        except FieldError:
            return text, False
    return text, False


def own_scope_only(user) -> bool:
    """Data scope 本人 (admin_app.data_scope, set per role in 系统管理): the user imports only
    their own customers and loans."""
    from admin_app.data_scope import officer_scope

    return officer_scope(user) is not None


def attachment(name: str) -> str:
    return f"attachment; filename=import.{name.rsplit('.', 1)[-1]}; filename*=UTF-8''{quote(name)}"


class ImportUploadForm(FlaskForm):
    file = FileField("导入文件", id="import-file",
                     validators=[FileRequired("请选择要导入的文件(.xlsx 或 .csv)")])


class ImportMixin:
    """Mixed into a ScreenView (before it): the import endpoints and the list's buttons."""

    import_kind: str = ""
    list_template = "admin/import_list.html"

    def verb_for(self, method_name):
        return IMPORT_VERBS.get(method_name) or super().verb_for(method_name)

    @property
    def can_import(self) -> bool:
        return bool(self.import_kind) and self.allowed("import")

    @property
    def import_declaration(self):
        return kind_of(self.import_kind)

    # ---- pages -----------------------------------------------------------------------
    @expose("/import/template/")
    def import_template(self):
        kind = self.import_declaration
        response = current_app.response_class(template_xlsx(kind), mimetype=XLSX_MIME)
        response.headers["Content-Disposition"] = attachment(f"{kind.label}导入模板.xlsx")
        return response

    @expose("/import/", methods=("GET",))
    def import_form(self, form: ImportUploadForm | None = None):
        return self.render("import/upload.html", kind=self.import_declaration, recent=self._recent(),
                           outcomes=IMPORT_OUTCOMES, modes=MODES, form=form or ImportUploadForm(),
                           max_mb=self._max_bytes() // (1024 * 1024), return_url=url_for(".index_view"))

    def _refused(self, form: ImportUploadForm, message: str):
        """The upload form again with the reason under the file field."""
        form.file.errors = [*form.file.errors, message]
        return self.import_form(form)

    def _recent(self, limit: int = 10) -> list:
        """The latest imports of this kind the user may see (their own; admins everyone's)."""
        from sqlalchemy import select

        from models import ImportRecord

        query = select(ImportRecord).where(ImportRecord.kind == self.import_kind)
        if "admin" not in current_user.roles:
            query = query.where(ImportRecord.user_id == current_user.id)
        return list(db.session.scalars(query.order_by(ImportRecord.id.desc()).limit(limit)))

    @expose("/import/preview/", methods=("POST",))
    def import_preview(self):
        form = ImportUploadForm()
        if not form.validate_on_submit():
            return self.import_form(form)
        upload = form.file.data
        data = upload.stream.read(self._max_bytes() + 1)
        if len(data) > self._max_bytes():
            return self._refused(form, f"文件过大:导入文件不能超过 {self._max_bytes() // (1024 * 1024)} MB,"
                                       "请拆分或使用命令行导入")
        name = os.path.basename(upload.filename.replace("\\", "/"))[:200]
        try:
            outcome = import_file(self.import_kind, data, name, user=current_user._get_current_object(),
                                  mode="preview", own_only=own_scope_only(current_user),
                                  max_rows=self.import_declaration.web_max_rows)
        except FileRefused as err:
            db.session.rollback()
            return self._refused(form, f"无法导入「{name}」:{err}")
        token = self._stash(data, name) if not outcome.result.file_error else None
        return self._render_result(outcome, name, token=token)

    @expose("/import/commit/", methods=("POST",))
    def import_commit(self):
        token = request.form.get("token", "")
        mode = request.form.get("mode", "")
        pending = session.get(PENDING_KEY, {}).get(token)
        if mode not in ("all", "valid") or not pending or pending[0] != self.import_kind:
            flash("导入已失效(可能已经提交过或已超时),请重新上传文件。", "error")
            return redirect(url_for(".import_form"))
        path = self._pending_path(token)
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            flash("导入已失效(可能已经提交过或已超时),请重新上传文件。", "error")
            return redirect(url_for(".import_form"))
        refresh = request.form.get("refresh") == "1" and allowed(current_user, "job_runs", "run")
        name = pending[1]
        try:
            outcome = import_file(self.import_kind, data, name, user=current_user._get_current_object(), mode=mode,
                                  own_only=own_scope_only(current_user), refresh=refresh,
                                  max_rows=self.import_declaration.web_max_rows,
                                  report_folder=current_app.config["UPLOAD_FOLDER"])
        except FileRefused as err:
            db.session.rollback()
            flash(f"无法导入「{name}」:{err}", "error")
            return redirect(url_for(".import_form"))
        if outcome.result.committed:
            self._drop(token)
        return self._render_result(outcome, name, token=None if outcome.result.committed else token)

    @expose("/import/report/<int:record_id>/")
    def import_report(self, record_id):
        from models import ImportRecord

        record = db.session.get(ImportRecord, record_id)
        if record is None or record.kind != self.import_kind or (
                record.user_id != current_user.id and "admin" not in current_user.roles):
            abort(404)
        return send_report(record)

    # ---- helpers ---------------------------------------------------------------------
    def _render_result(self, outcome: ImportOutcome, name: str, token: str | None):
        result = outcome.result
        errors = result.error_rows[:PREVIEW_ERROR_ROWS]
        fine = [r for r in result.rows if r.ok][:PREVIEW_OK_ROWS]
        shown = sorted(errors + fine, key=lambda r: r.number)
        columns = [c for c in result.kind.columns if c.header in result.matched]
        can_refresh = result.kind.key in ("loans", "repayments") and allowed(current_user, "job_runs", "run")
        return self.render("import/preview.html", kind=result.kind, outcome=outcome, result=result, name=name,
                           rows=shown, columns=columns, token=token, actions=ACTIONS, modes=MODES,
                           hidden_ok=len([r for r in result.rows if r.ok]) - len(fine),
                           hidden_errors=len(result.error_rows) - len(errors), can_refresh=can_refresh,
                           preview_cell=preview_cell, is_money=is_money,
                           return_url=url_for(".index_view"))

    @staticmethod
    def _max_bytes() -> int:
        return int(current_app.config.get("MAX_IMPORT_BYTES") or current_app.config["MAX_UPLOAD_BYTES"])

    @staticmethod
    def _pending_path(token: str) -> str:
        if not re.fullmatch(r"[0-9a-f]{32}", token or ""):
            abort(404)
        return os.path.join(current_app.config["UPLOAD_FOLDER"], PENDING_DIR, token + ".bin")

    def _stash(self, data: bytes, name: str) -> str:
        folder = os.path.join(current_app.config["UPLOAD_FOLDER"], PENDING_DIR)
        os.makedirs(folder, exist_ok=True)
        _sweep(folder)
        token = uuid.uuid4().hex
        with open(os.path.join(folder, token + ".bin"), "wb") as fh:
            fh.write(data)
        pending = dict(session.get(PENDING_KEY, {}))
        # Keep the few newest previews per user: the session stays small.
        for old in list(pending)[:-4]:
            self._drop_file(old)
            pending.pop(old)
        pending[token] = [self.import_kind, name]
        session[PENDING_KEY] = pending
        return token

    def _drop(self, token: str) -> None:
        pending = dict(session.get(PENDING_KEY, {}))
        pending.pop(token, None)
        session[PENDING_KEY] = pending
        self._drop_file(token)

    def _drop_file(self, token: str) -> None:
        try:
            os.remove(self._pending_path(token))
        except OSError:
            pass


def _sweep(folder: str) -> None:
    """Previews never committed are removed after a day."""
    now = time.time()
    for entry in os.scandir(folder):
        try:
            if now - entry.stat().st_mtime > PENDING_MAX_AGE:
                os.remove(entry.path)
        except OSError:
            pass


def send_report(record):
    path = report_path(current_app.config["UPLOAD_FOLDER"], record.report_name)
    if path is None:
        abort(404)
    ext = record.report_name.rsplit(".", 1)[-1]
    base = record.file_name.rsplit(".", 1)[0]
    return send_file(path, as_attachment=True, download_name=f"{base}_错误报告.{ext}",
                     mimetype=XLSX_MIME if ext == "xlsx" else "text/csv")
