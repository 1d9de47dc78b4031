"""贷后业务查询: the four loan lists by status, each with the seed search fields, export of
exactly the filtered rows and 贷款详情. Declared from one table, not four copies."""
from dataclasses import dataclass, field

from sqlalchemy.orm import undefer

from admin_app.extensions import db
from models import Loan
from admin_app.screens import SearchField
from views.common import LoanListView, date_range_fields, five_class_field, officer_choices

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
    labels: dict = field(default_factory=dict)
    undefer: tuple[str, ...] = ()  # deferred columns this screen shows


QUERIES = (
    LoanQuery("query_active", "还款中贷款查询", "active",
              BASE_COLUMNS + ("outstanding_principal", "five_class", "next_inspection_date"),
              key=("outstanding_principal", "five_class", "next_inspection_date")),
    LoanQuery("query_extended", "已展期贷款查询", "extended",
              BASE_COLUMNS[:7] + ("original_maturity_date", "maturity_date") + BASE_COLUMNS[8:]
              + ("outstanding_principal", "five_class", "days_overdue"),
              key=("outstanding_principal", "days_overdue", "five_class"),
              labels={"original_maturity_date": "原到期日", "maturity_date": "展期后到期日"},
              undefer=("original_maturity_date",)),
    LoanQuery("query_overdue", "逾期贷款查询", "overdue",
              BASE_COLUMNS + ("outstanding_principal", "days_overdue", "overdue_principal",
                              "overdue_interest", "penalty_interest", "five_class"),
              key=("days_overdue", "overdue_principal", "overdue_interest", "penalty_interest", "five_class")),
    LoanQuery("query_settled", "已结清贷款查询", "settled", BASE_COLUMNS + ("settled_date", "five_class"),
              sortable=("settled_date",), key=("settled_date", "five_class")),
)


class LoanQueryView(LoanListView):
    """One 贷后业务查询 screen; `statuses` and columns come from its LoanQuery."""

    search_fields = LoanListView.search_fields + (
        five_class_field(),
        SearchField("officer", "客户经理", Loan.officer_id, mode="choice", choices=officer_choices, coerce=int),
        *date_range_fields("start", "放款日期", Loan.start_date),
    )

    undefer_columns: tuple[str, ...] = ()

    def get_query(self):
        query = super().get_query()
        if self.undefer_columns:
            query = query.options(*[undefer(getattr(Loan, name)) for name in self.undefer_columns])
        return query


def query_view(q: LoanQuery) -> type[LoanQueryView]:
    return type(f"LoanQuery_{q.status}", (LoanQueryView,), {
        "statuses": (q.status,),
        "column_list": q.columns,
        "key_columns": q.key,
        "column_export_list": q.columns,
        "column_sortable_list": LoanListView.column_sortable_list + q.sortable,
        "column_labels": {**LoanListView.column_labels, **q.labels},
        "undefer_columns": q.undefer,
    })


def register(admin) -> None:
    for q in QUERIES:
        admin.add_view(query_view(q)(Loan, db, name=q.name, category=CATEGORY, endpoint=q.endpoint))
