"""Personal information as the screens show it: masked by default (models.privacy declares
each column's kind), shown in full only after a recorded reveal with a reason, and only to
the roles and records the reveal rule admits.

- shown(obj, field): the value a page shows (full while the user's reveal of that field of
  that record is fresh, else masked);
- pii_cell(obj, field): the same plus a 查看完整信息 link for users who may reveal it
  (templates call it as `pii(obj, 'phone')`);
- may_reveal(user, obj): admins; 客户经理 for their own customers and loans; 催收专员 for
  loans in collection (overdue or written off), never settled ones; the roles are a parameter;
- record_access(...): one row of the append-only 敏感信息查看记录."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import cache

from flask import request, session, url_for
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import event, exists, insert, or_, select
from sqlalchemy.orm import ColumnProperty, RelationshipProperty, Session

from admin_app.extensions import db
from models.privacy import (APPEND_ONLY_MESSAGE, MASKS, PiiAccess, column_kind, declared_fields,
                            mask_value)

# Loans a collector works on: overdue, or written off and still collected (账销案存).
COLLECTION_LOAN_STATUSES = ("overdue", "written_off")
REVEAL_SECONDS = 15 * 60  # a reveal shows the full value on every page for this long
REVEAL_SESSION_KEY = "pii_revealed"
REVEAL_KEEP = 50  # the newest reveals kept in the session


def masks(kind: str | None) -> bool:
    return MASKS.get(kind) is not None if kind else False


def _key(obj, field: str) -> str:
    return f"{obj.__tablename__}:{obj.id}:{field}"


# ---- reveal state ------------------------------------------------------------------------
def is_revealed(obj, field: str) -> bool:
    expiry = (session.get(REVEAL_SESSION_KEY) or {}).get(_key(obj, field))
    return bool(expiry and expiry > time.time())


def remember_reveal(obj, field: str) -> None:
    now = time.time()
    fresh = {k: v for k, v in (session.get(REVEAL_SESSION_KEY) or {}).items() if v > now}
    fresh[_key(obj, field)] = now + REVEAL_SECONDS
    session[REVEAL_SESSION_KEY] = dict(sorted(fresh.items(), key=lambda kv: kv[1])[-REVEAL_KEEP:])


def shown(obj, field: str, kind: str | None = None):
    """What a page shows of obj.field: the full value while revealed, else the mask."""
    value = getattr(obj, field, None)
    kind = kind or declared_fields(type(obj)).get(field)
    if not masks(kind) or not value or is_revealed(obj, field):
        return value
    return mask_value(kind, value)


def pii_cell(obj, field: str) -> Markup:
    """shown() with a 查看完整信息 link when it is masked and the user may reveal it."""
    if obj is None:
        return Markup("")
    value = getattr(obj, field, None)
    text = shown(obj, field)
    if text == value or not current_user.is_authenticated or not may_reveal(current_user, obj):
        return escape(text if text is not None else "")
    link = url_for("pii_reveal.reveal", table=obj.__tablename__, record_id=obj.id, field=field,
                   url=request.full_path)
    return Markup(f'<span class="pii-masked">{escape(text)}</span> '
                  f'<a class="pii-reveal small" href="{escape(link)}">查看完整信息</a>')


# ---- who may reveal ------------------------------------------------------------------------
def _subject(obj) -> tuple[int | None, int | None]:
    """(loan id, customer id) the record belongs to."""
    if obj.__tablename__ == "customer":
        return None, obj.id
    if obj.__tablename__ == "loan":
        return obj.id, None
    loan_id = getattr(obj, "loan_id", None)
    return (loan_id, None) if loan_id else (None, getattr(obj, "customer_id", None))


def _loans(loan_id, customer_id):
    from models import Loan

    return Loan.id == loan_id if loan_id else Loan.customer_id == customer_id


def _officer_owns(user, loan_id, customer_id) -> bool:
    from models import Customer, Loan

    own_loan = exists().where(_loans(loan_id, customer_id), Loan.officer_id == user.id)
    if customer_id is None:
        return bool(db.session.execute(select(own_loan)).scalar())
    own_customer = exists().where(Customer.id == customer_id, Customer.officer_id == user.id)
    return bool(db.session.execute(select(or_(own_customer, own_loan))).scalar())


def _in_collection(loan_id, customer_id) -> bool:
    from models import Loan

    return bool(db.session.execute(select(exists().where(
        _loans(loan_id, customer_id), Loan.status.in_(COLLECTION_LOAN_STATUSES)))).scalar())


def reveal_roles() -> frozenset:
    from admin_app.settings import get_roles

    return get_roles("privacy.reveal_roles")


def may_reveal(user, obj) -> bool:
    if obj is None or not getattr(user, "is_authenticated", False):
        return False
    roles = reveal_roles() & user.roles
    if not roles:
        return False
    from admin_app.screens import request_cache

    answers = request_cache().setdefault("pii_may_reveal", {})
    key = (obj.__tablename__, obj.id)
    if key not in answers:
        answers[key] = _may_reveal(user, roles, obj)
    return answers[key]


def _may_reveal(user, roles, obj) -> bool:
    loan_id, customer_id = _subject(obj)
    if roles - {"officer", "collector"}:
        return True  # admins, and any other role the parameter names: every record
    if loan_id is None and customer_id is None:
        return False
    if "officer" in roles and _officer_owns(user, loan_id, customer_id):
        return True
    return "collector" in roles and _in_collection(loan_id, customer_id)


# ---- records a view can reveal ---------------------------------------------------------------
@cache
def revealable_models() -> dict:
    """{table name: mapped class} of every model with a masked column."""
    return {m.class_.__tablename__: m.class_ for m in db.Model.registry.mappers
            if any(masks(k) for k in declared_fields(m.class_).values())}


@dataclass(frozen=True)
class PathColumn:
    """A screen column ("phone", "customer.phone") that ends on a personal column."""

    path: tuple[str, ...]  # relationships to follow from the row
    field: str
    kind: str

    def owner(self, row):
        for part in self.path:
            row = getattr(row, part, None)
            if row is None:
                return None
        return row


def path_column(model, name, masked_only: bool = True) -> PathColumn | None:
    """The PathColumn of a screen's column name when it ends on a masked column (or on
    any personal column, masked_only=False)."""
    if not isinstance(name, str):
        return None
    entity, parts = model, name.split(".")
    for depth, part in enumerate(parts):
        prop = getattr(getattr(entity, part, None), "property", None)
        if isinstance(prop, RelationshipProperty) and not prop.uselist and depth < len(parts) - 1:
            entity = prop.mapper.class_
        elif isinstance(prop, ColumnProperty) and depth == len(parts) - 1:
            kind = column_kind(prop)
            keep = masks(kind) if masked_only else kind is not None
            return PathColumn(tuple(parts[:-1]), part, kind) if keep else None
        else:
            return None
    return None


# ---- the access record -------------------------------------------------------------------
def client_address() -> str | None:
    return request.remote_addr


def record_access(action: str, table_name: str, reason: str, reason_text: str | None = None,
                  record_id=None, field: str | None = None, row_count: int | None = None,
                  filters: dict | None = None, file_name: str | None = None) -> None:
    """One row of 敏感信息查看记录, written in the caller's transaction."""
    db.session.execute(insert(PiiAccess), [{
        "user_id": current_user.id, "username": current_user.username, "action": action,
        "table_name": table_name, "record_id": None if record_id is None else str(record_id),
        "field": field, "reason": reason, "reason_text": (reason_text or None) and reason_text[:256],
        "client_ip": client_address(), "row_count": row_count,
        "filters": json.dumps(filters, ensure_ascii=False) if filters else None,
        "file_name": file_name,
    }])


