"""客户银行卡账户管理: several cards per customer, edit, bulk delete, masked numbers.
The card rules (number format per customer kind, 账户名, 开户行, one number once, one
default) are services.bank_cards; the customer form's inline cards follow the same rules."""
from sqlalchemy import false

from admin_app.import_screen import ImportMixin
from admin_app.screens import ScreenView, SearchField
from models import BankCard, Customer
from services import bank_cards
from views.common import customer_ref


def card_search(column, raw: str):
    """The full number, or its last four digits; nothing else (a prefix search would let
    anyone read a masked number back one digit at a time)."""
    digits = raw.replace(" ", "")
    if not digits.isdigit():
        return false()
    if len(digits) == 4:
        return column.like("%" + digits)
    if len(digits) >= 8:
        return column == digits
    return false()


class BankCardView(ImportMixin, ScreenView):
    import_kind = "bank_cards"
    column_list = ("customer.name", "customer.phone", "bank_name", "branch", "account_name",
                   "card_number", "is_default")
    column_export_list = ("customer.id_number",) + column_list
    column_labels = {
        "customer": "客户", "customer.name": "客户名称", "customer.id_number": "客户证件号码",
        "customer.phone": "联系电话",
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
        "bank_name": {"label": "开户银行"},
        "branch": {"label": "开户行(支行)", "description": "必填,如:中国工商银行北京朝阳支行"},
        "account_name": {"label": "账户名", "description": "须与客户本人姓名或企业名称一致"},
        "card_number": {"label": "银行卡号 / 对公账号",
                        "description": "个人卡12-19位(银联及国际卡须通过卡号校验位校验);对公账户8-30位数字"},
    }
    search_fields = (
        SearchField("customer", "客户名称", Customer.name, mode="contains", join=(BankCard.customer,)),
        SearchField("card", "银行卡号(完整卡号或后四位)", BankCard.card_number, mode="custom",
                    build=card_search),
    )

    def validate_form(self, form):
        ok = super().validate_form(form)
        if not ok or not hasattr(form, "card_number"):
            return ok
        form.card_number.data = bank_cards.normalise_number(form.card_number.data)
        editing = request_card_id()
        errors = bank_cards.card_errors(form.customer.data, card_number=form.card_number.data,
                                        account_name=form.account_name.data, bank_name=form.bank_name.data,
                                        branch=form.branch.data, card_id=editing)
        for name, message in errors.items():
            getattr(form, name).errors = list(getattr(form, name).errors) + [message]
        return not errors

    def on_model_change(self, form, model, is_created):
        # One default card per customer: setting a new default clears the others first.
        if model.is_default:
            bank_cards.clear_other_defaults(model.customer.id, model.id)


def request_card_id() -> int | None:
    from flask import request

    raw = request.args.get("id", "")
    return int(raw) if raw.isdigit() else None


def register(admin) -> None:
    from admin_app.extensions import db

    admin.add_view(BankCardView(BankCard, db, name="客户银行卡账户管理", endpoint="bank_cards"))
