"""导入 贷款 and 还款记录: schedules by the money engine, repayments posted through the service
in value-date order, the old system's 剩余本金 checked against the replay, re-import a no-op."""
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from models import ImportBalanceCheck, Installment, Loan, Repayment
from models.money import build_schedule
from services.importing import import_file
from tests.book_factory import customer, months_ago, product
from tests.import_files import csv_bytes

LOAN_HEAD = ["贷款编号", "合同编号", "客户名称", "贷款产品", "贷款金额", "年利率(%)", "期限(月)", "放款日", "剩余本金"]
REP_HEAD = ["贷款编号", "还款日期", "还款金额", "流水号"]


def setup_book(db):
    p = product("经营贷")
    a, b = customer("导入甲"), customer("导入乙")
    db.session.commit()
    return p, a, b


def schedule(principal, start, term=12):
    return build_schedule(Decimal(principal), Decimal("12"), term, start, "equal_installment")


def imp(users, kind, rows, head, mode="preview", user="admin", **kw):
    return import_file(kind, csv_bytes([head] + rows), f"{kind}.csv", user=users[user], mode=mode, **kw)


def test_loans_then_repayments_replay_and_balance_check(db, users):
    p, a, b = setup_book(db)
    start = months_ago(5)
    sched = schedule("120000.00", start)
    paid = sched[:3]
    outstanding = Decimal("120000.00") - sum(r.principal for r in paid)
    loans = [["DKIMP001", "HTIMP001", "导入甲", "经营贷", "120000.00", "12", "12", start.isoformat(), str(outstanding)],
             ["DKIMP002", "", "导入乙", "经营贷", "60000", "12", "12", start.isoformat(), ""]]
    out = imp(users, "loans", loans, LOAN_HEAD, mode="all")
    assert out.result.committed, [r.errors for r in out.result.rows]
    assert "待导入还款记录后核对" in out.result.rows[0].note
    loan = db.session.scalar(select(Loan).where(Loan.loan_no == "DKIMP001"))
    assert db.session.scalar(select(func.count()).select_from(Installment).where(Installment.loan_id == loan.id)) == 12
    assert loan.status == "overdue"  # positioned as of today: five months unpaid
    reps = [["DKIMP001", r.due_date.isoformat(), str(r.total), f"LS{r.period}"] for r in reversed(paid)]
    preview = imp(users, "repayments", reps, REP_HEAD)
    assert [r.action for r in preview.result.rows] == ["create"] * 3 and not preview.result.error_rows
    assert db.session.scalar(select(func.count()).select_from(Repayment)) == 0
    out = imp(users, "repayments", reps, REP_HEAD, mode="all")
    assert out.result.committed, [r.errors for r in out.result.rows]
    db.session.expire_all()
    loan = db.session.get(Loan, loan.id)
    assert Decimal(loan.outstanding_principal) == outstanding
    assert db.session.scalar(select(func.count()).select_from(ImportBalanceCheck)) == 0
    assert sorted(db.session.scalars(select(Repayment.serial_no))) == ["LS1", "LS2", "LS3"]
    # Re-importing both files changes nothing and says so.
    again = imp(users, "loans", loans, LOAN_HEAD, mode="all")
    assert again.result.nothing_to_do, [r.errors for r in again.result.rows]
    again = imp(users, "repayments", reps, REP_HEAD, mode="all")
    assert again.result.nothing_to_do and db.session.scalar(select(func.count()).select_from(Repayment)) == 3


def test_balance_differing_from_the_replay_is_an_error_naming_both_figures(db, users):
    p, a, b = setup_book(db)
    start = months_ago(4)
    sched = schedule("120000.00", start)
    claimed = Decimal("120000.00") - sched[0].principal - Decimal("5.00")
    imp(users, "loans", [["DKIMP010", "", "导入甲", "经营贷", "120000", "12", "12", start.isoformat(), str(claimed)]],
        LOAN_HEAD, mode="all")
    reps = [["DKIMP010", sched[0].due_date.isoformat(), str(sched[0].total), ""]]
    out = imp(users, "repayments", reps, REP_HEAD, mode="all")
    assert not out.result.committed
    (row,) = out.result.error_rows
    message = row.errors[0][1]
    assert f"{claimed:,.2f}" in message and f"{Decimal('120000') - sched[0].principal:,.2f}" in message
    assert db.session.scalar(select(func.count()).select_from(Repayment)) == 0


