"""What the 催收管理 screens share: the record labels, money and time formatters, the page
renderer, and the list of collection records (催收查询 and the 待上传回执 lists)."""
from flask import current_app
from flask_admin.helpers import get_redirect_target

from admin_app import formats
from admin_app.screens import ScreenView, SearchField
from models import Collection, Loan
from models.enums import COLLECTION_METHODS, COLLECTION_STATUSES, COLLECTION_TARGETS
from services import collection as collection_service
from views.common import customer_name_field

CATEGORY = "催收管理"

LABELS = {
    "collection_no": "催收编号", "loan.loan_no": "贷款编号", "loan.customer_name": "客户名称",
    "target": "催收对象", "guarantor.name": "担保人", "method": "催收方式",
    "contacted_at": "催收时间", "content": "催收内容", "result": "催收结果",
    "promised_date": "承诺还款日期", "promised_amount": "承诺还款金额", "next_follow_up": "下次跟进日期",
    "status": "状态", "collector": "催收人", "has_receipt": "已上传回执", "needs_receipt": "需要回执",
    "created_at": "登记时间",
}


def money(view, context, model, name):
    """Money in lists with thousands separators (exports keep the Decimal)."""
    value = model
    for part in name.split("."):
        value = getattr(value, part, None)
    return formats.money_text(value)


def money_formatters(*names: str) -> dict:
    return {name: money for name in names}


def owed_cell(view, context, model, name):
    loan = model if isinstance(model, Loan) else model.loan
    return formats.money_text(collection_service.amount_owed(loan))


def owed_export(view, context, model, name):
    loan = model if isinstance(model, Loan) else model.loan
    return collection_service.amount_owed(loan)


def to_the_minute(view, context, model, name):
    return formats.minute_text(getattr(model, name))


def back_url(default: str) -> str:
    return get_redirect_target() or default


def upload_mb() -> str:
    """The upload size limit in MB, as the pages state it."""
    return f"{current_app.config['MAX_UPLOAD_BYTES'] / 1024 / 1024:g}"


def render_page(view, template: str, **context):
    """Render a 催收 page with the code -> label maps its tables use."""
    return view.render(template, target_labels=COLLECTION_TARGETS, method_labels=COLLECTION_METHODS,
                       status_labels=COLLECTION_STATUSES,
                       max_mb=upload_mb(), **context)


class CollectionRecordView(ScreenView):
    """A list of collection records with 客户名称 search (and a second field per screen)."""

    can_view_details = True
    column_labels = LABELS
    column_choices = {"target": list(COLLECTION_TARGETS.items()),
                      "method": list(COLLECTION_METHODS.items()),
                      "status": list(COLLECTION_STATUSES.items())}
    column_formatters = {"contacted_at": to_the_minute, "promised_amount": money}
    column_sortable_list = ("collection_no", "contacted_at", "next_follow_up", "status")
    column_default_sort = ("id", True)
    column_details_list = ("collection_no", "loan.loan_no", "loan.customer_name", "target",
                           "guarantor.name", "method", "contacted_at", "content", "result",
                           "promised_date", "promised_amount", "next_follow_up", "status",
                           "needs_receipt", "has_receipt", "collector", "created_at")

    @staticmethod
    def customer_field() -> SearchField:
        return customer_name_field(Loan.customer_name, join=(Collection.loan,))
