"""贷后检查: open loans; per loan 约谈记录 (list, add), 贷后检查 (list, add, view with its
approval trail, amend and resubmit after a rejection) and 贷款详情."""
from __future__ import annotations


from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import FileField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from admin_app import clock
from admin_app.bounds import PAST, DateBound
from admin_app.date_input import DateField, MinuteField
from admin_app.extensions import db
from admin_app.screens import RowLink
from models import Inspection, Loan
from models.enums import INSPECTION_KINDS, INSPECTION_METHODS, OPEN_LOAN_STATUSES
from services import BusinessError, approvals, inspection
from views.approvals import item_fields, loan_detail_url, send_item_file, trail_rows
from views.common import LoanListView, loan_detail_link


class InterviewForm(FlaskForm):
    held_at = MinuteField("约谈时间", validators=[DataRequired("请填写约谈时间"), DateBound(PAST)])
    place = StringField("约谈地点", validators=[DataRequired("请填写约谈地点"), Length(max=128)])
    participants = StringField("参加人员", validators=[DataRequired("请填写参加人员"), Length(max=256)])
    content = TextAreaField("约谈内容", validators=[DataRequired("请填写约谈内容"), Length(max=4000)])
    follow_up = TextAreaField("后续跟进", validators=[Optional(), Length(max=4000)])


class InspectionForm(FlaskForm):
    kind = SelectField("检查类型", choices=list(INSPECTION_KINDS.items()))
    inspected_on = DateField("检查日期", validators=[DataRequired("请填写检查日期"), DateBound(PAST)])
    method = SelectField("检查方式", choices=list(INSPECTION_METHODS.items()))
    operation_findings = TextAreaField("经营情况", validators=[Optional(), Length(max=4000)])
    finance_findings = TextAreaField("财务状况", validators=[Optional(), Length(max=4000)])
    fund_usage_findings = TextAreaField("资金用途", validators=[Optional(), Length(max=4000)])
    collateral_findings = TextAreaField("抵质押物情况", validators=[Optional(), Length(max=4000)])
    guarantor_findings = TextAreaField("担保人情况", validators=[Optional(), Length(max=4000)])
    risk_signals = TextAreaField("风险信号", validators=[Optional(), Length(max=4000)])
    conclusion = TextAreaField("检查结论", validators=[DataRequired("请填写检查结论"), Length(max=4000)])
    attachment = FileField("附件(PDF/JPEG/PNG)")

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in ("kind", "inspected_on", "method")
                + inspection.TEXT_FIELDS}


def uploads_module():
    """services.uploads (kept as a function so templates can ask whether uploads exist)."""
    from services import uploads

    return uploads


def store_attachment(form_field):
    """The stored-file info of an uploaded file, None when nothing was uploaded."""
    storage = request.files.get(form_field)
    if storage is None or not storage.filename:
        return None
    return uploads_module().store_upload(storage)


def discard_upload(stored) -> None:
    """Remove a stored file whose record was not written."""
    if stored is not None:
        uploads_module().discard(stored.stored_name)


def form_errors(form) -> str:
    return ";".join(f"{getattr(form, k).label.text}:{v[0]}" for k, v in form.errors.items())


