"""系统管理 › 导入记录: every import committed or refused — who, when, which file (name and
SHA-256), how, and how many rows were added, updated, skipped or refused — with the error
report to download. Read-only for everyone."""
from flask_admin import expose
from markupsafe import Markup, escape

from admin_app.extensions import db
from admin_app.import_screen import send_report
from admin_app.screens import RowLink, ScreenView, SearchField
from models import ImportRecord
from models.import_record import IMPORT_OUTCOMES
from services.importing import MODES
from services.importing.kinds import KINDS

CATEGORY = "系统管理"
KIND_LABELS = {key: kind.label for key, kind in KINDS.items()}


class ImportRecordView(ScreenView):
    can_view_details = True
    column_list = ("at", "username", "kind", "file_name", "mode", "outcome", "rows_total", "rows_created",
                   "rows_updated", "rows_skipped", "rows_error", "sha256")
    column_details_list = column_list + ("note",)
    column_labels = {"at": "导入时间", "username": "导入人", "kind": "导入类型", "file_name": "文件名",
                     "mode": "导入方式", "outcome": "结果", "rows_total": "总行数", "rows_created": "新增",
                     "rows_updated": "更新", "rows_skipped": "已存在跳过", "rows_error": "错误行",
                     "sha256": "文件 SHA-256", "note": "说明"}
    column_choices = {"kind": list(KIND_LABELS.items()), "mode": list(MODES.items()),
                      "outcome": list(IMPORT_OUTCOMES.items())}
    column_formatters = {"sha256": lambda v, c, m, n: Markup(
        f"<span class='text-monospace small' title='{escape(m.sha256)}'>{escape(m.sha256[:12])}…</span>")}
    column_formatters_export = {"sha256": lambda v, c, m, n: m.sha256}
    column_sortable_list = ("at",)
    column_default_sort = ("id", True)
    search_fields = (SearchField("kind", "导入类型", ImportRecord.kind, mode="choice", choices=KIND_LABELS),
                     SearchField("user", "导入人", ImportRecord.username),
                     SearchField("file", "文件名", ImportRecord.file_name))
    verbs = {"report": "download"}
    row_links = (RowLink("错误报告", ".report", lambda m: {"record_id": m.id}, verb="download",
                         when=lambda m: bool(m.report_name)),)

    @expose("/report/<int:record_id>/")
    def report(self, record_id):
        from flask import abort

        record = db.session.get(ImportRecord, record_id)
        if record is None:
            abort(404)
        return send_report(record)


def register(admin) -> None:
    admin.add_view(ImportRecordView(ImportRecord, db, name="导入记录", category=CATEGORY,
                                    endpoint="import_records"))
