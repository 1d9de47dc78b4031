"""首页: each user's 我的待办 cards (views.my_todo, services.todos) and portfolio pictures
(loans and balance by status, by five-level class, overdue ageing) drawn as inline SVG."""
from decimal import Decimal

from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user
from sqlalchemy import func, select

from admin_app.extensions import db
from models import PortfolioSummary
from models.enums import FIVE_CLASSES, LOAN_STATUSES, OPEN_LOAN_STATUSES
from models.money import ZERO
from models.snapshot import AGEING_BUCKETS
from services.portfolio import yuan

# The open loans overdue, by the ageing buckets of 逾期账龄 (models.snapshot.AGEING_BUCKETS,
# one definition): (label, first day, last day or None).
AGING_BUCKETS = tuple((label, low, high) for code, label, low, high in AGEING_BUCKETS if code >= 1)


def _add(rows: dict, key, n: int, balance: Decimal) -> None:
    count, total = rows.get(key, (0, ZERO))
    rows[key] = (count + n, total + balance)


def portfolio() -> dict:
    """Loans and balance by status, by class of the open loans, and the open loans overdue
    by ageing bucket: summed from the portfolio summary (models.portfolio_summary, kept
    equal to the loans by the daily job and every change; a few thousand rows whatever the
    size of the book), under the user's 数据权限 like every read (客户经理 本人: their loans)."""
    S = PortfolioSummary
    status_rows: dict[str, tuple[int, Decimal]] = {}
    class_rows: dict[int, tuple[int, Decimal]] = {}
    aging: dict[int, int] = {}
    for status, five_class, bucket, n, cents in db.session.execute(
            select(S.status, S.five_class, S.bucket, func.sum(S.loans), func.sum(S.balance_cents))
            .group_by(S.status, S.five_class, S.bucket)).all():
        n, balance = int(n), yuan(cents)
        _add(status_rows, status, n, balance)
        if status in OPEN_LOAN_STATUSES:
            _add(class_rows, five_class, n, balance)
            if bucket >= 1:
                aging[bucket] = aging.get(bucket, 0) + n
    return {
        "status": [(LOAN_STATUSES[k], *status_rows.get(k, (0, ZERO))) for k in LOAN_STATUSES],
        "classes": [(FIVE_CLASSES[k], *class_rows.get(k, (0, ZERO))) for k in FIVE_CLASSES],
        "aging": [(label, aging.get(code, 0)) for code, label, _lo, _hi in AGEING_BUCKETS if code >= 1],
    }


class HomeView(AdminIndexView):
    def is_accessible(self):
        return current_user.is_authenticated

    def _handle_view(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        return None

    @expose("/")
    def index(self):
        from views.my_todo import todo_items

        return self.render("home/index.html", todos=todo_items(current_user), book=portfolio())
