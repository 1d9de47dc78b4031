"""What can be imported: one declaration per kind (columns with their Chinese headers,
required or not, parser, allowed values; the matching key; how a row is decided and written).
Headers follow the screens' exports, so an exported file imports back."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from admin_app.extensions import db
from models import (BankCard, Collateral, CreditLine, Customer, Guarantor, ImportBalanceCheck, Loan,
                    Repayment)
from models.enums import COLLATERAL_KINDS, CUSTOMER_TYPES, FIVE_CLASSES, GUARANTOR_TYPES
from . import fields as f
from .engine import ImportKind, ImportRow, RowError
from .fields import Column
from .lookups import (CUSTOMER_ID_HEADER, CustomerResolver, by_key, chunked, find_loan, loans_by_no, officers,
                      products, resolve_officer)

TOLERANCE = Decimal("0.01")
EXAMPLE_ID = "110101199003074514"
EXAMPLE_PHONE = "13812345678"


def _changes(obj, wanted: dict, labels: dict) -> list[str]:
    """Labels of the fields whose file value (when given) differs from the record's."""
    return [labels[k] for k, v in wanted.items() if v is not None and getattr(obj, k) != v]


def customer_columns(required=False) -> tuple[Column, ...]:
    """The columns naming a record's customer (by ID number, or by name and phone)."""
    return (
        Column("customer_id_number", CUSTOMER_ID_HEADER, parse=f.resident_or_credit_code, example=EXAMPLE_ID,
               note="填写客户证件号码;不填时按客户名称(及联系电话)查找唯一客户", aliases=("证件号码",)),
        Column("customer_name", "客户名称", parse=f.text(128), example="张三"),
        Column("customer_phone", "联系电话", parse=f.text(20), example=EXAMPLE_PHONE,
               note="仅用于区分同名客户"),
    )


# ---- 客户 ------------------------------------------------------------------------------

class CustomerKind(ImportKind):
    key, label, endpoint = "customers", "客户", "customers"
    batched = True
    columns = (
        Column("kind", "客户类型", required=True, choices=CUSTOMER_TYPES, example="个人"),
        Column("name", "客户名称", required=True, parse=f.text(128), example="张三"),
        Column("id_number", "证件号码", required=True, parse=f.resident_or_credit_code, example=EXAMPLE_ID,
               note="按证件号码匹配已有客户:相同则跳过,其他信息不同则更新"),
        Column("phone", "联系电话", required=True, parse=f.phone, example=EXAMPLE_PHONE),
        Column("contact_person", "联系人", parse=f.text(64), note="企业客户必填"),
        Column("address", "地址", parse=f.text(256), example="北京市东城区东华门街道1号"),
        Column("officer", "客户经理", parse=f.text(64), example="officer",
               note="客户经理的用户名或姓名;不填则为导入人(客户经理)或空"),
    )
    file_key = ("id_number",)
    LABELS = {"name": "客户名称", "phone": "联系电话", "contact_person": "联系人", "address": "地址",
              "officer_id": "客户经理"}

    def row_rules(self, row, ctx):
        v = row.values
        problem = f.check_id_number(v["kind"], v["id_number"])
        if problem:
            row.fail(problem, "证件号码")
        if v["kind"] == "company" and not v.get("contact_person"):
            row.fail("企业客户必须填写联系人", "联系人")

    def prepare(self, rows, ctx):
        ctx.data["existing"] = by_key(Customer, Customer.id_number, (r.values["id_number"] for r in rows))
        ctx.data["officers"] = officers()

    def decide(self, row, ctx):
        v = row.values
        officer = resolve_officer(v.get("officer"), ctx)
        v["officer_obj"] = officer
        existing = ctx.existing.get(v["id_number"])
        if existing is None:
            return "create"
        if ctx.own_only and existing.officer_id != ctx.user.id:
            raise RowError("与已有记录冲突:该证件号码的客户已存在,且不在您的数据权限范围内", "证件号码")
        if existing.kind != v["kind"]:
            raise RowError(f"与已有记录冲突:该证件号码的客户类型为「{existing.kind_label}」", "客户类型")
        wanted = self._wanted(v)
        changed = _changes(existing, wanted, self.LABELS)
        if not changed:
            return "skip"
        row.note = "更新:" + "、".join(changed)
        return "update"

    @staticmethod
    def _wanted(v) -> dict:
        return {"name": v["name"], "phone": v["phone"], "contact_person": v.get("contact_person"),
                "address": v.get("address"),
                "officer_id": v["officer_obj"].id if v.get("officer_obj") else None}

    def apply(self, row, ctx):
        v = row.values
        existing = ctx.existing.get(v["id_number"])
        wanted = {k: val for k, val in self._wanted(v).items() if val is not None}
        if existing is None:
            db.session.add(Customer(kind=v["kind"], id_number=v["id_number"], **wanted))
            return
        if existing.name != v["name"]:
            # Loans keep a copy of the borrower's name for searching.
            db.session.query(Loan).filter(Loan.customer_id == existing.id) \
                .update({"customer_name": v["name"]}, synchronize_session=False)
        for key, value in wanted.items():
            setattr(existing, key, value)


# ---- 银行卡 ----------------------------------------------------------------------------

