"""核销管理: 不良贷款核销 (write-off applications; 添加 picks an eligible loan through an AJAX
lookup, amounts default to what is outstanding, 核销原因说明 and evidence; 提交) followed by
the generated 核销风控申请 / 核销风控审核 stage screens."""
from __future__ import annotations

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.screens import RowLink, ScreenView, record_id
from models import Loan, WriteOff
from services import BusinessError, approvals, writeoff
from views.approvals import (item_fields, loan_detail_url, register_stages, send_item_file,
                             run_item_command, trail_rows)
from views.common import customer_name_field, loan_no_field
from views.review_forms import WriteOffAmendForm, WriteOffForm
from views.inspection import discard_upload, store_attachment, uploads_module


class WriteOffView(ScreenView):
    list_template = "review/writeoff_list.html"
    can_view_details = False
    can_create = False  # 添加 is the custom page below, not Flask-Admin's form
    can_edit = False  # amendments go through services.approvals.resubmit
    column_list = ("loan.loan_no", "loan.customer_name", "loan.product.name", "principal_amount",
                   "interest_amount", "reason", "proposer", "submitted_at", "review_stage")
    key_columns = ("review_stage", "principal_amount", "interest_amount")
    column_labels = {"loan.loan_no": "贷款编号", "loan.customer_name": "客户名称",
                     "loan.product.name": "贷款产品", "principal_amount": "核销本金",
                     "interest_amount": "核销利息", "reason": "核销原因说明", "proposer": "申请人",
                     "submitted_at": "提交时间", "review_stage": "审批状态"}
    column_sortable_list = ("principal_amount", "submitted_at")
    column_default_sort = ("id", True)
    column_formatters = {"review_stage": lambda v, c, m, n: approvals.stage_label(approvals.workflow("writeoff"), m),
                         "reason": lambda v, c, m, n: (m.reason or "")[:40]}
    column_formatters_export = {"review_stage": column_formatters["review_stage"]}
    search_fields = (customer_name_field(), loan_no_field())
    verbs = {"lookup": "create", "item": "view", "submit": "create", "resubmit": "edit",
             "withdraw": "edit", "evidence": "view"}
    row_links = (RowLink("查看", ".item", lambda row: {"item_id": row.id}),)

    def base_joins(self) -> tuple:
        return (WriteOff.loan,)

    @expose("/lookup")
    def lookup(self):
        rows = writeoff.lookup(request.args.get("q", ""))
        return jsonify({"results": [{
            "id": loan.id, "text": f"{loan.loan_no} {loan.customer_name}",
            "five_class": loan.five_class_label, "days_overdue": loan.days_overdue,
            "principal": f"{loan.outstanding_principal:.2f}",
            "interest": f"{writeoff.interest_outstanding(loan):.2f}"} for loan in rows]})

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        form = WriteOffForm() if request.method == "POST" else WriteOffForm(formdata=None)
        loan_id = record_id(form.loan_id.data)
        loan = db.session.get(Loan, loan_id) if loan_id is not None else None
        if request.method == "POST" and form.validate():
            stored = None
            try:
                if loan is None:
                    raise BusinessError("请选择要核销的贷款")
                stored = store_attachment("evidence")
                item = writeoff.apply(loan.id, current_user, reason=form.reason.data,
                                      principal_amount=form.principal_amount.data,
                                      interest_amount=form.interest_amount.data,
                                      evidence=stored, submit=request.form.get("submit_now") == "1")
                db.session.commit()
                flash("核销申请已提交,等待核销风控申请审核。" if item.review_status == "pending"
                      else "核销申请已保存,请在详情页点击「提交」送审。", "success")
                return redirect(url_for(".item", item_id=item.id))
            except BusinessError as exc:
                db.session.rollback()
                discard_upload(stored)
                flash(str(exc), "error")
        return self.render("review/writeoff_form.html", loan=loan, form=form,
                           uploads=uploads_module() is not None)

    def _item(self, item_id: int) -> WriteOff:
        item = db.session.execute(select(WriteOff).where(WriteOff.id == item_id)).unique() \
            .scalar_one_or_none()
        if item is None:
            abort(404)
        return item

    @expose("/item/<int:item_id>/")
    def item(self, item_id: int, form: WriteOffAmendForm | None = None):
        item = self._item(item_id)
        mine = item.proposer_id == current_user.id
        if form is None:
            form = WriteOffAmendForm(formdata=None, obj=item)
        return self.render("review/writeoff_item.html", item=item,
                           fields=item_fields("writeoff", item), trail=trail_rows("writeoff", item.id),
                           can_submit=mine and item.review_status == "draft" and self.allowed("create"),
                           can_amend=mine and item.review_status == "rejected" and self.allowed("edit"),
                           can_withdraw=mine and item.review_status in ("draft", "rejected") and self.allowed("edit"),
                           uploads=uploads_module() is not None, form=form,
                           evidence_url=url_for(".evidence", item_id=item.id) if item.evidence_path else None,
                           loan_url=loan_detail_url(item.loan_id))

    def _after(self, item_id: int, call, message: str):
        return run_item_command(call, message, url_for(".item", item_id=item_id))

    @expose("/item/<int:item_id>/submit", methods=("POST",))
    def submit(self, item_id: int):
        item = self._item(item_id)
        return self._after(item.id, lambda: writeoff.submit_application(item.id, current_user),
                           "核销申请已提交,等待核销风控申请审核。")

    @expose("/item/<int:item_id>/resubmit", methods=("POST",))
    def resubmit(self, item_id: int):
        item = self._item(item_id)
        form = WriteOffAmendForm()
        if not form.validate():
            return self.item(item.id, form=form)

        def amend():
            values = {k: form[k].data for k in ("principal_amount", "interest_amount", "reason")}
            stored = store_attachment("evidence")
            if stored is not None:
                values.update(evidence_path=stored.stored_name, evidence_name=stored.original_name)
            try:
                approvals.resubmit("writeoff", item.id, current_user, **values)
            except BusinessError:
                discard_upload(stored)
                raise

        return self._after(item.id, amend, "核销申请已修改并重新提交。")

    @expose("/item/<int:item_id>/withdraw", methods=("POST",))
    def withdraw(self, item_id: int):
        item = self._item(item_id)
        return self._after(item.id, lambda: approvals.withdraw("writeoff", item.id, current_user),
                           "核销申请已撤回。")

    @expose("/item/<int:item_id>/evidence")
    def evidence(self, item_id: int):
        return send_item_file(self._item(item_id))


def register(admin) -> None:
    admin.add_view(WriteOffView(WriteOff, db, name="不良贷款核销", category="核销管理",
                                endpoint="writeoff_apply"))
    register_stages(admin, "writeoff")
