"""Columns of an import declaration and the parsers behind them. A parser takes the cell as
read from the file (text from CSV; text, number or date from XLSX) and returns the value or
raises FieldError with the Chinese message the preview shows beside the row and column.
Cells are data: text starting with = is text, never a formula."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from models import identity

MAX_MONEY = Decimal("1000000000000")  # 10^12, SPEC §4 bounds
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日")


class FieldError(ValueError):
    """A cell's value is refused; str() is the Chinese message."""


def cell_text(value: Any) -> str:
    """The cell as the user typed it: numbers without a spurious .0, dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)[:-2] if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value).strip()


# ---- parsers ---------------------------------------------------------------------

def text(max_length: int) -> Callable[[Any], str]:
    def parse(value):
        out = cell_text(value)
        if len(out) > max_length:
            raise FieldError(f"内容过长(最多 {max_length} 个字)")
        return out
    parse.fmt = f"文本,最多 {max_length} 个字"
    return parse


def _no_float_identifier(value, what: str) -> str:
    if isinstance(value, str) and "*" in value:
        raise FieldError(f"{what}是脱敏显示的(含 *),无法导入:请使用管理员的完整号码导出,或填写完整号码")
    if isinstance(value, float) and not value.is_integer():
        raise FieldError(f"{what}被 Excel 当作数字保存而丢失了位数,请将该列设为文本格式后重新填写")
    out = cell_text(value).replace(" ", "").upper()
    if isinstance(value, float) and abs(value) >= 1e15:
        raise FieldError(f"{what}被 Excel 当作数字保存而丢失了位数,请将该列设为文本格式后重新填写")
    return out


def resident_or_credit_code(value) -> str:
    """Checked against the row's 类型 by the kind's row rule (person: 身份证号, company: USCC)."""
    out = _no_float_identifier(value, "证件号码")
    if len(out) > 32:
        raise FieldError("证件号码过长")
    return out


resident_or_credit_code.fmt = "个人填18位身份证号,企业填18位统一社会信用代码(文本格式)"


def check_id_number(kind: str, number: str) -> str | None:
    """The Chinese reason an ID number is wrong for the customer type, or None."""
    if kind == "company":
        if len(number) != 18:
            return "统一社会信用代码应为18位"
        return None if identity.is_valid_uscc(number) else "统一社会信用代码校验位错误"
    if len(number) != 18 or not number[:17].isdigit():
        return "身份证号应为18位(前17位为数字)"
    month, day = int(number[10:12]), int(number[12:14])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return "身份证号中的出生日期无效"
    return None if identity.is_valid_resident_id(number) else "身份证号校验位错误"


def phone(value) -> str:
    out = _no_float_identifier(value, "联系电话")
    if not identity.is_valid_phone(out):
        raise FieldError("联系电话格式错误(手机号11位,或区号-座机号)")
    return out


phone.fmt = "手机号11位,或 区号-座机号"


def card_number(value) -> str:
    out = _no_float_identifier(value, "银行卡号")
    if not out.isdigit() or not 12 <= len(out) <= 19:
        raise FieldError("银行卡号应为12-19位数字")
    if not identity.is_valid_card_number(out):
        raise FieldError("银行卡号校验位错误(卡号最后一位校验码不符,请核对卡号)")
    return out


card_number.fmt = "12-19位数字(文本格式),银联卡号最后一位为校验码,须校验正确"


def number_pattern(config_key: str, label: str, max_length: int):
    """A loan or contract number follows the company's numbering rule (the app setting
    `config_key`, as on the loan form), so no markup or formula can be a number."""
    def parse(value):
        import re

        from flask import current_app

        out = cell_text(value)
        if len(out) > max_length or not re.fullmatch(current_app.config[config_key], out):
            raise FieldError(f"{label}不符合公司编号规则({current_app.config[config_key + '_TEXT']})")
        return out
    parse.fmt = "按公司编号规则:大写字母、数字和横线"
    return parse


def money(value) -> Decimal:
    if isinstance(value, bool):
        raise FieldError("金额格式错误")
    raw = cell_text(value).replace(",", "").replace(",", "").replace("¥", "").replace("元", "")
    try:
        amount = Decimal(raw)
    except (InvalidOperation, ValueError):
        raise FieldError(f"金额格式错误「{_short(raw)}」") from None
    if not amount.is_finite():
        raise FieldError("金额格式错误")
    if amount < 0:
        raise FieldError("金额不能为负数")
    if amount != amount.quantize(Decimal("0.01")):
        raise FieldError("金额最多保留两位小数")
    if amount > MAX_MONEY:
        raise FieldError("金额超过上限(10^12 元)")
    return amount.quantize(Decimal("0.01"))


money.fmt = "金额(元),最多两位小数,例如 120000.00"


def positive_money(value) -> Decimal:
    amount = money(value)
    if amount <= 0:
        raise FieldError("金额必须大于0")
    return amount


positive_money.fmt = money.fmt + ",须大于0"


def rate(value) -> Decimal:
    raw = cell_text(value).rstrip("%").strip()
    try:
        out = Decimal(raw)
    except (InvalidOperation, ValueError):
        raise FieldError(f"年利率格式错误「{_short(raw)}」") from None
    if not out.is_finite() or not Decimal(0) < out < Decimal(100):
        raise FieldError("年利率应大于0且小于100(单位:%)")
    if out != out.quantize(Decimal("0.0001")):
        raise FieldError("年利率最多保留4位小数")
    return out


rate.fmt = "年利率(%),最多4位小数,例如 12 表示 12%"


def months(value) -> int:
    raw = cell_text(value)
    if not raw.isdigit() or not 1 <= int(raw) <= 360:
        raise FieldError("期限应为1到360之间的整数(月)")
    return int(raw)


months.fmt = "整数(月),1-360"


def day(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = cell_text(value)
    if len(raw) == 10 and raw.isascii() and raw[4] == raw[7] == "-" and (raw[:4] + raw[5:7] + raw[8:]).isdigit():
        try:  # YYYY-MM-DD, what exports and most files carry: what strptime gives, without it
            parsed = date(int(raw[:4]), int(raw[5:7]), int(raw[8:]))
        except ValueError:
            pass  # the formats below refuse it with the same words
        else:
            if 1900 <= parsed.year <= 2999:
                return parsed
            raise FieldError(f"日期格式错误「{_short(raw)}」(应为 YYYY-MM-DD)")
    for fmt in DATE_FORMATS:
        try:
            parsed = datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
        if not 1900 <= parsed.year <= 2999:
            break
        return parsed
    raise FieldError(f"日期格式错误「{_short(raw)}」(应为 YYYY-MM-DD)")


day.fmt = "日期 YYYY-MM-DD,例如 2026-01-15"


def yes_no(value) -> bool:
    raw = cell_text(value)
    if raw in ("是", "Y", "y", "1", "TRUE", "True", "true"):
        return True
    if raw in ("否", "N", "n", "0", "FALSE", "False", "false", ""):
        return False
    raise FieldError("应填写「是」或「否」")


yes_no.fmt = "是 / 否"


def _short(raw: str) -> str:
    return raw if len(raw) <= 20 else raw[:20] + "…"


# ---- a column of a declaration -------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """One column of an import file: its Chinese header (what the user sees and the file
    carries), whether it must be filled, how a cell is parsed, and the allowed values
    (label -> code) offered as a drop-down in the template."""

    key: str
    header: str
    required: bool = False
    parse: Callable[[Any], Any] = text(128)
    choices: dict | None = None  # code -> label; the file carries the label (or the code)
    example: Any = ""
    note: str = ""  # extra line for 填写说明
    aliases: tuple = ()  # other headers accepted for this column (e.g. an export's header)

    @property
    def fmt(self) -> str:
        if self.choices:
            return "可选值:" + " / ".join(self.choices.values())
        return getattr(self.parse, "fmt", "文本")

    def convert(self, value):
        """The cell's value, or None when empty; FieldError when refused."""
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "":
            if self.required:
                raise FieldError("必填项未填写")
            return None
        if self.choices:
            raw = cell_text(value)
            by_label = {label: code for code, label in self.choices.items()}
            if raw in by_label:
                return by_label[raw]
            by_code = {str(code): code for code in self.choices}
            if raw in by_code:
                return by_code[raw]
            raise FieldError(f"「{_short(raw)}」不是允许的值(可选:{'、'.join(self.choices.values())})")
        return self.parse(value)
