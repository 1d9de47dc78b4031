"""冲正 (reversal of a posted repayment): an officer proposes it with a reason; 风控主管
approves or rejects through the one approval mechanism (services.approvals: four eyes,
once-only, a rejection returns it to the proposer). Approval appends a reversal entry to the
loan's ledger and replays the loan (services.ledger.reverse_repayment). Nothing is deleted:
the repayment stays on record, marked reversed."""
from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from admin_app.extensions import db
from models import Repayment, RepaymentReversal
from services import BusinessError, approvals

WORKFLOW = "reversal"
OPEN_STATES = ("draft", "pending", "rejected")
ONE_OPEN = "该贷款已有一笔未完成的还款冲正申请,请先完成或撤回该申请"


def _reason(reason) -> str:
    text = (reason or "").strip()
    if not text:
        raise BusinessError("请填写冲正原因")
    if len(text) > 2000:
        raise BusinessError("冲正原因不能超过2000字")
    return text


def _check(repayment: Repayment) -> None:
    if getattr(repayment, "reversed_on", None) is not None:
        raise BusinessError(f"该笔还款已于 {repayment.reversed_on:%Y-%m-%d} 冲正")


def open_reversal(loan_id: int) -> RepaymentReversal | None:
    return db.session.execute(
        select(RepaymentReversal).where(RepaymentReversal.loan_id == loan_id,
                                        RepaymentReversal.review_status.in_(OPEN_STATES))
    ).unique().scalar_one_or_none()


def reversals_of(repayment_id: int) -> list[RepaymentReversal]:
    return list(db.session.execute(
        select(RepaymentReversal).where(RepaymentReversal.repayment_id == repayment_id)
        .order_by(RepaymentReversal.id.desc())).unique().scalars())


def propose(repayment_id: int, reason: str, actor) -> RepaymentReversal:
    """An officer's proposal, sent at once to 还款冲正审核."""
    repayment = db.session.get(Repayment, repayment_id)
    if repayment is None:
        raise BusinessError("还款记录不存在")
    _check(repayment)
    text = _reason(reason)
    if db.session.execute(select(exists().where(RepaymentReversal.loan_id == repayment.loan_id,
                                                RepaymentReversal.review_status.in_(OPEN_STATES)))).scalar():
        raise BusinessError(ONE_OPEN)
    item = RepaymentReversal(loan_id=repayment.loan_id, repayment_id=repayment.id, reason=text)
    try:
        with db.session.begin_nested():  # the partial unique index settles a race
            approvals.submit(WORKFLOW, item, actor)
    except IntegrityError:
        raise BusinessError(ONE_OPEN) from None
    return item


# ---- hooks of services.approvals ---------------------------------------------------------
def clean_amendments(item: RepaymentReversal, amendments: dict) -> dict:
    unknown = set(amendments) - {"reason"}
    if unknown:
        raise BusinessError("不能修改这些内容:" + "、".join(sorted(unknown)))
    _check(item.repayment)
    return {"reason": _reason(amendments.get("reason", item.reason))}


def check_final(item: RepaymentReversal) -> None:
    _check(item.repayment)


def on_approved(item: RepaymentReversal, actor) -> None:
    from services import ledger

    ledger.reverse_repayment(item.repayment, item.reason, actor)
