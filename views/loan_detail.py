"""贷款详情: one page with everything known about a loan, reachable from every screen that
lists loans (url_for("loan_detail.index", loan_id=...)). One query per section, however long
the loan's history; not in the menu."""
from dataclasses import dataclass
from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from sqlalchemy import exists, select
from sqlalchemy.orm import joinedload, lazyload

from admin_app import clock, data_scope
from admin_app.extensions import db
from admin_app.screens import PageView
from models import (ApprovalStep, ClassificationChange, Collateral, Collection, Extension,
                    ExtensionApplication, Guarantor,
                    Inspection, Installment, Interview, Loan, RateChange, Repayment, WriteOff)
from models.approval import WORKFLOWS
from models.enums import (COLLATERAL_KINDS, COLLECTION_METHODS, COLLECTION_STATUSES,
                          COLLECTION_TARGETS, DECISIONS, FIVE_CLASSES, GUARANTOR_TYPES,
                          INSPECTION_KINDS, INSPECTION_METHODS, OPEN_LOAN_STATUSES, REVIEW_STATUSES)

LABELS = {
    "five_class": FIVE_CLASSES, "review_status": REVIEW_STATUSES, "decision": DECISIONS,
    "collateral_kind": COLLATERAL_KINDS, "guarantor_kind": GUARANTOR_TYPES,
    "inspection_kind": INSPECTION_KINDS, "inspection_method": INSPECTION_METHODS,
    "collection_method": COLLECTION_METHODS, "collection_target": COLLECTION_TARGETS,
    "collection_status": COLLECTION_STATUSES,
}


def _rows(model, *order, options=()):
    # The loan is already loaded: do not join it (and its customer's cards) again per section.
    # lazyload, not noload: the row's loan then comes from the session's identity map when
    # read (no statement), while noload fixed it to None for every later reader of the row.
    skip_loan = (lazyload(model.loan),) if hasattr(model, "loan") else ()

    def load(loan_id):
        return list(db.session.execute(
            select(model).where(model.loan_id == loan_id).options(*skip_loan, *options).order_by(*order))
            .unique().scalars())

    load.model = model
    return load


def _sections_with_rows(loan_id: int) -> set[str]:
    """The SECTIONS the loan has rows in, in one statement: most loans have rows in two or
    three of the thirteen, and each empty section's query cost as much as a full one."""
    flags = db.session.execute(select(*(exists().where(load.model.loan_id == loan_id).label(key)
                                        for key, load in SECTIONS.items()))).one()
    return {key for key, flag in zip(SECTIONS, flags) if flag}


# Each section: (key, one bounded query by loan id). The people on these rows (operator,
# proposer, collector...) are joined eagerly, so a section is one statement whatever its length.
SECTIONS = {
    "installments": _rows(Installment, Installment.period),
    "repayments": _rows(Repayment, Repayment.paid_on, Repayment.id),
    "rate_changes": _rows(RateChange, RateChange.effective_date, RateChange.id),
    "extensions": _rows(Extension, Extension.id),
    "guarantors": _rows(Guarantor, Guarantor.id),
    "collaterals": _rows(Collateral, Collateral.id),
    "interviews": _rows(Interview, Interview.held_at.desc(), Interview.id.desc()),
    "inspections": _rows(Inspection, Inspection.inspected_on.desc(), Inspection.id.desc()),
    "classifications": _rows(ClassificationChange, ClassificationChange.id.desc()),
    "approvals": _rows(ApprovalStep, ApprovalStep.id),
    "collections": _rows(Collection, Collection.contacted_at.desc(), Collection.id.desc(),
                         options=(joinedload(Collection.guarantor).lazyload(Guarantor.loan),)),
    "write_offs": _rows(WriteOff, WriteOff.id.desc()),
    "extension_applications": _rows(ExtensionApplication, ExtensionApplication.id.desc()),
}


@dataclass(frozen=True)
class Tab:
    """One tab of 贷款详情: its label, the SECTIONS it shows (their rows are its count) and the
    template that draws it (loan_detail/tab_<key>.html). Add a tab by adding a row here."""

    key: str
    label: str
    sections: tuple[str, ...]

    @property
    def template(self) -> str:
        return f"loan_detail/tab_{self.key}.html"


TABS = [
    Tab("schedule", "还款计划", ("installments",)),
    Tab("repayments", "还款记录", ("repayments",)),
    Tab("rate_changes", "利率调整", ("rate_changes",)),
    Tab("extensions", "展期", ("extensions", "extension_applications")),
    Tab("collections", "催收", ("collections",)),
    Tab("inspections", "检查", ("inspections", "interviews")),
    Tab("approvals", "审批", ("classifications", "write_offs", "approvals")),
    Tab("security", "担保与抵质押", ("guarantors", "collaterals")),
]


def stage_label(workflow: str, stage: str) -> str:
    wf = WORKFLOWS.get(workflow)
    if wf is None:
        return stage
    try:
        return wf.stage(stage).name
    except KeyError:
        return {"proposer": "发起人", "submit": "提交"}.get(stage, stage)


