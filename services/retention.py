"""Retention of personal data (个人信息保存期限): a customer whose every loan was settled or
written off more than the retention period ago (parameter privacy.retention_years, default
5, the anti-money-laundering record rule) and who has no open loan, collection or
litigation is anonymised: names kept as 「张*」, identifiers replaced by a keyed hash (a
returning customer's number hashes the same), addresses cut to the district, uploaded
files removed. Money, statuses, dates and counts are not touched.

Set-based: the customers are chosen by one SELECT, related rows (loans, warnings) are
rewritten by one UPDATE each, rows needing a hash by one executemany per table."""
from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field
from datetime import date
from typing import Callable

from sqlalchemy import and_, bindparam, exists, func, or_, select, update
from sqlalchemy.engine import Connection

from models import BankCard, Collection, Customer, Guarantor, Inspection, Loan, Receipt, Warning, WriteOff
from models.enums import OPEN_LOAN_STATUSES
from models.privacy import MASKS

HASH_MARK = "#"  # an anonymised identifier starts with this; no valid number does


def retention_key() -> bytes:
    """The key of the identifier hashes: ANONYMISE_KEY, else the app's SECRET_KEY."""
    from flask import current_app, has_app_context

    if not has_app_context():
        raise RuntimeError("anonymisation needs the app's configuration (its hash key)")
    config = current_app.config
    return str(config.get("ANONYMISE_KEY") or config["SECRET_KEY"]).encode()


def upload_folder() -> str | None:
    from flask import current_app, has_app_context

    return current_app.config.get("UPLOAD_FOLDER") if has_app_context() else None


def cutoff_date(as_of: date, years: int) -> date:
    """Loans closed on or before this day are past retention on `as_of`."""
    try:
        return as_of.replace(year=as_of.year - years)
    except ValueError:  # 29 February
        return as_of.replace(year=as_of.year - years, day=28)


def eligible_customers(as_of: date, years: int):
    """SELECT of the ids of customers due for anonymisation on `as_of`."""
    cutoff = cutoff_date(as_of, years)
    closed_on = func.coalesce(Loan.settled_date, Loan.written_off_date)
    mine = Loan.customer_id == Customer.id
    not_yet = exists().where(mine, or_(Loan.status.in_(OPEN_LOAN_STATUSES), closed_on.is_(None), closed_on > cutoff))
    # An open collection record (诉讼 included) keeps the customer's data.
    open_collection = exists().where(Collection.loan_id == Loan.id, mine, Collection.status != "done")
    return (select(Customer.id)
            .where(Customer.anonymised_on.is_(None), exists().where(mine), ~not_yet, ~open_collection))


@dataclass
class RetentionReport:
    as_of: date
    years: int
    customers: list[dict] = field(default_factory=list)  # dry run: who, closed when
    counts: dict[str, int] = field(default_factory=dict)  # rows rewritten per table
    files: list[str] = field(default_factory=list)  # stored names to delete after commit

    def describe(self) -> str:
        if not self.counts:
            return f"个人信息保留期({self.years} 年)到期客户 {len(self.customers):,} 名(试运行,未修改数据)。"
        parts = "、".join(f"{label} {self.counts.get(k, 0):,}" for k, label in COUNT_LABELS.items())
        return f"个人信息匿名化完成(保留期 {self.years} 年):{parts}。"


COUNT_LABELS = {"customers": "客户", "loans": "贷款", "bank_cards": "银行卡", "guarantors": "担保人",
                "warnings": "预警", "files": "删除文件"}


def dry_run(conn: Connection, as_of: date, years: int) -> RetentionReport:
    """Who would be anonymised on `as_of`, with the day their last loan closed."""
    ids = eligible_customers(as_of, years).subquery()
    closed_on = func.max(func.coalesce(Loan.settled_date, Loan.written_off_date))
    rows = conn.execute(
        select(Customer.id, Customer.name, Customer.kind, closed_on.label("closed_on"), func.count(Loan.id))
        .join(Loan, Loan.customer_id == Customer.id).where(Customer.id.in_(select(ids.c.id)))
        .group_by(Customer.id, Customer.name, Customer.kind).order_by(Customer.id)).all()
    return RetentionReport(as_of, years, [
        {"id": r[0], "name": anonymous_name(r[1]), "kind": r[2], "closed_on": r[3], "loans": r[4]} for r in rows])


def anonymous_name(name: str | None) -> str:
    """「张*」: the first character, one star."""
    return (name or "")[:1] + "*"


def keyed_hash(key: bytes, value: str | None, length: int) -> str:
    digest = hmac.new(key, (value or "").encode(), hashlib.sha256).hexdigest()
    return HASH_MARK + digest[:length - 1]


def district(address: str | None) -> str | None:
    if not address:
        return None
    kept = MASKS["address"].apply(address)[:-4]  # the district prefix, without the fill
    return kept or None


