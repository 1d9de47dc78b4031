"""Collection rules: 催收编号, allowed contact hours, who may be contacted, follow-up, and the
receipt waiting lists. Loans are opened through services.loans.open_loan; their overdue
position is then set as the daily job would leave it."""
import io
import itertools
import re
from datetime import date, datetime, time
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from admin_app.clock import shown as shown_at
from admin_app.extensions import db
from admin_app.settings import set_value
from models import AuditLog, Collection, Customer, Guarantor, LoanProduct, Receipt
from services import BusinessError
from services import collection as svc
from services.loans import open_loan

_seq = itertools.count(1)
NOW = datetime(2024, 6, 30, 22, 0)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


# ---- builders shared by the collection test modules ----------------------------------------
def make_product() -> LoanProduct:
    n = next(_seq)
    p = LoanProduct(code=f"CSP{n}", name=f"催收测试产品{n}", repayment_method="equal_installment",
                    min_rate=Decimal("6"), max_rate=Decimal("24"), default_rate=Decimal("12"),
                    min_term=1, max_term=36, penalty_markup=Decimal("50"), grace_days=3,
                    inspection_interval_days=90, active=True)
    db.session.add(p)
    db.session.flush()
    return p


def make_customer(name: str | None = None, kind: str = "person") -> Customer:
    n = next(_seq)
    c = Customer(kind=kind, name=name or f"催收客户{n}", id_number=f"CST{n:015d}",
                 phone=f"139{n:08d}", contact_person="联系人" if kind == "company" else None)
    db.session.add(c)
    db.session.flush()
    return c


def make_overdue_loan(name: str | None = None, *, kind: str = "person", guarantors: int = 0,
                      days_overdue: int = 45, status: str = "overdue"):
    """An open loan whose overdue position is what the daily job would have set."""
    customer = make_customer(name, kind)
    loan = open_loan(customer=customer, product=make_product(), principal="120000.00",
                     term_months=12, start_date=date(2024, 1, 10))
    loan.status = status
    loan.days_overdue = days_overdue if status == "overdue" else 0
    loan.overdue_principal = Decimal("9800.00") if status == "overdue" else Decimal("0")
    loan.overdue_interest = Decimal("1200.50") if status == "overdue" else Decimal("0")
    loan.penalty_interest = Decimal("88.25") if status == "overdue" else Decimal("0")
    for i in range(guarantors):
        db.session.add(Guarantor(loan_id=loan.id, kind="person", name=f"担保人{next(_seq)}",
                                 id_number=f"GT{next(_seq):016d}", phone="13700000000",
                                 guaranteed_amount=Decimal("50000.00")))
    db.session.flush()
    return loan


def record(loan, *, method="phone", target="borrower", guarantor=None, at=datetime(2024, 6, 3, 10, 0),
           collector=None, **kw):
    values = dict(content="电话提醒还款", result=None, promised_date=None, promised_amount=None,
                  next_follow_up=None)
    values.update(kw)
    return svc.record_collection(loan, target=target, guarantor=guarantor, method=method,
                                 contacted_at=at, collector=collector, now=NOW, **values)


def png_upload(name="receipt.png", body=PNG) -> FileStorage:
    return FileStorage(stream=io.BytesIO(body), filename=name, content_type="image/png")


# ---- numbering -----------------------------------------------------------------------------
def test_numbers_are_cs_date_and_six_digit_sequence_per_contact_day(users):
    loan = make_overdue_loan()
    a = record(loan, at=datetime(2024, 6, 3, 9, 0))
    b = record(loan, at=datetime(2024, 6, 3, 15, 30))
    c = record(loan, at=datetime(2024, 6, 4, 9, 0))
    assert (a.collection_no, b.collection_no, c.collection_no) == \
        ("CS20240603000001", "CS20240603000002", "CS20240604000001")
    assert all(re.fullmatch(r"CS\d{8}\d{6}", r.collection_no) for r in (a, b, c))


def test_numbers_stay_unique_over_many_records(users):
    loan = make_overdue_loan()
    numbers = {record(loan, at=datetime(2024, 6, 3, 9, i)).collection_no for i in range(30)}
    assert len(numbers) == 30
    assert db.session.scalar(select(func.count(func.distinct(Collection.collection_no)))) == 30