class BankCardKind(ImportKind):
    key, label, endpoint = "bank_cards", "银行卡", "bank_cards"
    columns = customer_columns() + (
        Column("bank_name", "开户银行", required=True, parse=f.text(64), example="中国工商银行"),
        Column("branch", "开户支行", parse=f.text(128), example="北京东城支行"),
        Column("account_name", "账户名", required=True, parse=f.text(128), example="张三"),
        Column("card_number", "银行卡号", required=True, parse=f.card_number, example="6222020200112233446",
               note="同一客户下按卡号匹配:已有则跳过(开户行等不同则更新)"),
        Column("is_default", "默认卡", parse=f.yes_no, example="是"),
    )
    file_key = ("card_number",)
    LABELS = {"bank_name": "开户银行", "branch": "开户支行", "account_name": "账户名", "is_default": "默认卡"}

    def prepare(self, rows, ctx):
        # One default card per customer: of several marked 是 in a file the last one is the
        # default (as on the screen), so importing the file again changes nothing.
        last_default = {}
        for r in rows:
            if r.ok and r.values.get("is_default"):
                v = r.values
                who = v.get("customer_id_number") or (v.get("customer_name"), v.get("customer_phone"))
                if who in last_default:
                    last_default[who].values["is_default"] = False
                    last_default[who].note = "同一客户在文件中有多张默认卡,以最后一张为准"
                last_default[who] = r
        ctx.data["customers"] = CustomerResolver(rows)
        ctx.data["cards"] = {}
        for part in chunked({r.values["card_number"] for r in rows if r.values.get("card_number")}):
            for card in db.session.scalars(select(BankCard).where(BankCard.card_number.in_(part))):
                ctx.cards.setdefault(card.card_number, []).append(card)

    def decide(self, row, ctx):
        v = row.values
        customer = v["customer"] = ctx.customers.find(row, ctx)
        cards = ctx.cards.get(v["card_number"], [])
        mine = [c for c in cards if c.customer_id == customer.id]
        if not mine:
            if cards:
                raise RowError("与已有记录冲突:该卡号已登记在其他客户名下", "银行卡号")
            return "create"
        changed = _changes(mine[0], self._wanted(v), self.LABELS)
        if not changed:
            return "skip"
        row.note = "更新:" + "、".join(changed)
        v["card"] = mine[0]
        return "update"

    @staticmethod
    def _wanted(v):
        return {"bank_name": v["bank_name"], "branch": v.get("branch"), "account_name": v["account_name"],
                "is_default": v.get("is_default")}

    def apply(self, row, ctx):
        v = row.values
        wanted = {k: val for k, val in self._wanted(v).items() if val is not None}
        card = v.get("card")
        if card is None:
            card = BankCard(customer_id=v["customer"].id, card_number=v["card_number"], **wanted)
            card.is_default = bool(v.get("is_default"))
            db.session.add(card)
        else:
            for key, value in wanted.items():
                setattr(card, key, value)
        db.session.flush()
        if card.is_default:  # one default card per customer
            db.session.query(BankCard).filter(BankCard.customer_id == card.customer_id, BankCard.id != card.id) \
                .update({"is_default": False}, synchronize_session=False)


# ---- 授信 ------------------------------------------------------------------------------

class CreditLineKind(ImportKind):
    key, label, endpoint = "credit_lines", "授信", "credit_lines"
    batched = True
    columns = customer_columns() + (
        Column("amount", "授信金额", required=True, parse=f.positive_money, example="500000.00"),
        Column("start_date", "起始日", required=True, parse=f.day, example="2026-01-01"),
        Column("expiry_date", "到期日", required=True, parse=f.day, example="2027-01-01"),
    )
    derived_headers = ("联系人",)
    file_key = ("customer_id_number", "customer_name", "customer_phone", "amount", "start_date", "expiry_date")

    def row_rules(self, row, ctx):
        v = row.values
        if v["expiry_date"] < v["start_date"]:
            row.fail("到期日早于起始日", "到期日")

    def prepare(self, rows, ctx):
        ctx.data["customers"] = CustomerResolver(rows)
        ids = set()
        ctx.data["lines"] = set()
        for r in rows:
            if r.ok:
                try:
                    r.values["customer"] = ctx.customers.find(r, ctx)
                    ids.add(r.values["customer"].id)
                except RowError as err:
                    r.fail(str(err), err.column)
        for part in chunked(ids):
            for line in db.session.scalars(select(CreditLine).where(CreditLine.customer_id.in_(part))):
                ctx.lines.add((line.customer_id, Decimal(line.amount), line.start_date, line.expiry_date))

    def decide(self, row, ctx):
        v = row.values
        key = (v["customer"].id, v["amount"], v["start_date"], v["expiry_date"])
        return "skip" if key in ctx.lines else "create"

    def apply(self, row, ctx):
        v = row.values
        db.session.add(CreditLine(customer_id=v["customer"].id, amount=v["amount"], start_date=v["start_date"],
                                  expiry_date=v["expiry_date"]))


# ---- records hanging on a loan ---------------------------------------------------------

LOAN_NUMBER = f.number_pattern("LOAN_NUMBER_PATTERN", "贷款编号", 32)
LOAN_NO = Column("loan_no", "贷款编号", required=True, parse=LOAN_NUMBER, example="DK20260101000001")


