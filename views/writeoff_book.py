"""核销台账 (核销管理): every written-off loan (账销案存) with the amounts written off, what has
been recovered since (核销后收回), what is still to recover and the latest collection; search
客户名称 / 贷款编号; export. Collection of these claims continues on 还款催收 / 担保人催收
(marked 已核销), and repayments on them are booked as recoveries."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import undefer

from admin_app import formats
from admin_app.extensions import db
from admin_app.screens import ScreenView, loan_detail_link
from models import WriteOff
from views.common import customer_name_field, loan_no_field

CENT = Decimal("0.01")


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


def written_off(m) -> Decimal:
    return _money(m.principal_amount) + _money(m.interest_amount)


def to_recover(m) -> Decimal:
    return max(written_off(m) - _money(m.recovered_amount), Decimal("0.00"))


def _shown(fn):
    return lambda v, c, m, n: formats.money_text(fn(m))


class WriteOffBookView(ScreenView):
    can_view_details = False
    column_list = ("loan.loan_no", "loan.customer_name", "loan.product.name", "loan.written_off_date",
                   "principal_amount", "interest_amount", "written_off_total", "recovered_amount",
                   "to_recover", "last_collection_at", "loan.status")
    column_labels = {"loan.loan_no": "贷款编号", "loan.customer_name": "客户名称",
                     "loan.product.name": "贷款产品", "loan.written_off_date": "核销日期",
                     "principal_amount": "核销本金", "interest_amount": "核销利息(含罚息)",
                     "written_off_total": "核销金额合计", "recovered_amount": "累计收回",
                     "to_recover": "尚未收回", "last_collection_at": "最近催收时间", "loan.status": "贷款状态"}
    column_choices = {"loan.status": [("written_off", "已核销"), ("settled", "已结清")]}
    column_sortable_list = ("principal_amount", "recovered_amount", "last_collection_at")
    column_default_sort = ("id", True)
    column_formatters = {
        "principal_amount": _shown(lambda m: _money(m.principal_amount)),
        "interest_amount": _shown(lambda m: _money(m.interest_amount)),
        "written_off_total": _shown(written_off),
        "recovered_amount": _shown(lambda m: _money(m.recovered_amount)),
        "to_recover": _shown(to_recover),
        "last_collection_at": lambda v, c, m, n: formats.minute_text(m.last_collection_at),
    }
    column_formatters_export = {"written_off_total": lambda v, c, m, n: written_off(m),
                                "recovered_amount": lambda v, c, m, n: _money(m.recovered_amount),
                                "to_recover": lambda v, c, m, n: to_recover(m)}
    search_fields = (customer_name_field(), loan_no_field())
    row_links = (loan_detail_link(),)

    def base_joins(self) -> tuple:
        return (WriteOff.loan,)

    def base_filters(self) -> list:
        return [WriteOff.review_status == "approved"]

    def get_query(self):
        return super().get_query().options(undefer(WriteOff.recovered_amount),
                                           undefer(WriteOff.last_collection_at))


def register(admin) -> None:
    admin.add_view(WriteOffBookView(WriteOff, db, name="核销台账", category="核销管理",
                                    endpoint="writeoff_book"))
