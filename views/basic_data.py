"""基础数据, customer side: customers (with their bank cards inline), loan products (admins),
loans (opened through the money engine, never edited) and credit lines. What hangs on a loan
(collateral, guarantors, repayments) is views.loan_records."""
from decimal import Decimal

from flask import flash, request
from flask_login import current_user
from wtforms import DecimalField, StringField
from wtforms.validators import Length, NumberRange, Optional

from admin_app import formats
from admin_app.form_validators import NumberPattern, ResidentOrCreditCode, phone
from admin_app.import_screen import ImportMixin
from admin_app.screens import DeleteGuard, ScreenView, SearchField
from models.ledger import GRACE_MODES, RULES, SETTLE_MODES
from models import BankCard, CreditLine, Customer, Loan, LoanProduct, Warning
from models.enums import CUSTOMER_TYPES, LOAN_STATUSES, REPAYMENT_METHODS
from services import BusinessError, bank_cards
from services.limits import ceiling_note, ceiling_refusal, product_annual_rate, single_loan_limit
from views.common import OFFICER_ONLY, LoanListView, PrefixAjaxLoader, customer_ref, officer_ref, register_screens

CATEGORY = "基础数据"
POSITIVE = NumberRange(min=Decimal("0.01"), message="金额必须大于0")


# ---- customers ------------------------------------------------------------------------

class CustomerView(ImportMixin, ScreenView):
    import_kind = "customers"
    column_list = ("kind", "name", "id_number", "phone", "contact_person", "address", "officer")
    column_labels = {"kind": "客户类型", "name": "客户名称", "id_number": "证件号码", "phone": "联系电话",
                     "contact_person": "联系人", "address": "地址", "officer": "客户经理",
                     "bank_cards": "银行卡"}
    column_choices = {"kind": list(CUSTOMER_TYPES.items())}
    column_sortable_list = ("name", "phone")
    column_default_sort = ("id", True)
    column_details_list = column_list
    form_columns = ("kind", "name", "id_number", "phone", "contact_person", "address", "officer", "bank_cards")
    form_choices = {"kind": list(CUSTOMER_TYPES.items())}
    form_args = {"id_number": {"validators": [ResidentOrCreditCode()], "label": "证件号码",
                               "description": "个人填身份证号,企业填统一社会信用代码"},
                 "phone": {"validators": [phone]},
                 "officer": {"label": "客户经理", "validators": [OFFICER_ONLY]}}
    form_ajax_refs = {"officer": officer_ref()}
    inline_models = ((BankCard, {
        "form_columns": ("id", "bank_name", "branch", "account_name", "card_number", "is_default"),
        "form_label": "银行卡",
        "column_labels": {"bank_name": "开户银行", "branch": "开户支行", "account_name": "账户名",
                          "card_number": "银行卡号", "is_default": "默认卡"},
    }),)
    search_fields = (SearchField("name", "客户名称", Customer.name, mode="contains"),
                     SearchField("contact", "联系人", Customer.contact_person, mode="contains"),
                     SearchField("id_number", "证件号码", Customer.id_number),
                     SearchField("phone", "联系电话", Customer.phone))
    delete_guards = (
        DeleteGuard(Loan, "customer_id", "该客户名下有贷款"),
        DeleteGuard(BankCard, "customer_id", "该客户名下有银行卡,请先删除银行卡"),
        DeleteGuard(CreditLine, "customer_id", "该客户名下有授信"),
        DeleteGuard(Warning, "customer_id", "该客户有预警记录"),
    )

    def validate_form(self, form):
        ok = super().validate_form(form)
        if ok and hasattr(form, "contact_person") and form.kind.data == "company" \
                and not (form.contact_person.data or "").strip():
            form.contact_person.errors = list(form.contact_person.errors) + ["企业客户必须填写联系人"]
            return False
        return ok and self._cards_valid(form)

    def _cards_valid(self, form) -> bool:
        """The inline cards follow services.bank_cards' rules, as on the card screen."""
        if not hasattr(form, "bank_cards"):
            return True
        edited = request.args.get("id", "")
        owner = Customer(kind=form.kind.data, name=(form.name.data or "").strip(),
                         id=int(edited) if edited.isdigit() else None)
        ok, seen = True, []
        for entry in form.bank_cards.entries:
            if getattr(entry, "should_delete", lambda: False)():
                continue
            card = entry.form
            card.card_number.data = bank_cards.normalise_number(card.card_number.data)
            card_id = card.id.data if hasattr(card, "id") and str(card.id.data or "").isdigit() else None
            errors = bank_cards.card_errors(owner, card_number=card.card_number.data,
                                            account_name=card.account_name.data, bank_name=card.bank_name.data,
                                            branch=card.branch.data, card_id=int(card_id) if card_id else None,
                                            other_numbers=seen)
            seen.append(card.card_number.data)
            for name, message in errors.items():
                if hasattr(card, name):
                    getattr(card, name).errors = list(getattr(card, name).errors) + [message]
                    ok = False
        return ok

    def on_model_change(self, form, model, is_created):
        # One default card per customer (the last ticked), the old default cleared first.
        defaults = [c for c in model.bank_cards if c.is_default]
        for card in defaults[:-1]:
            card.is_default = False
        if defaults and model.id is not None:
            bank_cards.clear_other_defaults(model.id, defaults[-1].id)
        # A customer an officer adds is theirs unless another 客户经理 is chosen.
        if is_created and model.officer_id is None and model.officer is None \
                and "officer" in current_user.roles:
            model.officer_id = current_user.id
        # Loans keep a copy of the borrower's name for searching.
        if not is_created and model.name:
            self.session.query(Loan).filter(Loan.customer_id == model.id, Loan.customer_name != model.name) \
                .update({"customer_name": model.name}, synchronize_session=False)


