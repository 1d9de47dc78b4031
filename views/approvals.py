"""审批环节 screens, GENERATED from models.approval.WORKFLOWS: one StageScreen class factory
makes 贷后检查风控检查/风控审核, 五级分类风控审查/风控审核/审查 and 核销风控申请/风控审核.
Each lists the items waiting at its stage (and those the user already handled there), and
opens a review page with the item, its trail and 通过 / 驳回 with a required 审核意见.
The decision itself is services.approvals; this module only shows and forwards."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select, true
from werkzeug.routing import BuildError

from admin_app import formats
from admin_app.extensions import db
from admin_app.privacy import shown
from admin_app.screens import RowLink, ScreenView, SearchField
from models import ApprovalStep, ClassificationChange, Customer, Loan
from models.approval import WORKFLOWS, Stage, Workflow
from models.enums import DECISIONS, FIVE_CLASSES, INSPECTION_KINDS, INSPECTION_METHODS
from services import BusinessError, approvals
from views.common import customer_name_field, five_class_field, loan_no_field, product_field
from views.review_forms import DecisionForm


money = formats.money_text  # the one money rule


def loan_detail_url(loan_id: int) -> str | None:
    """The 贷款详情 link, or None while that screen is not registered in this build."""
    try:
        return url_for("loan_detail.index", loan_id=loan_id)
    except BuildError:
        return None


def run_item_command(call, message: str, target: str):
    """An approval-item command from its page (submit, resubmit, withdraw): commit and say
    `message`, or roll back and show the service's refusal; either way back to `target`."""
    try:
        call()
        db.session.commit()
        flash(message, "success")
    except BusinessError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(target)


def item_fields(workflow_key: str, item) -> list[tuple[str, str]]:
    """What a reviewer reads about an item, as (label, value) pairs."""
    loan = item.loan
    head = [("贷款编号", loan.loan_no), ("客户名称", loan.customer_name),
            ("联系电话", shown(loan.customer, "phone")), ("贷款产品", loan.product.name),
            ("剩余本金(元)", money(loan.outstanding_principal)), ("逾期天数", str(loan.days_overdue)),
            ("当前五级分类", FIVE_CLASSES.get(loan.five_class, ""))]
    if workflow_key == "inspection":
        body = [("检查类型", INSPECTION_KINDS.get(item.kind, item.kind)),
                ("检查日期", str(item.inspected_on)),
                ("检查方式", INSPECTION_METHODS.get(item.method, item.method)),
                ("经营情况", item.operation_findings), ("财务状况", item.finance_findings),
                ("资金用途", item.fund_usage_findings), ("抵质押物情况", item.collateral_findings),
                ("担保人情况", item.guarantor_findings), ("风险信号", item.risk_signals),
                ("检查结论", item.conclusion), ("附件", item.attachment_name)]
    elif workflow_key == "classification":
        body = [("调整前分类", FIVE_CLASSES.get(item.from_class, "")),
                ("调整后分类", FIVE_CLASSES.get(item.to_class, "")),
                ("系统建议最低分类", FIVE_CLASSES.get(item.suggested_class, "")),
                ("调整原因", item.reason)]
    elif workflow_key == "reversal":
        rep = item.repayment
        body = [("还款日期", str(rep.paid_on)), ("还款金额(元)", money(rep.amount)),
                ("冲抵罚息 / 利息 / 本金(元)", f"{money(rep.penalty_part)} / {money(rep.interest_part)} / "
                                          f"{money(rep.principal_part)}"),
                ("冲正原因", item.reason)]
    elif workflow_key == "extension":
        body = [("原到期日", str(item.old_maturity_date)), ("申请展期至", str(item.new_maturity_date)),
                ("展期原因", item.reason)]
    else:
        body = [("核销本金(元)", money(item.principal_amount)),
                ("核销利息(元)", money(item.interest_amount)),
                ("核销原因说明", item.reason), ("证明材料", item.evidence_name)]
    tail = [("提出人", str(item.proposer)), ("提交时间", formats.minute_text(item.submitted_at)),
            ("审批状态", approvals.stage_label(WORKFLOWS[workflow_key], item))]
    return head + [(k, v or "") for k, v in body] + tail


