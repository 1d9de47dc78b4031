"""基础数据 › 利率调整记录 / 展期记录: each loan's rate changes and extensions, read-only lists
(they are made on 合同变更 and approved there), with 导入 for admins bringing in the old
system's history (services.importing.kinds: rate_changes and extensions, imported after the
loans and before the repayments). The old system's write-offs come in on 核销台账 (write_offs).
Menu order continues views.loan_records."""
from admin_app.extensions import db
from admin_app.import_screen import ImportMixin
from models import Extension, RateChange
from views.basic_data import CATEGORY
from views.common import register_screens
from views.loan_records import LoanChildView, loan_fields, loan_labels


class RateChangeListView(ImportMixin, LoanChildView):
    import_kind = "rate_changes"
    can_create = can_edit = can_delete = False
    column_list = ("loan.loan_no", "loan.customer_name", "effective_date", "old_rate", "new_rate", "reason",
                   "created_at")
    column_labels = loan_labels(effective_date="生效日期", old_rate="原年利率(%)", new_rate="调整后年利率(%)",
                                reason="调整原因", created_at="登记时间")
    column_sortable_list = ("effective_date",)
    column_details_list = column_list
    search_fields = loan_fields(RateChange.loan)


class ExtensionListView(ImportMixin, LoanChildView):
    import_kind = "extensions"
    can_create = can_edit = can_delete = False
    column_list = ("loan.loan_no", "loan.customer_name", "old_maturity_date", "new_maturity_date", "reason",
                   "created_at")
    column_labels = loan_labels(old_maturity_date="原到期日", new_maturity_date="展期后到期日", reason="展期原因",
                                created_at="登记时间")
    column_sortable_list = ("new_maturity_date",)
    column_details_list = column_list
    search_fields = loan_fields(Extension.loan)


def register(admin) -> None:
    register_screens(admin, (
        (RateChangeListView, RateChange, "利率调整记录", "rate_changes"),
        (ExtensionListView, Extension, "展期记录", "extensions"),
    ), CATEGORY)
