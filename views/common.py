"""Declarations several menu categories share: the loan list every loan screen starts from,
search fields, AJAX lookups for foreign keys, and menu registration."""
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from wtforms.validators import ValidationError
from sqlalchemy import and_, or_, select

from admin_app import flask_admin_compat
from admin_app.extensions import db
from admin_app.screens import ScreenView, SearchField, loan_detail_link, record_id
from models import Customer, Loan, LoanProduct, User
from models.enums import FIVE_CLASSES, LOAN_STATUSES, OPEN_LOAN_STATUSES, REPAYMENT_METHODS

CLOSED_LOAN_STATUSES = tuple(s for s in LOAN_STATUSES if s not in OPEN_LOAN_STATUSES)

LOAN_LABELS = {
    "loan_no": "贷款编号", "contract_no": "合同编号", "customer_name": "客户名称",
    "customer": "客户", "customer.phone": "联系电话", "product": "贷款产品", "product.name": "贷款产品",
    "principal": "贷款金额", "rate": "年利率(%)", "term_months": "期限(月)", "start_date": "放款日",
    "maturity_date": "到期日", "repayment_method": "还款方式", "officer": "客户经理",
    "status": "贷款状态", "five_class": "五级分类", "suggested_class": "系统建议分类",
    "outstanding_principal": "剩余本金", "days_overdue": "逾期天数",
    "overdue_principal": "逾期本金", "overdue_interest": "逾期利息", "penalty_interest": "罚息",
    "last_inspection_date": "上次检查日", "next_inspection_date": "下次检查日",
    "settled_date": "结清日", "written_off_date": "核销日",
}

LOAN_CHOICES = {
    "status": list(LOAN_STATUSES.items()),
    "five_class": list(FIVE_CLASSES.items()),
    "suggested_class": list(FIVE_CLASSES.items()),
    "repayment_method": list(REPAYMENT_METHODS.items()),
}


def product_choices() -> dict:
    return dict(db.session.execute(select(LoanProduct.id, LoanProduct.name).order_by(LoanProduct.id)).all())


def customer_name_field(column=Loan.customer_name, join=()) -> SearchField:
    # Names and numbers match anywhere in the text (「华信」 finds 「重庆华信包装材料有限公司」).
    return SearchField("customer", "客户名称", column, mode="contains", join=join)


def loan_no_field(column=Loan.loan_no, join=()) -> SearchField:
    return SearchField("loan_no", "贷款编号", column, mode="contains", join=join)


def officer_choices() -> dict:
    return dict(db.session.execute(select(User.id, User.label_sql(User))
                                   .where(User.roles_csv.like("%officer%")).order_by(User.id)).all())


def staff_choices() -> dict:
    """Everyone who may record a collection (催收人)."""
    return dict(db.session.execute(select(User.id, User.label_sql(User)).where(or_(
        User.roles_csv.like("%officer%"), User.roles_csv.like("%collector%"), User.roles_csv.like("%admin%")))
        .order_by(User.id)).all())


def date_bound(op: str):
    """A search field's clause for one end of a date range (YYYY-MM-DD); a malformed date
    matches nothing rather than everything."""
    from datetime import date

    from sqlalchemy import false

    def build(column, raw: str):
        try:
            day = date.fromisoformat(raw.strip())
        except ValueError:
            return false()
        return column >= day if op == ">=" else column <= day
    return build


def date_range_fields(name: str, label: str, column, join=()) -> tuple[SearchField, SearchField]:
    return (SearchField(f"{name}_from", f"{label}起(YYYY-MM-DD)", column, mode="custom", build=date_bound(">="),
                        join=join),
            SearchField(f"{name}_to", f"{label}止(YYYY-MM-DD)", column, mode="custom", build=date_bound("<="),
                        join=join))


def product_field(column=Loan.product_id, join=()) -> SearchField:
    return SearchField("product", "贷款产品", column, mode="choice", choices=product_choices,
                       coerce=int, join=join)


def five_class_field(column=Loan.five_class, join=()) -> SearchField:
    return SearchField("five_class", "五级分类", column, mode="choice", choices=FIVE_CLASSES,
                       coerce=int, join=join)


