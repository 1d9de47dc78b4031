"""合同变更: open loans with 利率调整 (form → preview of the recomputed schedule → confirm),
利率调整记录, 展期 (form → preview → confirm) and 贷款详情. The money work is done by
services.loans; this module only collects input, shows previews and reports errors."""
from decimal import Decimal

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DecimalField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from admin_app.bounds import NEAR_FUTURE, TERM_END, DateBound, RateBound
from admin_app.date_input import DateField
from admin_app.extensions import db
from models.ledger import RULES
from admin_app.screens import RowLink
from models import Installment, Loan, RateChange
from models.enums import OPEN_LOAN_STATUSES
from services import BusinessError
from views.common import LoanListView

CENT = Decimal("0.01")


class RateChangeForm(FlaskForm):
    new_rate = DecimalField("新年利率(%)", places=6, validators=[
        InputRequired("请填写新年利率"),
        NumberRange(min=Decimal("0.000001"), max=Decimal("99.999999"), message="年利率应大于0且小于100"),
        RateBound()])
    effective_date = DateField("生效日期", validators=[InputRequired("请填写生效日期(YYYY-MM-DD)"),
                                                   DateBound(NEAR_FUTURE)])
    reason = TextAreaField("调整原因", validators=[DataRequired("请填写调整原因"), Length(max=1000)])


class ExtensionForm(FlaskForm):
    new_maturity = DateField("新到期日", validators=[InputRequired("请填写新到期日(YYYY-MM-DD)"),
                                                 DateBound(TERM_END)])
    reason = TextAreaField("展期原因", validators=[DataRequired("请填写展期原因"), Length(max=1000)])


def compare_schedules(old: list[Installment], new_rows) -> list[dict]:
    """Old and new schedule (services.loans ScheduleRow list) side by side, one line per
    period of either; `changed` marks periods the change recomputes, adds or drops."""
    old_by_period = {i.period: i for i in old}
    new_by_period = {r.period: r for r in new_rows}
    lines = []
    for period in sorted(set(old_by_period) | set(new_by_period)):
        o, n = old_by_period.get(period), new_by_period.get(period)
        line = {"period": period, "paid": bool(o is not None and o.is_paid),
                "old_due": o.due_date if o else None,
                "old_principal": o.principal_due if o else None,
                "old_interest": o.interest_due if o else None,
                "new_due": n.due_date if n is not None else None,
                "new_principal": n.principal if n is not None else None,
                "new_interest": n.interest if n is not None else None}
        line["changed"] = bool(n is not None and n.recomputed) or o is None or n is None
        lines.append(line)
    return lines


def schedule_totals(lines: list[dict]) -> dict:
    """Totals over unpaid periods, old vs new."""
    def total(key):
        return sum((Decimal(l[key]) for l in lines if not l["paid"] and l[key] is not None), Decimal("0.00"))

    return {k: total(k) for k in ("old_principal", "old_interest", "new_principal", "new_interest")}


def annual_rates(loan: Loan, old: list[Installment], new_rows) -> dict:
    """年化利率 (IRR) of the contract before and after the change, with the ceiling."""
    from services import limits

    ceiling, basis = limits.rate_ceiling()
    return {"old": limits.schedule_annual_rate(loan.principal, loan.start_date, old),
            "new": limits.schedule_annual_rate(loan.principal, loan.start_date, new_rows),
            "ceiling": f"{ceiling.normalize():f}%", "basis": basis}