def test_a_number_taken_concurrently_is_retried_not_duplicated(users, monkeypatch):
    """Another session inserted the number we computed: the unique constraint refuses our
    insert and the next attempt reads the new maximum."""
    loan = make_overdue_loan()
    first = record(loan)
    real = svc.next_number
    calls = []

    def stale(day):
        calls.append(day)
        return first.collection_no if len(calls) == 1 else real(day)

    monkeypatch.setattr(svc, "next_number", stale)
    second = record(loan, method="sms")
    assert len(calls) == 2
    assert second.collection_no == "CS20240603000002"
    assert db.session.scalar(select(func.count()).select_from(Collection)) == 2
    # The failed attempt left no stray audit entry: exactly one "create" per record.
    creates = db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.table_name == "collection", AuditLog.action == "create"))
    assert creates == 2


# ---- contact hours -------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["phone", "visit"])
@pytest.mark.parametrize("clock,ok", [(time(7, 59), False), (time(8, 0), True), (time(21, 0), True),
                                      (time(21, 1), False), (time(2, 30), False), (time(12, 0), True)])
def test_phone_and_visit_only_within_allowed_hours(users, method, clock, ok):
    loan = make_overdue_loan()
    at = datetime.combine(date(2024, 6, 3), clock)
    if ok:
        assert shown_at(record(loan, method=method, at=at).contacted_at) == at  # typed wall time, stored UTC
    else:
        with pytest.raises(BusinessError, match="根据催收行为规范.*只允许在08:00–21:00之间"):
            record(loan, method=method, at=at)
        assert db.session.scalar(select(func.count()).select_from(Collection)) == 0


@pytest.mark.parametrize("method", ["sms", "letter", "lawyer_letter", "lawsuit"])
def test_written_methods_are_not_bound_by_the_hours(users, method):
    loan = make_overdue_loan()
    assert record(loan, method=method, at=datetime(2024, 6, 3, 22, 30)).method == method


def test_allowed_hours_follow_the_admin_parameter(users):
    set_value("collection.start", "09:00")
    set_value("collection.end", "18:00")
    loan = make_overdue_loan()
    with pytest.raises(BusinessError, match="09:00–18:00"):
        record(loan, at=datetime(2024, 6, 3, 8, 30))
    record(loan, at=datetime(2024, 6, 3, 9, 0))


# ---- who may be contacted -----------------------------------------------------------------
def test_targets_borrower_own_guarantor_and_company_only(users):
    person_loan = make_overdue_loan(guarantors=1)
    other_loan = make_overdue_loan(guarantors=1)
    company_loan = make_overdue_loan(kind="company")
    own, foreign = person_loan.guarantors[0], other_loan.guarantors[0]

    assert record(person_loan).target == "borrower"
    assert record(person_loan, target="guarantor", guarantor=own).guarantor_id == own.id
    assert record(company_loan, target="company").target == "company"

    with pytest.raises(BusinessError, match="只能催收本笔贷款的担保人"):
        record(person_loan, target="guarantor", guarantor=foreign)
    with pytest.raises(BusinessError, match="请选择要催收的担保人"):
        record(person_loan, target="guarantor")
    with pytest.raises(BusinessError, match="借款人不是企业"):
        record(person_loan, target="company")
    with pytest.raises(BusinessError, match="不能指定担保人"):
        record(person_loan, target="borrower", guarantor=own)
    with pytest.raises(BusinessError, match="催收对象无效"):
        record(person_loan, target="neighbour")


def test_target_options_offer_only_the_allowed_people(users):
    loan = make_overdue_loan(guarantors=2)
    company = make_overdue_loan(kind="company")
    values = [v for v, _ in svc.target_options(loan)]
    assert values == ["borrower"] + [f"guarantor:{g.id}" for g in loan.guarantors]
    assert [v for v, _ in svc.target_options(company)] == ["company"]
    assert svc.parse_target(f"guarantor:{loan.guarantors[0].id}") == ("guarantor", loan.guarantors[0].id)
    with pytest.raises(BusinessError):
        svc.parse_target("guarantor:x")


