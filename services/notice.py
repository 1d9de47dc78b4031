"""催收通知书: a printed collection notice to the borrower (or the borrowing company) or to a
guarantor. Printing records a collection by 信函 (letter), so the notice's signed 回执 is
waited for on the 待上传…回执 lists; the notice and its tear-off 回执 carry that record's
催收编号. The amounts are the loan's position as of the print date (services.loans)."""
from __future__ import annotations

from datetime import date, datetime

from admin_app import clock
from admin_app.extensions import db
from models import Collection, Guarantor, Loan
from services import BusinessError
from services import collection as collection_service


def figures(loan: Loan, as_of: date) -> list[tuple[str, object]]:
    """The amounts owed on `as_of`, as (label, amount) lines for the notice."""
    from services.loans import amount_owed

    owed = amount_owed(loan, as_of)
    return [("逾期本金", owed["overdue_principal"]), ("逾期利息", owed["overdue_interest"]),
            ("罚息", owed["penalty"]), ("截至当日应还合计", owed["due_now"]),
            ("提前结清应还总额(含剩余本金)", owed["total"])]


def print_notice(loan: Loan, guarantor: Guarantor | None, actor, now: datetime | None = None) -> Collection:
    """Record the printing as a collection by 信函 (it then waits for its 回执)."""
    now = (now or clock.local_now()).replace(microsecond=0)
    if loan.status not in ("overdue", "written_off") and loan.days_overdue <= 0:
        raise BusinessError("该贷款没有逾期欠款,无需发送催收通知书")
    if guarantor is not None:
        target = "guarantor"
    else:
        target = "company" if loan.customer.kind == "company" else "borrower"
    owed = dict(figures(loan, now.date()))
    return collection_service.record_collection(
        loan, target=target, guarantor=guarantor, method="letter", contacted_at=now,
        content=f"打印并寄送催收通知书(截至 {now:%Y-%m-%d} 应还合计 {owed['截至当日应还合计']:,.2f} 元)",
        collector=actor, now=now)


def notice_collection(collection_id: int) -> Collection | None:
    """A printed notice's record (method 信函)."""
    return db.session.get(Collection, collection_id)
