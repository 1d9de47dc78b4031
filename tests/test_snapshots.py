"""Month-end snapshots and the migration figures built on them.

A hand-built book moves eight loans through known classes over three month-ends (January,
February and March 2025); the snapshot rebuilt from their dated records, the migration
matrix and every 迁徙率 are checked against figures worked out by hand below. A seeded book
checks that the rebuild as of a date agrees with the daily job's live figures for that date."""
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db as _db
from jobs.steps.snapshot import is_month_end, last_month_ends, previous_month_end
from models import ClassificationChange, Installment, Loan, PortfolioSnapshot, SnapshotMonth
from models.portfolio_math import SETTLED, WRITTEN_OFF
from services import BusinessError, portfolio, snapshots
from services.loans import amount_owed, open_loan, post_repayment
from tests import book_factory as f

M0, M1, M2 = date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31)
AS_OF = date(2025, 4, 15)
D = Decimal


def _bullet(cust, prod, principal, start, term, officer=None):
    return open_loan(customer=cust, product=prod, principal=D(principal), term_months=term,
                     start_date=start, officer=officer)


@pytest.fixture
def hand_book(db, users):
    """到期一次还本付息 loans, so a loan is overdue exactly from its maturity date on:

    A 1,000,000  matures 2025-12-10              正常 → 正常 → 正常
    B   500,000  matures 2025-02-10, unpaid       正常 → 关注 (18 days) → 关注 (49)
    C   300,000  matures 2024-11-25, unpaid       关注 (67) → 次级 (95) → 次级 (126)
    D   200,000  matures 2024-10-01, unpaid       次级 (122) → 可疑 (approved 2025-02-20) → 可疑
    E   100,000  matures 2024-03-05, unpaid       可疑 (332) → 可疑 (360, not over 360) → 损失 (391)
    F   400,000  matures 2025-02-10, paid 02-12   正常 → 结清
    G   250,000  matures 2025-02-26; on 02-27 (within the 3 grace days, no penalty) pays the
                 interest and 100,000 of principal   正常 → 关注 (150,000, 2 days) → 关注 (33)
    H    80,000  matures 2023-12-01, unpaid, written off 2025-03-20   损失 → 损失 → 核销
    N    60,000  opened 2025-03-05                new in March: 正常"""
    prod = f.product("经营贷", method="bullet")
    officer = users["officer"]
    loans = {
        "A": _bullet(f.customer(), prod, "1000000.00", date(2024, 12, 10), 12, officer),
        "B": _bullet(f.customer(), prod, "500000.00", date(2024, 11, 10), 3, officer),
        "C": _bullet(f.customer(), prod, "300000.00", date(2024, 8, 25), 3),
        "D": _bullet(f.customer(), prod, "200000.00", date(2024, 7, 1), 3),
        "E": _bullet(f.customer(), prod, "100000.00", date(2023, 12, 5), 3),
        "F": _bullet(f.customer(), prod, "400000.00", date(2024, 11, 10), 3),
        "G": _bullet(f.customer(), prod, "250000.00", date(2024, 11, 26), 3),
        "H": _bullet(f.customer(), prod, "80000.00", date(2023, 9, 1), 3),
        "N": _bullet(f.customer(), prod, "60000.00", date(2025, 3, 5), 12),
    }
    post_repayment(loans["F"], amount_owed(loans["F"], date(2025, 2, 12))["total"], date(2025, 2, 12))
    g_interest = _db.session.execute(select(Installment.interest_due).where(
        Installment.loan_id == loans["G"].id)).scalar_one()
    post_repayment(loans["G"], D(g_interest) + D("100000.00"), date(2025, 2, 27))
    _db.session.add(ClassificationChange(
        loan_id=loans["D"].id, from_class=3, to_class=4, suggested_class=3, reason="借款人涉诉,担保人失联",
        proposer_id=officer.id, review_status="approved", decided_at=datetime(2025, 2, 20, 15, 30)))
    h = loans["H"]
    h.status, h.written_off_date, h.five_class = "written_off", date(2025, 3, 20), 5
    _db.session.commit()
    for day in (M0, M1, M2):
        snapshots.rebuild(day, "测试", as_of=AS_OF)
    return {k: v.id for k, v in loans.items()}


def _row(month, loan_id):
    return _db.session.execute(select(PortfolioSnapshot).where(
        PortfolioSnapshot.month_end == month, PortfolioSnapshot.loan_id == loan_id)).unique().scalar_one_or_none()


def test_month_end_helpers():
    assert is_month_end(date(2024, 2, 29)) and not is_month_end(date(2025, 2, 27))
    assert previous_month_end(date(2025, 3, 1)) == date(2025, 2, 28)
    assert last_month_ends(date(2025, 3, 15), 3) == [date(2024, 12, 31), M0, M1]
    assert last_month_ends(M2, 2) == [M1, M2]


