"""How values read on screen, declared once: money, rates, dates, times, yes/no, empty.

Lists (ScreenView.row_cells), details pages and our own templates (the Jinja filters
`money`, `rate`, `day`, `minute`, `yesno` registered by `register_filters`) all format through
this table. Exports keep numbers and dates typed (admin_app.export); only the screen reads
them as text.

- money: thousands separators, two decimals, ROUND_HALF_UP, right-aligned (`1,500,000.00`);
- rate: an annual percentage with 2 to 4 decimals and a percent sign (`9.00%`, `9.1250%`);
- date: `YYYY-MM-DD`; time: to the minute (`YYYY-MM-DD HH:MM`), a stored timestamp (naive UTC)
  shown in DISPLAY_TIMEZONE (admin_app.clock);
- shares and ratios: two decimals and a percent sign (`12.34%`);
- counts: thousands separators (`12,000`);
- booleans: 是 / 否.

A column's kind comes from its SQL type: Numeric with scale 2 is money (models.types.Money),
any other Numeric is a rate (models.types.Rate), Date is a date, DateTime a time."""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Callable

from sqlalchemy import Boolean, Date, DateTime, Numeric
from sqlalchemy.orm import ColumnProperty, RelationshipProperty

from admin_app import clock

CENT = Decimal("0.01")
EMPTY = "—"  # an empty value in details and logs (lists leave the cell blank)


def money_text(value: Any) -> str:
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{amount:,.2f}"


def rate_text(value: Any) -> str:
    """An annual rate in percent: at least two decimals, up to four when set so."""
    if value is None or value == "":
        return ""
    try:
        rate = Decimal(str(value)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return str(value)
    text = f"{rate:.4f}"
    while text.endswith("0") and len(text.split(".")[1]) > 2:
        text = text[:-1]
    return text + "%"


def day_text(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = value.date()
    return value.strftime("%Y-%m-%d") if isinstance(value, date) else str(value)


def minute_text(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return clock.shown(value).strftime("%Y-%m-%d %H:%M")
    return day_text(value)


def second_text(value: Any) -> str:
    """A stored timestamp to the second (job runs), in the display zone."""
    if isinstance(value, datetime):
        return clock.shown(value).strftime("%Y-%m-%d %H:%M:%S")
    return minute_text(value)


def yesno_text(value: Any) -> str:
    if value is None:
        return ""
    return "是" if value else "否"


def count_text(value: Any) -> str:
    return "" if value is None else f"{value:,}"


def percent_text(value: Any) -> str:
    """A share or ratio in percent (不良贷款率, 占比): two decimals, ROUND_HALF_UP."""
    if value is None or value == "":
        return ""
    try:
        share = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{share:.2f}%"


FORMATS: dict[str, Callable[[Any], str]] = {
    "money": money_text, "rate": rate_text, "date": day_text, "datetime": minute_text, "bool": yesno_text,
}
# Kinds whose cells are right-aligned (numbers read by their last digit).
RIGHT_ALIGNED = frozenset({"money", "rate"})
MONEY_PATTERN = re.compile(r"^-?\d{1,3}(,\d{3})*\.\d{2}$")


def kind_of_type(sql_type) -> str | None:
    if isinstance(sql_type, Numeric):
        return "money" if sql_type.scale == 2 else "rate"
    if isinstance(sql_type, DateTime):
        return "datetime"
    if isinstance(sql_type, Date):
        return "date"
    if isinstance(sql_type, Boolean):
        return "bool"
    return None


def column_kind(model, name: str) -> str | None:
    """The kind of `name` ("amount", "loan.principal") on `model`, or None (text, codes,
    properties)."""
    from sqlalchemy import inspect

    target = model
    parts = name.split(".")
    for i, part in enumerate(parts):
        try:
            prop = inspect(target).attrs.get(part)
        except Exception:  # not a mapped class
            return None
        if prop is None:
            return None
        if isinstance(prop, RelationshipProperty):
            target = prop.mapper.class_
            continue
        if isinstance(prop, ColumnProperty) and i == len(parts) - 1:
            return kind_of_type(prop.columns[0].type)
        return None
    return None


def cell_text(kind: str | None, value: Any) -> Any:
    """A raw value as its kind reads; text (already formatted by a screen) passes through."""
    if kind is None or value is None or isinstance(value, str):
        return value
    if kind in ("money", "rate") and isinstance(value, bool):
        return value
    if kind in ("money", "rate") and not isinstance(value, (Decimal, int, float)):
        return value
    return FORMATS[kind](value)


def is_right_aligned(kind: str | None, text: Any) -> bool:
    return kind in RIGHT_ALIGNED or (isinstance(text, str) and bool(MONEY_PATTERN.match(text)))


def register_filters(app) -> None:
    app.jinja_env.filters.update(money=money_text, rate=rate_text, day=day_text, minute=minute_text, second=second_text,
                                 yesno=yesno_text, count=count_text, percent=percent_text)
