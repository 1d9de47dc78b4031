"""基础数据, loan side: records hanging on a loan — collateral, guarantors and repayments
(posted through the money engine, never edited or deleted). Menu order continues
views.basic_data."""
from decimal import Decimal

from flask import flash
from flask_login import current_user
from wtforms import SelectField
from wtforms.validators import NumberRange

from admin_app.form_validators import ResidentOrCreditCode, phone
from admin_app.import_screen import ImportMixin
from admin_app.screens import DeleteGuard, ScreenView, SearchField, loan_detail_link
from models import Collateral, Collection, Guarantor, Loan, Repayment, Warning
from models.enums import COLLATERAL_KINDS, GUARANTOR_TYPES, OPEN_LOAN_STATUSES
from models.ledger import ADVANCE, REPAYMENT_CHOICES, RULES
from services import BusinessError
from views.basic_data import CATEGORY, POSITIVE, DateRangeMixin
from views.common import loan_ref, register_screens
from views.reversal import ReversalPagesMixin

NON_NEGATIVE = NumberRange(min=Decimal("0"), message="金额不能为负数")


def loan_fields(join_via):
    """客户名称 / 贷款编号 search fields for screens whose rows belong to a loan."""
    return (SearchField("customer", "客户名称", Loan.customer_name, mode="contains", join=(join_via,)),
            SearchField("loan_no", "贷款编号", Loan.loan_no, mode="contains", join=(join_via,)))


LOAN_LABELS = {"loan": "贷款", "loan.loan_no": "贷款编号", "loan.customer_name": "客户名称"}


def loan_labels(**own: str) -> dict:
    """Column labels of a screen whose rows belong to a loan: the loan's, then its own."""
    return {**LOAN_LABELS, **own}


def loan_form_args(**own: dict) -> dict:
    """form_args with the loan picker labelled 贷款."""
    return {"loan": {"label": LOAN_LABELS["loan"]}, **own}


class LoanChildView(ScreenView):
    """A record hanging on a loan: loan picked by AJAX, searched by 客户名称 / 贷款编号, a
    贷款详情 link per row. Exports carry column_list (Flask-Admin's default)."""

    column_default_sort = ("id", True)
    form_ajax_refs = {"loan": loan_ref()}
    row_links = (loan_detail_link(),)


class CollateralView(ImportMixin, DateRangeMixin, LoanChildView):
    import_kind = "collaterals"
    column_list = ("loan.loan_no", "loan.customer_name", "kind", "description", "value", "registration_no",
                   "start_date", "expiry_date")
    column_labels = loan_labels(kind="类型", description="抵质押物描述", value="评估价值",
                                registration_no="登记证号", start_date="起始日", expiry_date="到期日")
    column_choices = {"kind": list(COLLATERAL_KINDS.items())}
    column_sortable_list = ("value", "start_date", "expiry_date")
    column_details_list = column_list
    form_columns = ("loan", "kind", "description", "value", "registration_no", "start_date", "expiry_date")
    form_choices = {"kind": list(COLLATERAL_KINDS.items())}
    form_args = loan_form_args(value={"validators": [NON_NEGATIVE]})
    search_fields = loan_fields(Collateral.loan) + (
        SearchField("kind", "类型", Collateral.kind, mode="choice", choices=COLLATERAL_KINDS),)
    delete_guards = (DeleteGuard(Warning, "collateral_id", "该抵质押物有预警记录"),)


