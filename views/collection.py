"""催收管理: 还款催收, 催收查询 and 担保人催收 (the two receipt lists are views.collection_receipts).

Loan-side lists (还款催收 by loan, 担保人催收 by guarantor) share the 催收 form and
催收历史记录 pages (CollectPagesMixin); 催收查询 lists every record with its 跟进 page. Rules
live in services.collection; the views turn BusinessError into a flash message."""
from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import and_
from wtforms import DecimalField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from admin_app import clock
from admin_app.bounds import NEAR_FUTURE, PAST, DateBound, MoneyBound
from admin_app.date_input import DateField, MinuteField
from admin_app.extensions import db
from admin_app.permissions import allowed
from admin_app.screens import RowLink, ScreenView, SearchField, loan_detail_link
from models import Collection, Guarantor, Loan, Receipt
from models.enums import COLLECTION_METHODS, COLLECTION_STATUSES, GUARANTOR_TYPES, LOAN_STATUSES, TIMED_METHODS
from services import BusinessError
from services import collection as collection_service
from services.uploads import send_stored
from views.collection_base import (CATEGORY, LABELS, CollectionRecordView, back_url, money_formatters, owed_cell,
                                   owed_export, render_page, to_the_minute)
from views.common import (LOAN_LABELS, LoanListView, customer_name_field, date_range_fields, loan_no_field,
                          register_screens, staff_choices)


# ---- forms -------------------------------------------------------------------------------
class CollectionForm(FlaskForm):
    target = SelectField("催收对象", validators=[DataRequired("请选择催收对象")])
    method = SelectField("催收方式", choices=list(COLLECTION_METHODS.items()))
    contacted_at = MinuteField("催收时间", validators=[DataRequired("请填写催收时间(年月日 时:分)"), DateBound(PAST)])
    content = TextAreaField("催收内容", validators=[DataRequired("请填写催收内容"), Length(max=4000)])
    result = TextAreaField("催收结果", validators=[Optional(), Length(max=4000)])
    promised_date = DateField("承诺还款日期", validators=[Optional(), DateBound(NEAR_FUTURE)])
    promised_amount = DecimalField("承诺还款金额(元)", places=2, validators=[Optional(), MoneyBound()],
                                   render_kw={"step": "0.01", "min": "0"})
    next_follow_up = DateField("下次跟进日期", validators=[Optional(), DateBound(NEAR_FUTURE)])


class FollowUpForm(FlaskForm):
    status = SelectField("跟进状态", choices=list(COLLECTION_STATUSES.items()))
    next_follow_up = DateField("下次跟进日期", validators=[Optional(), DateBound(NEAR_FUTURE)])
    note = TextAreaField("跟进说明", validators=[DataRequired("请填写跟进说明"), Length(max=4000)])


def collectible_status_field(column, join=()) -> SearchField:
    """The filter of the collection lists: 逾期 or 已核销 (账销案存)."""
    return SearchField("status", "贷款状态", column, mode="choice", join=join,
                       choices={k: LOAN_STATUSES[k] for k in collection_service.COLLECTIBLE_STATUSES})


