"""我的待办: each role's work as cards, declared once. A card is a query (model + where);
its count and the rows its link lists come from that one query, so they always agree, and
the user's 数据权限 narrows both (admin_app.data_scope).

Cards link to the screen where the work is done when that screen lists exactly the card's
rows (an approval stage's 「待本环节审核」, a 待上传回执 list); otherwise to the card's own
list (views.my_todo), each row linking to the page that handles it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

from sqlalchemy import exists, func, select

from admin_app import clock
from admin_app.extensions import db
from models import ClassificationChange, Collection, JobRun, Loan, Repayment
from models.approval import WORKFLOWS
from services import collection as collection_service

COUNT_CAP = 10_000  # as the lists: past it a card reads 「超过 10,000」


@dataclass(frozen=True)
class Card:
    key: str
    label: str
    roles: frozenset
    model: type
    where: Callable  # (user, today) -> list of clauses
    # An existing screen that lists exactly these rows: (endpoint, query args); None: the
    # card's own list (views.my_todo).
    screen: Callable | None = None
    order: Callable | None = None  # model -> order_by clause
    hint: str = ""

    def select(self, user, today):
        return select(self.model).where(*self.where(user, today))

    def count(self, user, today) -> int:
        rows = select(self.model.id).where(*self.where(user, today)).limit(COUNT_CAP + 1)
        return db.session.execute(select(func.count()).select_from(rows.subquery())).scalar()


def _mine(model, status):
    return lambda user, today: [model.review_status == status, model.proposer_id == user.id]


def _inspection_lead() -> int:
    from admin_app import settings

    return settings.get_int("lead_days.inspection_due")


def _newly_overdue(user, today):
    # A loan enters 逾期 the day after an instalment falls due unpaid: one day overdue.
    return [Loan.status == "overdue", Loan.days_overdue == 1]


def _broken_promise(user, today):
    paid = exists().where(Repayment.loan_id == Collection.loan_id,
                          Repayment.paid_on >= clock.day_of(Collection.contacted_at),
                          Repayment.paid_on <= Collection.promised_date)
    return [Collection.collector_id == user.id, Collection.status == "following",
            Collection.promised_date < today, ~paid]


def _failed_runs(user, today):
    last_ok = select(func.coalesce(func.max(JobRun.id), 0)).where(JobRun.outcome == "ok").scalar_subquery()
    return [JobRun.outcome == "failed", JobRun.id > last_ok]


def _system_suggestions(user, today):
    from models.enums import OPEN_LOAN_STATUSES

    open_change = exists().where(ClassificationChange.loan_id == Loan.id,
                                 ClassificationChange.review_status.in_(("draft", "pending", "rejected")))
    return [Loan.status.in_(OPEN_LOAN_STATUSES), Loan.suggested_class > Loan.five_class, ~open_change]


OFFICER = frozenset({"officer"})
COLLECTOR = frozenset({"collector"})
ADMIN = frozenset({"admin"})


def _proposer_cards() -> list[Card]:
    """Every workflow's items rejected back to their proposer (a workflow added later, such
    as 冲正, gets its card here too), and drafts where a workflow keeps them."""
    cards = []
    for wf in WORKFLOWS.values():
        model = wf.model
        if wf.key in DRAFT_WORKFLOWS:
            cards.append(Card(f"{wf.key}_draft", f"{wf.label}待提交", OFFICER, model, _mine(model, "draft"),
                              hint="您保存未提交的事项"))
        cards.append(Card(f"{wf.key}_rejected", f"{wf.label}被驳回待修改", OFFICER, model,
                          _mine(model, "rejected"), hint="被退回给您、待修改后重新提交的事项"))
    return cards


# Workflows whose items may be saved unsubmitted (the others are submitted when made).
DRAFT_WORKFLOWS = ("classification", "writeoff")


def _stage_cards() -> list[Card]:
    cards = []
    for wf in WORKFLOWS.values():
        for stage in wf.stages:
            model = wf.model
            cards.append(Card(
                f"stage_{stage.endpoint}", f"{stage.name}待审核", frozenset({stage.role}), model,
                (lambda m, key: lambda user, today: [m.review_status == "pending", m.review_stage == key])(
                    model, stage.key),
                screen=(lambda ep: lambda: (f"{ep}.index_view", {"q_scope": "waiting"}))(stage.endpoint)))
    return cards


def _receipt_cards() -> list[Card]:
    return [Card(f"receipt_{kind}", label, frozenset({"collector", "officer"}), Collection,
                 (lambda k: lambda user, today: collection_service.waiting_receipt_filters(k))(kind),
                 screen=(lambda k: lambda: (f"receipt_{k}.index_view", {}))(kind))
            for kind, label in (("borrower", "待上传借款人催收回执"), ("guarantor", "待上传担保人或公司催收回执"))]


def cards() -> list[Card]:
    return [
        *_proposer_cards(),
        Card("inspection_due", "近期应做贷后检查", OFFICER, Loan,
             lambda user, today: [Loan.status.in_(("active", "extended", "overdue")),
                                  Loan.next_inspection_date <= today + timedelta(days=_inspection_lead())],
             order=lambda: Loan.next_inspection_date, hint="下次检查日在预警提前天数内或已过"),
        Card("newly_overdue", "新增逾期贷款", OFFICER | COLLECTOR, Loan, _newly_overdue,
             hint="昨日到期未还、今日起逾期的贷款"),
        *_stage_cards(),
        Card("follow_up_today", "今日待跟进催收", COLLECTOR, Collection,
             lambda user, today: [Collection.collector_id == user.id, Collection.status == "following",
                                  Collection.next_follow_up <= today],
             order=lambda: Collection.next_follow_up, hint="下次跟进日为今天或已过、仍在跟进中的本人催收记录"),
        Card("promise_today", "今日到期承诺还款", COLLECTOR, Collection,
             lambda user, today: [Collection.collector_id == user.id, Collection.status == "following",
                                  Collection.promised_date == today],
             hint="承诺今天还款的本人催收记录"),
        Card("promise_broken", "承诺还款未兑现", COLLECTOR, Collection, _broken_promise,
             order=lambda: Collection.promised_date,
             hint="承诺日已过、承诺期间内没有还款记录、仍在跟进中的本人催收记录"),
        *_receipt_cards(),
        Card("failed_runs", "日终任务失败", ADMIN, JobRun, _failed_runs,
             hint="最近一次成功运行之后失败的日终任务"),
        Card("system_suggestions", "系统建议分类待处理", ADMIN, Loan, _system_suggestions,
             order=lambda: Loan.id, hint="系统建议分类高于当前分类、且没有进行中的调整的贷款"),
    ]


def cards_for(user) -> list[Card]:
    return [c for c in cards() if c.roles & user.roles]


def card(key: str) -> Card | None:
    return next((c for c in cards() if c.key == key), None)