class LoanChildKind(ImportKind):
    """A record of a loan, matched within the loan by `match` (column keys)."""

    batched = True

    model = None
    match: tuple[str, ...] = ()
    fields: dict[str, str] = {}  # model attribute -> label, compared and written
    derived_headers = ("客户名称",)

    def prepare(self, rows, ctx):
        ctx.data["loans"] = loans_by_no(rows)
        ids = [loan.id for loan in ctx.loans.values()]
        ctx.data["children"] = {}
        for part in chunked(ids):
            for obj in db.session.scalars(select(self.model).where(self.model.loan_id.in_(part))):
                ctx.children.setdefault(obj.loan_id, []).append(obj)

    def decide(self, row, ctx):
        v = row.values
        loan = v["loan"] = find_loan(row, ctx)
        wanted = {k: v.get(k) for k in self.fields}
        for obj in ctx.children.get(loan.id, []):
            if all(getattr(obj, k) == v.get(k) for k in self.match):
                changed = _changes(obj, wanted, self.fields)
                if not changed:
                    return "skip"
                v["existing"], row.note = obj, "更新:" + "、".join(changed)
                return "update"
        return "create"

    def apply(self, row, ctx):
        v = row.values
        values = {k: v.get(k) for k in self.fields if v.get(k) is not None}
        obj = v.get("existing")
        if obj is None:
            db.session.add(self.model(loan_id=v["loan"].id, **values))
        else:
            for key, value in values.items():
                setattr(obj, key, value)


class GuarantorKind(LoanChildKind):
    key, label, endpoint = "guarantors", "担保人", "guarantors"
    model = Guarantor
    columns = (
        LOAN_NO,
        Column("kind", "担保人类型", required=True, choices=GUARANTOR_TYPES, example="个人"),
        Column("name", "担保人名称", required=True, parse=f.text(128), example="李四"),
        Column("id_number", "证件号码", required=True, parse=f.resident_or_credit_code, example="110101198505051238",
               note="同一贷款下按证件号码匹配"),
        Column("phone", "联系电话", required=True, parse=f.phone, example="13912345678"),
        Column("guaranteed_amount", "担保金额", required=True, parse=f.money, example="100000.00"),
    )
    file_key = ("loan_no", "id_number")
    match = ("id_number",)
    fields = {"kind": "担保人类型", "name": "担保人名称", "id_number": "证件号码", "phone": "联系电话",
              "guaranteed_amount": "担保金额"}

    def row_rules(self, row, ctx):
        problem = f.check_id_number(row.values["kind"], row.values["id_number"])
        if problem:
            row.fail(problem, "证件号码")


class CollateralKind(LoanChildKind):
    key, label, endpoint = "collaterals", "抵质押物", "collaterals"
    model = Collateral
    columns = (
        LOAN_NO,
        Column("kind", "类型", required=True, choices=COLLATERAL_KINDS, example="抵押"),
        Column("description", "抵质押物描述", required=True, parse=f.text(256), example="北京市东城区某小区3号楼101室"),
        Column("value", "评估价值", required=True, parse=f.money, example="800000.00"),
        Column("registration_no", "登记证号", parse=f.text(64), example="京(2026)东城区不动产证明第0001号"),
        Column("start_date", "起始日", required=True, parse=f.day, example="2026-01-01"),
        Column("expiry_date", "到期日", required=True, parse=f.day, example="2029-01-01"),
    )
    file_key = ("loan_no", "kind", "description", "registration_no")
    match = ("kind", "description", "registration_no")
    fields = {"kind": "类型", "description": "抵质押物描述", "value": "评估价值", "registration_no": "登记证号",
              "start_date": "起始日", "expiry_date": "到期日"}

    def row_rules(self, row, ctx):
        if row.values["expiry_date"] < row.values["start_date"]:
            row.fail("到期日早于起始日", "到期日")


# ---- 贷款 ------------------------------------------------------------------------------