# ---- loan-side screens: the 催收 form and 催收历史记录 ----------------------------------------
class CollectPagesMixin:
    """催收 and 催收历史记录 pages for a row of the list (a loan, or a guarantor). A row
    outside the list (e.g. a loan no longer overdue) is not found, as with get_one."""

    verbs = {"collect": "collect", "history": "view", "notice": "collect", "notice_print": "collect"}

    def _notice_context(self, loan, guarantor) -> dict:
        from admin_app import settings
        from services import notice

        as_of = clock.business_date()
        lines = notice.figures(loan, as_of)
        return {"loan": loan, "guarantor": guarantor, "as_of": as_of, "lines": lines,
                "due_now": dict(lines)["截至当日应还合计"], "company": settings.get_text("company.name"),
                "addressee": guarantor.name if guarantor is not None else loan.customer_name}

    @expose("/notice/<int:id>", methods=("GET", "POST"))
    def notice(self, id):
        """打印催收通知书: the figures, then 生成 (records a 信函 collection) and the print page."""
        from services import notice

        loan, guarantor = self.scope(self._row_or_404(id))
        return_url = back_url(self.get_url(".index_view"))
        if request.method == "POST":
            try:
                record = notice.print_notice(loan, guarantor, current_user)
                db.session.commit()
            except BusinessError as err:
                db.session.rollback()
                flash(str(err), "error")
                return redirect(return_url)
            return redirect(self.get_url(".notice_print", id=id, record_id=record.id))
        return render_page(self, "collection/notice_confirm.html", row_id=id, return_url=return_url,
                           **self._notice_context(loan, guarantor))

    @expose("/notice/<int:id>/<int:record_id>")
    def notice_print(self, id, record_id):
        """The print-ready notice (one A4 page) of a recorded 信函 collection."""
        loan, guarantor = self.scope(self._row_or_404(id))
        record = db.session.get(Collection, record_id)
        if record is None or record.loan_id != loan.id or record.method != "letter" \
                or record.guarantor_id != (guarantor.id if guarantor is not None else None):
            abort(404)
        return self.render("collection/notice_print.html", record=record,
                           back_url=self.get_url(".index_view"), **self._notice_context(loan, guarantor))

    def scope(self, row) -> tuple[Loan, Guarantor | None]:
        """The loan and (for guarantor rows) the guarantor a row stands for."""
        raise NotImplementedError

    def _row_or_404(self, id):
        row = self.get_one(id)
        if row is None:
            abort(404)
        return row

    @expose("/collect/<int:id>", methods=("GET", "POST"))
    def collect(self, id):
        loan, guarantor = self.scope(self._row_or_404(id))
        options = collection_service.target_options(
            loan, [guarantor] if guarantor else collection_service.guarantors_of(loan.id))
        if guarantor is not None:
            options = [o for o in options if o[0] == f"guarantor:{guarantor.id}"]
        form = CollectionForm()
        form.target.choices = options
        if request.method == "GET":
            form.contacted_at.data = clock.local_now().replace(second=0, microsecond=0)
        return_url = back_url(self.get_url(".index_view"))
        if form.validate_on_submit():
            try:
                target, guarantor_id = collection_service.parse_target(form.target.data)
                chosen = db.session.get(Guarantor, guarantor_id) if guarantor_id else None
                record = collection_service.record_collection(
                    loan, target=target, guarantor=chosen, method=form.method.data,
                    contacted_at=form.contacted_at.data, content=form.content.data,
                    result=form.result.data, promised_date=form.promised_date.data,
                    promised_amount=form.promised_amount.data,
                    next_follow_up=form.next_follow_up.data, collector=current_user)
                db.session.commit()
            except BusinessError as err:
                db.session.rollback()
                flash(str(err), "error")
            else:
                extra = "(需上传回执)" if record.needs_receipt else ""
                flash(f"催收记录 {record.collection_no} 已保存{extra}。", "success")
                return redirect(self.get_url(".history", id=id, url=return_url))
        return render_page(self, "collection/collect.html", loan=loan, guarantor=guarantor, form=form,
                           owed=collection_service.amount_owed(loan), return_url=return_url,
                           timed=TIMED_METHODS, hours=collection_service.allowed_hours())

    @expose("/history/<int:id>")
    def history(self, id):
        loan, guarantor = self.scope(self._row_or_404(id))
        records = collection_service.collections_of(loan.id, guarantor.id if guarantor else None)
        receipts = collection_service.receipts_by_collection([r.id for r in records])
        return render_page(self, "collection/history.html", loan=loan, guarantor=guarantor, records=records,
                           receipts=receipts, owed=collection_service.amount_owed(loan),
                           labels=LABELS, return_url=back_url(self.get_url(".index_view")),
                           can_collect=self.allowed("collect"),
                           can_download=allowed(current_user, "collection_query", "download"))


