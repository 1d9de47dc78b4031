"""Who may do what: the one place that decides every screen, button, action, export and
custom endpoint. Views declare only their endpoint; the shared view machinery
(admin_app.screens) reads this table for menus, buttons and server-side checks, and the
permission-matrix test reads it too. An endpoint missing here fails the app factory."""

from functools import cache
from types import MappingProxyType

ROLES = {
    "admin": "系统管理员",
    "officer": "客户经理",
    "collector": "催收专员",
    "risk_checker": "风控专员",
    "risk_approver": "风控主管",
    "reviewer": "审查岗",
}

ALL = frozenset(ROLES)
ADMIN = frozenset({"admin"})
OFFICE = frozenset({"admin", "officer"})
RISK = frozenset({"risk_checker", "risk_approver", "reviewer"})
LOAN_STAFF = frozenset({"admin", "officer", "collector"}) | RISK
COLLECTION = frozenset({"admin", "officer", "collector"})


def _p(view, **verbs):
    """A permission entry: `view` roles see the screen; each other verb names its roles."""
    entry = {"view": frozenset(view)}
    # `import` is a Python keyword: declared as import_ (导入 with 下载模板 and preview).
    entry.update({verb.rstrip("_"): frozenset(roles) for verb, roles in verbs.items()})
    return entry


