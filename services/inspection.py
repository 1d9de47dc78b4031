"""贷后检查: interviews (约谈记录) and inspections, which go through the staged approval of
services.approvals. A passed inspection moves the loan's last and next inspection date."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from admin_app.extensions import db
from admin_app import clock
from models import Inspection, Interview, Loan
from models.enums import INSPECTION_KINDS, INSPECTION_METHODS
from services import BusinessError
from services import approvals

WORKFLOW = "inspection"
FINDING_FIELDS = ("operation_findings", "finance_findings", "fund_usage_findings",
                  "collateral_findings", "guarantor_findings")
TEXT_FIELDS = FINDING_FIELDS + ("risk_signals", "conclusion")
AMENDABLE = ("kind", "inspected_on", "method") + TEXT_FIELDS + ("attachment_path", "attachment_name")
MAX_TEXT = 4000


def get_loan(loan_id: int) -> Loan:
    loan = db.session.get(Loan, loan_id)
    if loan is None:
        raise BusinessError("贷款不存在")
    return loan


def _text(value, label: str, required: bool = False, limit: int = MAX_TEXT) -> str | None:
    text = (value or "").strip()
    if required and not text:
        raise BusinessError(f"请填写{label}")
    if len(text) > limit:
        raise BusinessError(f"{label}不能超过{limit}字")
    return text or None


# ---- interviews --------------------------------------------------------------------------
def record_interview(loan_id: int, actor, *, held_at: datetime, place: str, participants: str,
                     content: str, follow_up: str | None = None) -> Interview:
    """`held_at`: the wall time typed in the display zone; stored as UTC (admin_app.clock)."""
    loan = get_loan(loan_id)
    if held_at is None:
        raise BusinessError("请填写约谈时间")
    if held_at > clock.local_now() + timedelta(minutes=5):
        raise BusinessError("约谈时间不能晚于当前时间")
    if held_at.date() < loan.start_date:
        raise BusinessError("约谈时间不能早于放款日")
    interview = Interview(loan_id=loan.id, held_at=clock.stored(held_at),
                          place=_text(place, "约谈地点", True, 128),
                          participants=_text(participants, "参加人员", True, 256),
                          content=_text(content, "约谈内容", True),
                          follow_up=_text(follow_up, "后续跟进"), recorded_by_id=actor.id)
    db.session.add(interview)
    db.session.flush()
    return interview


def interviews_of(loan_id: int) -> list[Interview]:
    return list(db.session.execute(select(Interview).where(Interview.loan_id == loan_id)
                                   .order_by(Interview.held_at.desc(), Interview.id.desc())).scalars())


# ---- inspections -------------------------------------------------------------------------
def _clean(loan: Loan, fields: dict) -> dict:
    out = {}
    if "kind" in fields:
        if fields["kind"] not in INSPECTION_KINDS:
            raise BusinessError("请选择检查类型")
        out["kind"] = fields["kind"]
    if "method" in fields:
        if fields["method"] not in INSPECTION_METHODS:
            raise BusinessError("请选择检查方式")
        out["method"] = fields["method"]
    if "inspected_on" in fields:
        on = fields["inspected_on"]
        if not isinstance(on, date):
            raise BusinessError("请填写检查日期")
        if on > clock.business_date():
            raise BusinessError("检查日期不能晚于今天")
        if on < loan.start_date:
            raise BusinessError("检查日期不能早于放款日")
        out["inspected_on"] = on
    labels = {"operation_findings": "经营情况", "finance_findings": "财务状况",
              "fund_usage_findings": "资金用途", "collateral_findings": "抵质押物情况",
              "guarantor_findings": "担保人情况", "risk_signals": "风险信号", "conclusion": "检查结论"}
    for name in TEXT_FIELDS:
        if name in fields:
            out[name] = _text(fields[name], labels[name], required=(name == "conclusion"))
    for name in ("attachment_path", "attachment_name"):
        if name in fields:
            out[name] = fields[name]
    return out


def create_inspection(loan_id: int, actor, *, attachment=None, **fields) -> Inspection:
    """Record an inspection and submit it to 贷后检查风控检查. `attachment`: the stored-file
    info of services.uploads.store_upload (or None)."""
    loan = get_loan(loan_id)
    if loan.status not in ("active", "extended", "overdue"):
        raise BusinessError("只能对未结清的贷款做贷后检查")
    for required in ("kind", "inspected_on", "method", "conclusion"):
        fields.setdefault(required, None)
    values = _clean(loan, fields)
    if attachment is not None:
        values["attachment_path"] = attachment.stored_name
        values["attachment_name"] = attachment.original_name
    item = Inspection(loan_id=loan.id, **values)
    return approvals.submit(WORKFLOW, item, actor)


def inspections_of(loan_id: int) -> list[Inspection]:
    return list(db.session.execute(select(Inspection).where(Inspection.loan_id == loan_id)
                                   .order_by(Inspection.inspected_on.desc(), Inspection.id.desc()))
                .unique().scalars())


# ---- hooks of services.approvals ---------------------------------------------------------
def clean_amendments(item: Inspection, amendments: dict) -> dict:
    unknown = set(amendments) - set(AMENDABLE)
    if unknown:
        raise BusinessError("不能修改这些内容:" + "、".join(sorted(unknown)))
    return _clean(item.loan, amendments)


def check_final(item: Inspection) -> None:
    return None


def on_approved(item: Inspection, actor) -> None:
    """The loan was inspected on `inspected_on`; the next inspection is one product interval
    later. An older inspection approved late never moves the dates back."""
    loan = item.loan
    if loan.last_inspection_date and loan.last_inspection_date > item.inspected_on:
        return
    loan.last_inspection_date = item.inspected_on
    loan.next_inspection_date = item.inspected_on + timedelta(days=loan.product.inspection_interval_days)
