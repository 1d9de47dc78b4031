"""Portfolio reports (五级分类统计, 迁徙, 逾期账龄, 放款批次分析, 核销与收回) read from the month-end
snapshots, or for 「今日」 from the loans' current figures. Each report is a few GROUP BY
queries (never a loop per loan); money is summed as whole cents, so totals are exact on
SQLite too, and returned as Decimal. The arithmetic (shares, rates) is models.portfolio_math."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import String, case, cast, func, literal, select

from admin_app.extensions import db
from jobs.steps.snapshot import last_month_ends, migration_select, month_end
from models import (Loan, LoanProduct, PortfolioSnapshot, Repayment, SnapshotCohort, SnapshotMigration,
                    SnapshotMonth, SnapshotSummary, User, WriteOff)
from models.enums import FIVE_CLASSES, OPEN_LOAN_STATUSES
from models.portfolio_math import (SETTLED, WRITTEN_OFF, MigrationCell, largest_remainder_shares,
                                   migration_rates, ratio_percent)
from models.snapshot import AGEING_BUCKETS

S = PortfolioSnapshot
SS = SnapshotSummary
NPL_CLASSES = (3, 4, 5)  # 次级 + 可疑 + 损失
BREAKDOWNS = {"": "全部", "product": "按贷款产品", "officer": "按客户经理"}
MIGRATION_COLUMNS = tuple(FIVE_CLASSES) + (SETTLED, WRITTEN_OFF)
MIGRATION_LABELS = {**FIVE_CLASSES, SETTLED: "结清", WRITTEN_OFF: "核销"}
EVER_THRESHOLDS = (30, 90)  # vintage: ever more than 30 / 90 days overdue


def cents_sum(column):
    """SUM of a money column as whole cents (exact where SQLite keeps NUMERIC as REAL)."""
    return func.coalesce(func.sum(func.round(column * 100)), 0)


def yuan(cents) -> Decimal:
    return (Decimal(int(round(cents or 0))) / 100).quantize(Decimal("0.01"))


def bucket_sql(days):
    """models.snapshot.AGEING_BUCKETS as a CASE (the snapshot stores it; 今日 computes it)."""
    return case(*[(days <= high, literal(code)) for code, _l, _lo, high in AGEING_BUCKETS if high is not None],
                else_=literal(AGEING_BUCKETS[-1][0]))


# ---- as-of ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class AsOf:
    """A month-end held in the snapshots, or None for 「今日」 (the loans as they are now)."""

    month_end: date | None

    @property
    def arg(self) -> str:
        return self.month_end.isoformat() if self.month_end else "today"

    @property
    def label(self) -> str:
        return f"{self.month_end:%Y-%m-%d} 月末" if self.month_end else "今日(实时)"

    def columns(self) -> dict:
        """What the grouped reports select: the loans now (「今日」), or a month-end's
        snapshot_summary (its rows already counted and summed per class, bucket, product and
        officer when the month-end was written)."""
        if self.month_end is None:
            return dict(cls=Loan.five_class, product=Loan.product_id, officer=Loan.officer_id,
                        bucket=bucket_sql(Loan.days_overdue), count=func.count(),
                        cents=cents_sum(Loan.outstanding_principal), where=[Loan.status.in_(OPEN_LOAN_STATUSES)])
        return dict(cls=SS.five_class, product=SS.product_id, officer=SS.officer_id, bucket=SS.bucket,
                    count=func.coalesce(func.sum(SS.loans), 0), cents=func.coalesce(func.sum(SS.balance_cents), 0),
                    where=[SS.month_end == self.month_end, SS.status.in_(OPEN_LOAN_STATUSES)])


def snapshot_months() -> list[date]:
    """Month-ends held, newest first."""
    return list(db.session.execute(select(SnapshotMonth.month_end).order_by(SnapshotMonth.month_end.desc()))
                .scalars())


def parse_as_of(raw: str | None, months: list[date], allow_today: bool = True) -> AsOf:
    """The as-of the user chose: 'today', a held month-end, else the latest month-end (or 今日
    when no month-end is held yet)."""
    if raw == "today" and allow_today:
        return AsOf(None)
    try:
        day = date.fromisoformat(raw or "")
    except ValueError:
        day = None
    if day in months:
        return AsOf(day)
    if months:
        return AsOf(months[0])
    return AsOf(None)


def group_labels(by: str) -> dict:
    if by == "product":
        return dict(db.session.execute(select(LoanProduct.id, LoanProduct.name)).all())
    if by == "officer":
        return dict(db.session.execute(select(User.id, User.label_sql(User))).all())
    return {}


# ---- 五级分类统计 ----------------------------------------------------------------------------
@dataclass
class ClassCell:
    code: int
    label: str
    count: int = 0
    balance: Decimal = Decimal("0.00")
    count_share: Decimal = Decimal("0.00")
    balance_share: Decimal = Decimal("0.00")


@dataclass
class ClassGroup:
    key: object  # product / officer id, or None for the whole book
    label: str
    cells: list[ClassCell] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(c.count for c in self.cells)

    @property
    def balance(self) -> Decimal:
        return sum((c.balance for c in self.cells), Decimal("0.00"))

    @property
    def npl_balance(self) -> Decimal:
        return sum((c.balance for c in self.cells if c.code in NPL_CLASSES), Decimal("0.00"))

    @property
    def npl_ratio(self) -> Decimal | None:
        return ratio_percent(self.npl_balance, self.balance)


def _class_group(key, label, figures: dict) -> ClassGroup:
    cells = [ClassCell(code, name, *figures.get(code, (0, Decimal("0.00")))) for code, name in FIVE_CLASSES.items()]
    for cell, n_share, b_share in zip(cells, largest_remainder_shares([c.count for c in cells]),
                                      largest_remainder_shares([c.balance for c in cells])):
        cell.count_share, cell.balance_share = n_share, b_share
    return ClassGroup(key, label, cells)


def class_statistics(as_of: AsOf, by: str = "") -> tuple[ClassGroup, list[ClassGroup]]:
    """(the whole book, one group per product / officer when `by` is set) per class:
    笔数, 余额, shares that add up to exactly 100.00%, 不良贷款率."""
    c = as_of.columns()
    keys = [c[by]] if by else []
    rows = db.session.execute(select(*keys, c["cls"], c["count"], c["cents"])
                              .where(*c["where"]).group_by(*keys, c["cls"])).all()
    total, groups = defaultdict(lambda: [0, 0]), defaultdict(dict)
    for row in rows:
        k, (cls, n, cents) = (row[0] if by else None), row[-3:]
        total[cls][0] += n
        total[cls][1] += int(round(cents))
        groups[k][cls] = (n, yuan(cents))
    whole = _class_group(None, "合计", {cls: (n, yuan(cents)) for cls, (n, cents) in total.items()})
    if not by:
        return whole, []
    labels = group_labels(by)
    parts = [_class_group(k, labels.get(k, "(未指定)"), figures) for k, figures in groups.items()]
    parts.sort(key=lambda g: (-g.balance, str(g.label)))
    return whole, parts


@dataclass(frozen=True)
class TrendPoint:
    month_end: date
    count: int
    balance: Decimal
    by_class: dict  # class -> (count, balance)

    @property
    def npl_balance(self) -> Decimal:
        return sum((self.by_class.get(c, (0, Decimal(0)))[1] for c in NPL_CLASSES), Decimal("0.00"))

    @property
    def npl_ratio(self) -> Decimal | None:
        return ratio_percent(self.npl_balance, self.balance)


def class_trend(months: list[date], n: int = 12) -> list[TrendPoint]:
    """Per held month-end (the latest n, oldest first): balances per class and 不良贷款率."""
    chosen = sorted(months[:n])
    rows = db.session.execute(
        select(SS.month_end, SS.five_class, func.sum(SS.loans), func.sum(SS.balance_cents))
        .where(SS.month_end.in_(chosen), SS.status.in_(OPEN_LOAN_STATUSES))
        .group_by(SS.month_end, SS.five_class)).all()
    figures = defaultdict(dict)
    for day, cls, cnt, cents in rows:
        figures[day][cls] = (cnt, yuan(cents))
    return [TrendPoint(d, sum(v[0] for v in figures[d].values()),
                       sum((v[1] for v in figures[d].values()), Decimal("0.00")), figures[d]) for d in chosen]


# ---- 五级分类迁徙 ----------------------------------------------------------------------------
@dataclass
class Migration:
    start: date
    end: date
    cells: dict  # (start class, end class / SETTLED / WRITTEN_OFF) -> MigrationCell
    new: dict  # end class -> MigrationCell: loans open at the end, not open at the start

    def cell(self, start, end) -> MigrationCell:
        return self.cells.get((start, end), MigrationCell(0, Decimal("0.00"), Decimal("0.00")))

    def row_total(self, start) -> MigrationCell:
        cells = [self.cell(start, e) for e in MIGRATION_COLUMNS]
        return MigrationCell(sum(c.count for c in cells), sum((c.start_balance for c in cells), Decimal("0.00")),
                             sum((c.end_balance for c in cells), Decimal("0.00")))

    @property
    def rates(self):
        return migration_rates(self.cells)


def migration(start: date, end: date) -> Migration:
    """Loans open at month-end `start` by their class then, against their class at `end`, or
    结清 / 核销 when they closed in between; balances at both ends (closed: 0 at the end).
    Consecutive month-ends are read from snapshot_migration (written with the month-ends);
    any other pair is computed by the same SELECT (jobs.steps.snapshot.migration_select)."""
    M = SnapshotMigration
    rows = db.session.execute(select(M.from_class, M.to_col, M.loans, M.start_cents, M.end_cents)
                              .where(M.start_month_end == start, M.end_month_end == end)).all()
    if not rows:
        rows = db.session.execute(migration_select(start, end)).all()
    cells, new = {}, {}
    for cls, col, n, start_cents, end_cents in rows:
        cell = MigrationCell(n, yuan(start_cents), yuan(end_cents))
        if cls == 0:
            new[int(col)] = cell
        else:
            cells[(cls, int(col) if col not in (SETTLED, WRITTEN_OFF) else col)] = cell
    return Migration(start, end, cells, new)


def migration_trend(months: list[date], n: int = 12) -> list[Migration]:
    """Each held month-end against the one before it (the latest n pairs, oldest first)."""
    chosen = sorted(months[:n + 1])
    return [migration(a, b) for a, b in zip(chosen, chosen[1:])]


# ---- 逾期账龄 --------------------------------------------------------------------------------
@dataclass
class AgeingRow:
    key: object
    label: str
    buckets: dict  # bucket code -> (count, balance)

    @property
    def count(self) -> int:
        return sum(v[0] for v in self.buckets.values())

    @property
    def balance(self) -> Decimal:
        return sum((v[1] for v in self.buckets.values()), Decimal("0.00"))

    def overdue_balance(self, from_bucket: int = 1) -> Decimal:
        return sum((v[1] for k, v in self.buckets.items() if k >= from_bucket), Decimal("0.00"))

    @property
    def overdue_ratio(self) -> Decimal | None:
        return ratio_percent(self.overdue_balance(1), self.balance)

    @property
    def over90_ratio(self) -> Decimal | None:
        return ratio_percent(self.overdue_balance(4), self.balance)


def ageing(as_of: AsOf) -> tuple[AgeingRow, list[AgeingRow]]:
    """(the whole book, one row per product): count and balance per ageing bucket."""
    c = as_of.columns()
    rows = db.session.execute(select(c["product"], c["bucket"], c["count"], c["cents"])
                              .where(*c["where"]).group_by(c["product"], c["bucket"])).all()
    per, total = defaultdict(dict), defaultdict(lambda: [0, 0])
    for product, bucket, n, cents in rows:
        per[product][bucket] = (n, yuan(cents))
        total[bucket][0] += n
        total[bucket][1] += int(round(cents))
    labels = group_labels("product")
    products = sorted((AgeingRow(k, labels.get(k, ""), v) for k, v in per.items()), key=lambda r: -r.balance)
    return AgeingRow(None, "合计", {b: (n, yuan(cents)) for b, (n, cents) in total.items()}), products


def ageing_trend(months: list[date], n: int = 12) -> list[tuple[date, AgeingRow]]:
    chosen = sorted(months[:n])
    rows = db.session.execute(select(SS.month_end, SS.bucket, func.sum(SS.loans), func.sum(SS.balance_cents))
                              .where(SS.month_end.in_(chosen), SS.status.in_(OPEN_LOAN_STATUSES))
                              .group_by(SS.month_end, SS.bucket)).all()
    per = defaultdict(dict)
    for day, bucket, cnt, cents in rows:
        per[day][bucket] = (cnt, yuan(cents))
    return [(d, AgeingRow(d, f"{d:%Y-%m}", per[d])) for d in chosen]


# ---- 放款批次分析 (vintage) -------------------------------------------------------------------
@dataclass
class Cohort:
    month: str  # 'YYYY-MM'
    count: int
    principal: Decimal
    ever: dict  # (threshold, months on book) -> principal ever over threshold by then

    def share(self, threshold: int, mob: int) -> Decimal | None:
        if (threshold, mob) not in self.ever:
            return None
        return ratio_percent(self.ever[(threshold, mob)], self.principal)


def _months_between(start_month: str, day: date) -> int:
    y, m = int(start_month[:4]), int(start_month[5:7])
    return (day.year - y) * 12 + day.month - m


def _month_add(month: str, k: int) -> str:
    y, m = divmod(int(month[:4]) * 12 + int(month[5:7]) - 1 + k, 12)
    return f"{y:04d}-{m + 1:02d}"


def vintage(months: list[date], cohorts: int = 24) -> tuple[list[Cohort], int]:
    """Per disbursement month (the latest `cohorts` up to the newest month-end held): loans,
    principal disbursed, and for each month-end held the share of that principal on loans
    that had ever been more than 30 / 90 days overdue by then (months on book = month-ends
    since the disbursement month). A loan's worst days overdue up to each month-end is in its
    snapshot rows (max_days_overdue); a loan that closed is carried in the month it closed,
    so it still counts at later month-ends. Returns (cohorts newest first, the largest MOB)."""
    if not months:
        return [], 0
    newest = max(months)
    first = _month_add(f"{newest:%Y-%m}", -(cohorts - 1))
    first_day = date(int(first[:4]), int(first[5:7]), 1)
    start_month = func.substr(cast(Loan.start_date, String), 1, 7)
    base = db.session.execute(select(start_month, func.count(), cents_sum(Loan.principal))
                              .where(Loan.start_date >= first_day, Loan.start_date <= newest)
                              .group_by(start_month)).all()
    result = {m: Cohort(m, n, yuan(c), {}) for m, n, c in base}
    held = sorted(d for d in months if d >= first_day)
    # Per month-end and cohort: principal ever over 30 (level >= 1) / 90 (level 2) days, split
    # into loans still in that month-end (open, or closed in its month) and loans closed then.
    C = SnapshotCohort
    at, closed = defaultdict(lambda: Decimal("0.00")), defaultdict(lambda: Decimal("0.00"))
    for day, m, was_closed, level, cents in db.session.execute(
            select(C.month_end, C.start_month, C.closed, C.ever_level, func.sum(C.principal_cents))
            .where(C.ever_level >= 1, C.start_month >= first, C.month_end.in_(held))
            .group_by(C.month_end, C.start_month, C.closed, C.ever_level)).all():
        for threshold, min_level in zip(EVER_THRESHOLDS, (1, 2)):
            if level >= min_level:
                at[(day, m, threshold)] += yuan(cents)
                if was_closed:
                    closed[(day, m, threshold)] += yuan(cents)
    carried = defaultdict(lambda: Decimal("0.00"))  # closed at earlier month-ends
    for d in held:
        for m, cohort in result.items():
            mob = _months_between(m, d)
            for threshold in EVER_THRESHOLDS:
                if mob >= 0:
                    cohort.ever[(threshold, mob)] = at[(d, m, threshold)] + carried[(m, threshold)]
                carried[(m, threshold)] += closed[(d, m, threshold)]
    max_mob = max((_months_between(m, newest) for m in result), default=0)
    return sorted(result.values(), key=lambda c: c.month, reverse=True), max_mob


# ---- 核销与收回 ------------------------------------------------------------------------------
@dataclass
class WriteOffMonth:
    month: str
    written_off_count: int = 0
    written_off_principal: Decimal = Decimal("0.00")
    written_off_interest: Decimal = Decimal("0.00")
    recovered_count: int = 0
    recovered: Decimal = Decimal("0.00")

    @property
    def recovery_ratio(self) -> Decimal | None:
        return ratio_percent(self.recovered, self.written_off_principal + self.written_off_interest)


def writeoffs_and_recoveries(as_of: date, n: int = 12) -> list[WriteOffMonth]:
    """Per calendar month (the latest n up to as_of, newest first): loans written off (final
    approval) with the principal and interest written off, and recoveries (核销后收回: money
    received on a written-off loan after its write-off date)."""
    ends = last_month_ends(month_end(as_of), n)
    first = ends[0].replace(day=1)
    out = {f"{d:%Y-%m}": WriteOffMonth(f"{d:%Y-%m}") for d in ends}
    wo_month = func.substr(cast(Loan.written_off_date, String), 1, 7)
    for m, cnt, p, i in db.session.execute(
            select(wo_month, func.count(), cents_sum(WriteOff.principal_amount), cents_sum(WriteOff.interest_amount))
            .join(Loan, Loan.id == WriteOff.loan_id)
            .where(WriteOff.review_status == "approved", Loan.status == WRITTEN_OFF,
                   Loan.written_off_date >= first, Loan.written_off_date <= ends[-1])
            .group_by(wo_month)).all():
        row = out[m]
        row.written_off_count, row.written_off_principal, row.written_off_interest = cnt, yuan(p), yuan(i)
    rec_month = func.substr(cast(Repayment.paid_on, String), 1, 7)
    for m, cnt, amount in db.session.execute(
            select(rec_month, func.count(func.distinct(Repayment.loan_id)), cents_sum(Repayment.amount))
            .join(Loan, Loan.id == Repayment.loan_id)
            .where(Loan.status == WRITTEN_OFF, Repayment.paid_on > Loan.written_off_date,
                   Repayment.paid_on >= first, Repayment.paid_on <= ends[-1])
            .group_by(rec_month)).all():
        out[m].recovered_count, out[m].recovered = cnt, yuan(amount)
    return sorted(out.values(), key=lambda r: r.month, reverse=True)