# ---- loan products --------------------------------------------------------------------

class ProductView(ScreenView):
    column_list = ("code", "name", "repayment_method", "min_rate", "default_rate", "max_rate", "annual_rate",
                   "min_term", "max_term", "penalty_markup", "grace_days", "grace_mode", "compound_interest",
                   "settle_interest", "prepay_fee_pct", "inspection_interval_days", "active")
    column_labels = {"grace_mode": "宽限期规则", "compound_interest": "计收复利", "settle_interest": "提前结清利息",
                     "prepay_fee_pct": "提前还款违约金(%)",
                     "code": "产品代码", "name": "产品名称", "repayment_method": "还款方式",
                     "min_rate": "最低年利率(%)", "default_rate": "默认年利率(%)", "max_rate": "最高年利率(%)",
                     "min_term": "最短期限(月)", "max_term": "最长期限(月)", "penalty_markup": "罚息上浮(%)",
                     "grace_days": "宽限期(天)", "inspection_interval_days": "贷后检查频率(天)", "active": "启用",
                     "annual_rate": "最高年化利率(IRR,%)"}
    column_choices = {"repayment_method": list(REPAYMENT_METHODS.items()), "grace_mode": list(GRACE_MODES.items()),
                      "settle_interest": list(SETTLE_MODES.items())}
    column_sortable_list = ("code", "name")
    column_default_sort = "code"
    form_columns = tuple(c for c in column_list if c != "annual_rate")
    column_formatters = {"annual_rate": lambda v, c, m, n: product_annual_rate(
        m.repayment_method, m.max_rate, m.min_term, m.max_term)}
    form_choices = {"repayment_method": list(REPAYMENT_METHODS.items()), "grace_mode": list(GRACE_MODES.items()),
                    "settle_interest": list(SETTLE_MODES.items())}
    form_args = {
        "min_rate": {"validators": [NumberRange(min=Decimal("0.000001"), max=Decimal("99.999999"),
                                                message="年利率应大于0且小于100")]},
        "max_rate": {"validators": [NumberRange(min=Decimal("0.000001"), max=Decimal("99.999999"),
                                                message="年利率应大于0且小于100")]},
        "default_rate": {"validators": [NumberRange(min=Decimal("0.000001"), max=Decimal("99.999999"),
                                                    message="年利率应大于0且小于100")]},
        "min_term": {"validators": [NumberRange(min=1, max=360, message="期限应在1到360个月之间")]},
        "max_term": {"validators": [NumberRange(min=1, max=360, message="期限应在1到360个月之间")]},
        "penalty_markup": {"validators": [NumberRange(min=0, max=1000, message="罚息上浮应在0到1000之间")]},
        "grace_days": {"validators": [NumberRange(min=0, max=90, message="宽限期应在0到90天之间")]},
        "grace_mode": {"description": RULES["penalty"]},
        "compound_interest": {"description": "逾期利息按罚息利率每日计收复利"},
        "settle_interest": {"description": RULES["prepayment"]},
        "prepay_fee_pct": {"validators": [NumberRange(min=0, max=Decimal("99.99"), message="违约金比例应在0到99.99之间")],
                           "description": "按提前偿还的本金计收;0 表示不收"},
        "inspection_interval_days": {"validators": [NumberRange(min=1, max=3650, message="检查频率应在1到3650天之间")]},
    }
    search_fields = (SearchField("name", "产品名称", LoanProduct.name, mode="contains"),)
    delete_guards = (DeleteGuard(Loan, "product_id", "该产品已有贷款使用"),)
    form_notes = {"max_rate": lambda: ceiling_note("按最高年利率、最短与最长期限计算的年化利率(IRR)")}

    def validate_form(self, form):
        ok = super().validate_form(form)
        if not ok or not hasattr(form, "min_rate"):
            return ok
        problems = []
        if not (form.min_rate.data <= form.default_rate.data <= form.max_rate.data):
            problems.append((form.default_rate, "应满足 最低年利率 ≤ 默认年利率 ≤ 最高年利率"))
        if form.min_term.data > form.max_term.data:
            problems.append((form.max_term, "最长期限不能小于最短期限"))
        elif not problems and form.repayment_method.data in REPAYMENT_METHODS:
            annual = product_annual_rate(form.repayment_method.data, form.max_rate.data,
                                         form.min_term.data, form.max_term.data)
            refusal = ceiling_refusal(annual, "按最高年利率计算的")
            if refusal:
                problems.append((form.max_rate, refusal))
        for field, message in problems:
            field.errors = list(field.errors) + [message]
        return not problems