class LoanKind(ImportKind):
    key, label, endpoint = "loans", "贷款", "loans"
    columns = (
        Column("loan_no", "贷款编号", required=True, parse=LOAN_NUMBER, example="DK20260101000001",
               note="按贷款编号匹配:已有且条款相同则跳过,条款不同为冲突"),
        Column("contract_no", "合同编号", parse=f.number_pattern("CONTRACT_NUMBER_PATTERN", "合同编号", 40),
               example="HT20260101000001", note="不填则由贷款编号生成(HT…)"),
    ) + customer_columns() + (
        Column("product", "贷款产品", required=True, parse=f.text(64), example="经营贷",
               note="产品名称或产品代码,须已在「贷款产品」中配置;还款方式取自产品"),
        Column("principal", "贷款金额", required=True, parse=f.positive_money, example="120000.00"),
        Column("rate", "年利率(%)", parse=f.rate, example="12", note="不填则用产品的默认年利率"),
        Column("term_months", "期限(月)", required=True, parse=f.months, example="12"),
        Column("start_date", "放款日", required=True, parse=f.day, example="2026-01-15"),
        Column("maturity_date", "到期日", parse=f.day, example="2027-01-15",
               note="可不填;填写时须与按期限计算的到期日一致"),
        Column("officer", "客户经理", parse=f.text(64), example="officer"),
        Column("five_class", "五级分类", choices=FIVE_CLASSES, example="正常", note="不填为正常;之后由日终任务给出建议分类"),
        Column("outstanding", "剩余本金", parse=f.money, example="120000.00",
               note="原系统的剩余本金:与按还款记录重算的结果相差超过 0.01 元时报错(导入还款记录后核对)"),
        Column("overdue_amount", "逾期金额", parse=f.money, example="0.00",
               note="原系统截至导入日的逾期金额(已到期未还的本金和利息,不含罚息、复利):与按还款记录重算的结果"
                    "相差超过 0.01 元时报错(导入还款记录后核对)"),
    )
    derived_headers = ("贷款状态", "系统建议分类", "逾期天数", "逾期本金", "逾期利息", "罚息", "还款方式",
                       "上次检查日", "下次检查日", "结清日", "核销日")
    file_key = ("loan_no",)
    preview_applies = True
    web_max_rows = 5_000
    instructions = ("还款计划由系统按贷款条款生成(还款方式取自贷款产品);还款记录请在「还款记录」中导入,"
                    "系统按还款日期顺序入账。",)

    def row_rules(self, row, ctx):
        v = row.values
        if v.get("maturity_date") and v["maturity_date"] <= v["start_date"]:
            row.fail("到期日早于放款日", "到期日")
        if v["start_date"] > ctx.as_of:
            row.fail("放款日不能晚于今天", "放款日")

    def prepare(self, rows, ctx):
        ctx.data["loans"] = loans_by_no(rows)
        ctx.data["contracts"] = by_key(Loan, Loan.contract_no, (r.values.get("contract_no") or contract_for(
            r.values.get("loan_no") or "") for r in rows))
        ctx.data["customers"] = CustomerResolver(rows)
        ctx.data["officers"] = officers()
        ctx.data["products"] = products()
        ctx.data["pending"] = by_key(ImportBalanceCheck, ImportBalanceCheck.loan_id,
                                     (loan.id for loan in ctx.loans.values()))

    def decide(self, row, ctx):
        v = row.values
        customer = v["customer"] = ctx.customers.find(row, ctx)
        product = v["product_obj"] = ctx.products.get(v["product"])
        if product is None:
            raise RowError(f"贷款产品「{v['product']}」不存在", "贷款产品")
        v["officer_obj"] = resolve_officer(v.get("officer"), ctx) or customer.officer
        existing = ctx.loans.get(v["loan_no"])
        if existing is None:
            other = ctx.contracts.get(v.get("contract_no") or contract_for(v["loan_no"]))
            if other is not None:
                raise RowError(f"与已有记录冲突:合同编号已用于贷款 {other.loan_no}", "合同编号")
            return "create"
        if ctx.own_only and existing.officer_id != ctx.user.id:
            raise RowError("与已有记录冲突:该贷款编号已存在,且不在您的数据权限范围内", "贷款编号")
        differs = [label for label, ours, theirs in (
            ("客户", existing.customer_id, customer.id), ("贷款金额", Decimal(existing.principal), v["principal"]),
            ("期限(月)", existing.term_months, v["term_months"]), ("放款日", existing.start_date, v["start_date"]),
            ("贷款产品", existing.product_id, product.id)) if ours != theirs]
        if differs:
            raise RowError(f"与已有记录冲突:贷款编号 {v['loan_no']} 已存在,{'、'.join(differs)}不同", "贷款编号")
        pending = ctx.pending.get(existing.id)
        if pending is not None and (v.get("outstanding") is not None or v.get("overdue_amount") is not None):
            row.note = pending_note(pending.outstanding_principal, pending.overdue_amount)
        else:
            problems = balance_problems(lambda: replayed_figures(existing, ctx.as_of), v.get("outstanding"),
                                        v.get("overdue_amount"))
            if problems:
                column, message = problems[0]
                raise RowError(message.format(source="文件中", replay="系统按还款记录重算"), column)
        return "skip"

    def apply(self, row, ctx):
        from services.loans import open_loan, refresh_position

        v = row.values
        loan = open_loan(customer=v["customer"], product=v["product_obj"], principal=v["principal"],
                         rate=v.get("rate"), term_months=v["term_months"], start_date=v["start_date"],
                         officer=v["officer_obj"], loan_no=v["loan_no"],
                         contract_no=v.get("contract_no") or contract_for(v["loan_no"]), existing=True)
        if v.get("maturity_date") and v["maturity_date"] != loan.maturity_date:
            raise RowError(f"到期日 {v['maturity_date']:%Y-%m-%d} 与按期限计算的到期日 "
                           f"{loan.maturity_date:%Y-%m-%d} 不一致", "到期日")
        v["loan_obj"] = loan
        if v.get("five_class"):
            loan.five_class = v["five_class"]
        expected, overdue = v.get("outstanding"), v.get("overdue_amount")
        if expected is not None and expected > Decimal(loan.principal) + TOLERANCE:
            raise RowError(f"剩余本金 {expected:,.2f} 元大于贷款金额 {loan.principal:,.2f} 元", "剩余本金")
        if balance_problems(lambda: replayed_figures(loan, ctx.as_of), expected, overdue):
            # Its repayments may still come (another file): checked once they are imported.
            db.session.add(ImportBalanceCheck(loan_id=loan.id, outstanding_principal=expected,
                                              overdue_amount=overdue))
            row.note = pending_note(expected, overdue, replayed_figures(loan, ctx.as_of))
        if not ctx.refresh:  # with 导入后立即刷新 the daily job positions every loan at once
            refresh_position(loan, ctx.as_of)

    def bulk_apply(self, units, ctx):
        from .bulk import write_loans

        return write_loans(self, units, ctx)

    def release(self, rows, ctx):
        for row in rows:
            loan = row.values.pop("loan_obj", None)
            if loan is not None:
                release_loan(loan)

    def after_commit(self, written, ctx):
        if ctx.refresh and written:
            refresh_now(ctx.as_of)