def workflow_label(workflow: str) -> str:
    wf = WORKFLOWS.get(workflow)
    return wf.label if wf else workflow


OWED_LABELS = (("due_now", "截至今日应还"), ("overdue_principal", "逾期本金"), ("overdue_interest", "逾期利息"),
               ("penalty", "罚息"), ("compound", "复利"), ("advance", "预收余额"), ("total", "提前结清应还总额"))


def owed_today(loan: Loan, known=None) -> list[tuple[str, object]] | None:
    """What the borrower owes today, from the money engine; None for closed loans."""
    if loan.status not in OPEN_LOAN_STATUSES:
        return None
    from services.loans import amount_owed

    figures = amount_owed(loan, clock.business_date(), known=known)
    return [(label, figures[key]) for key, label in OWED_LABELS if key in figures]


def annual_rate(loan: Loan, installments) -> tuple:
    """年化利率 (IRR) of the loan's schedule, and the ceiling with its basis."""
    from models.irr import NoRate
    from services import limits

    ceiling, basis = limits.rate_ceiling()
    try:
        rate = limits.schedule_annual_rate(loan.principal, loan.start_date, installments)
    except NoRate:
        rate = None
    return rate, f"{ceiling.normalize():f}%(依据:{basis})"


QUOTE_LABELS = (("principal", "本金"), ("interest", "利息"), ("penalty", "罚息"), ("compound", "复利"),
                ("fee", "违约金及费用"), ("advance", "已收预收款(扣减)"), ("total", "结清合计"))


def settlement_quote(loan: Loan, raw_date: str | None, known=None) -> dict:
    """提前结清试算 for the date asked (default today): the figures of services.ledger, the same
    as `flask loan-quote`; an error message instead when the date or the loan does not allow one."""
    from services import BusinessError
    from services.ledger import business_today, rules, settlement_quote as quote

    out = {"date": business_today(), "rows": None, "error": None, "rules": rules()}
    if raw_date:
        try:
            out["date"] = date.fromisoformat(raw_date.strip())
        except ValueError:
            out["error"] = "试算日期格式不正确(YYYY-MM-DD)"
            return out
    if loan.status == "settled":
        out["error"] = "贷款已结清,无需试算"
        return out
    try:
        figures = quote(loan, out["date"], known=known)
    except BusinessError as err:
        out["error"] = str(err)
        return out
    # 已收预收款 only where the loan holds one
    out["rows"] = [(label, figures[key]) for key, label in QUOTE_LABELS if key != "advance" or figures[key]]
    return out


def loan_history(loan_id: int, quote_date: str | None = None) -> dict | None:
    loan = db.session.get(Loan, loan_id)  # under the user's 数据权限: None outside it
    if loan is None:
        return None
    # Every further read is of this loan's own rows (by its id), which the scope lets through
    # once the loan is: they run without its criteria, which cost an officer (本人) about 6 ms
    # a page at 1,000,000 loans (the sections' EXISTS carried every scoped model's rule).
    with data_scope.unscoped():
        return _history_of(loan, quote_date)


def _history_of(loan: Loan, quote_date: str | None) -> dict:
    loan_id = loan.id
    present = _sections_with_rows(loan_id)
    history = {key: load(loan_id) if key in present else [] for key, load in SECTIONS.items()}
    history["loan"] = loan
    # one replay as of today serves 截至今日应还 and today's 提前结清试算
    from services import ledger

    known = ledger.book(loan, clock.business_date()) if loan.status != "settled" else None
    history["owed"] = owed_today(loan, known)
    history["annual_rate"], history["ceiling_text"] = annual_rate(loan, history["installments"])
    history["quote"] = settlement_quote(loan, quote_date, known)
    return history


class LoanDetailView(PageView):
    def is_visible(self) -> bool:
        return False

    @expose("/")
    @expose("/<int:loan_id>/")
    def index(self, loan_id: int | None = None):
        if loan_id is None:
            loan_no = (request.args.get("loan_no") or "").strip()
            if loan_no:
                found = db.session.execute(select(Loan.id).where(Loan.loan_no == loan_no)).scalar()
                if found is not None:
                    return redirect(url_for(".index", loan_id=found))
                flash(f"没有找到贷款编号为「{loan_no}」的贷款。", "error")
            return self.render("loan_detail/lookup.html", loan_no=loan_no)
        history = loan_history(loan_id, request.args.get("quote_date"))
        if history is None:
            abort(404)
        return self.render("loan_detail/index.html", labels=LABELS, stage_label=stage_label,
                           workflow_label=workflow_label, tabs=TABS,
                           tab_counts={t.key: sum(len(history.get(s) or ()) for s in t.sections) for t in TABS},
                           **history)


def register(admin) -> None:
    admin.add_view(LoanDetailView(name="贷款详情", endpoint="loan_detail", url="/loan_detail"))
