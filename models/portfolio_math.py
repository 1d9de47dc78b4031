"""Pure arithmetic of the portfolio reports (no database): shares that add up, the
regulator's migration rates (迁徙率) and ratios, all in Decimal with explicit rounding."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
SETTLED, WRITTEN_OFF = "settled", "written_off"


def largest_remainder_shares(values, places: int = 2) -> list[Decimal]:
    """Percent shares of `values` rounded to `places` decimals that add up to exactly 100
    (largest-remainder / Hamilton rule): every share is first rounded down, then the units
    still missing go one each to the largest remainders (ties: the earlier value). All zero:
    all shares 0. Rounding each share on its own can add up to 100.01 (4, 1, 1 loans:
    66.67 + 16.67 + 16.67)."""
    values = [Decimal(v) for v in values]
    total = sum(values, Decimal(0))
    if not total:
        return [Decimal(0).quantize(Decimal(1).scaleb(-places)) for _ in values]
    unit = Decimal(1).scaleb(-places)
    units_total = int(HUNDRED / unit)
    exact = [v * units_total / total for v in values]
    floors = [int(x.to_integral_value(ROUND_FLOOR)) for x in exact]
    missing = units_total - sum(floors)
    order = sorted(range(len(values)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:missing]:
        floors[i] += 1
    return [(Decimal(n) * unit).quantize(unit) for n in floors]


def ratio_percent(part, whole) -> Decimal | None:
    """part / whole in percent, 2 decimals half up; None when whole is 0 (shown as —)."""
    whole = Decimal(whole)
    if not whole:
        return None
    return (Decimal(part) * HUNDRED / whole).quantize(CENT, ROUND_HALF_UP)


# The regulator's migration rates (原银监会《非现场监管指标定义及计算公式》): for class c,
#   c类贷款迁徙率 = 期初c类贷款向下迁徙金额 / (期初c类贷款余额 − 期初c类贷款期间减少金额) × 100%
# 向下迁徙金额: the period-end balance of the loans that were c at the start and are in a worse
# class at the end (正常类: 关注/次级/可疑/损失; 关注类: 次级/可疑/损失; 次级类: 可疑/损失;
# 可疑类: 损失). 期间减少金额: how much those start-of-period balances fell during the period
# (repaid, settled, disposed of, written off) — start balance less the end balance of the ones
# still open. 正常贷款迁徙率 does the same for 正常+关注 together, moving into 次级/可疑/损失.
MIGRATION_RATES = (
    ("正常类贷款迁徙率", (1,), 2),
    ("关注类贷款迁徙率", (2,), 3),
    ("次级类贷款迁徙率", (3,), 4),
    ("可疑类贷款迁徙率", (4,), 5),
    ("正常贷款迁徙率", (1, 2), 3),
)


@dataclass(frozen=True)
class MigrationCell:
    """Loans in class `start` at the first month-end and in `end` (a class 1–5, or SETTLED /
    WRITTEN_OFF) at the second, with their balances at both."""

    count: int
    start_balance: Decimal
    end_balance: Decimal


@dataclass(frozen=True)
class MigrationRate:
    name: str
    start_balance: Decimal  # 期初余额
    decrease: Decimal  # 期间减少金额
    moved_down: Decimal  # 向下迁徙金额 (period-end balance)
    rate: Decimal | None  # percent; None when the denominator is 0

    @property
    def base(self) -> Decimal:
        return self.start_balance - self.decrease


def migration_rates(cells: dict) -> list[MigrationRate]:
    """The rates of MIGRATION_RATES from a matrix {(start_class, end): MigrationCell}."""
    out = []
    for name, starts, worse_from in MIGRATION_RATES:
        start_balance = decrease = moved = Decimal("0.00")
        for (start, end), cell in cells.items():
            if start not in starts:
                continue
            start_balance += cell.start_balance
            remaining = Decimal(0) if end in (SETTLED, WRITTEN_OFF) else cell.end_balance
            decrease += max(cell.start_balance - remaining, Decimal(0))
            if end not in (SETTLED, WRITTEN_OFF) and end >= worse_from:
                moved += cell.end_balance
        out.append(MigrationRate(name, start_balance, decrease, moved,
                                 ratio_percent(moved, start_balance - decrease)))
    return out