class ContractChangeView(LoanListView):
    statuses = OPEN_LOAN_STATUSES
    key_columns = ("rate", "outstanding_principal", "maturity_date", "status")
    verbs = {"rate_change": "rate_change", "rate_history": "view", "extension": "extension"}
    row_links = (
        RowLink("利率调整", ".rate_change", lambda loan: {"loan_id": loan.id}, verb="rate_change"),
        RowLink("利率调整记录", ".rate_history", lambda loan: {"loan_id": loan.id}),
        RowLink("展期", ".extension", lambda loan: {"loan_id": loan.id}, verb="extension"),
    ) + LoanListView.row_links

    def _open_loan_or_404(self, loan_id: int) -> Loan:
        loan = self.get_one(loan_id)
        if loan is None:
            abort(404)
        return loan

    def _schedule(self, loan: Loan) -> list[Installment]:
        return list(db.session.execute(select(Installment).where(Installment.loan_id == loan.id)
                                       .order_by(Installment.period)).scalars())

    def _preview_or_post(self, loan, form, template, preview, post, done_message, title, **extra):
        """Shared flow of both changes: GET or 返回修改 shows the form; a valid POST shows
        the preview; a valid POST with 确认 posts the change."""
        if request.method == "POST" and "back" not in request.form and form.validate_on_submit():
            try:
                if "confirm" in request.form:
                    post()
                    db.session.commit()
                    flash(done_message, "success")
                    return redirect(url_for(".rate_history", loan_id=loan.id) if template == "rate"
                                    else url_for("loan_detail.index", loan_id=loan.id))
                schedule, rows = self._schedule(loan), preview()
                lines = compare_schedules(schedule, rows)
                return self.render(f"contract/{template}_preview.html", loan=loan, form=form,
                                   lines=lines, totals=schedule_totals(lines), title=title,
                                   annual=annual_rates(loan, schedule, rows), rules=RULES, **extra)
            except BusinessError as err:
                db.session.rollback()
                flash(str(err), "error")
        return self.render(f"contract/{template}_form.html", loan=loan, form=form, title=title,
                           return_url=url_for(".index_view"), rules=RULES, **extra)

    @expose("/rate/<int:loan_id>/", methods=("GET", "POST"))
    def rate_change(self, loan_id: int):
        from services.loans import change_rate, preview_rate_change

        loan = self._open_loan_or_404(loan_id)
        form = RateChangeForm()
        if request.method == "GET":
            form.new_rate.data = loan.rate
        data = form.data
        return self._preview_or_post(
            loan, form, "rate",
            preview=lambda: preview_rate_change(loan, data["new_rate"], data["effective_date"]),
            post=lambda: change_rate(loan, data["new_rate"], data["effective_date"],
                                     data["reason"].strip(), current_user),
            done_message=f"贷款 {loan.loan_no} 利率已调整为 {data['new_rate']}%,"
                         f"自 {data['effective_date']} 起未还期次已重新计算。",
            title="利率调整")

    @expose("/extension/<int:loan_id>/", methods=("GET", "POST"))
    def extension(self, loan_id: int):
        """展期申请: form → preview of the new schedule → 提交申请 (services.extension); the
        extension takes effect only on 展期风控审核's approval. A rejected application is
        amended and resubmitted here; one still waiting is shown instead of the form."""
        from services import approvals, extension
        from services.loans import preview_extension

        loan = self._open_loan_or_404(loan_id)
        pending = extension.open_application(loan.id)
        if pending is not None and pending.review_status == "pending":
            return self.render("contract/extension_pending.html", loan=loan, item=pending,
                               stage=approvals.stage_label(approvals.workflow("extension"), pending),
                               return_url=url_for(".index_view"))
        form = ExtensionForm()
        if request.method == "GET" and pending is not None:
            form.new_maturity.data, form.reason.data = pending.new_maturity_date, pending.reason
        data = form.data

        def post():
            if pending is not None:
                approvals.resubmit("extension", pending.id, current_user,
                                   new_maturity_date=data["new_maturity"], reason=data["reason"])
            else:
                extension.apply(loan.id, current_user, new_maturity=data["new_maturity"], reason=data["reason"])

        return self._preview_or_post(
            loan, form, "extension",
            preview=lambda: (extension.check(loan, data["new_maturity"], data["reason"]),
                             preview_extension(loan, data["new_maturity"]))[1],
            post=post,
            done_message=f"贷款 {loan.loan_no} 的展期申请(新到期日 {data['new_maturity']})已提交至展期风控审查,"
                         "经展期风控审核通过后生效。",
            title="展期申请", rejected=pending)

    @expose("/rate_history/<int:loan_id>/")
    def rate_history(self, loan_id: int):
        loan = db.session.get(Loan, loan_id)
        if loan is None:
            abort(404)
        changes = list(db.session.execute(
            select(RateChange).where(RateChange.loan_id == loan_id)
            .order_by(RateChange.effective_date.desc(), RateChange.id.desc())).scalars())
        return self.render("contract/rate_history.html", loan=loan, changes=changes,
                           return_url=url_for(".index_view"))


def register(admin) -> None:
    from views.approvals import register_stages

    admin.add_view(ContractChangeView(Loan, db, name="合同变更", endpoint="contract_change"))
    register_stages(admin, "extension")