def replayed_figures(loan, as_of: date) -> dict:
    """剩余本金 and 逾期金额 (overdue principal and interest, no 罚息) of the loan's replay."""
    from services import ledger

    return position_figures(ledger.position(loan, as_of))


def position_figures(pos: dict) -> dict:
    return {"outstanding": pos["outstanding_principal"],
            "overdue_amount": pos["overdue_principal"] + pos["overdue_interest"]}


BALANCE_LABELS = {"outstanding": "剩余本金", "overdue_amount": "逾期金额"}


def balance_problems(figures, outstanding, overdue_amount) -> list[tuple[str, str]]:
    """(column, message) for each figure the old system gave that the replay differs from by
    more than 0.01; the message names both figures ({source} / {replay} say whose)."""
    expected = {"outstanding": outstanding, "overdue_amount": overdue_amount}
    if all(v is None for v in expected.values()):
        return []
    actual = figures()  # the replay's, asked only when the file gave a figure
    out = []
    for key, want in expected.items():
        if want is None:
            continue
        want, got = Decimal(want), actual[key]
        if abs(want - got) > TOLERANCE:
            label = BALANCE_LABELS[key]
            out.append((label, f"{label}不一致:{{source}}为 {want:,.2f} 元,{{replay}}为 {got:,.2f} 元"
                               f"(相差 {abs(want - got):,.2f} 元)"))
    return out


def repayment_refusal(problems) -> str:
    """The refusal of a loan's repayments whose replay differs from the loan file's figures."""
    return ";".join(message.format(source="贷款导入文件中", replay="按本文件的还款重算") for _column, message in problems)


def pending_note(outstanding, overdue_amount, actual: dict | None = None) -> str:
    actual = actual or {}
    parts = []
    for key, value in (("outstanding", outstanding), ("overdue_amount", overdue_amount)):
        if value is not None:
            text = f"{BALANCE_LABELS[key]} {Decimal(value):,.2f} 元"
            if key in actual and abs(actual[key] - Decimal(value)) > TOLERANCE:
                text += f"(按还款计划重算为 {actual[key]:,.2f} 元)"
            parts.append(text)
    return "、".join(parts) + "待导入还款记录后核对"


def release_loan(loan) -> None:
    """Detach a written loan with its installments and repayments from the session."""
    from sqlalchemy.orm.util import identity_key

    from models import Installment

    session = db.session
    for model in (Installment, Repayment):
        for pk in session.scalars(select(model.id).where(model.loan_id == loan.id)):
            obj = session.identity_map.get(identity_key(model, pk))
            if obj is not None:
                session.expunge(obj)
    if loan in session:
        session.expunge(loan)


def contract_for(loan_no: str) -> str:
    """The contract number of a loan imported without one: its loan number as HT…."""
    return "HT" + (loan_no[2:] if loan_no.startswith("DK") else loan_no)


def refresh_now(as_of: date):
    """导入后立即刷新: the daily job at once (states, classes, warnings)."""
    from jobs.daily import run_daily

    return run_daily(as_of)


# ---- 还款记录 --------------------------------------------------------------------------

