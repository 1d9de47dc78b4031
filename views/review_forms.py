"""The forms of the review pages (审核意见, 调整分类, 冲正, 核销申请): declared with WTForms like
every other form, so a field left empty is said in Chinese under that field (not a flash
after a redirect, nor the browser's bubble). The services check the same and the business
rules again; these declarations only say which fields a person must fill."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import FileField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from models.enums import FIVE_CLASSES
from models.ledger import RULES


def _reason(label: str, limit: int = 2000) -> TextAreaField:
    return TextAreaField(label, validators=[DataRequired(f"请填写{label}"),
                                            Length(max=limit, message=f"{label}不能超过{limit}字")])


class DecisionForm(FlaskForm):
    """通过 / 驳回 at a stage; the decision is the button pressed (name="decision")."""
    opinion = _reason("审核意见")


class ClassificationForm(FlaskForm):
    to_class = SelectField("调整后分类", validators=[DataRequired("请选择调整后的五级分类")])
    reason = _reason("调整原因")

    def __init__(self, *args, current: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.to_class.choices = [("", "请选择")] + [(str(k), v) for k, v in FIVE_CLASSES.items() if k != current]


class ReversalForm(FlaskForm):
    reason = _reason("冲正原因")


class WriteOffForm(FlaskForm):
    """添加 (loan_id picked through the lookup) and 修改后重新提交 (without loan_id)."""
    loan_id = HiddenField("贷款", validators=[DataRequired("请选择要核销的贷款")])
    principal_amount = StringField("核销本金(元)", validators=[Optional()],
                                   description="不填则为剩余本金。" + RULES["write_off"],
                                   render_kw={"inputmode": "decimal"})
    interest_amount = StringField("核销利息(元)", validators=[Optional()],
                                  description="不填则为欠息及罚息合计", render_kw={"inputmode": "decimal"})
    reason = _reason("核销原因说明", 4000)
    evidence = FileField("证明材料(PDF/JPEG/PNG)")


class WriteOffAmendForm(WriteOffForm):
    loan_id = None
