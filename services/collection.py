"""Collection (催收) commands: record a contact, follow it up, attach its receipt, and the
queries the 催收管理 screens list.

Rules (SPEC §4 "Collection"): every record gets a unique 催收编号; phone and visit contacts
only within the allowed hours (settings collection.start / collection.end); the target is
the borrower, one of this loan's guarantors, or the borrowing company; records made by
上门 / 信函 / 律师函 need a receipt and wait on the 待上传…回执 screens until one is stored."""
from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError

from admin_app.audit import log_action
from admin_app import clock
from admin_app.extensions import db
from admin_app.settings import get_time
from models import Collection, Guarantor, Loan, Receipt
from models.enums import (COLLECTION_METHODS, COLLECTION_STATUSES, COLLECTION_TARGETS,
                          RECEIPT_METHODS, TIMED_METHODS)
from services import BusinessError
from services.uploads import discard, store_upload

NUMBER_PREFIX = "CS"
NUMBER_RETRIES = 8
CENT = Decimal("0.01")
# Targets of each waiting list (待上传借款人回执 / 待上传担保人或公司回执).
RECEIPT_LISTS = {"borrower": ("borrower",), "guarantor": ("guarantor", "company")}
MAX_TEXT = 4000


# ---- numbering ---------------------------------------------------------------------------
def number_prefix(day: date) -> str:
    return f"{NUMBER_PREFIX}{day:%Y%m%d}"


def next_number(day: date) -> str:
    """The next 催收编号 of `day`: CS + yyyymmdd + a 6-digit sequence. Read from the unique
    index (max of the day's range); a concurrent writer taking the same number makes the
    insert fail on the unique constraint and the caller retries."""
    prefix = number_prefix(day)
    last = db.session.execute(
        select(func.max(Collection.collection_no))
        .where(Collection.collection_no >= prefix, Collection.collection_no < prefix + "A")
    ).scalar()
    seq = int(last[len(prefix):]) + 1 if last else 1
    if seq > 999999:
        raise BusinessError("当日催收编号已用完")
    return f"{prefix}{seq:06d}"


def _insert_numbered(record: Collection, day: date) -> Collection:
    for _ in range(NUMBER_RETRIES):
        record.collection_no = next_number(day)
        try:
            with db.session.begin_nested():
                db.session.add(record)
                db.session.flush()
            return record
        except IntegrityError:
            # Someone took this number between our read and our insert: read again (the
            # savepoint rollback has already taken the pending record out of the session).
            continue
    raise BusinessError("催收编号生成冲突,请稍后重试")


# ---- validation --------------------------------------------------------------------------
def allowed_hours() -> tuple:
    return get_time("collection.start"), get_time("collection.end")


def check_contact_time(method: str, contacted_at: datetime) -> None:
    """Phone and visit contacts only within the allowed hours (collection conduct rules)."""
    if method not in TIMED_METHODS:
        return
    start, end = allowed_hours()
    moment = contacted_at.time().replace(microsecond=0)
    if not start <= moment <= end:
        raise BusinessError(
            f"根据催收行为规范,电话和上门催收只允许在{start:%H:%M}–{end:%H:%M}之间进行,"
            f"{contacted_at:%H:%M} 不在允许时间内")


def target_options(loan: Loan, guarantors: list[Guarantor] | None = None) -> list[tuple[str, str]]:
    """Who may be contacted about `loan`: (value, label) for the 催收 form's target choice.
    A value is "borrower", "company" or "guarantor:<id>"."""
    customer = loan.customer
    options = []
    if customer.kind == "company":
        options.append(("company", f"企业:{loan.customer_name}"))
    else:
        options.append(("borrower", f"借款人:{loan.customer_name}"))
    if guarantors is None:
        guarantors = guarantors_of(loan.id)
    options += [(f"guarantor:{g.id}", f"担保人:{g.name}") for g in guarantors]
    return options


def parse_target(value: str) -> tuple[str, int | None]:
    """"guarantor:12" -> ("guarantor", 12); "borrower" -> ("borrower", None)."""
    kind, _, ident = (value or "").partition(":")
    if kind == "guarantor":
        try:
            return kind, int(ident)
        except ValueError:
            raise BusinessError("催收对象无效") from None
    return kind, None


