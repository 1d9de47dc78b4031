"""How an audit log entry reads (操作日志): its object and summary in Chinese, and its
before/after values side by side with Chinese field labels, codes as their labels (借款人, 已完成),
booleans as 是/否, empty as 「—」, money with separators, times to the minute.

Field labels come from the screens' own declarations (one source), then a few general ones."""
from __future__ import annotations

import json

from models.privacy import mask_record
import re

from markupsafe import Markup, escape

from admin_app import formats
from admin_app.extensions import db
from models.enums import (COLLATERAL_KINDS, COLLECTION_METHODS, COLLECTION_STATUSES, COLLECTION_TARGETS,
                          CUSTOMER_TYPES, DECISIONS, FIVE_CLASSES, HANDLING_STATES, INSPECTION_KINDS,
                          INSPECTION_METHODS, LOAN_STATUSES, REPAYMENT_METHODS, REVIEW_STATUSES, WARNING_LEVELS)
from views.collection_base import LABELS as COLLECTION_LABELS
from views.common import LOAN_LABELS

GENERAL_LABELS = {
    "id": "编号", "loan_id": "贷款", "customer_id": "客户", "guarantor_id": "担保人", "collection_id": "催收记录",
    "product_id": "贷款产品", "officer_id": "客户经理", "user_id": "用户", "created_at": "创建时间",
    "updated_at": "修改时间", "name": "名称", "kind": "类型", "id_number": "证件号码", "phone": "联系电话",
    "username": "用户名", "display_name": "姓名", "roles_csv": "角色", "active": "启用", "amount": "金额",
    "reason": "原因", "review_status": "审核状态", "review_stage": "审核环节", "due_date": "到期日",
    "period": "期次", "principal_due": "应还本金", "interest_due": "应还利息", "principal_paid": "已还本金",
    "interest_paid": "已还利息", "penalty_paid": "已还罚息", "penalty_accrued": "已计罚息", "paid_off_date": "结清日",
    "old_rate": "原年利率", "new_rate": "新年利率", "effective_date": "生效日期", "version": "版本",
    "paid_on": "还款日期", "penalty_part": "冲抵罚息", "interest_part": "冲抵利息", "principal_part": "冲抵本金",
    "operator": "操作人", "operator_id": "操作人", "old_maturity_date": "原到期日", "new_maturity_date": "新到期日",
    "description": "描述", "value": "评估价值", "registration_no": "登记证号", "start_date": "起始日",
    "expiry_date": "到期日", "guaranteed_amount": "担保金额", "bank_name": "开户行", "branch": "支行",
    "account_name": "户名", "card_number": "卡号", "is_default": "默认卡", "contact_person": "联系人",
    "address": "地址", "code": "代码", "min_rate": "最低年利率", "max_rate": "最高年利率", "default_rate": "默认年利率",
    "min_term": "最短期限(月)", "max_term": "最长期限(月)", "penalty_markup": "罚息上浮", "grace_days": "宽限天数",
    "inspection_interval_days": "检查间隔(天)", "from_class": "原分类", "to_class": "调整为",
    "principal_amount": "核销本金", "interest_amount": "核销利息", "proposer_id": "提出人", "submitted_at": "提交时间",
    "inspected_on": "检查日期", "method": "方式", "conclusion": "结论", "risk_signals": "风险信号",
    "held_at": "约谈时间", "place": "地点", "participants": "参与人", "follow_up": "后续措施",
    "content": "内容", "opinion": "意见", "decision": "操作", "stage": "环节", "workflow": "业务",
    "acted_at": "处理时间", "actor_id": "处理人", "level": "级别", "handling_state": "处理状态", "note": "跟进记录",
    "failed_logins": "连续登录失败次数", "locked_until": "锁定至", "password_hash": "密码", "original_name": "文件名",
    "stored_name": "存储文件", "size": "大小", "sha256": "校验值", "uploaded_at": "上传时间", "uploader_id": "上传人",
    "key": "参数", "contract_no": "合同编号", "collection_no": "催收编号",
}

# Codes shown as their labels: (table, field) first, then the field alone.
CHOICES = {
    ("loan", "status"): LOAN_STATUSES, ("collection", "status"): COLLECTION_STATUSES,
    ("warning", "level"): WARNING_LEVELS,
    "target": COLLECTION_TARGETS, "method": {**INSPECTION_METHODS, **COLLECTION_METHODS},
    "repayment_method": REPAYMENT_METHODS, "five_class": FIVE_CLASSES, "suggested_class": FIVE_CLASSES,
    "from_class": FIVE_CLASSES, "to_class": FIVE_CLASSES, "review_status": REVIEW_STATUSES,
    "decision": DECISIONS, "handling_state": HANDLING_STATES,
    "kind": {**CUSTOMER_TYPES, **COLLATERAL_KINDS, **INSPECTION_KINDS},
}
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
SUMMARY = re.compile(r"^(create|update|delete) (\w+)$")


