"""The five-level classification rule of SPEC §4 (商业银行金融资产风险分类办法, 2023):
any overdue amount -> at least 关注; over 90 days -> at least 次级; over 270 days -> at
least 可疑; over 360 days -> 损失. The day counts are admin parameters ("over N days").

One source for the rule: proposals check it with `minimum_class`, the daily job computes
loan.suggested_class set-based with `minimum_class_sql` from the same thresholds."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, literal

from .enums import FIVE_CLASSES

ATTENTION, SUBSTANDARD, DOUBTFUL, LOSS = 2, 3, 4, 5

# class -> the settings key holding its "over N days" threshold
THRESHOLD_KEYS = {
    ATTENTION: "class.attention_days",
    SUBSTANDARD: "class.substandard_days",
    DOUBTFUL: "class.doubtful_days",
    LOSS: "class.loss_days",
}


@dataclass(frozen=True)
class Thresholds:
    """Days overdue a loan must exceed to be at least the given class."""

    attention: int = 0
    substandard: int = 90
    doubtful: int = 270
    loss: int = 360

    def rules(self) -> tuple[tuple[int, int], ...]:
        """(class, days) from the worst class down: the first rule exceeded wins."""
        return ((LOSS, self.loss), (DOUBTFUL, self.doubtful),
                (SUBSTANDARD, self.substandard), (ATTENTION, self.attention))


def thresholds() -> Thresholds:
    """The thresholds currently configured in admin_app.settings (defaults of SPEC §4)."""
    from admin_app.settings import get_int

    return Thresholds(*(get_int(THRESHOLD_KEYS[c]) for c in (ATTENTION, SUBSTANDARD, DOUBTFUL, LOSS)))


def minimum_class(days_overdue: int | None, limits: Thresholds) -> int:
    """The least class a loan overdue `days_overdue` days may carry (1 = 正常)."""
    days = days_overdue or 0
    for cls, over in limits.rules():
        if days > over:
            return cls
    return 1


def minimum_class_sql(days_column, limits: Thresholds):
    """The same rule as a SQL CASE over a days-overdue column, for set-based updates."""
    return case(*[(days_column > over, literal(cls)) for cls, over in limits.rules()],
                else_=literal(1))


def rule_message(days_overdue: int | None, limits: Thresholds) -> str:
    """The rule that binds a loan overdue `days_overdue` days, in the words staff use."""
    cls = minimum_class(days_overdue, limits)
    if cls == 1:
        return "未逾期的贷款可分为任一类别"
    over = dict(limits.rules())[cls]
    when = "存在逾期的贷款" if over == 0 else f"逾期超过{over}天的贷款"
    verb = "应分为" if cls == LOSS else "至少应分为"
    return f"{when}{verb}{FIVE_CLASSES[cls]}"


def below_minimum_message(days_overdue: int | None, to_class: int, limits: Thresholds) -> str | None:
    """None when `to_class` satisfies the rule, else the refusal naming the rule."""
    if to_class >= minimum_class(days_overdue, limits):
        return None
    return (f"{rule_message(days_overdue, limits)}(该贷款逾期{days_overdue or 0}天,"
            f"不能调整为{FIVE_CLASSES.get(to_class, to_class)})")
