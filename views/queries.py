"""贷后业务查询: the four loan lists by status, each with the seed search fields, export of
exactly the filtered rows and 贷款详情. Declared from one table, not four copies."""
from dataclasses import dataclass

from admin_app.extensions import db
from models import Loan
from views.common import LoanListView

CATEGORY = "贷后业务查询"
BASE_COLUMNS = ("loan_no", "customer_name", "product.name", "principal", "rate", "term_months",
                "start_date", "maturity_date", "repayment_method", "officer")


@dataclass(frozen=True)
class LoanQuery:
    endpoint: str
    name: str  # menu entry, exactly as SPEC §3
    status: str
    columns: tuple[str, ...]
    sortable: tuple[str, ...] = ()
    key: tuple[str, ...] = ()  # what the screen is for: kept in view next to the loan


QUERIES = (
    LoanQuery("query_active", "还款中贷款查询", "active",
              BASE_COLUMNS + ("outstanding_principal", "five_class", "next_inspection_date"),
              key=("outstanding_principal", "five_class", "next_inspection_date")),
    LoanQuery("query_extended", "已展期贷款查询", "extended",
              BASE_COLUMNS + ("outstanding_principal", "five_class", "days_overdue"),
              key=("outstanding_principal", "days_overdue", "five_class")),
    LoanQuery("query_overdue", "逾期贷款查询", "overdue",
              BASE_COLUMNS + ("outstanding_principal", "days_overdue", "overdue_principal",
                              "overdue_interest", "penalty_interest", "five_class"),
              key=("days_overdue", "overdue_principal", "overdue_interest", "penalty_interest", "five_class")),
    LoanQuery("query_settled", "已结清贷款查询", "settled", BASE_COLUMNS + ("settled_date", "five_class"),
              sortable=("settled_date",), key=("settled_date", "five_class")),
)


class LoanQueryView(LoanListView):
    """One 贷后业务查询 screen; `statuses` and columns come from its LoanQuery."""


def query_view(q: LoanQuery) -> type[LoanQueryView]:
    return type(f"LoanQuery_{q.status}", (LoanQueryView,), {
        "statuses": (q.status,),
        "column_list": q.columns,
        "key_columns": q.key,
        "column_export_list": q.columns,
        "column_sortable_list": LoanListView.column_sortable_list + q.sortable,
    })


def register(admin) -> None:
    for q in QUERIES:
        admin.add_view(query_view(q)(Loan, db, name=q.name, category=CATEGORY, endpoint=q.endpoint))