class RepaymentKind(ImportKind):
    key, label, endpoint = "repayments", "还款记录", "repayments"
    columns = (
        LOAN_NO,
        Column("paid_on", "还款日期", required=True, parse=f.day, example="2026-02-15"),
        Column("amount", "还款金额", required=True, parse=f.positive_money, example="10661.85"),
        Column("serial_no", "流水号", parse=f.text(64), example="LS202602150001",
               note="银行或原系统的流水号;填写时按 贷款编号+日期+金额+流水号 匹配已导入的还款"),
    )
    derived_headers = ("客户名称", "冲抵罚息", "冲抵利息", "冲抵本金", "经办人")
    file_key = ("loan_no", "paid_on", "amount", "serial_no")
    preview_applies = True
    web_max_rows = 20_000
    unit_refused = "同一贷款的其他还款行有错误,该贷款的还款均未导入"
    instructions = ("同一贷款的还款按还款日期顺序入账(罚息 → 利息 → 本金,先到期的期次在前);"
                    "同一贷款的还款须在同一个文件中,任一行有错误则该贷款的还款都不导入。",
                    "还款日期不能早于该贷款已入账的最后一笔还款。")

    def order(self, rows):
        return sorted(rows, key=lambda r: (str(r.values.get("loan_no") or ""), r.values.get("paid_on") or date.min,
                                           r.number))

    unit_columns = ("loan_no",)

    def unit_of(self, row):
        return row.values.get("loan_no") or ("row", row.number)

    def prepare(self, rows, ctx):
        ctx.data["loans"] = loans_by_no(rows)
        ctx.data["posted"], ctx.data["last"] = {}, {}
        ids = [loan.id for loan in ctx.loans.values()]
        for part in chunked(ids):
            for rep in db.session.execute(select(Repayment.loan_id, Repayment.paid_on, Repayment.amount,
                                                 Repayment.serial_no).where(Repayment.loan_id.in_(part))):
                ctx.posted.setdefault((rep.loan_id, rep.paid_on, Decimal(rep.amount)), []).append(rep.serial_no)
                ctx.last[rep.loan_id] = max(ctx.last.get(rep.loan_id, rep.paid_on), rep.paid_on)
        ctx.data["checks"] = by_key(ImportBalanceCheck, ImportBalanceCheck.loan_id, ids)

    def decide(self, row, ctx):
        v = row.values
        loan = v["loan"] = find_loan(row, ctx)
        serials = ctx.posted.get((loan.id, v["paid_on"], v["amount"]))
        if serials is not None and (not v.get("serial_no") or v["serial_no"] in serials):
            return "skip"
        last = ctx.last.get(loan.id)
        if last is not None and v["paid_on"] < last:
            raise RowError(f"还款日期早于该贷款已入账的最后一笔还款({last:%Y-%m-%d})", "还款日期")
        if v["paid_on"] > ctx.as_of:
            raise RowError("还款日期不能晚于今天", "还款日期")
        return "create"

    def apply(self, row, ctx):
        from services.loans import post_repayment

        v = row.values
        repayment = post_repayment(v["loan"], v["amount"], v["paid_on"], operator=ctx.user)
        repayment.serial_no = v.get("serial_no")
        row.note = (f"冲抵罚息 {repayment.penalty_part:,.2f},利息 {repayment.interest_part:,.2f},"
                    f"本金 {repayment.principal_part:,.2f}")

    def check_unit(self, rows: list[ImportRow], ctx):
        from services.loans import refresh_position

        loan = rows[0].values["loan"]
        if not ctx.refresh:
            refresh_position(loan, ctx.as_of)
        check = ctx.checks.get(loan.id)
        if check is None:
            return
        problems = balance_problems(lambda: replayed_figures(loan, ctx.as_of), check.outstanding_principal,
                                    check.overdue_amount)
        if problems:
            raise RowError(repayment_refusal(problems))
        db.session.delete(check)

    def bulk_apply(self, units, ctx):
        from .bulk import write_repayments

        return write_repayments(self, units, ctx)

    def release(self, rows, ctx):
        release_loan(rows[0].values["loan"])

    def after_commit(self, written, ctx):
        if ctx.refresh and written:
            refresh_now(ctx.as_of)


# ---- a loan's history: 利率调整记录, 展期记录 --------------------------------------------

class LoanHistoryKind(ImportKind):
    """Dated changes of an imported loan's terms, before its repayments: the loan file states
    the loan as it stands; these rows give what changed when, so the ledger replays the loan
    from its contract terms (services.ledger.restate_disbursement) to the same figures."""

    model = None
    date_key = ""
    derived_headers = ("客户名称",)
    preview_applies = True
    unit_refused = "同一贷款的其他记录有错误,该贷款的记录均未导入"

    def order(self, rows):
        return sorted(rows, key=lambda r: (str(r.values.get("loan_no") or ""), r.values.get(self.date_key) or date.min,
                                           r.number))

    unit_columns = ("loan_no",)

    def unit_of(self, row):
        return row.values.get("loan_no") or ("row", row.number)

    def prepare(self, rows, ctx):
        from models import LoanEntry
        from services.ledger import TERMS_KINDS

        ctx.data["loans"] = loans_by_no(rows)
        ids = [loan.id for loan in ctx.loans.values()]
        ctx.data["history"], ctx.data["moved"] = {}, set()
        for part in chunked(ids):
            for obj in db.session.scalars(select(self.model).where(self.model.loan_id.in_(part))):
                ctx.history.setdefault(obj.loan_id, []).append(obj)
            ctx.moved.update(db.session.scalars(select(LoanEntry.loan_id).where(
                LoanEntry.loan_id.in_(part), LoanEntry.kind.not_in(TERMS_KINDS)).distinct()))
        # the earliest change of its kind per loan (file and database) restates the contract terms
        ctx.data["first"] = {}
        for r in self.order([r for r in rows if r.ok]):
            loan = ctx.loans.get(r.values.get("loan_no"))
            if loan is not None and loan.id not in ctx.first and not ctx.history.get(loan.id):
                ctx.first[loan.id] = r.number

    def same(self, obj, v) -> bool:
        raise NotImplementedError

    def decide(self, row, ctx):
        v = row.values
        loan = v["loan"] = find_loan(row, ctx)
        if any(self.same(obj, v) for obj in ctx.history.get(loan.id, [])):
            return "skip"
        if loan.id in ctx.moved:
            raise RowError(f"该贷款已有还款等账务记录,{self.label}须在导入还款记录之前导入", "贷款编号")
        self.check(row, loan)
        return "create"

    def check(self, row, loan) -> None:
        """Row checks against the loan (RowError)."""

    def check_unit(self, rows, ctx):
        from services import ledger

        ledger.sync(rows[0].values["loan"], ctx.as_of)

    def release(self, rows, ctx):
        release_loan(rows[0].values["loan"])

    def after_commit(self, written, ctx):
        if ctx.refresh and written:
            refresh_now(ctx.as_of)

    def export_rows(self):
        """The history as a file of this kind (the round trip, a migration's reference)."""
        raise NotImplementedError


