"""贷款详情: every section of a loan with a full history, bounded queries, access."""
import re
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event

from models import Collateral, Guarantor, Loan
from services import classification, collection, inspection, writeoff
from services.loans import change_rate, post_repayment
from tests import book_factory as bf
from views.loan_detail import SECTIONS

HEADINGS = ("合同信息", "还款计划", "还款记录", "利率调整记录", "展期记录", "担保人", "抵质押物", "约谈记录",
            "贷后检查", "五级分类记录", "审批记录", "催收记录", "核销")


def _morning() -> datetime:
    return datetime.combine(date.today() - timedelta(days=1), datetime.min.time()).replace(hour=10)


def full_history_loan(users) -> Loan:
    officer = users["officer"]
    loan = bf.overdue_loan(bf.customer("孙八"))
    post_repayment(loan, Decimal("1000.00"), date.today(), operator=officer)
    change_rate(loan, Decimal("13.5"), date.today(), "客户申请调整利率", officer)
    g = Guarantor(loan_id=loan.id, kind="person", name="担保人周九", id_number=bf.resident_id(901),
                  phone="13900000901", guaranteed_amount=Decimal("50000.00"))
    from admin_app.extensions import db

    db.session.add_all([g, Collateral(loan_id=loan.id, kind="mortgage", description="住宅一套(房产证号示例)",
                                      value=Decimal("800000.00"), registration_no="京(2023)不动产权第0001号",
                                      start_date=loan.start_date, expiry_date=loan.maturity_date)])
    db.session.flush()
    inspection.record_interview(loan.id, officer, held_at=_morning(), place="客户公司会议室",
                                participants="客户经理、借款人", content="了解逾期原因")
    inspection.create_inspection(loan.id, officer, kind="special", inspected_on=date.today(), method="onsite",
                                 conclusion="经营困难,存在风险", risk_signals="连续逾期")
    classification.propose(loan.id, 4, "逾期超过90天,经营恶化", officer, submit=True)
    collection.record_collection(loan, target="borrower", method="phone", contacted_at=_morning(),
                                 content="电话催收,提醒还款", collector=users["collector"], now=_morning())
    loan.five_class = 3  # as if a classification had been approved: write-off needs 次级 or worse
    db.session.flush()
    writeoff.apply(loan.id, officer, reason="借款人失联,抵押物处置不足清偿", submit=True)
    db.session.commit()
    return loan


@contextmanager
def counted_statements(db):
    seen = []

    def count(conn, cursor, statement, *args):
        # The logged-in user's own row may or may not be cached between requests: not a loan query.
        if not statement.startswith("SELECT user_account."):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_every_section_of_a_loan_with_full_history(client_for, users, db):
    loan = full_history_loan(users)
    r = client_for("officer").get(f"/loan_detail/{loan.id}/")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    for heading in HEADINGS:
        assert re.search(rf">{heading}</h[23]>", page), heading
    for text in (loan.loan_no, "孙八", "客户申请调整利率", ">13.50%<", "担保人周九", "住宅一套", "抵押",
                 "了解逾期原因", "经营困难,存在风险", "专项", "逾期超过90天", "可疑", "提交",
                 "电话催收,提醒还款", "电话", "借款人失联", "审核中", "1,000.00", "未还", "截至今日应还"):
        assert text in page, text


def test_queries_are_bounded_whatever_the_history_length(client_for, users, db):
    loan = full_history_loan(users)
    c = client_for("risk_checker")
    with counted_statements(db) as first:
        assert c.get(f"/loan_detail/{loan.id}/").status_code == 200
    for i in range(5):
        collection.record_collection(loan, target="borrower", method="sms", contacted_at=_morning(),
                                     content=f"短信提醒{i}", collector=users["collector"], now=_morning())
        inspection.record_interview(loan.id, users["officer"], held_at=_morning(), place="电话",
                                    participants="借款人", content=f"约谈{i}")
    db.session.commit()
    with counted_statements(db) as second:
        page = c.get(f"/loan_detail/{loan.id}/").get_data(as_text=True)
    assert "短信提醒4" in page and "约谈4" in page
    assert len(second) == len(first)
    assert len(first) <= len(SECTIONS) + 12


def test_settled_loan_has_no_amount_owed_and_says_so(client_for, db):
    loan = bf.settled_loan()
    db.session.commit()
    page = client_for("reviewer").get(f"/loan_detail/{loan.id}/").get_data(as_text=True)
    assert "已结清" in page and "截至今日应还" not in page and "该贷款没有核销记录" in page


def test_unknown_loan_is_404(client_for):
    assert client_for("officer").get("/loan_detail/999999/").status_code == 404


@pytest.mark.parametrize("role", ["admin", "officer", "collector", "risk_checker", "risk_approver", "reviewer"])
def test_every_role_may_open_it(client_for, role, db):
    loan = bf.active_loan()
    db.session.commit()
    assert client_for(role).get(f"/loan_detail/{loan.id}/").status_code == 200


def test_anonymous_goes_to_login(client_for, db):
    r = client_for().get("/loan_detail/1/")
    assert r.status_code == 302 and "/login" in r.location


def test_lookup_by_loan_number_redirects_to_the_page(client_for, db):
    loan = bf.active_loan()
    db.session.commit()
    c = client_for("officer")
    r = c.get(f"/loan_detail/?loan_no={loan.loan_no}")
    assert r.status_code == 302 and r.location.endswith(f"/loan_detail/{loan.id}/")
    assert "没有找到贷款编号" in c.get("/loan_detail/?loan_no=NOPE").get_data(as_text=True)


def test_not_in_the_menu(client_for, db):
    page = client_for("admin").get("/").get_data(as_text=True)
    assert 'href="/loan_detail/"' not in page


def test_a_section_row_keeps_its_loan_for_the_next_reader(users, db):
    """贷款详情 loads each section without joining the loan again; the rows it leaves in the
    session must still know their loan. With noload() they kept loan=None in the identity
    map, and the next reader of the same row in that session (调整分类 reading its open
    change, 我的待办 reading a collection) got None: CI failed with 'NoneType' object has no
    attribute 'loan_no' on 调整分类 whenever the row had not been garbage-collected yet."""
    loan = full_history_loan(users)
    sections = {key: load(loan.id) for key, load in SECTIONS.items()}  # held: stay in the map
    assert sections["classifications"] and sections["collections"]
    change = classification.open_change(loan.id)
    assert change is sections["classifications"][0]
    assert change.loan is loan
    for key, rows in sections.items():
        for row in rows:
            if hasattr(row, "loan"):
                assert row.loan is loan, key
    guarantor_rows = [row.guarantor for row in sections["collections"] if row.guarantor is not None]
    assert all(g.loan is loan for g in guarantor_rows)


@pytest.mark.parametrize("role", ["officer", "admin"])
def test_a_page_reads_its_user_once_and_its_parameters_in_one_statement(client_for, users, db, role):
    """Loading the user ran through the data-scope hook, which asked for the user again: the
    user and its session row were read twice a request; and each parameter was a statement
    (five on this page)."""
    loan_id = full_history_loan(users).id
    c = client_for(role)
    seen = []
    db.session.expunge_all()  # the tests' requests share one session: read as a fresh request does

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert c.get(f"/loan_detail/{loan_id}/").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert sum(s.startswith("SELECT user_account.") for s in seen) == 1, seen
    assert sum(s.startswith("SELECT user_session.") for s in seen) == 1, seen
    assert sum("FROM setting" in s for s in seen) == 1, [s for s in seen if "FROM setting" in s]
