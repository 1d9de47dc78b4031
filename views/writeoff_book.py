"""核销台账 (核销管理): every written-off loan (账销案存), one row per write-off entry of its
ledger (loan_entry; written off through a 核销申请 or any other path of services.ledger), with
the amounts the ledger wrote off (what was owed on the write-off date: 本金, 利息, 罚息及复利),
what has been recovered since (核销后收回 entries, net of reversals), what is still to recover
and the latest collection; search 客户名称 / 贷款编号; export. The figures are read from the
ledger's stored replay (models.writeoff_book), never from an application's own amounts.
Collection of these claims continues on 还款催收 / 担保人催收 (marked 已核销), and
repayments on them are booked as recoveries."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import contains_eager, undefer

from admin_app import formats
from admin_app.extensions import db
from admin_app.import_screen import ImportMixin
from admin_app.screens import ScreenView, loan_detail_link
from models import LoanEntry
from views.common import customer_name_field, loan_no_field

CENT = Decimal("0.01")
AMOUNTS = ("written_off_principal", "written_off_interest", "written_off_penalty", "recovered_amount")


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


def written_off(m) -> Decimal:
    return _money(m.written_off_principal) + _money(m.written_off_interest) + _money(m.written_off_penalty)


def to_recover(m) -> Decimal:
    return max(written_off(m) - _money(m.recovered_amount), Decimal("0.00"))


def _attr(name):
    return lambda m: _money(getattr(m, name))


FIGURES = {**{name: _attr(name) for name in AMOUNTS}, "written_off_total": written_off, "to_recover": to_recover}


class WriteOffBookView(ImportMixin, ScreenView):
    import_kind = "write_offs"  # the old system's write-offs (admins; after the loans' repayments)
    can_view_details = False
    column_list = ("loan.loan_no", "loan.customer_name", "loan.product.name", "value_date",
                   "written_off_principal", "written_off_interest", "written_off_penalty", "written_off_total",
                   "recovered_amount", "to_recover", "last_collection_at", "loan.status")
    column_labels = {"loan.loan_no": "贷款编号", "loan.customer_name": "客户名称",
                     "loan.product.name": "贷款产品", "value_date": "核销日期",
                     "written_off_principal": "核销本金", "written_off_interest": "核销利息",
                     "written_off_penalty": "核销罚息及复利", "written_off_total": "核销金额合计",
                     "recovered_amount": "累计收回", "to_recover": "尚未收回",
                     "last_collection_at": "最近催收时间", "loan.status": "贷款状态"}
    column_descriptions = {"written_off_total": "核销日贷款所欠本金、利息、罚息及复利(核销后停止计息)",
                           "recovered_amount": "核销后收回合计(已冲正的不计)"}
    column_choices = {"loan.status": [("written_off", "已核销"), ("settled", "已结清")]}
    column_sortable_list = ("value_date", "recovered_amount", "last_collection_at")
    column_default_sort = ("id", True)
    column_formatters = {
        **{name: (lambda fn: lambda v, c, m, n: formats.money_text(fn(m)))(fn) for name, fn in FIGURES.items()},
        "last_collection_at": lambda v, c, m, n: formats.minute_text(m.last_collection_at),
    }
    column_formatters_export = {name: (lambda fn: lambda v, c, m, n: fn(m))(fn) for name, fn in FIGURES.items()}
    search_fields = (customer_name_field(), loan_no_field())
    row_links = (loan_detail_link(),)

    def base_joins(self) -> tuple:
        return (LoanEntry.loan,)

    def base_filters(self) -> list:
        return [LoanEntry.kind == "write_off"]

    def get_query(self):
        return super().get_query().options(contains_eager(LoanEntry.loan),
                                           *(undefer(getattr(LoanEntry, name)) for name in AMOUNTS),
                                           undefer(LoanEntry.last_collection_at))


def register(admin) -> None:
    admin.add_view(WriteOffBookView(LoanEntry, db, name="核销台账", category="核销管理",
                                    endpoint="writeoff_book"))