class LoanListView(ScreenView):
    """A list of loans with the seed search fields 客户名称 / 贷款编号 / 贷款产品 and a link to
    贷款详情. Subclasses narrow it with `statuses` and add columns or row links."""

    statuses: tuple[str, ...] | None = None
    can_view_details = False
    column_list = ("loan_no", "customer_name", "product.name", "principal", "rate", "term_months",
                   "start_date", "maturity_date", "outstanding_principal", "status", "five_class")
    column_labels = LOAN_LABELS
    column_choices = LOAN_CHOICES
    column_sortable_list = ("loan_no", "customer_name", "principal", "start_date", "maturity_date",
                            "outstanding_principal", "days_overdue", "five_class")
    column_default_sort = ("id", True)
    search_fields = (customer_name_field(), loan_no_field(), product_field())
    row_links = (loan_detail_link(lambda loan: loan.id),)

    def base_filters(self) -> list:
        if not self.statuses:
            return []
        if set(self.statuses) == set(OPEN_LOAN_STATUSES):
            # Same rows as IN (open statuses), but lets SQLite walk the primary key newest
            # first and stop after a page instead of sorting every open loan (bench: 480 ms -> 1 ms).
            return [Loan.status.notin_(CLOSED_LOAN_STATUSES)]
        return [Loan.status.in_(self.statuses)]

    def count_filters(self) -> list:
        # The count reads the (status, id) index for the listed statuses only (1,000,000
        # loans: 250 ms for NOT IN, 50 ms for IN). A subclass with filters of its own
        # counts exactly those.
        if type(self).base_filters is not LoanListView.base_filters:
            return self.base_filters()
        return [Loan.status.in_(self.statuses)] if self.statuses else []


class PrefixAjaxLoader(QueryAjaxModelLoader):
    """AJAX lookup by prefix on indexed columns: fast on a million rows, where the stock
    loader's `LIKE '%term%'` scans the table. `where` narrows the candidates."""

    def __init__(self, name, model, fields, where=None, placeholder="输入开头几个字查找"):
        super().__init__(name, db, model, fields=fields, page_size=10,
                         placeholder=placeholder, minimum_input_length=1)
        self.where = where

    def get_one(self, pk):
        # A posted id is untrusted text: only a plain integer in range reaches the database.
        key = record_id(pk)
        if key is None:
            return None
        if self.where is None:
            return super().get_one(key)
        # Only what the lookup offers may be posted (客户经理: active officers only).
        return self.get_query().filter(self.model.id == key, self.where).one_or_none()

    def get_list(self, term, offset=0, limit=10):
        term = (term or "").strip()
        hi = term + "\U0010ffff"
        query = self.get_query().filter(or_(*[and_(f >= term, f < hi) for f in flask_admin_compat.ajax_search_fields(self)]))
        if self.where is not None:
            query = query.filter(self.where)
        return query.order_by(self.model.id).offset(offset).limit(limit).all()


def customer_ref():
    return PrefixAjaxLoader("customer", Customer, (Customer.name, Customer.id_number, Customer.phone),
                            placeholder="输入客户名称、证件号或电话开头查找")


def loan_ref(open_only=False, statuses=None):
    """The loan picker; `open_only` offers open loans, `statuses` exactly those statuses."""
    if open_only:
        statuses = OPEN_LOAN_STATUSES
    return PrefixAjaxLoader("loan", Loan, (Loan.loan_no, Loan.customer_name),
                            where=Loan.status.in_(statuses) if statuses else None,
                            placeholder="输入贷款编号或客户名称开头查找")


def offered_only(message):
    """Validator of an AJAX field: an id was posted but its loader does not offer it."""
    def check(form, field):
        posted = [v for v in (field.raw_data or []) if v not in ("", "__None")]
        if posted and field.data is None:
            raise ValidationError(message)
    return check


OFFICER_ONLY = offered_only("客户经理须为在职且具有客户经理角色的用户")


def officer_ref():
    return PrefixAjaxLoader("officer", User, (User.username, User.display_name),
                            where=and_(User.active.is_(True), User.roles_csv.like("%officer%")),
                            placeholder="输入客户经理用户名或姓名查找")


def register_screens(admin, screens, category: str) -> None:
    """Add (view class, model, menu name, endpoint) rows to `category` of the menu, in order."""
    for view, model, name, endpoint in screens:
        admin.add_view(view(model, db, name=name, category=category, endpoint=endpoint))
