"""Bank-card rules (客户银行卡账户管理), one place for the card screen and the customer
form's inline cards:
- a personal customer's card: 12-19 digits (UnionPay and international cards pass Luhn);
  a company's 对公账户: 8-30 digits, no check digit;
- 账户名 is the customer's own name (person) or the company's name;
- 开户行 (开户银行 and 开户支行) required;
- a card number once per customer; at most one default card per customer (a new default
  clears the old one; the database holds a partial unique index too)."""
from __future__ import annotations

from sqlalchemy import select, update

from admin_app.extensions import db
from models import BankCard, Customer
from models.identity import is_valid_card_number
from services import BusinessError


def normalise_number(raw: str | None) -> str:
    return (raw or "").replace(" ", "").strip()


def card_errors(customer: Customer | None, *, card_number: str, account_name: str | None,
                bank_name: str | None, branch: str | None, card_id: int | None = None,
                other_numbers=()) -> dict[str, str]:
    """Field -> message for every rule the card breaks (empty when it is valid)."""
    errors: dict[str, str] = {}
    number = normalise_number(card_number)
    if customer is None:
        errors["customer"] = "请选择客户"
        return errors
    if customer.kind == "company":
        if not (number.isdigit() and 8 <= len(number) <= 30):
            errors["card_number"] = "对公账户账号应为8-30位数字"
    elif not is_valid_card_number(number):
        errors["card_number"] = "银行卡号无效(12-19位数字,银联及国际卡须通过卡号校验位校验)"
    if (account_name or "").strip() != customer.name:
        whose = "企业名称" if customer.kind == "company" else "客户本人姓名"
        errors["account_name"] = f"账户名须与{whose}「{customer.name}」一致"
    if not (bank_name or "").strip():
        errors["bank_name"] = "请填写开户银行"
    if not (branch or "").strip():
        errors["branch"] = "请填写开户行(开户支行)"
    if "card_number" not in errors:
        taken = number in other_numbers or (customer.id is not None and db.session.execute(
            select(BankCard.id).where(BankCard.customer_id == customer.id, BankCard.card_number == number,
                                      BankCard.id != (card_id or 0)).limit(1)).first() is not None)
        if taken:
            errors["card_number"] = "该客户已登记过此卡号"
    return errors


def clear_other_defaults(customer_id: int, keep_card_id: int | None) -> None:
    """Before a card becomes the default: the customer's other cards stop being default
    (run before the new default is written, so the partial unique index never sees two)."""
    with db.session.no_autoflush:
        stmt = update(BankCard).where(BankCard.customer_id == customer_id, BankCard.is_default.is_(True))
        if keep_card_id:
            stmt = stmt.where(BankCard.id != keep_card_id)
        db.session.execute(stmt.values(is_default=False).execution_options(synchronize_session=False))


def check(customer, **fields) -> None:
    errors = card_errors(customer, **fields)
    if errors:
        raise BusinessError(next(iter(errors.values())))
