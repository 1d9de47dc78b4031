"""The loans behind a report figure (clicked in 五级分类统计, 迁徙, 逾期账龄, 放款批次分析):
月末快照明细 lists a month-end's snapshot rows, 「今日」 figures open 分析明细 (the open loans
now). Both are ordinary screens: search fields set by the link, sortable, exportable."""
from __future__ import annotations

from datetime import date

from sqlalchemy import and_, case, exists, literal, select

from admin_app.extensions import db
from admin_app.screens import ScreenView, SearchField, loan_detail_link
from models import Loan, PortfolioSnapshot, User
from models.enums import FIVE_CLASSES, LOAN_STATUSES, OPEN_LOAN_STATUSES
from models.snapshot import AGEING_BUCKETS
from services.portfolio import bucket_sql, snapshot_months
from views.common import LOAN_LABELS, LoanListView, product_choices

S = PortfolioSnapshot
BUCKETS = {code: label for code, label, _lo, _hi in AGEING_BUCKETS}
NPL = {1: "不良贷款(次级+可疑+损失)"}
EVER = {30: "曾逾期30天以上", 90: "曾逾期90天以上"}
MOVED = {**{str(k): v for k, v in FIVE_CLASSES.items()}, "settled": "结清", "written_off": "核销"}


def officer_choices() -> dict:
    return dict(db.session.execute(select(User.id, User.label_sql(User))
                                   .where(User.roles_csv.like("%officer%")).order_by(User.id)).all())


def month_choices() -> dict:
    return {d.isoformat(): f"{d:%Y-%m-%d}" for d in snapshot_months()}


class EverField(SearchField):
    """Loans whose worst days overdue up to the month-end exceed the chosen number."""

    def clause(self, raw: str, counting: bool = False):
        try:
            return S.max_days_overdue > int(raw)
        except ValueError:
            return literal(False)


class MovedToField(SearchField):
    """'YYYY-MM-DD:target': loans that at that month-end were in the class (1–5), or had
    been settled / written off by then (the 迁徙 matrix's columns)."""

    def clause(self, raw: str, counting: bool = False):
        try:
            day_text, target = raw.split(":", 1)
            day = date.fromisoformat(day_text)
        except ValueError:
            return literal(False)
        if target == "settled":
            return and_(Loan.status == "settled", Loan.settled_date <= day)
        if target == "written_off":
            return and_(Loan.status == "written_off", Loan.written_off_date <= day)
        e = S.__table__.alias("moved")
        return exists().where(e.c.loan_id == S.loan_id, e.c.month_end == day, e.c.status.in_(OPEN_LOAN_STATUSES),
                              e.c.five_class == (int(target) if target.isdigit() else -1))


class NewSinceField(SearchField):
    """Loans that were not open at the given (earlier) month-end (the matrix's 新发放 row)."""

    def clause(self, raw: str, counting: bool = False):
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            return literal(False)
        s = S.__table__.alias("earlier")
        return ~exists().where(s.c.loan_id == S.loan_id, s.c.month_end == day, s.c.status.in_(OPEN_LOAN_STATUSES))


class SnapshotLoansView(ScreenView):
    can_view_details = False
    column_list = ("month_end", "loan.loan_no", "loan.customer_name", "product.name", "officer", "start_month",
                   "principal", "status", "five_class", "days_overdue", "bucket", "max_days_overdue",
                   "outstanding_principal", "overdue_principal")
    column_labels = {"month_end": "月末", "loan.loan_no": "贷款编号", "loan.customer_name": "客户名称",
                     "product.name": "贷款产品", "officer": "客户经理", "start_month": "放款月份",
                     "principal": "贷款金额", "status": "月末状态", "five_class": "五级分类",
                     "days_overdue": "逾期天数", "bucket": "逾期账龄", "max_days_overdue": "最长逾期天数",
                     "outstanding_principal": "剩余本金(核销为核销本金)", "overdue_principal": "逾期本金"}
    column_choices = {"status": list(LOAN_STATUSES.items()), "five_class": list(FIVE_CLASSES.items()),
                      "bucket": list(BUCKETS.items())}
    column_sortable_list = ("month_end", "days_overdue", "max_days_overdue", "outstanding_principal", "five_class")
    column_default_sort = ("id", False)
    search_fields = (
        SearchField("month", "月末", S.month_end, mode="choice", choices=month_choices, coerce=date.fromisoformat),
        SearchField("loan_no", "贷款编号", Loan.loan_no),
        SearchField("five_class", "五级分类", S.five_class, mode="choice", choices=FIVE_CLASSES, coerce=int),
        SearchField("product", "贷款产品", S.product_id, mode="choice", choices=product_choices, coerce=int),
        SearchField("officer", "客户经理", S.officer_id, mode="choice", choices=officer_choices, coerce=int),
        SearchField("status", "月末状态", S.status, mode="choice", choices=LOAN_STATUSES),
        SearchField("bucket", "逾期账龄", S.bucket, mode="choice", choices=BUCKETS, coerce=int),
        SearchField("npl", "不良", case((S.five_class >= 3, 1), else_=0), mode="choice", choices=NPL, coerce=int),
        SearchField("start_month", "放款月份", S.start_month, mode="exact"),
        EverField("ever", "曾逾期", S.max_days_overdue, mode="choice", choices=EVER),
        MovedToField("moved_to", "迁徙至(月末:分类)", S.loan_id, mode="exact"),
        NewSinceField("new_since", "期初未在贷(月末)", S.loan_id, mode="exact"),
    )
    row_links = (loan_detail_link(lambda row: row.loan_id),)

    def base_joins(self) -> tuple:
        # The 迁徙 columns 结清 / 核销 and the 贷款编号 search read the loan.
        needs = {"moved_to", "loan_no"} & {f.name for f, _ in self.active_search()}
        return (S.loan,) if needs else ()


class PortfolioLoansView(LoanListView):
    """The open loans now, for the 「今日」 figures."""

    statuses = OPEN_LOAN_STATUSES
    column_list = ("loan_no", "customer_name", "product.name", "officer", "outstanding_principal",
                   "days_overdue", "overdue_principal", "status", "five_class")
    column_labels = LOAN_LABELS
    search_fields = (
        SearchField("five_class", "五级分类", Loan.five_class, mode="choice", choices=FIVE_CLASSES, coerce=int),
        SearchField("product", "贷款产品", Loan.product_id, mode="choice", choices=product_choices, coerce=int),
        SearchField("officer", "客户经理", Loan.officer_id, mode="choice", choices=officer_choices, coerce=int),
        SearchField("bucket", "逾期账龄", bucket_sql(Loan.days_overdue), mode="choice", choices=BUCKETS, coerce=int),
        SearchField("npl", "不良", case((Loan.five_class >= 3, 1), else_=0), mode="choice", choices=NPL, coerce=int),
    )

    def is_visible(self) -> bool:
        return False  # reached from the 「今日」 figures, not the menu