class InspectionLoanView(LoanListView):
    statuses = OPEN_LOAN_STATUSES
    column_list = ("loan_no", "customer_name", "product.name", "principal", "outstanding_principal",
                   "status", "five_class", "last_inspection_date", "next_inspection_date")
    column_sortable_list = LoanListView.column_sortable_list + ("next_inspection_date",)
    key_columns = ("next_inspection_date", "last_inspection_date", "status", "five_class")
    verbs = {"interviews": "view", "add_interview": "interview", "inspections": "view",
             "new_inspection": "inspect", "show": "view", "resubmit": "inspect",
             "attachment": "view"}
    row_links = (
        RowLink("约谈记录", ".interviews", lambda loan: {"loan_id": loan.id}),
        RowLink("贷后检查", ".inspections", lambda loan: {"loan_id": loan.id}),
        loan_detail_link(lambda loan: loan.id),
    )

    def _loan(self, loan_id: int):
        loan = self.get_one(loan_id)
        if loan is None:
            abort(404)
        return loan

    # ---- 约谈记录 -----------------------------------------------------------------------
    @expose("/loan/<int:loan_id>/interviews/")
    def interviews(self, loan_id: int, form=None):
        loan = self._loan(loan_id)
        form = form or InterviewForm(formdata=None, held_at=clock.local_now().replace(second=0, microsecond=0))
        return self.render("review/interviews.html", loan=loan, rows=inspection.interviews_of(loan.id),
                           form=form, can_add=self.allowed("interview"),
                           loan_url=loan_detail_url(loan.id))

    @expose("/loan/<int:loan_id>/interviews/add", methods=("POST",))
    def add_interview(self, loan_id: int):
        loan = self._loan(loan_id)
        form = InterviewForm()
        if not form.validate():
            flash("保存失败:" + form_errors(form), "error")
            return self.interviews(loan.id, form=form)
        try:
            inspection.record_interview(loan.id, current_user, held_at=form.held_at.data,
                                        place=form.place.data, participants=form.participants.data,
                                        content=form.content.data, follow_up=form.follow_up.data)
            db.session.commit()
        except BusinessError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return self.interviews(loan.id, form=form)
        flash("约谈记录已保存。", "success")
        return redirect(url_for(".interviews", loan_id=loan.id))

    # ---- 贷后检查 -----------------------------------------------------------------------
    @expose("/loan/<int:loan_id>/inspections/")
    def inspections(self, loan_id: int):
        loan = self._loan(loan_id)
        rows = inspection.inspections_of(loan.id)
        wf = approvals.workflow("inspection")
        return self.render("review/inspections.html", loan=loan, rows=rows,
                           status=lambda i: approvals.stage_label(wf, i),
                           kinds=INSPECTION_KINDS, methods=INSPECTION_METHODS,
                           can_add=self.allowed("inspect"), loan_url=loan_detail_url(loan.id))

    @expose("/loan/<int:loan_id>/inspections/new", methods=("GET", "POST"))
    def new_inspection(self, loan_id: int):
        loan = self._loan(loan_id)
        form = InspectionForm() if request.method == "POST" else InspectionForm(
            formdata=None, inspected_on=clock.business_date(), kind="routine", method="onsite")
        if request.method == "POST":
            if not form.validate():
                flash("保存失败:" + form_errors(form), "error")
            else:
                stored = None
                try:
                    stored = store_attachment("attachment")
                    item = inspection.create_inspection(loan.id, current_user, attachment=stored,
                                                        **form.values())
                    db.session.commit()
                    flash("贷后检查已提交,等待贷后检查风控检查。", "success")
                    return redirect(url_for(".show", item_id=item.id))
                except BusinessError as exc:
                    db.session.rollback()
                    discard_upload(stored)
                    flash(str(exc), "error")
        return self.render("review/inspection_form.html", loan=loan, form=form, title="新增贷后检查",
                           action=url_for(".new_inspection", loan_id=loan.id),
                           uploads=uploads_module() is not None, loan_url=loan_detail_url(loan.id))

    def _inspection(self, item_id: int) -> Inspection:
        item = db.session.execute(select(Inspection).where(Inspection.id == item_id)).unique() \
            .scalar_one_or_none()
        if item is None:
            abort(404)
        return item

    @expose("/inspection/<int:item_id>/")
    def show(self, item_id: int):
        item = self._inspection(item_id)
        amend = None
        if item.review_status == "rejected" and item.proposer_id == current_user.id and self.allowed("inspect"):
            amend = InspectionForm(formdata=None, obj=item)
        return self.render("review/inspection_view.html", item=item,
                           fields=item_fields("inspection", item), trail=trail_rows("inspection", item.id),
                           amend=amend, uploads=uploads_module() is not None,
                           attachment_url=url_for(".attachment", item_id=item.id) if item.attachment_path else None,
                           loan_url=loan_detail_url(item.loan_id))

    @expose("/inspection/<int:item_id>/resubmit", methods=("POST",))
    def resubmit(self, item_id: int):
        item = self._inspection(item_id)
        form = InspectionForm()
        if not form.validate():
            flash("提交失败:" + form_errors(form), "error")
            return redirect(url_for(".show", item_id=item.id))
        stored = None
        try:
            values = form.values()
            stored = store_attachment("attachment")
            if stored is not None:
                values.update(attachment_path=stored.stored_name, attachment_name=stored.original_name)
            approvals.resubmit("inspection", item.id, current_user, **values)
            db.session.commit()
        except BusinessError as exc:
            db.session.rollback()
            discard_upload(stored)
            flash(str(exc), "error")
            return redirect(url_for(".show", item_id=item.id))
        flash("已修改并重新提交至贷后检查风控检查。", "success")
        return redirect(url_for(".show", item_id=item.id))

    @expose("/inspection/<int:item_id>/attachment")
    def attachment(self, item_id: int):
        return send_item_file(self._inspection(item_id))


def register(admin) -> None:
    admin.add_view(InspectionLoanView(Loan, db, name="贷后检查", endpoint="inspection_loans"))
