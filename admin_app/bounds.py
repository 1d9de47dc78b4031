"""The form side of the bounds (models.bounds): WTForms validators with Chinese messages,
and the check every ScreenView form makes on its model's money, rate and date columns.
Custom forms declare the validators (MoneyBound, RateBound, DateBound) on their fields."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from wtforms.validators import ValidationError

from models.bounds import (DATE_KINDS, NEAR_FUTURE, PAST, TERM_END, date_problem,  # noqa: F401
                           money_problem, rate_problem)


# ---- WTForms validators ---------------------------------------------------------------------
@dataclass
class _Bound:
    def label(self, field) -> str:
        return field.label.text.split("(")[0] if field.label else "数值"


class MoneyBound(_Bound):
    def __call__(self, form, field):
        if field.data is not None and field.data != "":
            problem = money_problem(field.data, self.label(field))
            if problem:
                raise ValidationError(problem)


class RateBound(_Bound):
    def __call__(self, form, field):
        if field.data is not None and field.data != "":
            problem = rate_problem(field.data, self.label(field))
            if problem:
                raise ValidationError(problem)


@dataclass
class DateBound(_Bound):
    kind: str = PAST

    def __call__(self, form, field):
        value = field.data
        if value is None:
            return
        day = value.date() if hasattr(value, "date") and callable(value.date) else value
        problem = date_problem(day, self.kind, self.label(field))
        if problem:
            raise ValidationError(problem)


# ---- the model columns' bounds --------------------------------------------------------------
def column_problems(model, values: dict, labels: dict, today: date | None = None) -> dict:
    """{field: message} for the values of `model`'s money, rate and date columns that break
    a bound (what ScreenView forms check for every model)."""
    from models.types import Money, Rate
    from sqlalchemy import Date, inspect as sa_inspect

    problems = {}
    columns = {c.key: c for c in sa_inspect(model).mapper.column_attrs}
    for name, value in values.items():
        attr = columns.get(name)
        if attr is None or value is None or value == "":
            continue
        column = attr.columns[0]
        label = labels.get(name, name).split("(")[0].split("(")[0]
        if column.type is Money:
            problem = money_problem(value, label)
        elif column.type is Rate:
            problem = rate_problem(value, label)
        elif isinstance(column.type, Date) and isinstance(value, date):
            kind = DATE_KINDS.get(f"{model.__name__}.{name}", NEAR_FUTURE)
            problem = date_problem(value, kind, label, today)
        else:
            problem = None
        if problem:
            problems[name] = problem
    return problems