def trail_rows(workflow_key: str, item_id: int) -> list[dict]:
    wf = WORKFLOWS[workflow_key]
    names = {s.key: s.name for s in wf.stages}
    names.update(submit="提出人", withdraw="提出人")
    return [{"stage": names.get(s.stage, s.stage), "decision": DECISIONS.get(s.decision, s.decision),
             "code": s.decision, "actor": str(s.actor), "at": s.acted_at, "opinion": s.opinion}
            for s in approvals.trail(workflow_key, item_id)]


@dataclass
class ItemScreen:
    """The per-workflow part of a stage screen: columns and search fields."""

    columns: tuple
    labels: dict
    search_fields: tuple
    sortable: tuple
    formatters: dict = field(default_factory=dict)


def _class_formatter(name: str) -> Callable:
    return lambda v, c, m, n: FIVE_CLASSES.get(getattr(m, name), "")


COMMON_LABELS = {"loan.loan_no": "贷款编号", "loan.customer_name": "客户名称",
                 "loan.customer.phone": "联系电话", "loan.product.name": "贷款产品",
                 "proposer": "提出人", "submitted_at": "提交时间", "review_stage": "审批状态"}

ITEM_SCREENS = {
    "inspection": ItemScreen(
        columns=("loan.loan_no", "loan.customer_name", "loan.customer.phone", "loan.product.name",
                 "kind", "inspected_on", "method", "conclusion", "proposer", "submitted_at",
                 "review_stage"),
        labels={"kind": "检查类型", "inspected_on": "检查日期", "method": "检查方式",
                "conclusion": "检查结论"},
        search_fields=(customer_name_field(),
                       SearchField("phone", "联系电话", Customer.phone, join=(Loan.customer,)),
                       product_field()),
        sortable=("inspected_on", "submitted_at"),
        formatters={"kind": lambda v, c, m, n: INSPECTION_KINDS.get(m.kind, m.kind),
                    "method": lambda v, c, m, n: INSPECTION_METHODS.get(m.method, m.method),
                    "conclusion": lambda v, c, m, n: (m.conclusion or "")[:40]}),
    "classification": ItemScreen(
        columns=("loan.loan_no", "loan.customer_name", "loan.product.name", "from_class", "to_class",
                 "suggested_class", "reason", "proposer", "submitted_at", "review_stage"),
        labels={"from_class": "调整前分类", "to_class": "调整后分类", "suggested_class": "系统建议分类",
                "reason": "调整原因"},
        search_fields=(customer_name_field(), loan_no_field(),
                       five_class_field(ClassificationChange.to_class)),
        sortable=("to_class", "submitted_at"),
        formatters={"from_class": _class_formatter("from_class"), "to_class": _class_formatter("to_class"),
                    "suggested_class": _class_formatter("suggested_class"),
                    "reason": lambda v, c, m, n: (m.reason or "")[:40]}),
    "extension": ItemScreen(
        columns=("loan.loan_no", "loan.customer_name", "loan.product.name", "old_maturity_date",
                 "new_maturity_date", "reason", "proposer", "submitted_at", "review_stage"),
        labels={"old_maturity_date": "原到期日", "new_maturity_date": "申请展期至", "reason": "展期原因"},
        search_fields=(customer_name_field(), loan_no_field()),
        sortable=("new_maturity_date", "submitted_at"),
        formatters={"reason": lambda v, c, m, n: (m.reason or "")[:40]}),
    "writeoff": ItemScreen(
        columns=("loan.loan_no", "loan.customer_name", "loan.product.name", "principal_amount",
                 "interest_amount", "reason", "proposer", "submitted_at", "review_stage"),
        labels={"principal_amount": "核销本金", "interest_amount": "核销利息", "reason": "核销原因说明"},
        search_fields=(customer_name_field(), loan_no_field()),
        sortable=("principal_amount", "submitted_at"),
        formatters={"reason": lambda v, c, m, n: (m.reason or "")[:40]}),
}