def test_rebuilt_positions_of_the_hand_book(hand_book):
    ids = hand_book
    expect = {  # month -> loan -> (status, class, days overdue, balance)
        M0: {"A": ("active", 1, 0, "1000000.00"), "B": ("active", 1, 0, "500000.00"),
             "C": ("overdue", 2, 67, "300000.00"), "D": ("overdue", 3, 122, "200000.00"),
             "E": ("overdue", 4, 332, "100000.00"), "F": ("active", 1, 0, "400000.00"),
             "G": ("active", 1, 0, "250000.00"), "H": ("overdue", 5, 427, "80000.00")},
        M1: {"B": ("overdue", 2, 18, "500000.00"), "C": ("overdue", 3, 95, "300000.00"),
             "D": ("overdue", 4, 150, "200000.00"), "E": ("overdue", 4, 360, "100000.00"),
             "F": ("settled", 1, 0, "0.00"), "G": ("overdue", 2, 2, "150000.00")},
        M2: {"E": ("overdue", 5, 391, "100000.00"), "G": ("overdue", 2, 33, "150000.00"),
             "H": ("written_off", 5, 0, "80000.00"), "N": ("active", 1, 0, "60000.00")},
    }
    for month, loans in expect.items():
        for key, (status, cls, days, balance) in loans.items():
            row = _row(month, ids[key])
            assert (row.status, row.five_class, row.days_overdue, D(row.outstanding_principal)) == \
                (status, cls, days, D(balance)), (month, key)
    assert _row(M0, ids["N"]) is None  # not yet disbursed
    assert _row(M2, ids["F"]) is None  # settled in February: carried in February only
    assert _row(M1, ids["G"]).overdue_principal == D("150000.00")
    assert _row(M2, ids["H"]).max_days_overdue == 486  # 2025-03-31 - 2023-12-01: written off, still unpaid
    month = _db.session.get(SnapshotMonth, M1)
    assert (month.source, month.loans, D(month.balance)) == ("rebuild", 7, D("2330000.00"))


def test_migration_matrix_february_by_hand(hand_book):
    m = portfolio.migration(M0, M1)
    cell = lambda s, e: (m.cell(s, e).count, m.cell(s, e).start_balance, m.cell(s, e).end_balance)
    assert cell(1, 1) == (1, D("1000000.00"), D("1000000.00"))  # A
    assert cell(1, 2) == (2, D("750000.00"), D("650000.00"))  # B, G
    assert cell(1, SETTLED) == (1, D("400000.00"), D("0.00"))  # F
    assert cell(2, 3) == (1, D("300000.00"), D("300000.00"))  # C
    assert cell(3, 4) == (1, D("200000.00"), D("200000.00"))  # D
    assert cell(4, 4) == (1, D("100000.00"), D("100000.00"))  # E
    assert cell(5, 5) == (1, D("80000.00"), D("80000.00"))  # H
    assert sum(c.count for c in m.cells.values()) == 8 and m.new == {}
    rates = {r.name: r for r in m.rates}
    # 正常类: moved down B 500,000 + G 150,000 (period-end balances) = 650,000;
    # start 2,150,000 less decrease (F 400,000 settled + G 100,000 repaid) = 1,650,000
    normal = rates["正常类贷款迁徙率"]
    assert (normal.start_balance, normal.decrease, normal.moved_down) == \
        (D("2150000.00"), D("500000.00"), D("650000.00"))
    assert normal.rate == D("39.39")  # 650,000 / 1,650,000 = 39.3939…%
    assert rates["关注类贷款迁徙率"].rate == D("100.00")  # C 300,000 / 300,000
    assert rates["次级类贷款迁徙率"].rate == D("100.00")  # D 200,000 / 200,000
    assert rates["可疑类贷款迁徙率"].rate == D("0.00")  # E stayed 可疑
    # 正常贷款迁徙率: C 300,000 / (2,150,000 + 300,000 - 500,000) = 15.3846…%
    assert rates["正常贷款迁徙率"].rate == D("15.38")


def test_migration_matrix_march_by_hand(hand_book):
    ids = hand_book
    m = portfolio.migration(M1, M2)
    assert (m.cell(5, WRITTEN_OFF).count, m.cell(5, WRITTEN_OFF).start_balance) == (1, D("80000.00"))  # H
    assert (m.cell(4, 5).count, m.cell(4, 5).end_balance) == (1, D("100000.00"))  # E
    assert m.cell(2, 2).count == 2 and m.cell(2, 2).end_balance == D("650000.00")  # B, G
    assert set(m.new) == {1} and (m.new[1].count, m.new[1].end_balance) == (1, D("60000.00"))  # N
    rates = {r.name: r.rate for r in m.rates}
    assert rates == {"正常类贷款迁徙率": D("0.00"), "关注类贷款迁徙率": D("0.00"),
                     "次级类贷款迁徙率": D("0.00"),
                     "可疑类贷款迁徙率": D("33.33"),  # E 100,000 / (D 200,000 + E 100,000)
                     "正常贷款迁徙率": D("0.00")}
    assert _row(M1, ids["F"]).status == "settled"
    # Two month-ends apart: F settled in between is 结清, H written off is 核销.
    m = portfolio.migration(M0, M2)
    assert m.cell(1, SETTLED).count == 1 and m.cell(5, WRITTEN_OFF).count == 1
    trend = portfolio.migration_trend([M2, M1, M0])
    assert [(t.start, t.end) for t in trend] == [(M0, M1), (M1, M2)]