def test_other_refusals_and_money_rounding(users):
    loan = make_overdue_loan()
    with pytest.raises(BusinessError, match="请填写催收内容"):
        record(loan, content="  ")
    with pytest.raises(BusinessError, match="不能为负数"):
        record(loan, promised_amount="-1", promised_date=date(2024, 6, 10))
    with pytest.raises(BusinessError, match="承诺还款日期不能早于催收日期"):
        record(loan, promised_date=date(2024, 6, 1))
    with pytest.raises(BusinessError, match="晚于当前时间"):
        record(loan, at=datetime(2024, 7, 1, 10, 0))
    with pytest.raises(BusinessError, match="催收方式无效"):
        record(loan, method="pigeon")
    r = record(loan, promised_amount="1234.565", promised_date=date(2024, 6, 10))
    assert r.promised_amount == Decimal("1234.57")
    settled = make_overdue_loan(status="settled")
    with pytest.raises(BusinessError, match="已结清"):
        record(settled)


# ---- receipts and the waiting lists ------------------------------------------------------
def test_receipt_methods_need_a_receipt_and_wait_by_target(users):
    loan = make_overdue_loan(guarantors=1)
    company_loan = make_overdue_loan(kind="company")
    g = loan.guarantors[0]
    phone = record(loan, method="phone")
    visit = record(loan, method="visit")
    letter_g = record(loan, method="letter", target="guarantor", guarantor=g)
    lawyer_c = record(company_loan, method="lawyer_letter", target="company")
    sms_g = record(loan, method="sms", target="guarantor", guarantor=g)
    assert [r.needs_receipt for r in (phone, visit, letter_g, lawyer_c, sms_g)] == \
        [False, True, True, True, False]
    assert [r.id for r in svc.waiting_receipts("borrower")] == [visit.id]
    assert {r.id for r in svc.waiting_receipts("guarantor")} == {letter_g.id, lawyer_c.id}


def test_attaching_a_receipt_takes_the_record_off_its_waiting_list(users, app):
    loan = make_overdue_loan()
    visit = record(loan, method="visit")
    receipt = svc.attach_receipt(visit, png_upload("上门回执.png"), users["collector"])
    db.session.commit()
    assert visit.has_receipt is True
    assert svc.waiting_receipts("borrower") == []
    assert receipt.content_type == "image/png" and receipt.size == len(PNG)
    assert receipt.original_name == "上门回执.png" and len(receipt.sha256) == 64
    assert receipt.uploaded_by_id == users["collector"].id
    with pytest.raises(BusinessError, match="已上传回执"):
        svc.attach_receipt(visit, png_upload(), users["collector"])
    assert db.session.scalar(select(func.count()).select_from(Receipt)) == 1


def test_a_record_that_needs_no_receipt_refuses_one(users):
    loan = make_overdue_loan()
    phone = record(loan, method="phone")
    with pytest.raises(BusinessError, match="无需上传回执"):
        svc.attach_receipt(phone, png_upload(), users["collector"])


def test_a_concurrent_second_upload_is_refused_and_its_file_removed(users, app):
    """Another session stored a receipt after we loaded the record: the guarded update
    refuses ours and the file we had stored is deleted again."""
    import os

    loan = make_overdue_loan()
    visit = record(loan, method="visit")
    db.session.commit()
    db.session.execute(Collection.__table__.update().where(Collection.id == visit.id)
                       .values(has_receipt=True))
    before = set(os.listdir(app.config["UPLOAD_FOLDER"]))
    with pytest.raises(BusinessError, match="已上传回执"):
        svc.attach_receipt(visit, png_upload(), users["collector"])
    assert set(os.listdir(app.config["UPLOAD_FOLDER"])) == before


# ---- follow-up -----------------------------------------------------------------------------
def test_follow_up_updates_status_and_next_date_and_keeps_the_notes(users):
    loan = make_overdue_loan()
    r = record(loan, result="客户承诺下周还款")
    svc.follow_up(r, "following", date(2024, 7, 5), "再次电话,未接通", users["collector"],
                  today=date(2024, 7, 1))
    assert r.status == "following" and r.next_follow_up == date(2024, 7, 5)
    svc.follow_up(r, "done", date(2024, 7, 9), "已还清逾期款项", users["collector"], today=date(2024, 7, 2))
    assert r.status == "done" and r.next_follow_up is None
    assert r.result.splitlines()[0] == "客户承诺下周还款"
    assert "赵催收 已完成] 已还清逾期款项" in r.result
    with pytest.raises(BusinessError, match="请填写下次跟进日期"):
        svc.follow_up(r, "following", None, "继续", users["collector"])
    with pytest.raises(BusinessError, match="跟进说明"):
        svc.follow_up(r, "done", None, " ", users["collector"])
    with pytest.raises(BusinessError, match="跟进状态无效"):
        svc.follow_up(r, "lost", None, "x", users["collector"])