ITEM_SCREENS["reversal"] = ItemScreen(
    columns=("loan.loan_no", "loan.customer_name", "repayment.paid_on", "repayment.amount", "reason",
             "proposer", "submitted_at", "review_stage"),
    labels={"repayment.paid_on": "还款日期", "repayment.amount": "还款金额", "reason": "冲正原因"},
    search_fields=(customer_name_field(), loan_no_field()),
    sortable=("submitted_at",),
    formatters={"reason": lambda v, c, m, n: (m.reason or "")[:40],
                "repayment.amount": lambda v, c, m, n: money(m.repayment.amount)})

SCOPES = {"waiting": "待本环节审核", "handled": "本人已处理"}
DEFAULT_SCOPE = "waiting"  # a stage screen opens on the items waiting at it


class ScopeField(SearchField):
    """范围: absent from the query string means 「待本环节审核」; the empty choice (全部)
    lists every item that has reached this stage."""

    def value(self) -> str:
        raw = request.args.get(self.arg)
        return DEFAULT_SCOPE if raw is None else raw.strip()

    def clause(self, raw: str, counting: bool = False):
        return true()  # read by StageScreen.base_filters; narrows nothing itself


class StageScreen(ScreenView):
    """One approval stage: what waits here, what I handled here, and the review page."""

    workflow: Workflow
    stage: Stage
    list_template = "review/stage_list.html"
    can_view_details = False
    column_default_sort = ("id", False)
    verbs = {"review": "view", "decide": "approve", "attachment": "download"}

    @property
    def row_links(self):
        waiting = self._waiting_here
        return (RowLink("审核", ".review", lambda row: {"item_id": row.id}, verb="approve", when=waiting),
                RowLink("查看", ".review", lambda row: {"item_id": row.id},
                        when=lambda row: not (waiting(row) and self.allowed("approve"))))

    def _waiting_here(self, item) -> bool:
        return item.review_status == "pending" and item.review_stage == self.stage.key

    def base_joins(self) -> tuple:
        return (self.model.loan,)

    def _handled_ids(self, mine: bool = True):
        stmt = select(ApprovalStep.item_id).where(
            ApprovalStep.workflow == self.workflow.key, ApprovalStep.stage == self.stage.key,
            ApprovalStep.decision.in_(approvals.DECIDING))
        return stmt.where(ApprovalStep.actor_id == current_user.id) if mine else stmt

    def _waiting_clause(self):
        return (self.model.review_status == "pending") & (self.model.review_stage == self.stage.key)

    def base_filters(self) -> list:
        scope = request.args.get("q_scope")
        scope = DEFAULT_SCOPE if scope is None else scope.strip()
        if scope == "handled":
            return [self.model.id.in_(self._handled_ids())]
        if scope == "waiting":
            return [self._waiting_clause()]
        # 全部: every item that has reached this stage (waiting here or decided here).
        return [self._waiting_clause() | self.model.id.in_(self._handled_ids(mine=False))]

    def next_waiting(self, after_id: int):
        """The next item waiting at this stage that the user may decide, oldest first."""
        stmt = (select(self.model).where(self._waiting_clause(), self.model.id != after_id,
                                         self.model.proposer_id != current_user.id)
                .order_by(self.model.id).limit(20))
        for item in db.session.execute(stmt).unique().scalars():
            if approvals.decision_refusal(self.workflow, item, current_user) is None:
                return item
        return None

    def _item(self, item_id: int):
        item = db.session.execute(select(self.model).where(self.model.id == item_id)).unique() \
            .scalar_one_or_none()
        if item is None:
            abort(404)
        return item

    @expose("/review/<int:item_id>/")
    def review(self, item_id: int, form: DecisionForm | None = None):
        item = self._item(item_id)
        refusal = approvals.decision_refusal(self.workflow, item, current_user)
        can_decide = self.allowed("approve") and refusal is None
        waiting_here = self._waiting_here(item)
        if approvals.not_reached(self.workflow, item, self.stage.key):
            refusal, waiting_here = approvals.NOT_REACHED, True
        return self.render("review/item.html", item=item, wf=self.workflow, stage=self.stage,
                           fields=item_fields(self.workflow.key, item),
                           trail=trail_rows(self.workflow.key, item.id),
                           can_decide=can_decide, refusal=refusal if waiting_here else None,
                           form=form or DecisionForm(formdata=None),
                           loan_url=loan_detail_url(item.loan_id),
                           attachment_url=self._attachment_url(item),
                           back_url=url_for(".index_view"))

    @expose("/review/<int:item_id>/decide", methods=("POST",))
    def decide(self, item_id: int):
        decision = request.form.get("decision")
        form = DecisionForm()
        if not form.validate():
            return self.review(item_id, form=form)
        opinion = form.opinion.data
        back = url_for(".review", item_id=item_id)
        try:
            if decision == "approve":
                approvals.approve(self.workflow.key, item_id, current_user, opinion, stage=self.stage.key)
            elif decision == "reject":
                approvals.reject(self.workflow.key, item_id, current_user, opinion, stage=self.stage.key)
            else:
                raise BusinessError("请选择通过或驳回")
            db.session.commit()
        except BusinessError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(back)
        flash(f"已{'通过' if decision == 'approve' else '驳回'}该{self.workflow.label}事项。", "success")
        nxt = self.next_waiting(item_id)
        if nxt is not None:
            return redirect(url_for(".review", item_id=nxt.id))
        flash("本环节已没有待审核事项。", "info")
        return redirect(url_for(".index_view", q_scope=DEFAULT_SCOPE))

    def _attachment_url(self, item) -> str | None:
        if getattr(item, "attachment_path", None) or getattr(item, "evidence_path", None):
            return url_for(".attachment", item_id=item.id)
        return None

    @expose("/review/<int:item_id>/attachment")
    def attachment(self, item_id: int):
        return send_item_file(self._item(item_id))


