"""The audit log, written from one place: a session hook records every insert, update and
delete of the audited models with before/after values and the acting user. Services and
screens need not remember to log; bulk SQL of the daily job is recorded in job_run."""
import json
from datetime import date, datetime
from decimal import Decimal

from flask import has_request_context
from sqlalchemy import event, inspect, insert
from sqlalchemy.orm import Session

from models.audit import AuditLog
from models.clock import utc_now
from models.privacy import mask_record

# Money changes are audited as their ledger entries (LoanEntry); installments are the
# schedule the ledger replays to (their changes follow from the entries).
AUDITED = {
    "Loan", "LoanEntry", "Repayment", "RateChange", "Extension", "Guarantor", "Collateral",
    "Customer", "BankCard", "CreditLine", "LoanProduct", "Inspection", "Interview",
    "ClassificationChange", "WriteOff", "ApprovalStep", "Collection", "Receipt", "User", "Setting",
}
SECRET_FIELDS = {"password_hash"}


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _columns(obj) -> list[str]:
    return [c.key for c in inspect(obj).mapper.column_attrs if c.key not in SECRET_FIELDS]


def _changes(obj) -> tuple[dict, dict]:
    state = inspect(obj)
    before, after = {}, {}
    for key in _columns(obj):
        hist = state.attrs[key].history
        if hist.has_changes():
            before[key] = _plain(hist.deleted[0]) if hist.deleted else None
            after[key] = _plain(hist.added[0]) if hist.added else None
    return before, after


def _snapshot(obj) -> dict:
    return {key: _plain(getattr(obj, key)) for key in _columns(obj)}


def current_actor() -> tuple[int | None, str]:
    if has_request_context():
        from flask_login import current_user

        if getattr(current_user, "is_authenticated", False):
            return current_user.id, current_user.username
    return None, "system"


def _row(obj, action, before, after):
    """One audit row; identifiers in before/after are stored masked (models.privacy)."""
    user_id, username = current_actor()
    name = type(obj).__name__
    before, after = mask_record(obj.__tablename__, before), mask_record(obj.__tablename__, after)
    loan_id = obj.id if name == "Loan" else getattr(obj, "loan_id", None)
    state = inspect(obj)
    # New rows have no identity key yet inside after_flush: read the assigned primary key.
    pk = state.identity or state.mapper.primary_key_from_instance(obj)
    return {
        "at": utc_now(),
        "user_id": user_id,
        "username": username,
        "action": action,
        "table_name": type(obj).__tablename__,
        "record_id": ",".join(str(p) for p in pk) if pk else None,
        "loan_id": loan_id,
        "before": json.dumps(before, ensure_ascii=False) if before else None,
        "after": json.dumps(after, ensure_ascii=False) if after else None,
        "summary": f"{action} {name}",
    }


def _before_flush(session: Session, flush_context, instances):
    # Values before the flush are gone afterwards: collect dirty/deleted changes now. Start
    # afresh: a flush that failed (e.g. a unique-number retry) must not leave stale entries.
    pending = session.info["audit_pending"] = []
    for obj in session.dirty:
        if type(obj).__name__ in AUDITED and session.is_modified(obj, include_collections=False):
            before, after = _changes(obj)
            if after:
                pending.append((obj, "update", before, after))
    for obj in session.deleted:
        if type(obj).__name__ in AUDITED:
            pending.append((obj, "delete", _snapshot(obj), None))
    session.info["audit_new"] = [o for o in session.new if type(o).__name__ in AUDITED]


def _after_flush(session: Session, flush_context):
    rows = [_row(o, a, b, af) for o, a, b, af in session.info.pop("audit_pending", [])]
    rows += [_row(o, "create", None, _snapshot(o)) for o in session.info.pop("audit_new", [])]
    if rows:
        session.connection().execute(insert(AuditLog), rows)


def log_action(session: Session, obj, action: str, summary: str, after: dict | None = None):
    """Record a business action (an approval step, a job run) that is not a plain edit."""
    row = _row(obj, action, None, after)
    row["summary"] = summary[:256]
    session.connection().execute(insert(AuditLog), [row])


def install(session_factory) -> None:
    event.listen(session_factory, "before_flush", _before_flush)
    event.listen(session_factory, "after_flush", _after_flush)
