"""Batch lookups the import kinds share: customers (by 证件号码, or by name and phone when the
file has no ID number, as the screens' exports do), loans by 贷款编号, officers by user name
or display name, products by name or code. One query per chunk of keys, never one per row."""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import select

from admin_app.extensions import db
from models import Customer, Loan, LoanProduct, User
from .engine import RowError

CHUNK = 500

CUSTOMER_ID_HEADER = "客户证件号码"


def chunked(values: Iterable, size: int = CHUNK):
    values = list(values)
    for i in range(0, len(values), size):
        yield values[i:i + size]


def by_key(model, column, keys) -> dict:
    out = {}
    for part in chunked({k for k in keys if k is not None}):
        for obj in db.session.scalars(select(model).where(column.in_(part))):
            out[getattr(obj, column.key)] = obj
    return out


def officers() -> dict[str, User]:
    """Active officers by user name and by display name (a name two share is left out)."""
    users = [u for u in db.session.scalars(select(User)) if "officer" in u.roles and u.active]
    out = {u.username: u for u in users}
    names = {}
    for u in users:
        if u.display_name:
            names.setdefault(u.display_name, []).append(u)
    out.update({name: us[0] for name, us in names.items() if len(us) == 1 and name not in out})
    return out


def resolve_officer(raw: str | None, ctx, header: str = "客户经理"):
    """The officer named in the file; an officer importing with data scope 本人 may only name
    themselves (blank means themselves)."""
    if not raw:
        return ctx.user if ctx.own_only else None
    officer = ctx.officers.get(raw)
    if officer is None:
        raise RowError(f"客户经理「{raw}」不存在(填写用户名或姓名)", header)
    if ctx.own_only and officer.id != ctx.user.id:
        raise RowError("只能导入本人名下的记录(数据权限:本人)", header)
    return officer


def products() -> dict[str, LoanProduct]:
    out = {}
    for p in db.session.scalars(select(LoanProduct)):
        out[p.code] = p
        out[p.name] = p
    return out


class CustomerResolver:
    """Finds the customer a row refers to: 客户证件号码 when given, else 客户名称 (+ 联系电话)
    when that names exactly one customer."""

    def __init__(self, rows, id_key="customer_id_number", name_key="customer_name", phone_key="customer_phone"):
        self.id_key, self.name_key, self.phone_key = id_key, name_key, phone_key
        self.by_id = by_key(Customer, Customer.id_number, (r.values.get(id_key) for r in rows))
        names = {r.values.get(name_key) for r in rows if not r.values.get(id_key) and r.values.get(name_key)}
        self.by_name: dict[str, list[Customer]] = {}
        for part in chunked(names):
            for c in db.session.scalars(select(Customer).where(Customer.name.in_(part))):
                self.by_name.setdefault(c.name, []).append(c)

    def find(self, row, ctx) -> Customer:
        number, name, phone = (row.values.get(self.id_key), row.values.get(self.name_key),
                               row.values.get(self.phone_key))
        if number:
            customer = self.by_id.get(number)
            if customer is None:
                raise RowError(f"证件号码为 {number} 的客户不存在,请先导入客户", CUSTOMER_ID_HEADER)
            if name and customer.name != name:
                raise RowError(f"客户名称与证件号码不符(系统中为「{customer.name}」)", "客户名称")
        elif name:
            found = self.by_name.get(name, [])
            if phone:
                found = [c for c in found if c.phone == phone]
            if not found:
                raise RowError(f"客户「{name}」不存在,请先导入客户", "客户名称")
            if len(found) > 1:
                raise RowError(f"名为「{name}」的客户不止一个,请填写客户证件号码", "客户名称")
            customer = found[0]
        else:
            raise RowError("请填写客户证件号码或客户名称", CUSTOMER_ID_HEADER)
        if ctx.own_only and customer.officer_id != ctx.user.id:
            raise RowError(f"客户「{customer.name}」不在您的数据权限范围内", "客户名称")
        return customer


def loans_by_no(rows, key="loan_no") -> dict[str, Loan]:
    return by_key(Loan, Loan.loan_no, (r.values.get(key) for r in rows))


def find_loan(row, ctx, key="loan_no") -> Loan:
    loan_no = row.values.get(key)
    loan = ctx.loans.get(loan_no)
    if loan is None:
        raise RowError(f"贷款编号「{loan_no}」不存在,请先导入贷款", "贷款编号")
    if ctx.own_only and loan.officer_id != ctx.user.id:
        raise RowError(f"贷款「{loan_no}」不在您的数据权限范围内", "贷款编号")
    return loan