def send_item_file(item):
    """The inspection attachment or write-off evidence, served to logged-in staff only."""
    stored = getattr(item, "attachment_path", None) or getattr(item, "evidence_path", None)
    name = getattr(item, "attachment_name", None) or getattr(item, "evidence_name", None)
    if not stored:
        abort(404)
    from services.uploads import SIGNATURES, send_stored

    # Stored names carry the extension of the type the content was recognised as.
    ctype = next((c for c, ext, _ in SIGNATURES if stored.endswith(ext)), "application/octet-stream")
    return send_stored(stored, name or stored, ctype)


def stage_screen_class(wf: Workflow, stage: Stage) -> type[StageScreen]:
    spec = ITEM_SCREENS[wf.key]
    scope = ScopeField("scope", "范围", wf.model.id, mode="choice", choices=SCOPES)
    return type(f"{wf.model_name}{''.join(p.title() for p in stage.key.split('_'))}Screen",
                (StageScreen,), {
                    "workflow": wf, "stage": stage,
                    # 审批状态 first: what a reviewer scans for.
                    "column_list": ("review_stage",) + tuple(c for c in spec.columns if c != "review_stage"),
                    "key_columns": ("review_stage", "submitted_at", "proposer"),
                    "column_labels": {**COMMON_LABELS, **spec.labels},
                    "column_sortable_list": spec.sortable,
                    "column_formatters": {"review_stage": lambda v, c, m, n: approvals.stage_label(wf, m),
                                          **spec.formatters},
                    "search_fields": spec.search_fields + (scope,),
                })


def register_stages(admin, workflow_key: str) -> None:
    """Add one workflow's stage screens to the menu, in stage order."""
    wf = WORKFLOWS[workflow_key]
    for stage in wf.stages:
        view = stage_screen_class(wf, stage)(wf.model, db, name=stage.name,
                                             category=wf.category, endpoint=stage.endpoint)
        admin.add_view(view)


def register(admin) -> None:
    # 贷后检查审核 follows 贷后检查 here; the classification stages follow 五级分类 and the
    # write-off stages follow 不良贷款核销 inside 核销管理, registered by those modules.
    register_stages(admin, "inspection")