class RateChangeKind(LoanHistoryKind):
    key, label, endpoint = "rate_changes", "利率调整记录", "rate_changes"
    date_key = "effective_date"
    columns = (
        LOAN_NO,
        Column("effective_date", "生效日期", required=True, parse=f.day, example="2026-03-15"),
        Column("old_rate", "原年利率(%)", required=True, parse=f.rate, example="12"),
        Column("new_rate", "调整后年利率(%)", required=True, parse=f.rate, example="10.8"),
        Column("reason", "调整原因", required=True, parse=f.text(2000), example="按合同约定随市场利率下调"),
    )
    file_key = ("loan_no", "effective_date", "new_rate")
    instructions = ("贷款导入文件中的年利率为最后一次调整后的利率;本文件给出原系统的每次利率调整,"
                    "系统以最早一次调整的原年利率作为合同利率,按生效日重算还款计划。须在导入还款记录之前导入。",)

    @property
    def model(self):
        from models import RateChange

        return RateChange

    def row_rules(self, row, ctx):
        if row.values["old_rate"] == row.values["new_rate"]:
            row.fail("调整后年利率与原年利率相同", "调整后年利率(%)")

    def same(self, obj, v):
        return obj.effective_date == v["effective_date"] and Decimal(obj.new_rate) == v["new_rate"]

    def check(self, row, loan):
        day = row.values["effective_date"]
        if not loan.start_date <= day <= loan.maturity_date:
            raise RowError(f"生效日期须在放款日 {loan.start_date:%Y-%m-%d} 与到期日 {loan.maturity_date:%Y-%m-%d} 之间",
                           "生效日期")

    def apply(self, row, ctx):
        from models import RateChange
        from services import ledger

        v = row.values
        loan = v["loan"]
        change = RateChange(loan_id=loan.id, old_rate=v["old_rate"], new_rate=v["new_rate"],
                            effective_date=v["effective_date"], reason=v["reason"], operator_id=getattr(ctx.user, "id", None))
        db.session.add(change)
        db.session.flush()
        if ctx.first.get(loan.id) == row.number:
            ledger.restate_disbursement(loan, rate=v["old_rate"])
        ledger.record_rate_change(loan, change, ctx.user)

    def export_rows(self):
        from models import RateChange

        q = (select(Loan.loan_no, Loan.customer_name, RateChange.effective_date, RateChange.old_rate,
                    RateChange.new_rate, RateChange.reason)
             .join(Loan, Loan.id == RateChange.loan_id).order_by(RateChange.loan_id, RateChange.effective_date,
                                                                  RateChange.id))
        for no, name, day, old, new, reason in db.session.execute(q):
            yield {"贷款编号": no, "客户名称": name, "生效日期": day.isoformat(), "原年利率(%)": f"{Decimal(old):f}",
                   "调整后年利率(%)": f"{Decimal(new):f}", "调整原因": reason}


class ExtensionKind(LoanHistoryKind):
    key, label, endpoint = "extensions", "展期记录", "extensions"
    date_key = "on"
    columns = (
        LOAN_NO,
        Column("on", "展期日期", required=True, parse=f.day, example="2026-12-15",
               note="展期生效的日期(原系统办理展期的日期)"),
        Column("old_maturity", "原到期日", required=True, parse=f.day, example="2027-01-15"),
        Column("new_maturity", "展期后到期日", required=True, parse=f.day, example="2027-07-15"),
        Column("reason", "展期原因", required=True, parse=f.text(2000), example="经营周转困难,申请展期6个月"),
    )
    file_key = ("loan_no", "on", "new_maturity")
    instructions = ("贷款导入文件中的期限和到期日为展期后的;本文件给出原系统的展期,系统以最早一次展期的原到期日"
                    "作为合同到期日,自展期日期起按原还款方式重新安排至展期后到期日。须在导入还款记录之前导入。",)

    @property
    def model(self):
        from models import Extension

        return Extension

    def row_rules(self, row, ctx):
        v = row.values
        if v["new_maturity"] <= v["old_maturity"]:
            row.fail("展期后到期日须晚于原到期日", "展期后到期日")
        if v["on"] > v["old_maturity"]:
            row.fail("展期日期不能晚于原到期日", "展期日期")

    def same(self, obj, v):
        return obj.old_maturity_date == v["old_maturity"] and obj.new_maturity_date == v["new_maturity"]

    def check(self, row, loan):
        v = row.values
        if v["on"] < loan.start_date:
            raise RowError(f"展期日期早于放款日 {loan.start_date:%Y-%m-%d}", "展期日期")
        if v["new_maturity"] != loan.maturity_date:
            raise RowError(f"展期后到期日与贷款的到期日 {loan.maturity_date:%Y-%m-%d} 不一致", "展期后到期日")

    def apply(self, row, ctx):
        from models import Extension
        from services import ledger

        v = row.values
        loan = v["loan"]
        extension = Extension(loan_id=loan.id, old_maturity_date=v["old_maturity"], new_maturity_date=v["new_maturity"],
                              reason=v["reason"], operator_id=getattr(ctx.user, "id", None))
        db.session.add(extension)
        db.session.flush()
        if ctx.first.get(loan.id) == row.number:
            ledger.restate_disbursement(loan, maturity=v["old_maturity"])
        ledger.record_extension(loan, extension, v["on"], ctx.user)

    def export_rows(self):
        from models import Extension, LoanEntry

        q = (select(Loan.loan_no, Loan.customer_name, LoanEntry.value_date, Extension.created_at,
                    Extension.old_maturity_date, Extension.new_maturity_date, Extension.reason)
             .join(Loan, Loan.id == Extension.loan_id)
             .outerjoin(LoanEntry, LoanEntry.extension_id == Extension.id)
             .order_by(Extension.loan_id, Extension.id))
        for no, name, on, created, old, new, reason in db.session.execute(q):
            yield {"贷款编号": no, "客户名称": name, "展期日期": (on or created.date()).isoformat(),
                   "原到期日": old.isoformat(), "展期后到期日": new.isoformat(), "展期原因": reason}


