"""客户银行卡账户管理: several cards per customer, edit, bulk delete, masked numbers."""
from admin_app.form_validators import card_number
from admin_app.import_screen import ImportMixin
from admin_app.screens import ScreenView, SearchField
from models import BankCard, Customer
from views.common import customer_ref


class BankCardView(ImportMixin, ScreenView):
    import_kind = "bank_cards"
    column_list = ("customer.name", "customer.phone", "bank_name", "branch", "account_name",
                   "card_number", "is_default")
    column_labels = {
        "customer": "客户", "customer.name": "客户名称", "customer.phone": "联系电话",
        "bank_name": "开户银行", "branch": "开户支行", "account_name": "账户名",
        "card_number": "银行卡号", "is_default": "默认卡", "note": "备注",
    }
    column_details_list = ("customer.name", "bank_name", "branch", "account_name", "card_number",
                           "is_default", "note")
    column_sortable_list = ("customer.name", "bank_name", "is_default")
    column_default_sort = ("id", True)
    form_columns = ("customer", "bank_name", "branch", "account_name", "card_number", "is_default", "note")
    form_ajax_refs = {"customer": customer_ref()}
    form_args = {
        "customer": {"label": "客户"},
        "card_number": {"validators": [card_number]},
    }
    search_fields = (
        SearchField("customer", "客户名称", Customer.name, join=(BankCard.customer,)),
        SearchField("card", "银行卡号", BankCard.card_number),
    )

    def on_model_change(self, form, model, is_created):
        # One default card per customer: setting a new default clears the others.
        if model.is_default:
            self.session.query(BankCard).filter(BankCard.customer_id == model.customer_id,
                                                BankCard.id != (model.id or 0)) \
                .update({"is_default": False}, synchronize_session=False)


def register(admin) -> None:
    from admin_app.extensions import db

    admin.add_view(BankCardView(BankCard, db, name="客户银行卡账户管理", endpoint="bank_cards"))