OWED_LABELS = dict(LOAN_LABELS, owed="逾期欠款合计", officer="客户经理")


class OverdueCollectionView(CollectPagesMixin, LoanListView):
    """还款催收: overdue loans with what is owed, and written-off claims still collected
    (账销案存, marked 已核销; the 贷款状态 field filters them)."""

    statuses = collection_service.COLLECTIBLE_STATUSES
    column_list = ("loan_no", "customer_name", "product.name", "status", "outstanding_principal",
                   "overdue_principal", "overdue_interest", "penalty_interest", "owed",
                   "days_overdue", "five_class", "officer")
    key_columns = ("days_overdue", "overdue_principal", "owed", "penalty_interest", "five_class")
    column_labels = OWED_LABELS
    column_sortable_list = ("loan_no", "customer_name", "outstanding_principal", "days_overdue",
                            "five_class")
    column_default_sort = [("days_overdue", True), ("id", True)]
    column_formatters = dict(money_formatters("outstanding_principal", "overdue_principal",
                                               "overdue_interest", "penalty_interest"), owed=owed_cell)
    column_formatters_export = {"owed": owed_export}
    search_fields = (customer_name_field(), loan_no_field(), collectible_status_field(Loan.status))
    row_links = (
        RowLink("催收", ".collect", lambda loan: {"id": loan.id}, verb="collect"),
        RowLink("通知书", ".notice", lambda loan: {"id": loan.id}, verb="collect"),
        RowLink("催收历史记录", ".history", lambda loan: {"id": loan.id}),
        loan_detail_link(lambda loan: loan.id),
    )

    def scope(self, row):
        return row, None


class GuarantorCollectionView(CollectPagesMixin, ScreenView):
    """担保人催收: one row per guarantor of an overdue loan."""

    verbs = dict(CollectPagesMixin.verbs, loan_info="view")
    can_view_details = False
    column_list = ("loan.loan_no", "loan.customer_name", "loan.status", "name", "kind", "phone",
                   "guaranteed_amount", "loan.outstanding_principal", "owed", "loan.days_overdue")
    key_columns = ("loan.days_overdue", "owed", "name", "phone")
    column_labels = {
        "loan.loan_no": "贷款编号", "loan.customer_name": "客户名称", "name": "担保人",
        "kind": "担保人类型", "phone": "担保人电话", "guaranteed_amount": "担保金额",
        "loan.outstanding_principal": "剩余本金", "owed": "逾期欠款合计", "loan.days_overdue": "逾期天数",
        "loan.status": "贷款状态",
    }
    column_choices = {"kind": list(GUARANTOR_TYPES.items()), "loan.status": list(LOAN_STATUSES.items())}
    column_sortable_list = ("name", "guaranteed_amount", "loan.days_overdue")
    column_default_sort = ("id", True)
    column_formatters = dict(money_formatters("guaranteed_amount", "loan.outstanding_principal"), owed=owed_cell)
    column_formatters_export = {"owed": owed_export}
    search_fields = (customer_name_field(join=(Guarantor.loan,)), loan_no_field(join=(Guarantor.loan,)),
                     collectible_status_field(Loan.status, join=(Guarantor.loan,)),
                     SearchField("guarantor", "担保人名称", Guarantor.name, mode="contains"))
    row_links = (
        RowLink("借款信息", ".loan_info", lambda g: {"id": g.id}),
        RowLink("催收", ".collect", lambda g: {"id": g.id}, verb="collect"),
        RowLink("通知书", ".notice", lambda g: {"id": g.id}, verb="collect"),
        RowLink("催收历史记录", ".history", lambda g: {"id": g.id}),
        loan_detail_link(lambda g: g.loan_id),
    )

    def base_filters(self) -> list:
        # Guarantors newest first, each checked against its loan by key: a page stops after
        # 20 matches instead of joining and sorting the guarantors of every overdue loan
        # (1,000,000 loans: 735 ms -> see bench/RESULTS.md).
        return [Guarantor.loan.has(and_(*collection_service.overdue_loan_filters()))]

    def scope(self, row):
        return row.loan, row

    @expose("/loan/<int:id>")
    def loan_info(self, id):
        guarantor = self._row_or_404(id)
        loan = guarantor.loan
        return render_page(self, "collection/loan_info.html", loan=loan, guarantor=guarantor,
                           owed=collection_service.amount_owed(loan), labels=LABELS,
                           return_url=back_url(self.get_url(".index_view")),
                           can_collect=self.allowed("collect"))