def _model_for(table: str):
    for mapper in db.Model.registry.mappers:
        if getattr(mapper.class_, "__tablename__", None) == table:
            return mapper.class_
    return None


def field_label(table: str, key: str) -> str:
    return COLLECTION_LABELS.get(key) if table == "collection" and key in COLLECTION_LABELS else \
        LOAN_LABELS.get(key) or GENERAL_LABELS.get(key) or key


def value_text(table: str, key: str, value) -> str:
    if value is None or value == "":
        return formats.EMPTY
    if isinstance(value, bool):
        return formats.yesno_text(value)
    choices = CHOICES.get((table, key)) or CHOICES.get(key)
    if choices is not None:
        label = choices.get(value)
        if label is None and isinstance(value, str) and value.isdigit():
            label = choices.get(int(value))
        if label is not None:
            return label
    if key == "password_hash":
        return "(已修改)"
    model = _model_for(table)
    kind = formats.column_kind(model, key) if model is not None else None
    if kind in ("money", "rate"):
        return formats.FORMATS[kind](value)
    if isinstance(value, str) and ISO_TIME.match(value):
        return value[:16].replace("T", " ")
    return str(value)


def _load(raw: str | None) -> dict:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {"": raw}
    return data if isinstance(data, dict) else {"": data}


def changes(entry) -> list[tuple[str, str, str]]:
    """(field label, before, after) for every field either side names, in their order."""
    # Rows written before identifiers were masked at write time are masked here too.
    before = mask_record(entry.table_name, _load(entry.before)) or {}
    after = mask_record(entry.table_name, _load(entry.after)) or {}
    keys = list(before) + [k for k in after if k not in before]
    rows = []
    for k in keys:
        rows.append((field_label(entry.table_name, k) if k else "内容",
                     value_text(entry.table_name, k, before.get(k)) if entry.before else formats.EMPTY,
                     value_text(entry.table_name, k, after.get(k)) if entry.after else formats.EMPTY))
    return rows


def summary_text(entry, action_labels: dict, table_labels: dict) -> str:
    m = SUMMARY.match(entry.summary or "")
    if m:
        return f"{action_labels.get(m.group(1), m.group(1))}{table_labels.get(entry.table_name, '')}"
    return entry.summary or ""


def object_text(entry, table_labels: dict) -> str:
    label = table_labels.get(entry.table_name, entry.table_name)
    return f"{label} #{entry.record_id}" if entry.record_id else label


def details_cell(entry, action_labels: dict, table_labels: dict) -> Markup:
    """A 详情 button and the dialog it opens: old and new values side by side."""
    rows = "".join(f"<tr><th>{escape(label)}</th><td class='old'>{escape(old)}</td><td class='new'>{escape(new)}</td></tr>"
                   for label, old, new in changes(entry))
    dialog_id = f"audit-{entry.id}"
    title = escape(f"{summary_text(entry, action_labels, table_labels)} · {object_text(entry, table_labels)}")
    return Markup(
        f"<button type='button' class='btn btn-link btn-sm p-0 audit-open' data-open-dialog='{dialog_id}'>详情</button>"
        f"<dialog class='confirm-dialog detail-dialog' id='{dialog_id}'><form method='dialog'>"
        f"<h2 class='confirm-title'>{title}</h2>"
        f"<p class='form-note'>{escape(formats.minute_text(entry.at))} · {escape(entry.username or '')}</p>"
        f"<div class='scroll-box'><table class='table table-sm table-bordered audit-change'>"
        f"<thead><tr><th>字段</th><th>修改前</th><th>修改后</th></tr></thead><tbody>{rows}</tbody></table></div>"
        f"<div class='confirm-buttons'><button class='btn btn-outline-secondary btn-sm' value='close'>关闭</button></div>"
        f"</form></dialog>")


def changes_text(entry, side: str) -> str:
    """One side of an entry as text for exports: 「字段:值」 joined by 「;」."""
    rows = changes(entry)
    idx = 1 if side == "before" else 2
    if not (entry.before if side == "before" else entry.after):
        return ""
    return ";".join(f"{r[0]}:{r[idx]}" for r in rows)