def test_rebuilding_a_month_replaces_it_and_refuses_other_dates(hand_book):
    count = lambda: _db.session.execute(select(func.count()).select_from(PortfolioSnapshot)
                                        .where(PortfolioSnapshot.month_end == M1)).scalar()
    before = count()
    _db.session.commit()
    result = snapshots.rebuild(M1, "测试", as_of=AS_OF)
    assert result.rows == before == count() == 8  # 7 open + F settled in February
    with pytest.raises(BusinessError, match="不是月末"):
        snapshots.rebuild(date(2025, 2, 27), as_of=AS_OF)
    with pytest.raises(BusinessError, match="只能重算已经过去的月末"):
        snapshots.rebuild(date(2025, 4, 30), as_of=AS_OF)


def test_the_rebuild_as_of_a_date_agrees_with_the_daily_jobs_figures(db):
    """A seeded book as of a month-end: the daily job writes that month-end live from the loan
    figures it has just computed; rebuilding the same month-end from the dated records gives
    every loan the same status, days overdue (now and worst), balance and overdue principal."""
    from admin_app.seed import book
    from jobs.daily import run_daily

    as_of = date(2025, 6, 30)
    book.run(loans=300, seed=11, as_of=as_of)
    db.session.commit()
    assert run_daily(as_of).ok
    cols = (PortfolioSnapshot.loan_id, PortfolioSnapshot.status, PortfolioSnapshot.days_overdue,
            PortfolioSnapshot.max_days_overdue, PortfolioSnapshot.outstanding_principal,
            PortfolioSnapshot.overdue_principal, PortfolioSnapshot.bucket, PortfolioSnapshot.suggested_class)

    def rows():
        return {r[0]: tuple(D(v).quantize(D("0.01")) if isinstance(v, (float, Decimal)) else v for v in r[1:])
                for r in db.session.execute(select(*cols).where(PortfolioSnapshot.month_end == as_of))}

    live = rows()
    assert db.session.get(SnapshotMonth, as_of).source == "job"
    assert len(live) > 200 and {r[0] for r in live.values()} >= {"active", "overdue", "extended", "settled"}
    snapshots.rebuild(as_of, "测试", as_of=date(2025, 7, 1))
    db.session.expire_all()
    rebuilt = rows()
    assert rebuilt == live


def test_the_daily_job_writes_a_snapshot_on_month_ends_only(db):
    from jobs.daily import run_daily

    f.book()
    assert run_daily(date(2025, 6, 29)).ok
    assert db.session.execute(select(SnapshotMonth)).first() is None
    assert run_daily(date(2025, 6, 30)).ok
    assert db.session.get(SnapshotMonth, date(2025, 6, 30)).source == "job"


def test_seeding_writes_the_last_twelve_month_ends(db):
    from admin_app.seed import seed_demo

    summary = seed_demo(loans=40, seed=3, as_of=date(2025, 6, 15))
    months = [m.month_end for m in snapshots.months()]
    assert months == last_month_ends(date(2025, 5, 31), 12)[::-1]
    assert summary["snapshot_rows"] == db.session.execute(select(func.count()).select_from(PortfolioSnapshot)).scalar()


def test_vintage_by_hand(hand_book):
    """Cohort 2024-11 (B 500,000, F 400,000, G 250,000 = 1,150,000): at March's end (MOB 4)
    B (49 days) and G (33 days) have been over 30 days: 750,000 / 1,150,000 = 65.22%; at
    February's end (MOB 3) nobody had (B 18, G 2, F at most 1 day before settling). Cohort
    2024-07 (D) was 122 days overdue at January's end (MOB 6): over 90 days, 100%."""
    cohorts, _ = portfolio.vintage(snapshots_months := [M2, M1, M0])
    by = {c.month: c for c in cohorts}
    nov = by["2024-11"]
    assert (nov.count, nov.principal) == (3, D("1150000.00"))
    assert nov.share(30, 3) == D("0.00") and nov.share(30, 4) == D("65.22") and nov.share(90, 4) == D("0.00")
    assert by["2024-07"].share(90, 6) == D("100.00") and by["2024-07"].share(90, 5) is None
    # H, written off in March, stays counted: cohort 2023-09 ever over 90 days at MOB 18.
    assert by["2023-09"].share(90, 18) == D("100.00")
    assert snapshots_months


def test_cached_matrices_equal_the_live_select(hand_book):
    from models import SnapshotMigration

    assert _db.session.execute(select(func.count()).select_from(SnapshotMigration)).scalar() > 0
    cached = portfolio.migration(M0, M1)
    _db.session.execute(SnapshotMigration.__table__.delete())
    live = portfolio.migration(M0, M1)
    assert cached.cells == live.cells and cached.new == live.new