def test_loan_row_errors(db, users):
    p, a, b = setup_book(db)
    today = date.today()
    rows = [
        ["DKE1", "", "导入甲", "不存在的产品", "1000", "12", "12", "2026-01-01", ""],
        ["DKE2", "", "没有这个人", "经营贷", "1000", "12", "12", "2026-01-01", ""],
        ["DKE3", "", "导入甲", "经营贷", "12,3x", "12", "12", "2026-01-01", ""],
        ["DKE4", "", "导入甲", "经营贷", "1000", "99", "12", "2026-01-01", ""],
        ["DKE5", "", "导入甲", "经营贷", "1000", "12", "12", (today + timedelta(days=3)).isoformat(), ""],
        ["DKE5", "", "导入甲", "经营贷", "1000", "12", "12", "2026-01-01", ""],
    ]
    out = imp(users, "loans", rows, LOAN_HEAD)
    errors = {r.number: r.errors for r in out.result.rows}
    assert errors[2] == [("贷款产品", "贷款产品「不存在的产品」不存在")]
    assert "不存在" in errors[3][0][1]
    assert errors[4][0] == ("贷款金额", "金额格式错误「12,3x」") or "金额格式错误" in errors[4][0][1]
    assert "利率" in errors[5][0][1]
    assert errors[6] == [("放款日", "放款日不能晚于今天")]
    assert "文件内重复" in errors[7][0][1]
    assert db.session.scalar(select(func.count()).select_from(Loan)) == 0
    out = imp(users, "loans", [["=1+2", "", "导入甲", "经营贷", "1000", "12", "12", "2026-01-01", ""]], LOAN_HEAD)
    assert out.result.rows[0].errors[0][0] == "贷款编号" and "编号规则" in out.result.rows[0].errors[0][1]
    head = LOAN_HEAD[:-1] + ["到期日"]
    out = imp(users, "loans", [["DKE8", "", "导入甲", "经营贷", "1000", "12", "12", "2026-01-10", "2025-12-01"]], head)
    assert out.result.rows[0].errors == [("到期日", "到期日早于放款日")]


def test_repayment_rows_of_one_loan_stand_or_fall_together(db, users):
    p, a, b = setup_book(db)
    start = months_ago(3)
    sched = schedule("12000.00", start)
    imp(users, "loans", [["DKIMP020", "", "导入甲", "经营贷", "12000", "12", "12", start.isoformat(), ""],
                         ["DKIMP021", "", "导入乙", "经营贷", "12000", "12", "12", start.isoformat(), ""]],
        LOAN_HEAD, mode="all")
    reps = [["DKIMP020", sched[0].due_date.isoformat(), str(sched[0].total), ""],
            ["DKIMP020", sched[1].due_date.isoformat(), "99999999", ""],  # more than owed
            ["DKIMP021", sched[0].due_date.isoformat(), str(sched[0].total), ""]]
    out = imp(users, "repayments", reps, REP_HEAD, mode="valid")
    by_row = {r.number: r for r in out.result.rows}
    assert "超过" in by_row[3].errors[0][1] and "同一贷款" in by_row[2].errors[0][1]
    assert by_row[4].ok and out.result.committed
    loans = {l.loan_no: l for l in db.session.scalars(select(Loan))}
    counts = dict(db.session.execute(select(Repayment.loan_id, func.count()).group_by(Repayment.loan_id)).all())
    assert counts == {loans["DKIMP021"].id: 1}


def test_refresh_after_import_runs_the_daily_job_at_once(db, users):
    from models import Warning

    p, a, b = setup_book(db)
    start = months_ago(4)
    rows = [["DKIMP030", "", "导入甲", "经营贷", "12000", "12", "12", start.isoformat(), ""]]
    imp(users, "loans", rows, LOAN_HEAD, mode="all", refresh=True)
    loan = db.session.scalar(select(Loan).where(Loan.loan_no == "DKIMP030"))
    assert loan.status == "overdue" and loan.suggested_class >= 2
    assert db.session.scalar(select(func.count()).select_from(Warning).where(Warning.loan_id == loan.id)) > 0


