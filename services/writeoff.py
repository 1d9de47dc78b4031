"""核销管理: write-off applications for loans classed 次级 or worse, reviewed by
核销风控申请 and 核销风控审核. Final approval appends a write-off entry to the loan's ledger
and the loan becomes 已核销 (账销案存: the claim stays collectible on 还款催收 / 担保人催收,
what comes in is a 核销后收回; 核销台账 lists written-off loans with what was recovered)."""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import and_, exists, not_, or_, select
from sqlalchemy.exc import IntegrityError

from admin_app.extensions import db
from models import Loan, WriteOff
from models.bounds import money_problem
from models.classification import SUBSTANDARD
from models.enums import OPEN_LOAN_STATUSES
from services import BusinessError
from services import approvals

WORKFLOW = "writeoff"
CENT = Decimal("0.01")
ONE_OPEN = "该贷款已有核销申请,不能重复申请"


def _money(value, label: str) -> Decimal:
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, AttributeError):
        raise BusinessError(f"{label}必须是金额") from None
    if not amount.is_finite() or amount < 0:
        raise BusinessError(f"{label}不能为负数")
    problem = money_problem(amount, label)
    if problem:
        raise BusinessError(problem)
    if amount != amount.quantize(CENT, ROUND_HALF_UP):
        raise BusinessError(f"{label}最多保留两位小数")
    return amount.quantize(CENT, ROUND_HALF_UP)


def interest_outstanding(loan: Loan) -> Decimal:
    """Unpaid interest the lender would write off: overdue interest plus penalty interest."""
    return (Decimal(loan.overdue_interest or 0) + Decimal(loan.penalty_interest or 0)).quantize(CENT)


def eligibility_clause():
    """Loans that may be written off: open, classed 次级 or worse, no write-off on record
    (any not withdrawn: pending, rejected for amendment or approved)."""
    has_write_off = exists().where(WriteOff.loan_id == Loan.id, WriteOff.review_status != "withdrawn")
    return and_(Loan.status.in_(OPEN_LOAN_STATUSES), Loan.five_class >= SUBSTANDARD, not_(has_write_off))


def lookup(term: str, limit: int = 20) -> list[Loan]:
    """The AJAX picker: eligible loans whose number or borrower starts with `term`."""
    term = (term or "").strip()
    stmt = select(Loan).where(eligibility_clause())
    if term:
        hi = term + "\U0010ffff"
        stmt = stmt.where(or_(and_(Loan.loan_no >= term, Loan.loan_no < hi),
                              and_(Loan.customer_name >= term, Loan.customer_name < hi)))
    return list(db.session.execute(stmt.order_by(Loan.id).limit(limit)).unique().scalars())


def _check(loan: Loan, principal, interest, reason) -> dict:
    if loan.status not in OPEN_LOAN_STATUSES:
        raise BusinessError("只能核销未结清、未核销的贷款")
    if loan.five_class < SUBSTANDARD:
        raise BusinessError("只能核销五级分类为次级、可疑或损失的贷款")
    principal = _money(principal, "核销本金")
    interest = _money(interest, "核销利息")
    if principal > Decimal(loan.outstanding_principal):
        raise BusinessError(f"核销本金不能超过剩余本金 {Decimal(loan.outstanding_principal):,.2f} 元")
    owed_interest = interest_outstanding(loan)
    if interest > owed_interest:
        raise BusinessError(f"核销利息不能超过欠息及罚息合计 {owed_interest:,.2f} 元")
    if principal + interest <= 0:
        raise BusinessError("核销金额必须大于零")
    text = (reason or "").strip()
    if not text:
        raise BusinessError("请填写核销原因说明")
    if len(text) > 4000:
        raise BusinessError("核销原因说明不能超过4000字")
    return {"principal_amount": principal, "interest_amount": interest, "reason": text}


def apply(loan_id: int, actor, *, reason: str, principal_amount=None, interest_amount=None,
          evidence=None, submit: bool = False) -> WriteOff:
    """添加: an application for one loan; amounts default to what is outstanding.
    `evidence`: stored-file info of services.uploads.store_upload (or None)."""
    loan = db.session.get(Loan, loan_id)
    if loan is None:
        raise BusinessError("贷款不存在")
    if principal_amount in (None, ""):
        principal_amount = loan.outstanding_principal
    if interest_amount in (None, ""):
        interest_amount = interest_outstanding(loan)
    values = _check(loan, principal_amount, interest_amount, reason)
    if db.session.execute(select(exists().where(WriteOff.loan_id == loan.id,
                                                WriteOff.review_status != "withdrawn"))).scalar():
        raise BusinessError(ONE_OPEN)
    item = WriteOff(loan_id=loan.id, **values)
    if evidence is not None:
        item.evidence_path, item.evidence_name = evidence.stored_name, evidence.original_name
    try:
        with db.session.begin_nested():  # the partial unique index settles a race
            if submit:
                approvals.submit(WORKFLOW, item, actor)
            else:
                approvals.save_draft(WORKFLOW, item, actor)
    except IntegrityError:
        raise BusinessError(ONE_OPEN) from None
    return item


def submit_application(item_id: int, actor) -> WriteOff:
    item = db.session.get(WriteOff, item_id)
    if item is None:
        raise BusinessError("核销申请不存在")
    _check(item.loan, item.principal_amount, item.interest_amount, item.reason)
    return approvals.submit(WORKFLOW, item, actor)


# ---- hooks of services.approvals ---------------------------------------------------------
def clean_amendments(item: WriteOff, amendments: dict) -> dict:
    unknown = set(amendments) - {"principal_amount", "interest_amount", "reason",
                                 "evidence_path", "evidence_name"}
    if unknown:
        raise BusinessError("不能修改这些内容:" + "、".join(sorted(unknown)))
    values = _check(item.loan, amendments.get("principal_amount", item.principal_amount),
                    amendments.get("interest_amount", item.interest_amount),
                    amendments.get("reason", item.reason))
    for name in ("evidence_path", "evidence_name"):
        if amendments.get(name):
            values[name] = amendments[name]
    return values


def check_final(item: WriteOff) -> None:
    _check(item.loan, item.principal_amount, item.interest_amount, item.reason)


def on_approved(item: WriteOff, actor, on: date | None = None) -> None:
    """Final approval books the write-off in the loan's ledger (services.ledger.write_off):
    accrual stops, class 损失, status 已核销; the claim stays collectible (账销案存)."""
    from services import ledger

    ledger.write_off(item.loan, on or ledger.business_today(), actor, note=item.reason)
