"""系统管理: staff accounts with their roles, and the read-only audit log (操作日志).
(预警参数 and 任务运行记录 live in views/system_jobs.py.)"""

from flask import flash
from flask_admin.actions import action
from flask_login import current_user
from sqlalchemy import func, select
from wtforms import PasswordField, SelectMultipleField
from wtforms.validators import DataRequired, EqualTo, Optional, Regexp
from wtforms.validators import ValidationError

from admin_app import login_throttle
from admin_app.extensions import db
from admin_app.passwords import RULES_TEXT, password_problems
from admin_app.permissions import ROLES
from admin_app.screens import ScreenView, SearchField
from models import AuditLog, User
from models.enums import DECISIONS
from views import audit_display

CATEGORY = "系统管理"

# Chinese names of audited tables, for the audit log's 表 column and search.
TABLE_LABELS = {
    "loan": "贷款", "installment": "还款计划", "repayment": "还款记录", "rate_change": "利率调整",
    "extension": "展期", "guarantor": "担保人", "collateral": "抵质押物", "customer": "客户",
    "bank_card": "银行卡", "credit_line": "授信", "loan_product": "贷款产品", "inspection": "贷后检查",
    "interview": "约谈记录", "classification_change": "五级分类调整", "write_off": "核销",
    "approval_step": "审批记录", "collection": "催收记录", "receipt": "催收回执", "user_account": "用户",
    "setting": "系统参数", "warning": "预警", "job_run": "任务运行", "import_record": "导入记录",
}
ACTION_LABELS = {"create": "新增", "update": "修改", "delete": "删除", "handle": "处理预警", "receipt": "上传回执", "import": "导入",
                 **DECISIONS}


def role_labels(user) -> str:
    return "、".join(ROLES[r] for r in ROLES if r in user.roles)


class UserView(ScreenView):
    """Passwords are set on create or reset here and stored only as a hash, never shown; the
    user must choose their own at the next login. Accounts are deactivated, not deleted: the
    audit log points at them. A change of password, roles or 启用 ends the user's sessions."""

    can_view_details = False
    column_list = ("username", "display_name", "roles_csv", "active", "must_change_password", "login_lock",
                   "created_at")
    column_labels = {"username": "用户名", "display_name": "姓名", "roles_csv": "角色", "active": "启用",
                     "must_change_password": "须修改密码", "login_lock": "登录锁定", "created_at": "创建时间"}
    column_formatters = {"roles_csv": lambda v, c, m, n: role_labels(m),
                         "login_lock": lambda v, c, m, n: "已锁定" if login_throttle.is_locked(m.username) else ""}
    column_formatters_export = {"roles_csv": column_formatters["roles_csv"]}
    action_verbs = {"unlock": "edit"}
    column_export_list = ("username", "display_name", "roles_csv", "active", "created_at")
    column_sortable_list = ("username", "created_at")
    column_default_sort = "username"
    form_columns = ("username", "display_name", "roles", "active", "new_password", "confirm_password")
    form_args = {"username": {"validators": [Regexp(r"^[A-Za-z0-9_.-]{2,64}$",
                                                    message="用户名只能包含字母、数字、下划线、点和横线(2-64位)")]},
                 "display_name": {"label": "姓名", "validators": [DataRequired("请填写姓名")]}}
    form_extra_fields = {
        "roles": SelectMultipleField("角色", choices=list(ROLES.items()),
                                     validators=[DataRequired("至少选择一个角色")]),
        "new_password": PasswordField("密码", validators=[Optional()],
                                      description="新建用户必填;修改用户时留空表示不修改密码。" + RULES_TEXT
                                      + "用户下次登录时须改为自己的密码。"),
        "confirm_password": PasswordField("确认密码", validators=[EqualTo("new_password", message="两次输入的密码不一致")]),
    }
    search_fields = (SearchField("username", "用户名", User.username),
                     SearchField("display_name", "姓名", User.display_name))

    def on_form_prefill(self, form, id):
        user = self.get_one(id)
        if user is not None:
            form.roles.data = sorted(user.roles)

    def on_model_change(self, form, model, is_created):
        # populate_obj copied the form-only fields onto the model; take them back off.
        password = model.__dict__.pop("new_password", None)
        model.__dict__.pop("confirm_password", None)
        model.roles = form.roles.data
        model.username = (model.username or "").strip()
        same_name = select(User.id).where(func.lower(User.username) == model.username.lower())
        if model.id is not None:
            same_name = same_name.where(User.id != model.id)
        with self.session.no_autoflush:
            clash = self.session.execute(same_name).first()
        if clash is not None:
            raise ValidationError(f"用户名「{model.username}」已存在(用户名不区分大小写)")
        if password:
            problems = password_problems(password, model.username)
            if problems:
                raise ValidationError("密码不符合要求:" + ";".join(problems))
            model.set_password(password)
            # An admin-given password is a one-time key: its owner sets their own at login.
            model.must_change_password = model.id is None or model.id != current_user.id
        elif is_created:
            raise ValidationError("新建用户必须设置密码")
        if model.id == current_user.id and ("admin" not in model.roles or not model.active):
            raise ValidationError("不能取消自己的系统管理员角色或停用自己的账号")

    @action("unlock", "解锁登录", "解除选中账户的登录锁定?")
    def action_unlock(self, ids):
        rows = self.session.query(User).filter(User.id.in_([int(i) for i in ids])).all()
        for user in rows:
            login_throttle.unlock(user.username)
        flash(f"已解除 {len(rows)} 个账户的登录锁定。", "success")


class AuditLogView(ScreenView):
    """Append-only: no create, edit or delete for anyone (none in the permission table).
    One line per entry (时间, 操作人, 操作, 对象, 摘要); 详情 opens the old and new values
    side by side (views.audit_display)."""

    identity_columns = ()
    column_list = ("at", "username", "action", "object", "summary", "details")
    column_export_list = ("at", "username", "action", "table_name", "record_id", "loan_id", "summary", "before",
                          "after")
    column_details_list = column_export_list
    column_labels = {"at": "时间", "username": "操作人", "action": "操作", "object": "对象", "table_name": "表",
                     "record_id": "记录", "loan_id": "贷款(内部编号)", "summary": "摘要", "before": "修改前", "after": "修改后",
                     "details": "明细"}
    column_choices = {"table_name": list(TABLE_LABELS.items()), "action": list(ACTION_LABELS.items())}
    column_formatters = {
        "object": lambda v, c, m, n: audit_display.object_text(m, TABLE_LABELS),
        "summary": lambda v, c, m, n: audit_display.summary_text(m, ACTION_LABELS, TABLE_LABELS),
        "details": lambda v, c, m, n: audit_display.details_cell(m, ACTION_LABELS, TABLE_LABELS),
        "before": lambda v, c, m, n: audit_display.changes_text(m, "before"),
        "after": lambda v, c, m, n: audit_display.changes_text(m, "after"),
    }
    column_formatters_export = {
        "summary": column_formatters["summary"],
        "before": column_formatters["before"],
        "after": column_formatters["after"],
    }
    column_sortable_list = ("at",)
    column_default_sort = ("id", True)
    search_fields = (SearchField("user", "操作人", AuditLog.username),
                     SearchField("table", "表", AuditLog.table_name, mode="choice", choices=TABLE_LABELS),
                     SearchField("record", "记录", AuditLog.record_id, mode="exact"))


def register(admin) -> None:
    admin.add_view(UserView(User, db, name="用户", category=CATEGORY, endpoint="users"))
    admin.add_view(AuditLogView(AuditLog, db, name="操作日志", category=CATEGORY, endpoint="audit_log"))