# Approval stage screens get their entries from the workflow declarations
# (models.approval.WORKFLOWS) in stage_permissions() below.
PERMISSIONS: dict[str, dict[str, frozenset]] = {
    "admin": _p(ALL),  # 首页 (Flask-Admin index endpoint)
    "loan_detail": _p(ALL),
    "my_todo": _p(ALL),  # 我的待办
    # 客户银行卡账户管理
    "bank_cards": _p(OFFICE | {"collector"}, create=OFFICE, edit=OFFICE, delete=OFFICE, export=OFFICE,
                      import_=OFFICE),
    # 合同变更
    "contract_change": _p(OFFICE | RISK, rate_change=OFFICE, extension=OFFICE, export=OFFICE | RISK),
    # 贷后检查
    "inspection_loans": _p(OFFICE | RISK, interview=OFFICE, inspect=OFFICE),
    # 贷后预警
    "warn_credit_expiry": _p(LOAN_STAFF, handle=OFFICE | {"collector"}, export=LOAN_STAFF),
    "warn_mortgage_expiry": _p(LOAN_STAFF, handle=OFFICE | {"collector"}, export=LOAN_STAFF),
    "warn_pledge_expiry": _p(LOAN_STAFF, handle=OFFICE | {"collector"}, export=LOAN_STAFF),
    "warn_inspection_due": _p(LOAN_STAFF, handle=OFFICE, export=LOAN_STAFF),
    "warn_repayment_overdue": _p(LOAN_STAFF, handle=OFFICE | {"collector"}, export=LOAN_STAFF),
    "warn_repayment_due": _p(LOAN_STAFF, handle=OFFICE | {"collector"}, export=LOAN_STAFF),
    # 五级分类
    "classification_manage": _p(OFFICE | RISK, propose=OFFICE, export=OFFICE | RISK),
    # Portfolio reports (whole-book figures): admins and risk staff; rebuilding a past
    # month-end's snapshot is an admin's.
    "classification_stats": _p(ADMIN | RISK, export=ADMIN | RISK, rebuild=ADMIN),
    "classification_migration": _p(ADMIN | RISK, export=ADMIN | RISK),
    "overdue_ageing": _p(ADMIN | RISK, export=ADMIN | RISK),
    "vintage": _p(ADMIN | RISK, export=ADMIN | RISK),
    "snapshot_loans": _p(ADMIN | RISK, export=ADMIN | RISK),
    "portfolio_loans": _p(ADMIN | RISK, export=ADMIN | RISK),
    # 核销管理
    "writeoff_apply": _p(OFFICE | RISK, create=OFFICE, edit=OFFICE, export=OFFICE | RISK),
    "writeoff_book": _p(OFFICE | RISK | {"collector"}, export=OFFICE | RISK, import_=ADMIN),
    "writeoff_recovery": _p(ADMIN | RISK, export=ADMIN | RISK),
    # 催收管理
    "collection_overdue": _p(COLLECTION, collect=COLLECTION, export=COLLECTION),
    "collection_query": _p(COLLECTION, follow_up=COLLECTION, export=COLLECTION, download=COLLECTION),
    "collection_guarantor": _p(COLLECTION, collect=COLLECTION, export=COLLECTION),
    "receipt_borrower": _p(COLLECTION, upload=COLLECTION),
    "receipt_guarantor": _p(COLLECTION, upload=COLLECTION),
    # 贷后业务查询
    "query_active": _p(LOAN_STAFF, export=LOAN_STAFF),
    "query_extended": _p(LOAN_STAFF, export=LOAN_STAFF),
    "query_overdue": _p(LOAN_STAFF, export=LOAN_STAFF),
    "query_settled": _p(LOAN_STAFF, export=LOAN_STAFF),
    # 基础数据
    "customers": _p(LOAN_STAFF, create=OFFICE, edit=OFFICE, delete=OFFICE, export=OFFICE, import_=OFFICE),
    "products": _p(LOAN_STAFF, create=ADMIN, edit=ADMIN, delete=ADMIN, export=ADMIN),
    "loans": _p(LOAN_STAFF, create=OFFICE, export=OFFICE | RISK, import_=OFFICE),
    "credit_lines": _p(LOAN_STAFF, create=OFFICE, edit=OFFICE, delete=OFFICE, export=OFFICE, import_=OFFICE),
    "collaterals": _p(LOAN_STAFF, create=OFFICE, edit=OFFICE, delete=OFFICE, export=OFFICE, import_=OFFICE),
    "guarantors": _p(LOAN_STAFF, create=OFFICE, edit=OFFICE, delete=OFFICE, export=OFFICE, import_=OFFICE),
    "repayments": _p(LOAN_STAFF, create=OFFICE | {"collector"}, export=OFFICE | RISK, import_=OFFICE,
                     reverse=OFFICE),
    # a loan's history from the old system (read-only lists; changes are made on 合同变更)
    "rate_changes": _p(ADMIN, import_=ADMIN),
    "extensions": _p(ADMIN, import_=ADMIN),
    # 系统管理
    "users": _p(ADMIN, create=ADMIN, edit=ADMIN, export=ADMIN),
    "audit_log": _p(ADMIN | {"risk_approver"}, export=ADMIN),
    "settings": _p(ADMIN, edit=ADMIN),
    "job_runs": _p(ADMIN, run=ADMIN),
    "import_records": _p(ADMIN, export=ADMIN, download=ADMIN),
    # 敏感信息查看记录: read-only for everyone, nobody edits or deletes (also refused by the
    # database). The reveal page is open to staff; admin_app.privacy.may_reveal decides.
    "pii_access": _p(ADMIN | {"risk_approver"}),
    "pii_reveal": _p(ALL),
}


def stage_permissions() -> dict[str, dict[str, frozenset]]:
    """Entries for the generated approval stage screens: the stage's role views and acts;
    admins and risk staff may look on."""
    from models.approval import WORKFLOWS

    out = {}
    for wf in WORKFLOWS.values():
        for stage in wf.stages:
            out[stage.endpoint] = _p({stage.role, "admin"} | RISK, approve={stage.role},
                                     download={stage.role, "admin"} | RISK)
    return out


@cache
def permission_table() -> MappingProxyType:
    """The whole table, built once (every menu entry, button and check of a page reads it)."""
    table = dict(PERMISSIONS)
    table.update(stage_permissions())
    # 完整信息导出 (identifiers in full): admins, wherever they may export.
    table = {key: {**entry, "export_full": entry.get("export", frozenset()) & ADMIN}
             for key, entry in table.items()}
    return MappingProxyType(table)


def allowed(user, endpoint: str, verb: str = "view") -> bool:
    """True when `user` holds a role allowed `verb` on `endpoint`. Unknown endpoint or
    verb: refused (deny by default)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    entry = permission_table().get(endpoint)
    if not entry or verb not in entry:
        return False
    return bool(user.roles & entry[verb])
