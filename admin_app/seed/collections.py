"""Seed step `collections`: collection records of every method, status and target on overdue
loans, made through services.collection like staff make them. Some 上门/信函/律师函 records
wait for their receipts (on both 待上传 lists), others have a small generated PNG or PDF
receipt stored through the upload service.

Bounded whatever the book size (at most MAX_RECORDS records), loans picked with indexed
queries (status index, then guarantors by loan id)."""
from __future__ import annotations

import io
import random
import struct
import zlib
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import exists, select
from werkzeug.datastructures import FileStorage

from admin_app import clock
from admin_app.extensions import db
from models import Customer, Guarantor, Loan, User
from models.enums import COLLECTION_METHODS, OPEN_LOAN_STATUSES, RECEIPT_METHODS, TIMED_METHODS
from services import BusinessError
from services import collection as collection_service

MAX_RECORDS = 300
LOANS_PER_KIND = 40
CONTENT = {
    "phone": ("电话联系借款人,提醒逾期金额及罚息。", "电话催收,告知逾期对征信的影响。"),
    "sms": ("发送逾期还款提醒短信。", "短信告知逾期金额及还款账户。"),
    "visit": ("上门拜访,面谈还款安排。", "到经营场所上门催收,了解经营情况。"),
    "letter": ("寄送《逾期贷款催收通知书》。", "挂号信寄送催收函。"),
    "lawyer_letter": ("委托律师事务所发送律师函。", "律师函告知将依法起诉。"),
    "lawsuit": ("已向人民法院提起诉讼,等待立案。", "诉讼材料已提交,法院已受理。"),
}
RESULTS = ("客户承诺近期还款。", "无人接听,需再次联系。", "客户表示资金紧张,申请分期。",
           "已签收催收文件。", "客户已部分还款。", None)
FOLLOW_NOTES = ("再次联系,客户重申还款承诺。", "约定下周再次上门。", "客户已还清逾期款项,催收完成。",
                "已转入诉讼程序,本记录结案。")


def _png(width: int = 4, height: int = 4) -> bytes:
    """A valid small white PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + b"\xff\xff\xff" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _pdf(text: str) -> bytes:
    """A valid one-page PDF showing `text` (ASCII) with a correct cross-reference table."""
    stream = f"BT /F1 14 Tf 72 720 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _pick_loans() -> tuple[list[Loan], list[Loan], list[Loan]]:
    """(person loans, company loans, loans with guarantors), overdue ones; any open loans
    stand in for a kind the book has too few overdue loans of."""
    picked = []
    for where in ((Customer.kind == "person",), (Customer.kind == "company",),
                  (exists().where(Guarantor.loan_id == Loan.id),)):
        rows = []
        for statuses in (("overdue",), OPEN_LOAN_STATUSES):
            rows = _rows(select(Loan).join(Customer, Loan.customer_id == Customer.id)
                         .where(Loan.status.in_(statuses), *where).order_by(Loan.id).limit(LOANS_PER_KIND))
            if len(rows) >= 3:
                break
        picked.append(rows)
    return picked[0], picked[1], picked[2]


def _rows(query) -> list[Loan]:
    return list(db.session.execute(query).unique().scalars())


def _amount(loan: Loan, rng: random.Random) -> Decimal:
    owed = collection_service.amount_owed(loan) or Decimal("1000.00")
    share = Decimal(rng.choice((30, 50, 100))) / 100
    return (owed * share).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _contact_time(method: str, day: date, rng: random.Random) -> datetime:
    hour = rng.randint(8, 20) if method in TIMED_METHODS else rng.randint(7, 22)
    return datetime.combine(day, time(hour, rng.choice((0, 10, 20, 30, 40, 50))))


def run(loans: int = 0, seed: int = 42, as_of: date | None = None) -> dict:
    as_of = as_of or clock.business_date()
    rng = random.Random(seed * 7919 + 5)
    users = {u.username: u for u in db.session.execute(
        select(User).where(User.username.in_(("collector", "officer", "officer2")))).scalars()}
    staff = [users[k] for k in ("collector", "collector", "officer", "officer2") if k in users]
    people, companies, guaranteed = _pick_loans()
    guarantors: dict[int, list[Guarantor]] = {}
    if guaranteed:
        for g in db.session.execute(select(Guarantor).where(
                Guarantor.loan_id.in_([ln.id for ln in guaranteed])).order_by(Guarantor.id)).unique().scalars():
            guarantors.setdefault(g.loan_id, []).append(g)

    # Every method against every kind of target first, then a random mix up to the cap.
    plans: list[tuple[Loan, str, Guarantor | None, str]] = []
    pools = [("borrower", people), ("company", companies), ("guarantor", guaranteed)]
    for method in COLLECTION_METHODS:
        for target, pool in pools:
            if pool:
                plans.append(_plan(rng.choice(pool), target, method, guarantors, rng))
    everyone = [(t, ln) for t, pool in pools for ln in pool]
    while everyone and len(plans) < min(MAX_RECORDS, 6 * len(everyone)):
        target, loan = rng.choice(everyone)
        plans.append(_plan(loan, target, rng.choice(list(COLLECTION_METHODS)), guarantors, rng))

    made = receipts = done = 0
    now = datetime.combine(as_of, time(23, 59))
    for index, (loan, target, guarantor, method) in enumerate(plans):
        day = as_of - timedelta(days=rng.randint(1, 60))
        collector = staff[index % len(staff)] if staff else None
        if collector is not None and "officer" in collector.roles:
            # An officer collects on their own loans only (数据权限 本人).
            collector = next((u for u in users.values() if u.id == loan.officer_id), collector)
        promised = rng.random() < 0.4
        try:
            record = collection_service.record_collection(
                loan, target=target, guarantor=guarantor, method=method,
                contacted_at=_contact_time(method, day, rng), content=rng.choice(CONTENT[method]),
                result=rng.choice(RESULTS), promised_date=day + timedelta(days=rng.randint(3, 20)) if promised else None,
                promised_amount=_amount(loan, rng) if promised else None,
                next_follow_up=day + timedelta(days=rng.randint(2, 10)), collector=collector, now=now)
        except BusinessError:
            continue
        made += 1
        # Status: about a third are finished; some others were followed up once.
        fate = index % 6
        if fate in (0, 3):
            collection_service.follow_up(record, "done", None, rng.choice(FOLLOW_NOTES[2:]), collector,
                                         today=day + timedelta(days=rng.randint(1, 5)))
            done += 1
        elif fate == 1:
            later = day + timedelta(days=rng.randint(1, 5))
            collection_service.follow_up(record, "following", later + timedelta(days=7),
                                         rng.choice(FOLLOW_NOTES[:2]), collector, today=later)
        # Receipts: roughly half of the records that need one have it.
        if method in RECEIPT_METHODS and index % 2 == 0:
            if index % 4 == 0:
                body, name = _png(), f"{record.collection_no}_回执.png"
            else:
                body, name = _pdf(f"Receipt {record.collection_no}"), f"{record.collection_no}_回执.pdf"
            collection_service.attach_receipt(record, FileStorage(io.BytesIO(body), filename=name), collector)
            receipts += 1
    db.session.flush()
    return {"collections": made, "collection_receipts": receipts, "collections_done": done}


def _plan(loan: Loan, target: str, method: str, guarantors: dict, rng: random.Random):
    if target == "guarantor":
        options = guarantors.get(loan.id) or []
        if not options:
            return loan, "company" if loan.customer.kind == "company" else "borrower", None, method
        return loan, "guarantor", rng.choice(options), method
    if target == "company" and loan.customer.kind != "company":
        target = "borrower"
    return loan, target, None, method