class GuarantorView(ImportMixin, LoanChildView):
    import_kind = "guarantors"
    column_list = ("loan.loan_no", "loan.customer_name", "kind", "name", "id_number", "phone", "guaranteed_amount")
    column_labels = loan_labels(kind="担保人类型", name="担保人名称", id_number="证件号码",
                                phone="联系电话", guaranteed_amount="担保金额")
    column_choices = {"kind": list(GUARANTOR_TYPES.items())}
    column_sortable_list = ("name", "guaranteed_amount")
    column_details_list = column_list
    form_columns = ("loan", "kind", "name", "id_number", "phone", "guaranteed_amount")
    form_choices = {"kind": list(GUARANTOR_TYPES.items())}
    form_args = loan_form_args(id_number={"validators": [ResidentOrCreditCode()]},
                               phone={"validators": [phone]},
                               guaranteed_amount={"validators": [NON_NEGATIVE]})
    search_fields = loan_fields(Guarantor.loan) + (SearchField("name", "担保人名称", Guarantor.name, mode="contains"),)
    delete_guards = (DeleteGuard(Collection, "guarantor_id", "该担保人已有催收记录"),)


# ---- repayments ---------------------------------------------------------------------

class RepaymentView(ImportMixin, ReversalPagesMixin, LoanChildView):
    """Posted through services.loans.post_repayment (allocation penalty → interest →
    principal); never edited or deleted: a correction is a 冲正 (views.reversal)."""

    verbs = ReversalPagesMixin.reversal_verbs
    row_links = (ReversalPagesMixin.reversal_link,) + LoanChildView.row_links

    import_kind = "repayments"

    column_list = ("loan.loan_no", "loan.customer_name", "paid_on", "amount", "penalty_part", "interest_part",
                   "principal_part", "advance_part", "kind", "reversed_on", "operator")
    column_labels = loan_labels(paid_on="还款日期", amount="还款金额", penalty_part="冲抵罚息/复利/违约金",
                                interest_part="冲抵利息", principal_part="冲抵本金", advance_part="预收",
                                kind="类别",
                                reversed_on="冲正日期", operator="经办人")
    column_formatters = {"kind": lambda v, c, m, p: {"repayment": "还款", "recovery": "核销后收回"}.get(m.kind, m.kind)}
    column_sortable_list = ("paid_on", "amount")
    column_details_list = column_list
    form_columns = ("loan", "paid_on", "amount", "prepay_mode")
    form_extra_fields = {"prepay_mode": SelectField(
        "余额用途", choices=list(REPAYMENT_CHOICES.items()), default=ADVANCE,
        description="冲抵还款日已到期的应还款后仍有余额时:" + RULES["advance"] + "选择提前还款的:" + RULES["prepayment"])}
    # written-off loans too: what comes in is booked as 核销后收回 (账销案存)
    form_ajax_refs = {"loan": loan_ref(statuses=OPEN_LOAN_STATUSES + ("written_off",))}
    form_args = loan_form_args(
        amount={"validators": [POSITIVE], "description": RULES["allocation"] + RULES["penalty"]},
        paid_on={"description": RULES["backdated"]})
    search_fields = loan_fields(Repayment.loan)

    def create_model(self, form):
        from services.loans import post_repayment

        try:
            repayment = post_repayment(form.loan.data, form.amount.data, form.paid_on.data,
                                       operator=current_user._get_current_object(),
                                       prepay_mode=form.prepay_mode.data or None)
            self.session.commit()
        except BusinessError as err:
            self.session.rollback()
            flash(str(err), "error")
            return False
        kind = "核销后收回" if repayment.kind == "recovery" else "还款"
        advance = f",转入预收款 {repayment.advance_part}" if repayment.advance_part > 0 else (
            f",使用预收款 {-repayment.advance_part}" if repayment.advance_part < 0 else "")
        flash(f"已登记{kind} {repayment.amount} 元:罚息 {repayment.penalty_only},复利 {repayment.compound_part},"
              f"利息 {repayment.interest_part},本金 {repayment.principal_part},违约金 {repayment.fee_part}{advance}。",
              "success")
        return repayment


SCREENS = (
    (CollateralView, Collateral, "抵质押物", "collaterals"),
    (GuarantorView, Guarantor, "担保人", "guarantors"),
    (RepaymentView, Repayment, "还款记录", "repayments"),
)


def register(admin) -> None:
    register_screens(admin, SCREENS, CATEGORY)