# ---- loans --------------------------------------------------------------------------

class LoanView(ImportMixin, LoanListView):
    """Every loan; a new loan is opened through services.loans.open_loan (schedule included).
    Posted loans are never edited or deleted here (no permission exists for it)."""

    import_kind = "loans"

    column_list = ("loan_no", "contract_no", "customer_name", "product.name", "principal", "rate",
                   "term_months", "start_date", "maturity_date", "outstanding_principal", "status", "five_class")
    # Exports name the borrower by 证件号码 as well (two customers may share a name), so an
    # exported file imports back (services.importing matches customers by 证件号码).
    column_export_list = column_list[:3] + ("customer.id_number",) + column_list[3:]
    column_labels = {**LoanListView.column_labels, "customer.id_number": "客户证件号码"}
    key_columns = ("status", "outstanding_principal", "five_class")
    search_fields = LoanListView.search_fields + (
        SearchField("status", "贷款状态", Loan.status, mode="choice", choices=LOAN_STATUSES),)
    form_columns = ("customer", "product", "principal", "rate", "term_months", "start_date", "officer",
                    "loan_no", "contract_no")
    form_notes = {"principal": lambda: f"单笔贷款金额上限 {formats.money_text(single_loan_limit())} 元(系统参数),金额最多两位小数",
                  "rate": lambda: "留空则使用产品的默认年利率;最多四位小数。" + ceiling_note("按还款计划计算的年化利率(IRR)")}
    form_ajax_refs = {"customer": customer_ref(),
                      "product": PrefixAjaxLoader("product", LoanProduct, (LoanProduct.code, LoanProduct.name),
                                                  where=LoanProduct.active.is_(True),
                                                  placeholder="输入产品代码或名称开头查找"),
                      "officer": officer_ref()}
    form_args = {"customer": {"label": "客户"}, "product": {"label": "贷款产品"},
                 "officer": {"label": "客户经理", "validators": [OFFICER_ONLY],
                             "description": "留空则为您本人(须为客户经理)"},
                 "principal": {"validators": [POSITIVE]},
                 "term_months": {"validators": [NumberRange(min=1, max=360, message="期限应在1到360个月之间")]}}
    form_extra_fields = {
        "rate": DecimalField("年利率(%)", places=6, validators=[
            Optional(), NumberRange(min=Decimal("0.000001"), max=Decimal("99.999999"), message="年利率应大于0且小于100")],
            description="留空则使用产品的默认年利率"),
        "loan_no": StringField("贷款编号", validators=[Optional(), Length(max=32), NumberPattern("LOAN_NUMBER_PATTERN")],
                               description="留空自动生成(DK+放款日期+6位序号);自填须符合公司编号规则"),
        "contract_no": StringField("合同编号", validators=[Optional(), Length(max=40),
                                                       NumberPattern("CONTRACT_NUMBER_PATTERN")],
                                   description="留空自动生成(HT+放款日期+6位序号);自填须符合公司编号规则"),
    }

    def create_model(self, form):
        from services.loans import open_loan

        officer = form.officer.data
        if officer is None and current_user.has_role("officer"):
            officer = current_user._get_current_object()
        if officer is None:
            flash("请选择客户经理(在职且具有客户经理角色的用户)。", "error")
            return False
        try:
            loan = open_loan(customer=form.customer.data, product=form.product.data,
                             principal=form.principal.data, rate=form.rate.data,
                             term_months=form.term_months.data, start_date=form.start_date.data,
                             officer=officer,
                             loan_no=(form.loan_no.data or "").strip() or None,
                             contract_no=(form.contract_no.data or "").strip() or None)
            self.session.commit()
        except BusinessError as err:
            self.session.rollback()
            flash(str(err), "error")
            return False
        except Exception as ex:
            self.session.rollback()
            if not self.handle_view_exception(ex):
                raise
            return False
        flash(f"贷款 {loan.loan_no} 已放款,还款计划已生成。", "success")
        return loan


