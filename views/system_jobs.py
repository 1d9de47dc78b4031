"""系统管理: 预警参数 (the admin-changeable parameters of admin_app.settings: warning lead
days, classification thresholds, collection hours) and 任务运行记录 (the daily job's runs,
with 立即运行 for admins)."""
from __future__ import annotations

import json

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField

from admin_app import clock, formats, settings
from admin_app.extensions import db
from admin_app.screens import PageView, ScreenView
from jobs import progress
from jobs.daily import OUTCOMES
from jobs.requests import request_run, scheduler_running
from models.enums import WARNING_KINDS
from models.warning import JobRun, Setting

CATEGORY = "系统管理"


INPUT_HINTS = {"int": {"inputmode": "numeric"}, "money": {"inputmode": "decimal"},
               "rate": {"inputmode": "decimal"}, "time": {"placeholder": "时:分,如 08:00"}}


class ValueRequired:
    """Marks a parameter that may not be left empty (the * of forms.field_row); the check
    itself is admin_app.settings.validate, the one rule of each parameter."""

    field_flags = {"required": True}

    def __call__(self, form, field) -> None:
        pass


def _required(key: str) -> bool:
    try:
        settings.validate(key, "")
    except ValueError:
        return True
    return False


def settings_form_class() -> type[FlaskForm]:
    """The parameters as one form on the shared grid: a field per parameter, posted under
    its key, its default and range as the note."""
    fields = {}
    for p in settings.PARAMS:
        default = p.default_label if p.kind == "choice" else p.default
        kw = {"label": p.label, "id": p.key, "name": p.key, "description": f"默认值:{default};取值范围:{p.range_text}",
              "validators": [ValueRequired()] if _required(p.key) else []}
        fields[p.key.replace(".", "__")] = (SelectField(choices=list(p.choices), **kw) if p.kind == "choice"
                                            else StringField(render_kw=INPUT_HINTS.get(p.kind), **kw))
    return type("SettingsForm", (FlaskForm,), fields)


class SettingsView(PageView):
    """All parameters on one page; a save is all or nothing, each value validated by
    admin_app.settings.validate."""

    verbs = {"index": "view", "save": "edit"}

    def _rows(self, submitted: dict | None = None, errors: dict | None = None) -> list[dict]:
        stored = {s.key: s for s in db.session.execute(select(Setting)).scalars()}
        rows = []
        for p in settings.PARAMS:
            row = stored.get(p.key)
            rows.append({"param": p, "value": (submitted or {}).get(p.key, row.value if row else p.default),
                         "updated_by": row.updated_by_id if row else None,
                         "updated_at": row.updated_at if row else None,
                         "error": (errors or {}).get(p.key)})
        return rows

    def _render(self, rows, status=200):
        groups: dict[str, list] = {}
        form = settings_form_class()(formdata=None, data={r["param"].key.replace(".", "__"): r["value"] for r in rows})
        for row in rows:
            field = form[row["param"].key.replace(".", "__")]
            if row["error"]:
                field.errors = [row["error"]]
            groups.setdefault(row["param"].group, []).append({**row, "field": field})
        return self.render("system/settings.html", groups=groups, can_edit=self.allowed("edit"),
                           return_url=url_for(".index")), status

    @expose("/")
    def index(self):
        return self._render(self._rows())

    @expose("/save/", methods=("POST",))
    def save(self):
        submitted = {p.key: request.form.get(p.key, "") for p in settings.PARAMS}
        errors, clean = {}, {}
        for key, value in submitted.items():
            try:
                clean[key] = settings.validate(key, value)
            except ValueError as exc:
                errors[key] = str(exc)
        if not errors:
            errors = settings.check_together(clean)
        if errors:
            flash("参数未保存:" + ";".join(errors.values()), "error")
            return self._render(self._rows(submitted, errors))
        stored = dict(db.session.execute(select(Setting.key, Setting.value)).all())
        changed = [key for key, value in clean.items()
                   if value != stored.get(key, settings.PARAMS_BY_KEY[key].default)]
        for key in changed:
            settings.set_value(key, clean[key], user_id=current_user.id, checked_together=True)
        db.session.commit()
        if changed:
            names = "、".join(settings.PARAMS_BY_KEY[k].label for k in changed)
            flash(f"已保存 {len(changed)} 项参数:{names}。预警将在下次日终任务运行时按新参数生成。", "success")
        else:
            flash("参数没有变化。", "info")
        return redirect(url_for(".index"))


