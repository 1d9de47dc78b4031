"""展期申请 (extension through approval): an officer applies with a new maturity date and a
reason; 展期风控审查 (risk_checker) then 展期风控审核 (risk_approver) decide through
services.approvals (four eyes, once only); the final approval posts the extension with the
money engine (services.loans.extend_loan). Nothing changes on the loan before that.

Rules, checked on application, on amendment and again before the final approval:
- the loan is open and not yet at maturity (an application is made before maturity);
- not on an overdue loan, unless the parameter 逾期贷款可申请展期 allows it;
- the new maturity is one the engine accepts (later than the current one, within the limit);
- one open application per loan (a partial unique index settles a race)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from admin_app.extensions import db
from admin_app import clock
from models import ExtensionApplication, Loan
from services import BusinessError, approvals

WORKFLOW = "extension"
ONE_OPEN = "该贷款已有未完成的展期申请"


def overdue_allowed() -> bool:
    from admin_app import settings

    return settings.get_choice("extension.allow_overdue") == "yes"


def open_application(loan_id: int) -> ExtensionApplication | None:
    return db.session.execute(select(ExtensionApplication).where(
        ExtensionApplication.loan_id == loan_id,
        ExtensionApplication.review_status.notin_(("approved", "withdrawn")))).unique().scalar_one_or_none()


def check(loan: Loan, new_maturity: date | None, reason: str | None, as_of: date | None = None) -> str:
    """The application's rules; returns the cleaned reason."""
    from services.loans import preview_extension

    as_of = as_of or clock.business_date()
    if loan is None:
        raise BusinessError("贷款不存在")
    if loan.status not in ("active", "extended", "overdue"):
        raise BusinessError("只能对未结清的贷款申请展期")
    if as_of >= loan.maturity_date:
        raise BusinessError(f"展期须在到期日 {loan.maturity_date:%Y-%m-%d} 之前申请")
    if (loan.status == "overdue" or loan.days_overdue > 0) and not overdue_allowed():
        raise BusinessError(f"该贷款已逾期 {loan.days_overdue} 天,按参数「逾期贷款可申请展期」不能申请展期")
    if new_maturity is None:
        raise BusinessError("请填写新到期日")
    text = (reason or "").strip()
    if not text:
        raise BusinessError("请填写展期原因")
    if len(text) > 1000:
        raise BusinessError("展期原因不能超过1000字")
    preview_extension(loan, new_maturity, as_of)  # the engine's own rules (limit, later date)
    return text


def apply(loan_id: int, actor, *, new_maturity: date, reason: str, as_of: date | None = None) -> ExtensionApplication:
    """Submit a 展期申请 to 展期风控审查."""
    loan = db.session.get(Loan, loan_id)
    text = check(loan, new_maturity, reason, as_of)
    if open_application(loan.id) is not None:
        raise BusinessError(ONE_OPEN)
    item = ExtensionApplication(loan_id=loan.id, old_maturity_date=loan.maturity_date,
                                new_maturity_date=new_maturity, reason=text)
    try:
        with db.session.begin_nested():
            approvals.submit(WORKFLOW, item, actor)
    except IntegrityError:
        raise BusinessError(ONE_OPEN) from None
    return item


# ---- hooks of services.approvals ---------------------------------------------------------
def _loan(item: ExtensionApplication) -> Loan:
    # By key, not through item.loan: an item expired by the approval's conditional update
    # reloads its relationship with whatever options it was first loaded with.
    return db.session.get(Loan, item.loan_id)


def clean_amendments(item: ExtensionApplication, amendments: dict) -> dict:
    unknown = set(amendments) - {"new_maturity_date", "reason"}
    if unknown:
        raise BusinessError("不能修改这些内容:" + "、".join(sorted(unknown)))
    loan = _loan(item)
    new_maturity = amendments.get("new_maturity_date", item.new_maturity_date)
    text = check(loan, new_maturity, amendments.get("reason", item.reason))
    return {"new_maturity_date": new_maturity, "reason": text, "old_maturity_date": loan.maturity_date}


def check_final(item: ExtensionApplication) -> None:
    loan = _loan(item)
    if loan.maturity_date != item.old_maturity_date:
        raise BusinessError("贷款到期日已变化,请驳回后由客户经理重新申请")
    check(loan, item.new_maturity_date, item.reason)


def on_approved(item: ExtensionApplication, actor) -> None:
    from services.loans import extend_loan

    extension = extend_loan(_loan(item), item.new_maturity_date, item.reason, actor)
    item.extension_id = extension.id
