"""我的待办: the menu entry listing the user's cards (services.todos), and each card's own
list — exactly the rows it counts, newest first, each with a link to the page that handles it."""
from __future__ import annotations

from flask import abort, request, url_for
from flask_admin import expose
from flask_login import current_user

from admin_app import clock, formats
from admin_app.extensions import db
from admin_app.screens import PageView
from models import ClassificationChange, Collection, ExtensionApplication, Inspection, JobRun, Loan, WriteOff
from models.approval import WORKFLOWS
from models.enums import COLLECTION_METHODS
from services import approvals, todos

PAGE_SIZE = 50


def card_url(card) -> str:
    if card.screen is not None:
        endpoint, args = card.screen()
        return url_for(endpoint, **args)
    return url_for("my_todo.rows", key=card.key)


def todo_items(user) -> list[dict]:
    """The user's cards as (label, count, url, hint), for 首页 and 我的待办 alike."""
    today = clock.business_date()
    items = []
    for card in todos.cards_for(user):
        n = card.count(user, today)
        items.append({"key": card.key, "label": card.label, "hint": card.hint,
                      "count": n if n <= todos.COUNT_CAP else f"超过 {formats.count_text(todos.COUNT_CAP)}",
                      "url": card_url(card)})
    return items


def _review_row(wf_key: str, endpoint: str, args):
    wf = WORKFLOWS[wf_key]

    def row(item):
        return {"cells": (item.loan.loan_no, item.loan.customer_name, wf.label,
                          approvals.stage_label(wf, item), formats.minute_text(item.submitted_at or item.created_at)),
                "links": [("处理", url_for(endpoint, **args(item))),
                          ("贷款详情", url_for("loan_detail.index", loan_id=item.loan_id))]}
    return row


def review_row(item):
    """A review item of a workflow without its own entry in ROWS: 处理 opens its loan."""
    wf = next(w for w in WORKFLOWS.values() if w.model is type(item))
    return _review_row(wf.key, "loan_detail.index", lambda i: {"loan_id": i.loan_id})(item)


def _loan_row(loan):
    return {"cells": (loan.loan_no, loan.customer_name, loan.status_label, loan.days_overdue,
                      loan.next_inspection_date or ""),
            "links": [("贷款详情", url_for("loan_detail.index", loan_id=loan.id))]}


def _collection_row(c):
    return {"cells": (c.collection_no, c.loan.loan_no, c.loan.customer_name,
                      COLLECTION_METHODS.get(c.method, c.method), c.next_follow_up or "",
                      c.promised_date or "", c.promised_amount if c.promised_amount is not None else ""),
            "links": [("跟进", url_for("collection_query.follow_up_view", id=c.id)),
                      ("贷款详情", url_for("loan_detail.index", loan_id=c.loan_id))]}


def _job_row(run):
    return {"cells": (run.id, run.as_of, formats.minute_text(run.started_at), (run.error or "")[:80]),
            "links": [("任务运行记录", url_for("job_runs.index_view"))]}


REVIEW_HEAD = ("贷款编号", "客户名称", "事项", "审批状态", "提交时间")
ROWS = {
    Inspection: (REVIEW_HEAD, _review_row("inspection", "inspection_loans.show", lambda i: {"item_id": i.id})),
    ClassificationChange: (REVIEW_HEAD, _review_row("classification", "classification_manage.history",
                                                    lambda i: {"loan_id": i.loan_id})),
    WriteOff: (REVIEW_HEAD, _review_row("writeoff", "writeoff_apply.item", lambda i: {"item_id": i.id})),
    ExtensionApplication: (REVIEW_HEAD, _review_row("extension", "contract_change.extension",
                                                    lambda i: {"loan_id": i.loan_id})),
    Loan: (("贷款编号", "客户名称", "贷款状态", "逾期天数", "下次检查日"), _loan_row),
    Collection: (("催收编号", "贷款编号", "客户名称", "催收方式", "下次跟进", "承诺还款日", "承诺金额"),
                 _collection_row),
    JobRun: (("编号", "业务日期", "开始时间", "错误信息"), _job_row),
}


class MyTodoView(PageView):
    verbs = {"index": "view", "rows": "view"}

    @expose("/")
    def index(self):
        return self.render("home/my_todo.html", todos=todo_items(current_user))

    @expose("/<key>/")
    def rows(self, key: str):
        card = todos.card(key)
        if card is None or not (card.roles & current_user.roles):
            abort(404)
        page = max(request.args.get("page", 0, type=int), 0)
        today = clock.business_date()
        order = card.order() if card.order else card.model.id.desc()
        stmt = card.select(current_user, today).order_by(order, card.model.id.desc())
        items = list(db.session.execute(stmt.offset(page * PAGE_SIZE).limit(PAGE_SIZE + 1)).unique().scalars())
        head, row = ROWS.get(card.model, (REVIEW_HEAD, review_row))
        return self.render("home/my_todo_rows.html", card=card, head=head,
                           rows=[row(i) for i in items[:PAGE_SIZE]], page=page,
                           more=len(items) > PAGE_SIZE, total=card.count(current_user, today))


def register(admin) -> None:
    admin.add_view(MyTodoView(name="我的待办", endpoint="my_todo", url="/my_todo"))
