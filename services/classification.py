"""五级分类: proposals to change a loan's class (调整分类 -> 提交分类 -> four stages) and the
portfolio statistics per class are services.portfolio. Only the final approval changes loan.five_class."""
from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from admin_app.extensions import db
from models import ClassificationChange, Loan
from models.classification import below_minimum_message, minimum_class, thresholds
from models.enums import FIVE_CLASSES, OPEN_LOAN_STATUSES
from services import BusinessError
from services import approvals

WORKFLOW = "classification"
OPEN_STATES = ("draft", "pending", "rejected")
ONE_OPEN = "该贷款已有一笔未完成的五级分类调整,请先完成或撤回该调整"


def get_loan(loan_id: int) -> Loan:
    loan = db.session.get(Loan, loan_id)
    if loan is None:
        raise BusinessError("贷款不存在")
    return loan


def open_change(loan_id: int) -> ClassificationChange | None:
    return db.session.execute(
        select(ClassificationChange).where(ClassificationChange.loan_id == loan_id,
                                           ClassificationChange.review_status.in_(OPEN_STATES))
    ).unique().scalar_one_or_none()


def changes_of(loan_id: int) -> list[ClassificationChange]:
    return list(db.session.execute(
        select(ClassificationChange).where(ClassificationChange.loan_id == loan_id)
        .order_by(ClassificationChange.id.desc())).unique().scalars())


def _check_target(loan: Loan, to_class, reason) -> tuple[int, str]:
    try:
        to_class = int(to_class)
    except (TypeError, ValueError):
        raise BusinessError("请选择调整后的五级分类") from None
    if to_class not in FIVE_CLASSES:
        raise BusinessError("请选择调整后的五级分类")
    text = (reason or "").strip()
    if not text:
        raise BusinessError("请填写调整原因")
    if len(text) > 2000:
        raise BusinessError("调整原因不能超过2000字")
    if to_class == loan.five_class:
        raise BusinessError(f"该贷款当前已是「{FIVE_CLASSES[to_class]}」类,无需调整")
    message = below_minimum_message(loan.days_overdue, to_class, thresholds())
    if message:
        raise BusinessError(message)
    return to_class, text


def propose(loan_id: int, to_class, reason: str, actor, *, submit: bool = False) -> ClassificationChange:
    """调整分类: record the proposed class and reason (a draft, or submitted at once)."""
    loan = get_loan(loan_id)
    if loan.status not in OPEN_LOAN_STATUSES:
        raise BusinessError("只能调整未结清、未核销贷款的五级分类")
    to_class, text = _check_target(loan, to_class, reason)
    if open_change(loan.id) is not None:
        raise BusinessError(ONE_OPEN)
    change = ClassificationChange(loan_id=loan.id, from_class=loan.five_class, to_class=to_class,
                                  suggested_class=minimum_class(loan.days_overdue, thresholds()),
                                  reason=text)
    try:
        # The partial unique index settles a race between two proposers of the same loan.
        with db.session.begin_nested():
            if submit:
                approvals.submit(WORKFLOW, change, actor)
            else:
                approvals.save_draft(WORKFLOW, change, actor)
    except IntegrityError:
        raise BusinessError(ONE_OPEN) from None
    return change


def submit_change(change_id: int, actor) -> ClassificationChange:
    """提交分类: send a draft to 五级分类风控审查."""
    change = db.session.get(ClassificationChange, change_id)
    if change is None:
        raise BusinessError("五级分类调整不存在")
    # The rule may have tightened since the draft was written (days overdue grow).
    message = below_minimum_message(change.loan.days_overdue, change.to_class, thresholds())
    if message:
        raise BusinessError(message)
    return approvals.submit(WORKFLOW, change, actor)


# ---- hooks of services.approvals ---------------------------------------------------------
def clean_amendments(item: ClassificationChange, amendments: dict) -> dict:
    unknown = set(amendments) - {"to_class", "reason"}
    if unknown:
        raise BusinessError("不能修改这些内容:" + "、".join(sorted(unknown)))
    loan = item.loan
    to_class, text = _check_target(loan, amendments.get("to_class", item.to_class),
                                   amendments.get("reason", item.reason))
    return {"to_class": to_class, "reason": text, "from_class": loan.five_class,
            "suggested_class": minimum_class(loan.days_overdue, thresholds())}


def check_final(item: ClassificationChange) -> None:
    loan = item.loan
    if loan.status not in OPEN_LOAN_STATUSES:
        raise BusinessError("该贷款已结清或核销,不能再调整五级分类,请驳回")
    message = below_minimum_message(loan.days_overdue, item.to_class, thresholds())
    if message:
        raise BusinessError(message + ",请驳回")


def on_approved(item: ClassificationChange, actor) -> None:
    item.loan.five_class = item.to_class


def has_open_change_clause():
    """SQL: the loan has an open change (for list columns without N+1)."""
    return exists().where(ClassificationChange.loan_id == Loan.id,
                          ClassificationChange.review_status.in_(OPEN_STATES))