class AppendOnlyError(RuntimeError):
    pass


def _refuse_changes(session: Session, flush_context, instances):
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, PiiAccess) and (obj in session.deleted or session.is_modified(obj)):
            raise AppendOnlyError(APPEND_ONLY_MESSAGE)


def install(session_factory) -> None:
    """The session half of the append-only guard (the database triggers are the other)."""
    event.listen(session_factory, "before_flush", _refuse_changes)


# ---- edit forms ------------------------------------------------------------------------------
def mask_form(form, obj, posted: bool) -> None:
    """Personal fields of an edit form show the mask, as every page does. A posted mask (the
    field left as shown) stands for the stored value; a typed value replaces it. Inline
    sub-forms (a customer's bank cards) are handled the same, each with its own record."""
    from wtforms.fields import FieldList, FormField

    for field in form:
        if isinstance(field, FieldList):
            for entry in field.entries:
                sub_obj = getattr(entry, "object_data", None)
                if isinstance(entry, FormField) and sub_obj is not None and hasattr(sub_obj, "__tablename__"):
                    mask_form(entry.form, sub_obj, posted)
            continue
        kind = declared_fields(type(obj)).get(field.short_name) if obj is not None else None
        stored = getattr(obj, field.short_name, None) if kind else None
        if not masks(kind) or not stored or is_revealed(obj, field.short_name):
            continue
        masked = mask_value(kind, stored)
        if posted and field.data == masked:
            field.data = stored
        elif not posted and field.data == stored:
            field.data = masked