def anonymise(conn: Connection, as_of: date, years: int, key: Callable[[], bytes]) -> RetentionReport:
    """Anonymise every eligible customer in the caller's transaction. `key` gives the hash
    key (asked only when someone is due). The files to delete are in report.files:
    remove_files() them after the commit."""
    report = RetentionReport(as_of, years)
    ids = [r[0] for r in conn.execute(eligible_customers(as_of, years))]
    counts = report.counts = {k: 0 for k in COUNT_LABELS}
    if not ids:
        return report
    key = key()
    for chunk in (ids[i:i + 5000] for i in range(0, len(ids), 5000)):
        _anonymise_chunk(conn, chunk, as_of, key, report.files, counts)
    counts["files"] = len(report.files)
    return report


def _rewrite(conn, table, rows: list[dict]) -> int:
    """One executemany UPDATE of `rows` ({"_id": pk, column: value, ...}) by primary key."""
    if not rows:
        return 0
    columns = [c for c in rows[0] if c != "_id"]
    conn.execute(update(table).where(table.c.id == bindparam("_id"))
                 .values({c: bindparam(c) for c in columns}), rows)
    return len(rows)


def _anonymise_chunk(conn, ids, as_of, key, files, counts) -> None:
    c = Customer.__table__
    customers = conn.execute(select(c.c.id, c.c.name, c.c.id_number, c.c.phone, c.c.contact_person, c.c.address)
                             .where(c.c.id.in_(ids))).all()
    counts["customers"] += _rewrite(conn, c, [
        {"_id": r.id, "name": anonymous_name(r.name), "id_number": keyed_hash(key, r.id_number, 32),
         "phone": keyed_hash(key, r.phone, 20),
         "contact_person": anonymous_name(r.contact_person) if r.contact_person else None,
         "address": district(r.address), "anonymised_on": as_of} for r in customers])
    loan_ids = select(Loan.id).where(Loan.customer_id.in_(ids))
    name_of_customer = select(Customer.name).where(Customer.id == Loan.customer_id).scalar_subquery()
    counts["loans"] += conn.execute(update(Loan).where(Loan.customer_id.in_(ids))
                                    .values(customer_name=name_of_customer)).rowcount
    w = Warning.__table__
    by_customer = select(Customer.name).where(Customer.id == w.c.customer_id).scalar_subquery()
    by_loan = select(Loan.customer_name).where(Loan.id == w.c.loan_id).scalar_subquery()
    counts["warnings"] += conn.execute(update(w).where(or_(w.c.loan_id.in_(loan_ids), w.c.customer_id.in_(ids)))
                                       .values(customer_name=func.coalesce(by_customer, by_loan, "*"), phone=None,
                                               contact_person=None)).rowcount
    b = BankCard.__table__
    cards = conn.execute(select(b.c.id, b.c.account_name, b.c.card_number).where(b.c.customer_id.in_(ids))).all()
    counts["bank_cards"] += _rewrite(conn, b, [
        {"_id": r.id, "account_name": anonymous_name(r.account_name), "card_number": keyed_hash(key, r.card_number, 32)}
        for r in cards])
    g = Guarantor.__table__
    guarantors = conn.execute(select(g.c.id, g.c.name, g.c.id_number, g.c.phone).where(g.c.loan_id.in_(loan_ids))).all()
    counts["guarantors"] += _rewrite(conn, g, [
        {"_id": r.id, "name": anonymous_name(r.name), "id_number": keyed_hash(key, r.id_number, 32),
         "phone": keyed_hash(key, r.phone, 20)} for r in guarantors])
    files += _detach_files(conn, loan_ids)


def _detach_files(conn, loan_ids) -> list[str]:
    """Uploaded receipts, inspection attachments and write-off evidence of the loans: the
    rows let go of their files (a receipt keeps its size and checksum and reads 「已删除」);
    the files themselves are removed once the transaction is committed (remove_files)."""
    names = []
    r = Receipt.__table__
    receipts = conn.execute(select(r.c.id, r.c.stored_name).where(
        r.c.collection_id.in_(select(Collection.id).where(Collection.loan_id.in_(loan_ids))),
        ~r.c.stored_name.startswith("removed-"))).all()
    names += [row.stored_name for row in receipts]
    _rewrite(conn, r, [{"_id": row.id, "stored_name": f"removed-{row.id}", "original_name": "已删除"}
                       for row in receipts])
    for model, path, name in ((Inspection, "attachment_path", "attachment_name"),
                              (WriteOff, "evidence_path", "evidence_name")):
        t = model.__table__
        where = and_(t.c.loan_id.in_(loan_ids), t.c[path].isnot(None))
        names += [row[0] for row in conn.execute(select(t.c[path]).where(where))]
        conn.execute(update(t).where(where).values({path: None, name: None}))
    return names


def remove_files(names: list[str], upload_folder: str | None) -> int:
    removed = 0
    for stored in names:
        file_path = os.path.join(upload_folder, os.path.basename(stored)) if upload_folder else None
        if file_path and os.path.isfile(file_path):
            os.remove(file_path)
            removed += 1
    return removed
