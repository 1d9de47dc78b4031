"""催收管理, the receipt lists: 待上传借款人催收回执 and 待上传担保人或公司催收回执 — records by
上门/信函/律师函 still lacking a receipt, each with its 上传回执 page."""
from flask import flash, redirect, request
from flask_admin import expose
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from admin_app.extensions import db
from admin_app.screens import RowLink, SearchField, loan_detail_link
from models import Collection
from services import BusinessError
from services import collection as collection_service
from views.collection_base import CATEGORY, LABELS, CollectionRecordView, back_url, render_page, upload_mb
from views.common import register_screens


class ReceiptForm(FlaskForm):
    receipt = FileField("回执文件(PDF、JPG 或 PNG)", validators=[FileRequired("请选择要上传的回执文件")])


class ReceiptWaitingView(CollectionRecordView):
    """待上传…回执: records by 上门/信函/律师函 still lacking a receipt, for one target group."""

    receipt_list = "borrower"
    verbs = {"upload": "upload"}
    column_list = ("collection_no", "loan.loan_no", "loan.customer_name", "target", "guarantor.name",
                   "method", "contacted_at", "content", "collector")
    key_columns = ("collection_no", "method", "contacted_at")
    search_fields = (CollectionRecordView.customer_field(),
                     SearchField("collection_no", "催收编号", Collection.collection_no, mode="contains"))
    row_links = (
        RowLink("上传回执", ".upload", lambda c: {"id": c.id}, verb="upload"),
        loan_detail_link(),
    )

    def base_filters(self) -> list:
        return collection_service.waiting_receipt_filters(self.receipt_list)

    @expose("/upload/<int:id>", methods=("GET", "POST"))
    def upload(self, id):
        record = self.find_one(id)
        return_url = back_url(self.get_url(".index_view"))
        if record is None:
            flash("该催收记录不在待上传回执列表中(可能已上传回执)。", "info")
            return redirect(return_url)
        form = ReceiptForm()
        form.receipt.description = f"只接受 PDF、JPG、PNG 文件(按文件内容识别),单个文件不超过 {upload_mb()} MB。"
        if form.validate_on_submit():
            try:
                receipt = collection_service.attach_receipt(record, request.files.get("receipt"),
                                                            current_user)
                db.session.commit()
            except BusinessError as err:
                db.session.rollback()
                flash(f"上传失败:{err}", "error")
            else:
                flash(f"回执「{receipt.original_name}」已上传,催收记录 {record.collection_no} "
                      "已移出待上传列表。", "success")
                return redirect(return_url)
        return render_page(self, "collection/upload.html", record=record, form=form, labels=LABELS,
                           return_url=return_url)


class BorrowerReceiptView(ReceiptWaitingView):
    receipt_list = "borrower"


class GuarantorReceiptView(ReceiptWaitingView):
    receipt_list = "guarantor"


SCREENS = (
    (BorrowerReceiptView, Collection, "待上传借款人催收回执", "receipt_borrower"),
    (GuarantorReceiptView, Collection, "待上传担保人或公司催收回执", "receipt_guarantor"),
)


def register(admin) -> None:
    register_screens(admin, SCREENS, CATEGORY)