def summary_text(raw: str | None) -> str:
    if not raw:
        return ""
    try:
        data = json.loads(raw)
    except ValueError:
        return raw
    rows = data.get("rows") or {}
    parts = [f"{WARNING_KINDS[k]} {formats.count_text(rows[k])}" for k in WARNING_KINDS if k in rows]
    text = f"更新贷款 {formats.count_text(data.get('loans_updated', 0))} 笔"
    if "retention_dry_run" in data:
        return f"个人信息保留期满试运行:将匿名化客户 {formats.count_text(data['retention_dry_run'])} 名(未修改数据)"
    if parts:
        text += ";" + "、".join(parts)
    if data.get("anonymised") or "retention" in data:
        text += f";个人信息保留期满匿名化客户 {formats.count_text(data.get('anonymised', 0))} 名"
    return text


class JobRunView(ScreenView):
    list_template = "system/job_runs.html"
    can_view_details = False
    column_list = ("id", "as_of", "started_at", "finished_at", "seconds", "outcome", "progress", "summary", "error",
                   "requested_by")
    column_labels = {"id": "编号", "as_of": "业务日期", "started_at": "开始时间", "finished_at": "结束时间",
                     "seconds": "用时(秒)", "outcome": "结果", "progress": "进度", "summary": "结果摘要",
                     "error": "错误信息", "requested_by": "请求人"}
    column_choices = {"outcome": list(OUTCOMES.items())}
    column_sortable_list = ("id", "as_of", "started_at", "outcome")
    column_default_sort = ("id", True)
    column_formatters = {
        "seconds": lambda v, c, m, n: (f"{(m.finished_at - m.started_at).total_seconds():.1f}"
                                       if m.finished_at else ""),
        "summary": lambda v, c, m, n: summary_text(m.summary),
        "started_at": lambda v, c, m, n: formats.second_text(m.started_at),
        "finished_at": lambda v, c, m, n: formats.second_text(m.finished_at),
        "progress": lambda v, c, m, n: progress.describe(progress.read(db.engine, m)),
        "requested_by": lambda v, c, m, n: _username(m.requested_by_id),
    }
    verbs = {"run_now": "run"}

    def render(self, template, **kwargs):
        # The page says whether a scheduler process is there to carry out 立即运行.
        kwargs.setdefault("scheduler_running", scheduler_running(db.engine))
        return super().render(template, **kwargs)

    @expose("/run/", methods=("POST",))
    def run_now(self):
        """Records a request; the scheduler process runs the job (never this web worker)."""
        run_id, new = request_run(db.engine, clock.business_date(), current_user.id)
        if not scheduler_running(db.engine):
            flash(f"已记录运行请求(编号 {run_id}),但调度进程未运行:请在服务器上启动 "
                  "flask --app wsgi scheduler,请求将在其启动后执行。", "error")
        elif new:
            flash(f"已提交运行请求(编号 {run_id}),调度进程将在几秒内开始运行;本页显示进度。", "success")
        else:
            flash(f"已有等待执行的运行请求(编号 {run_id}),未重复提交。", "info")
        return redirect(url_for(".index_view"))


def _username(user_id) -> str:
    if user_id is None:
        return ""
    from models import User

    user = db.session.get(User, user_id)
    return str(user) if user else ""


def register(admin) -> None:
    admin.add_view(SettingsView(name="预警参数", category=CATEGORY, endpoint="settings", url="/settings"))
    admin.add_view(JobRunView(JobRun, db, name="任务运行记录", category=CATEGORY, endpoint="job_runs"))