def check_target(loan: Loan, target: str, guarantor: Guarantor | None) -> None:
    if target not in COLLECTION_TARGETS:
        raise BusinessError("催收对象无效:只能是借款人、本笔贷款的担保人或借款企业")
    if target == "guarantor":
        if guarantor is None:
            raise BusinessError("请选择要催收的担保人")
        if guarantor.loan_id != loan.id:
            raise BusinessError("只能催收本笔贷款的担保人")
        return
    if guarantor is not None:
        raise BusinessError("催收对象为借款人或企业时不能指定担保人")
    if target == "company" and loan.customer.kind != "company":
        raise BusinessError("借款人不是企业,不能以企业为催收对象")


def _text(value, label: str, required: bool = False) -> str | None:
    text = (value or "").strip()
    if required and not text:
        raise BusinessError(f"请填写{label}")
    if len(text) > MAX_TEXT:
        raise BusinessError(f"{label}不能超过{MAX_TEXT}字")
    return text or None


def _money(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise BusinessError("承诺还款金额格式不正确") from None
    if not amount.is_finite() or amount < 0:
        raise BusinessError("承诺还款金额不能为负数")
    if amount >= Decimal("1e16"):
        raise BusinessError("承诺还款金额过大")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


# ---- commands ----------------------------------------------------------------------------
def record_collection(loan: Loan, *, target: str, guarantor: Guarantor | None = None, method: str,
                      contacted_at: datetime, content: str, result: str | None = None,
                      promised_date: date | None = None, promised_amount=None,
                      next_follow_up: date | None = None, collector=None,
                      now: datetime | None = None) -> Collection:
    """催收: record one contact about `loan`. Raises BusinessError when a rule refuses it.
    `contacted_at` and `now` are wall times in the display zone (what the collector typed);
    the record stores contacted_at as UTC (admin_app.clock)."""
    now = now or clock.local_now()
    if loan is None:
        raise BusinessError("贷款不存在")
    if loan.status == "settled":
        raise BusinessError("贷款已结清,无需催收")
    if method not in COLLECTION_METHODS:
        raise BusinessError("催收方式无效")
    if contacted_at is None:
        raise BusinessError("请填写催收时间")
    if contacted_at > now:
        raise BusinessError("催收时间不能晚于当前时间")
    check_target(loan, target, guarantor)
    check_contact_time(method, contacted_at)
    content = _text(content, "催收内容", required=True)
    result = _text(result, "催收结果")
    amount = _money(promised_amount)
    if promised_date is not None and promised_date < contacted_at.date():
        raise BusinessError("承诺还款日期不能早于催收日期")
    if amount is not None and amount > 0 and promised_date is None:
        raise BusinessError("填写了承诺还款金额时请同时填写承诺还款日期")
    if next_follow_up is not None and next_follow_up < contacted_at.date():
        raise BusinessError("下次跟进日期不能早于催收日期")
    record = Collection(
        loan_id=loan.id, target=target, guarantor_id=guarantor.id if guarantor else None,
        method=method, contacted_at=clock.stored(contacted_at.replace(microsecond=0)), content=content,
        result=result, promised_date=promised_date, promised_amount=amount,
        next_follow_up=next_follow_up, status="following",
        needs_receipt=method in RECEIPT_METHODS, has_receipt=False,
        collector_id=collector.id if collector is not None else None)
    return _insert_numbered(record, contacted_at.date())


def follow_up(collection: Collection, status: str, next_follow_up: date | None, note: str,
              actor, today: date | None = None) -> Collection:
    """跟进: update the status and next follow-up date; the note is appended to the result
    with its date and author (the audit log keeps the before/after values too)."""
    today = today or clock.business_date()
    if status not in COLLECTION_STATUSES:
        raise BusinessError("跟进状态无效")
    note = _text(note, "跟进说明", required=True)
    if status == "following":
        if next_follow_up is None:
            raise BusinessError("继续跟进时请填写下次跟进日期")
        if next_follow_up < today:
            raise BusinessError("下次跟进日期不能早于今天")
    else:
        next_follow_up = None
    author = str(actor) if actor is not None else "系统"
    line = f"[{today:%Y-%m-%d} {author} {COLLECTION_STATUSES[status]}] {note}"
    combined = f"{collection.result}\n{line}" if collection.result else line
    if len(combined) > 4 * MAX_TEXT:
        raise BusinessError("跟进记录过长,请精简说明")
    collection.result = combined
    collection.status = status
    collection.next_follow_up = next_follow_up
    db.session.flush()
    return collection


def attach_receipt(collection: Collection, file_storage, actor) -> Receipt:
    """上传回执: store the file (checked by content) and mark the record as having its
    receipt, so it leaves the waiting list. Only one receipt per waiting record: two uploads
    at the same moment cannot both pass (guarded update)."""
    if not collection.needs_receipt:
        raise BusinessError("该催收方式无需上传回执")
    if collection.has_receipt:
        raise BusinessError("该催收记录已上传回执")
    stored = store_upload(file_storage)
    try:
        with db.session.begin_nested():
            taken = db.session.execute(
                update(Collection)
                .where(Collection.id == collection.id, Collection.has_receipt.is_(False))
                .values(has_receipt=True)
                .execution_options(synchronize_session=False)).rowcount
            if taken != 1:
                raise BusinessError("该催收记录已上传回执")
            receipt = Receipt(collection_id=collection.id, stored_name=stored.stored_name,
                              original_name=stored.original_name, content_type=stored.content_type,
                              size=stored.size, sha256=stored.sha256,
                              uploaded_by_id=actor.id if actor is not None else None)
            db.session.add(receipt)
            db.session.flush()
            log_action(db.session, collection, "receipt",
                       f"上传催收回执 {collection.collection_no}:{stored.original_name}",
                       after={"has_receipt": True, "receipt_id": receipt.id, "sha256": stored.sha256})
    except BaseException:
        discard(stored.stored_name)
        raise
    db.session.refresh(collection)
    return receipt


# ---- queries -----------------------------------------------------------------------------
def guarantors_of(loan_id: int) -> list[Guarantor]:
    return list(db.session.execute(select(Guarantor).where(Guarantor.loan_id == loan_id)
                                   .order_by(Guarantor.id)).unique().scalars())


# 账销案存: a written-off claim stays collectible and in the collection lists.
COLLECTIBLE_STATUSES = ("overdue", "written_off")


def overdue_loan_filters() -> list:
    """还款催收 / 担保人催收: loans in status 逾期, and written-off claims (已核销)."""
    return [Loan.status.in_(COLLECTIBLE_STATUSES)]


def has_guarantor_clause():
    return exists().where(Guarantor.loan_id == Loan.id)


def waiting_receipt_filters(kind: str) -> list:
    """The 待上传回执 lists: records that need a receipt and have none, by target group."""
    return [Collection.needs_receipt.is_(True), Collection.has_receipt.is_(False),
            Collection.target.in_(RECEIPT_LISTS[kind])]


def waiting_receipts(kind: str) -> list[Collection]:
    return list(db.session.execute(select(Collection).where(*waiting_receipt_filters(kind))
                                   .order_by(Collection.id.desc())).unique().scalars())


def collections_of(loan_id: int, guarantor_id: int | None = None) -> list[Collection]:
    """催收历史记录 of a loan (or of one guarantor of it), newest first."""
    query = select(Collection).where(Collection.loan_id == loan_id)
    if guarantor_id is not None:
        query = query.where(Collection.guarantor_id == guarantor_id)
    return list(db.session.execute(query.order_by(Collection.contacted_at.desc(), Collection.id.desc()))
                .unique().scalars())


def receipts_by_collection(collection_ids: list[int]) -> dict[int, list[Receipt]]:
    out: dict[int, list[Receipt]] = {}
    if not collection_ids:
        return out
    rows = db.session.execute(select(Receipt).where(Receipt.collection_id.in_(collection_ids))
                              .order_by(Receipt.id)).unique().scalars()
    for r in rows:
        out.setdefault(r.collection_id, []).append(r)
    return out


def amount_owed(loan: Loan) -> Decimal:
    """What is overdue now: overdue principal + interest + penalty interest."""
    return ((loan.overdue_principal or Decimal(0)) + (loan.overdue_interest or Decimal(0))
            + (loan.penalty_interest or Decimal(0))).quantize(CENT, rounding=ROUND_HALF_UP)