OVERDUE_HEAD = LOAN_HEAD + ["逾期金额"]


def overdue_amount(sched, paid: int) -> Decimal:
    """逾期金额 as the old system states it: principal and interest of the periods due
    before today and not paid (penalty not included)."""
    return sum((r.total for r in sched[paid:] if r.due_date < date.today()), Decimal("0.00"))


def test_overdue_amount_differing_from_the_replay_is_an_error_naming_both_figures(db, users):
    p, a, b = setup_book(db)
    start = months_ago(5)
    sched = schedule("120000.00", start)
    true = overdue_amount(sched, 2)
    assert true > 0
    claimed = true + Decimal("5.00")
    rows = [["DKIMP040", "", "导入甲", "经营贷", "120000", "12", "12", start.isoformat(), "", str(claimed)],
            ["DKIMP041", "", "导入乙", "经营贷", "120000", "12", "12", start.isoformat(), "", str(true)]]
    out = imp(users, "loans", rows, OVERDUE_HEAD, mode="all")
    assert out.result.committed, [r.errors for r in out.result.rows]
    assert all("逾期金额" in r.note and "待导入还款记录后核对" in r.note for r in out.result.rows)
    reps = [[no, r.due_date.isoformat(), str(r.total), ""] for no in ("DKIMP040", "DKIMP041") for r in sched[:2]]
    out = imp(users, "repayments", reps, REP_HEAD, mode="valid")
    by_loan = {r.values["loan_no"]: r for r in out.result.rows}
    message = by_loan["DKIMP040"].errors[0][1]
    assert "逾期金额不一致" in message and f"{claimed:,.2f}" in message and f"{true:,.2f}" in message, message
    assert by_loan["DKIMP041"].ok
    loans = {l.loan_no: l.id for l in db.session.scalars(select(Loan))}
    checks = set(db.session.scalars(select(ImportBalanceCheck.loan_id)))
    assert checks == {loans["DKIMP040"]}  # the refused loan's check stays; the matched one is done
    counts = dict(db.session.execute(select(Repayment.loan_id, func.count()).group_by(Repayment.loan_id)).all())
    assert counts == {loans["DKIMP041"]: 2}


def test_overdue_amount_without_repayments_in_the_file(db, users):
    p, a, b = setup_book(db)
    start = months_ago(4)
    sched = schedule("60000.00", start)
    true = overdue_amount(sched, 0)
    rows = [["DKIMP050", "", "导入甲", "经营贷", "60000", "12", "12", start.isoformat(), "", str(true)],
            ["DKIMP051", "", "导入乙", "经营贷", "60000", "12", "12", start.isoformat(), "",
             str(true - Decimal("0.02"))],
            ["DKIMP052", "", "导入乙", "经营贷", "60000", "12", "12", start.isoformat(), "",
             str(true + Decimal("0.01"))]]
    out = imp(users, "loans", rows, OVERDUE_HEAD, mode="all")
    assert out.result.committed, [r.errors for r in out.result.rows]
    by_no = {r.values["loan_no"]: r for r in out.result.rows}
    assert by_no["DKIMP050"].note == "" and by_no["DKIMP052"].note == ""  # equal within 0.01
    # Repayments may still come: the check waits for them, and the note names both figures.
    note = by_no["DKIMP051"].note
    assert f"{true - Decimal('0.02'):,.2f}" in note and f"{true:,.2f}" in note and "待导入还款记录后核对" in note
    loans = {l.loan_no: l.id for l in db.session.scalars(select(Loan))}
    assert set(db.session.scalars(select(ImportBalanceCheck.loan_id))) == {loans["DKIMP051"]}
    # Re-importing the file: a loan with nothing left to check is checked again at once.
    again = imp(users, "loans", [rows[0][:-1] + [str(true + 1)]], OVERDUE_HEAD, mode="preview")
    assert again.result.rows[0].errors == [("逾期金额", f"逾期金额不一致:文件中为 {true + 1:,.2f} 元,"
                                                      f"系统按还款记录重算为 {true:,.2f} 元(相差 1.00 元)")]


