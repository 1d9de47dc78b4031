"""冲正 on 还款记录: a 冲正 link per repayment opens the proposal (reason, sent to 还款冲正审核);
the proposal page shows its trail, and a rejected one can be amended and resubmitted or
withdrawn by its proposer. The stage screen 还款冲正审核 is generated (views.approvals).
Rules: services.reversal."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from admin_app.extensions import db
from admin_app.formats import money_text
from admin_app.screens import RowLink
from models import Repayment, RepaymentReversal
from services import BusinessError, approvals, reversal
from views.approvals import item_fields, loan_detail_url, register_stages, run_item_command, trail_rows
from views.review_forms import ReversalForm


def repayment_fields(repayment: Repayment) -> list[tuple[str, str]]:
    loan = repayment.loan
    return [("贷款编号", loan.loan_no), ("客户名称", loan.customer_name), ("还款日期", str(repayment.paid_on)),
            ("还款金额(元)", money_text(repayment.amount)),
            ("冲抵罚息 / 利息 / 本金(元)", " / ".join(money_text(part) for part in (
                repayment.penalty_part, repayment.interest_part, repayment.principal_part))),
            ("经办人", str(repayment.operator or ""))]


class ReversalPagesMixin:
    """The 冲正 pages of the 还款记录 screen."""

    reversal_verbs = {"reverse": "reverse", "reversal": "view", "reversal_resubmit": "reverse",
                      "reversal_withdraw": "reverse"}
    reversal_link = RowLink("冲正", ".reverse", lambda r: {"repayment_id": r.id}, verb="reverse",
                            when=lambda r: getattr(r, "reversed_on", None) is None)

    def _repayment(self, repayment_id: int) -> Repayment:
        row = self.get_one(repayment_id)
        if row is None:
            abort(404)
        return row

    def _reversal(self, item_id: int) -> RepaymentReversal:
        item = db.session.get(RepaymentReversal, item_id)
        if item is None or self.get_one(item.repayment_id) is None:
            abort(404)
        return item

    @expose("/reverse/<int:repayment_id>", methods=("GET", "POST"))
    def reverse(self, repayment_id: int):
        repayment = self._repayment(repayment_id)
        open_item = reversal.open_reversal(repayment.loan_id)
        if open_item is not None and request.method == "GET":
            flash("该贷款已有一笔未完成的还款冲正申请。", "info")
            return redirect(url_for(".reversal", item_id=open_item.id))
        form = ReversalForm() if request.method == "POST" else ReversalForm(formdata=None)
        if request.method == "POST" and form.validate():
            try:
                item = reversal.propose(repayment.id, form.reason.data, current_user)
                db.session.commit()
            except BusinessError as exc:
                db.session.rollback()
                flash(str(exc), "error")
            else:
                flash("冲正申请已提交,等待风控主管审核。", "success")
                return redirect(url_for(".reversal", item_id=item.id))
        return self.render("review/reversal.html", item=None, fields=repayment_fields(repayment),
                           form=form, form_action=url_for(".reverse", repayment_id=repayment.id),
                           loan_url=loan_detail_url(repayment.loan_id))

    @expose("/reversal/<int:item_id>/")
    def reversal(self, item_id: int, form: ReversalForm | None = None):
        item = self._reversal(item_id)
        mine = item.proposer_id == current_user.id and self.allowed("reverse")
        amend = mine and item.review_status == "rejected"
        if amend and form is None:
            form = ReversalForm(formdata=None, reason=item.reason)
        return self.render("review/reversal.html", item=item, fields=item_fields("reversal", item),
                           trail=trail_rows("reversal", item.id), form=form if amend else None,
                           form_action=url_for(".reversal_resubmit", item_id=item.id),
                           can_withdraw=amend, loan_url=loan_detail_url(item.loan_id))

    def _after(self, item_id: int, call, message: str):
        return run_item_command(call, message, url_for(".reversal", item_id=item_id))

    @expose("/reversal/<int:item_id>/resubmit", methods=("POST",))
    def reversal_resubmit(self, item_id: int):
        item = self._reversal(item_id)
        form = ReversalForm()
        if not form.validate():
            return self.reversal(item.id, form=form)
        return self._after(item.id, lambda: approvals.resubmit("reversal", item.id, current_user,
                                                               reason=form.reason.data),
                           "冲正申请已修改并重新提交。")

    @expose("/reversal/<int:item_id>/withdraw", methods=("POST",))
    def reversal_withdraw(self, item_id: int):
        item = self._reversal(item_id)
        return self._after(item.id, lambda: approvals.withdraw("reversal", item.id, current_user),
                           "冲正申请已撤回。")


def register(admin) -> None:
    register_stages(admin, "reversal")