# ---- credit lines -------------------------------------------------------------------

class DateRangeMixin:
    """start_date ≤ expiry_date, checked on the form so the error shows by the field."""

    def validate_form(self, form):
        ok = super().validate_form(form)
        if ok and hasattr(form, "expiry_date") and form.expiry_date.data < form.start_date.data:
            form.expiry_date.errors = list(form.expiry_date.errors) + ["到期日不能早于起始日"]
            return False
        return ok


class CreditLineView(ImportMixin, DateRangeMixin, ScreenView):
    import_kind = "credit_lines"
    column_list = ("customer.name", "customer.phone", "customer.contact_person", "amount", "start_date", "expiry_date")
    column_export_list = ("customer.id_number",) + column_list
    column_labels = {"customer": "客户", "customer.name": "客户名称", "customer.id_number": "客户证件号码",
                     "customer.phone": "联系电话",
                     "customer.contact_person": "联系人", "amount": "授信金额", "start_date": "起始日",
                     "expiry_date": "到期日"}
    column_sortable_list = ("amount", "start_date", "expiry_date")
    column_default_sort = ("id", True)
    column_details_list = column_list
    form_columns = ("customer", "amount", "start_date", "expiry_date")
    form_ajax_refs = {"customer": customer_ref()}
    form_args = {"customer": {"label": "客户"}, "amount": {"validators": [POSITIVE]}}
    search_fields = (SearchField("customer", "客户名称", Customer.name, mode="contains", join=(CreditLine.customer,)),
                     SearchField("phone", "联系电话", Customer.phone, join=(CreditLine.customer,)))
    delete_guards = (DeleteGuard(Warning, "credit_line_id", "该授信有预警记录"),)


SCREENS = (
    (CustomerView, Customer, "客户", "customers"),
    (ProductView, LoanProduct, "贷款产品", "products"),
    (LoanView, Loan, "贷款", "loans"),
    (CreditLineView, CreditLine, "授信", "credit_lines"),
)


def register(admin) -> None:
    register_screens(admin, SCREENS, CATEGORY)