RATE_HEAD = ["贷款编号", "生效日期", "原年利率(%)", "调整后年利率(%)", "调整原因"]


def test_rate_change_history_replays_from_the_contract_rate(db, users):
    """The loan file states the rate after the change; the 利率调整记录 gives the contract rate
    back, and the loan replays to what the services give for the same history."""
    from services.loans import change_rate, open_loan

    p, a, b = setup_book(db)
    start = months_ago(5)
    sched = schedule("120000.00", start)
    reference = open_loan(customer=b, product=p, principal=Decimal("120000.00"), rate=Decimal("12"), term_months=12,
                          start_date=start, loan_no="DKREF001", contract_no="HTREF001")
    change_rate(reference, Decimal("10.8"), sched[1].due_date, "下调", users["admin"])
    db.session.commit()
    rows = [["DKIMP060", "", "导入甲", "经营贷", "120000", "10.8", "12", start.isoformat(), ""]]
    assert imp(users, "loans", rows, LOAN_HEAD, mode="all").result.committed
    history = [["DKIMP060", sched[1].due_date.isoformat(), "12", "10.8", "下调"]]
    out = imp(users, "rate_changes", history, RATE_HEAD, mode="all")
    assert out.result.committed, [r.errors for r in out.result.rows]
    db.session.expire_all()
    ours, theirs = (db.session.scalar(select(Loan).where(Loan.loan_no == n)) for n in ("DKIMP060", "DKREF001"))
    plan = lambda loan: [(i.period, i.due_date, i.principal_due, i.interest_due)  # noqa: E731
                         for i in sorted(loan.installments, key=lambda i: i.period)]
    assert plan(ours) == plan(theirs) and plan(ours) != [(r.period, r.due_date, r.principal, r.interest) for r in sched]
    assert imp(users, "rate_changes", history, RATE_HEAD, mode="all").result.nothing_to_do
    # Once money has moved on a loan its history can no longer be restated.
    imp(users, "repayments", [["DKIMP060", sched[0].due_date.isoformat(), str(sched[0].total), ""]], REP_HEAD,
        mode="all")
    late = imp(users, "rate_changes", [["DKIMP060", sched[3].due_date.isoformat(), "10.8", "9.6", "再调"]], RATE_HEAD)
    assert "须在导入还款记录之前导入" in late.result.rows[0].errors[0][1]


WO_HEAD = ["贷款编号", "核销日", "核销本金", "核销利息", "核销原因"]


def test_write_off_record_books_the_write_off_after_the_repayments(db, users):
    from models import WriteOff

    p, a, b = setup_book(db)
    start = months_ago(8)
    sched = schedule("60000.00", start)
    imp(users, "loans", [["DKIMP070", "", "导入甲", "经营贷", "60000", "12", "12", start.isoformat(), ""]],
        LOAN_HEAD, mode="all")
    imp(users, "repayments", [["DKIMP070", sched[0].due_date.isoformat(), str(sched[0].total), ""]], REP_HEAD,
        mode="all")
    early = [["DKIMP070", (sched[0].due_date - timedelta(days=1)).isoformat(), "", "", "无法收回"]]
    refused = imp(users, "write_offs", early, WO_HEAD)
    assert "核销后收回须在导入核销记录之后导入" in refused.result.rows[0].errors[0][1]
    rows = [["DKIMP070", months_ago(1).isoformat(), "", "", "借款人失联,依法核销"]]
    out = imp(users, "write_offs", rows, WO_HEAD, mode="all")
    assert out.result.committed, [r.errors for r in out.result.rows]
    loan = db.session.scalar(select(Loan).where(Loan.loan_no == "DKIMP070"))
    assert (loan.status, loan.five_class, loan.written_off_date) == ("written_off", 5, months_ago(1))
    assert db.session.scalar(select(WriteOff.review_status).where(WriteOff.loan_id == loan.id)) == "approved"
    assert imp(users, "write_offs", rows, WO_HEAD, mode="all").result.nothing_to_do
