"""WTForms validators with Chinese messages, wrapping models.identity."""
from wtforms.validators import ValidationError

from models import identity


class ResidentOrCreditCode:
    """身份证号 for people, 统一社会信用代码 for companies; `kind_field` names the type field."""

    def __init__(self, kind_field: str = "kind"):
        self.kind_field = kind_field

    def __call__(self, form, field):
        kind_field = getattr(form, self.kind_field, None)
        kind = kind_field.data if kind_field is not None else "person"
        value = (field.data or "").strip().upper()
        field.data = value
        if kind == "company":
            if not identity.is_valid_uscc(value):
                raise ValidationError("统一社会信用代码无效(应为18位,且校验位正确)")
        elif not identity.is_valid_resident_id(value):
            raise ValidationError("身份证号无效(应为18位,且校验位正确)")


def phone(form, field):
    field.data = (field.data or "").strip()
    if not identity.is_valid_phone(field.data):
        raise ValidationError("联系电话无效(手机号11位,或区号-座机号)")


class NumberPattern:
    """A loan or contract number typed by staff follows the company's numbering rule: the
    regular expression in the app setting `config_key` (LOAN_NUMBER_PATTERN /
    CONTRACT_NUMBER_PATTERN; uppercase letters, digits and hyphens by default), so no
    markup or spreadsheet formula can be a number."""

    def __init__(self, config_key: str):
        self.config_key = config_key

    def __call__(self, form, field):
        import re

        from flask import current_app

        value = (field.data or "").strip()
        field.data = value
        if value and not re.fullmatch(current_app.config[self.config_key], value):
            raise ValidationError(f"{field.label.text}不符合公司编号规则({current_app.config[self.config_key + '_TEXT']})"
                                  ",或留空自动生成")