# ---- 核销记录 ------------------------------------------------------------------------

class WriteOffKind(ImportKind):
    """Loans the old system wrote off (账销案存), imported after their repayments: the write-off
    is booked in the ledger on its date (services.ledger.write_off: accrual stops, class 损失,
    status 已核销) with its approved 核销 record. Money after the write-off date is a recovery
    (核销后收回): import it after this file."""

    key, label, endpoint = "write_offs", "核销记录", "writeoff_book"
    columns = (
        LOAN_NO,
        Column("on", "核销日", required=True, parse=f.day, example="2026-06-30"),
        Column("principal_amount", "核销本金", parse=f.money, example="50000.00"),
        Column("interest_amount", "核销利息", parse=f.money, example="3200.00"),
        Column("reason", "核销原因", required=True, parse=f.text(2000), example="借款人死亡,无遗产可供清偿,依法核销。"),
    )
    derived_headers = ("客户名称",)
    file_key = ("loan_no",)
    preview_applies = True
    instructions = ("须在导入该贷款的还款记录之后导入;核销日之后收回的款项(核销后收回)在本文件之后导入。",)

    def prepare(self, rows, ctx):
        ctx.data["loans"] = loans_by_no(rows)
        ctx.data["last_paid"] = {}
        ids = [loan.id for loan in ctx.loans.values()]
        for part in chunked(ids):
            ctx.last_paid.update(db.session.execute(
                select(Repayment.loan_id, func.max(Repayment.paid_on)).where(
                    Repayment.loan_id.in_(part), Repayment.reversed_on.is_(None)).group_by(Repayment.loan_id)).all())

    def decide(self, row, ctx):
        v = row.values
        loan = v["loan"] = find_loan(row, ctx)
        if loan.status == "written_off":
            if loan.written_off_date == v["on"]:
                return "skip"
            raise RowError(f"与已有记录冲突:该贷款已于 {loan.written_off_date:%Y-%m-%d} 核销", "核销日")
        if loan.status not in ("active", "extended", "overdue"):
            raise RowError("只能核销未结清的贷款", "贷款编号")
        if not loan.start_date <= v["on"] <= ctx.as_of:
            raise RowError("核销日须在放款日与今天之间", "核销日")
        last = ctx.last_paid.get(loan.id)
        if last is not None and last > v["on"]:
            raise RowError(f"该贷款在核销日之后有还款({last:%Y-%m-%d}):核销后收回须在导入核销记录之后导入", "核销日")
        return "create"

    def apply(self, row, ctx):
        from datetime import datetime, time

        from models import WriteOff
        from models.classification import minimum_class, thresholds
        from services import ledger

        v = row.values
        loan = v["loan"]
        proposer = getattr(ctx.user, "id", None) or loan.officer_id
        at = datetime.combine(v["on"], time())
        db.session.add(WriteOff(loan_id=loan.id, principal_amount=v.get("principal_amount") or 0,
                                interest_amount=v.get("interest_amount") or 0, reason=v["reason"],
                                review_status="approved", proposer_id=proposer, submitted_at=at, decided_at=at))
        ledger.write_off(loan, v["on"], ctx.user, note=v["reason"], today=max(ctx.as_of, v["on"]))
        # the daily job leaves written-off loans alone: the class it suggested when the loan was
        # written off stays, as in the old system
        loan.suggested_class = minimum_class(loan.days_overdue, thresholds())

    def release(self, rows, ctx):
        release_loan(rows[0].values["loan"])

    def after_commit(self, written, ctx):
        if ctx.refresh and written:
            refresh_now(ctx.as_of)

    def export_rows(self):
        from models import LoanEntry, WriteOff

        q = (select(Loan.loan_no, Loan.customer_name, LoanEntry.value_date, WriteOff.principal_amount,
                    WriteOff.interest_amount, WriteOff.reason, LoanEntry.note)
             .join(Loan, Loan.id == LoanEntry.loan_id)
             .outerjoin(WriteOff, (WriteOff.loan_id == Loan.id) & (WriteOff.review_status == "approved"))
             .where(LoanEntry.kind == "write_off", Loan.status == "written_off").order_by(Loan.id))
        for no, name, on, principal, interest, reason, note in db.session.execute(q):
            yield {"贷款编号": no, "客户名称": name, "核销日": on.isoformat(),
                   "核销本金": None if principal is None else f"{Decimal(principal):.2f}",
                   "核销利息": None if interest is None else f"{Decimal(interest):.2f}",
                   "核销原因": reason or note or "原系统核销"}


KINDS: dict[str, ImportKind] = {k.key: k for k in (CustomerKind(), BankCardKind(), CreditLineKind(), LoanKind(),
                                                   RateChangeKind(), ExtensionKind(), RepaymentKind(),
                                                   WriteOffKind(), GuarantorKind(), CollateralKind())}
