"""The bulk path of 贷款 and 还款记录 (services.importing.bulk) against the per-row path
(open_loan, post_repayment, sync): the same files imported through each give the same rows
and every stored figure — loans, schedules, repayments' allocations, ledger entries, the
balance checks left — and the same outcome, error and note on every row."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from admin_app.extensions import db as _db
from models import ImportBalanceCheck, Installment, Loan, LoanEntry, Repayment
from models.money import build_schedule
from services.importing import import_file
from tests.book_factory import customer, months_ago, product
from tests.import_files import csv_bytes

LOAN_HEAD = ["贷款编号", "客户名称", "贷款产品", "贷款金额", "年利率(%)", "期限(月)", "放款日", "剩余本金", "逾期金额"]
RATE_HEAD = ["贷款编号", "生效日期", "原年利率(%)", "调整后年利率(%)", "调整原因"]
REP_HEAD = ["贷款编号", "还款日期", "还款金额", "流水号"]
TABLES = ("loan_entry", "repayment", "installment", "loan", "audit_log", "import_record", "job_run")


def files():
    """Loans of three methods in every state: repaid on time, late (罚息 and 复利), partly,
    with a prepayment, over the payoff (refused), a rate change, figures that differ."""
    loans, rates, reps = [], [], []
    plans = [("经营贷", "equal_installment"), ("消费贷", "equal_principal"), ("周转贷", "interest_first")]
    n = 0
    for index, (name, method) in enumerate(plans):
        for shape in range(7):
            n += 1
            no = f"DKBULK{n:03d}"
            start = months_ago(7 + shape)
            principal = Decimal(60000 + 12000 * shape)
            sched = build_schedule(principal, Decimal("12"), 12, start, method)
            rate = "12"
            figures = ["", ""]
            if shape == 1:  # a rate change after the second period: the file states the new rate
                rate = "10.8"
                rates.append([no, sched[1].due_date.isoformat(), "12", "10.8", "下调"])
            if shape == 2:
                figures = [str(principal), "1.00"]  # differs: the loan's repayments are refused
            if shape == 6:
                figures = [str(principal - 5000), ""]  # 剩余本金 alone: checked after the repayments
            loans.append([no, "批量甲" if n % 2 else "批量乙", name, str(principal), rate, "12", start.isoformat(),
                          *figures])
            paid = [r for r in sched if r.due_date < months_ago(1)]
            for k, r in enumerate(paid):
                amount, day = r.total, r.due_date
                if shape == 3 and k == 1:
                    day += timedelta(days=20)  # late: 罚息 and 复利 first
                    amount += Decimal("80.00")
                if shape == 4 and k == 2:
                    amount += Decimal("5000.00")  # a prepayment
                if shape == 5 and k == len(paid) - 1:
                    amount = Decimal("99999999.00")  # over the payoff
                if shape == 0 and k == len(paid) - 1:
                    amount = (r.total / 3).quantize(Decimal("0.01"))  # partly
                reps.append([no, day.isoformat(), str(amount), f"LS{n}-{k}"])
    return csv_bytes([LOAN_HEAD] + loans), csv_bytes([RATE_HEAD] + rates), csv_bytes([REP_HEAD] + reps)


def stored():
    s = _db.session
    nos = {loan.id: loan.loan_no for loan in s.scalars(select(Loan))}
    skip = {"id", "loan_id", "version", "created_at", "repayment_id", "rate_change_id", "extension_id", "reverses_id",
            "import_record_id"}

    def rows(model, key):
        out = []
        for obj in s.scalars(select(model)):
            values = {c.key: getattr(obj, c.key) for c in model.__table__.columns if c.key not in skip}
            values = {k: (Decimal(v).quantize(Decimal("0.000001")) if isinstance(v, (Decimal, float)) else v)
                      for k, v in values.items()}
            out.append((nos.get(obj.loan_id if hasattr(obj, "loan_id") else obj.id), *[values[k] for k in sorted(values)]))
        return sorted(out, key=lambda r: tuple(str(x) for x in r))

    return {"loans": rows(Loan, "loan_no"), "installments": rows(Installment, "period"),
            "repayments": rows(Repayment, "paid_on"), "entries": rows(LoanEntry, "value_date"),
            "checks": rows(ImportBalanceCheck, "loan_id")}


def book():
    """The products and customers files() refers to."""
    product("经营贷")
    product("消费贷", method="equal_principal")
    product("周转贷", method="interest_first")
    customer("批量甲")
    customer("批量乙")
    _db.session.commit()


def run(users, bulk: bool, refresh: bool):
    loans, rates, reps = files()
    outcomes = []
    for kind, data in (("loans", loans), ("rate_changes", rates), ("repayments", reps)):
        out = import_file(kind, data, f"{kind}.csv", user=users["admin"], mode="valid", bulk=bulk, refresh=refresh)
        outcomes.append([(r.number, r.outcome, r.errors, r.note) for r in out.result.rows])
    return outcomes, stored()


@pytest.mark.parametrize("refresh", [False, True])
def test_bulk_path_stores_what_the_per_row_path_stores(db, users, refresh):
    book()
    per_row_outcomes, per_row = run(users, bulk=False, refresh=refresh)
    for table in reversed(_db.metadata.sorted_tables):  # everything the imports and the daily job wrote
        if table.name in TABLES or "loan_id" in table.c:
            _db.session.execute(table.delete())
    _db.session.commit()
    bulk_outcomes, bulk = run(users, bulk=True, refresh=refresh)
    for ours, theirs in zip(bulk_outcomes, per_row_outcomes):
        assert [r for r in ours if r not in theirs] == [r for r in theirs if r not in ours]
    for key in per_row:
        assert bulk[key] == per_row[key], key
    # The book has every case: refused rows, a balance check left, penalties paid, a prepayment.
    errors = [e for rows in per_row_outcomes for (_n, _o, errs, _note) in rows for e in errs]
    assert any("超过" in msg for _c, msg in errors) and any("逾期金额不一致" in msg for _c, msg in errors)
    assert len(per_row["loans"]) == 21 and len(per_row["repayments"]) > 60
    assert any(r for r in per_row_outcomes[2] if "冲抵罚息 0.00" not in r[3] and r[1] == "create")