class CollectionQueryView(CollectionRecordView):
    """催收查询: every record, 跟进 (status, next date, note), export, receipt download."""

    verbs = {"follow_up_view": "follow_up", "download": "download"}
    column_list = ("collection_no", "loan.loan_no", "loan.customer_name", "target", "guarantor.name",
                   "method", "contacted_at", "result", "promised_date", "promised_amount",
                   "next_follow_up", "status", "collector", "has_receipt")
    key_columns = ("status", "next_follow_up", "result", "promised_date", "promised_amount")
    column_formatters_export = {"contacted_at": to_the_minute}
    search_fields = (CollectionRecordView.customer_field(),
                     loan_no_field(Loan.loan_no, join=(Collection.loan,)),
                     SearchField("collection_no", "催收编号", Collection.collection_no, mode="contains"),
                     SearchField("status", "状态", Collection.status, mode="choice", choices=COLLECTION_STATUSES),
                     SearchField("method", "催收方式", Collection.method, mode="choice", choices=COLLECTION_METHODS),
                     SearchField("collector", "催收人", Collection.collector_id, mode="choice",
                                 choices=staff_choices, coerce=int),
                     *date_range_fields("follow", "下次跟进", Collection.next_follow_up))
    row_links = (
        RowLink("跟进", ".follow_up_view", lambda c: {"id": c.id}, verb="follow_up"),
        RowLink("下载回执", ".download", lambda c: {"id": c.id}, verb="download",
                when=lambda c: c.has_receipt),
        loan_detail_link(),
    )

    @expose("/follow-up/<int:id>", methods=("GET", "POST"))
    def follow_up_view(self, id):
        record = self.get_one(id)
        if record is None:
            abort(404)
        form = FollowUpForm(obj=None if request.method == "POST" else record)
        if request.method == "GET":
            form.note.data = ""
        return_url = back_url(self.get_url(".index_view"))
        if form.validate_on_submit():
            try:
                collection_service.follow_up(record, form.status.data, form.next_follow_up.data,
                                             form.note.data, current_user)
                db.session.commit()
            except BusinessError as err:
                db.session.rollback()
                flash(str(err), "error")
            else:
                flash(f"催收记录 {record.collection_no} 已更新为「{COLLECTION_STATUSES[record.status]}」。",
                      "success")
                return redirect(return_url)
        return render_page(self, "collection/follow_up.html", record=record, form=form,
                           labels=LABELS, return_url=return_url)

    @expose("/receipt/<int:id>")
    def download(self, id):
        """The stored receipt of collection record `id` (logged-in staff with access only),
        served only when the record is one this screen lists for the user (its query carries
        every row restriction the screen has, data scope included): else 404."""
        if self.get_one(id) is None:
            abort(404)
        receipt = db.session.execute(
            db.select(Receipt).where(Receipt.collection_id == id).order_by(Receipt.id.desc()).limit(1)
        ).unique().scalar_one_or_none()
        if receipt is None:
            abort(404)
        return send_stored(receipt.stored_name, receipt.original_name, receipt.content_type)


SCREENS = (
    (OverdueCollectionView, Loan, "还款催收", "collection_overdue"),
    (CollectionQueryView, Collection, "催收查询", "collection_query"),
    (GuarantorCollectionView, Guarantor, "担保人催收", "collection_guarantor"),
)


def register(admin) -> None:
    register_screens(admin, SCREENS, CATEGORY)
