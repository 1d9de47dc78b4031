"""Seed step `reviews`: interviews, inspections, classification changes and write-offs,
made through the same services staff use, so that every stage screen of every workflow has
items waiting, some items were sent back with opinions, and some went all the way (approved
inspections moved loan dates, approved changes moved classes, loans were written off).

Bounded whatever the book size: a few hundred items at most, picked with indexed queries."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy import select

from admin_app import clock
from admin_app.extensions import db
from models import Loan, User
from models.classification import minimum_class, thresholds
from models.enums import OPEN_LOAN_STATUSES
from services import BusinessError, approvals, classification, extension, inspection, writeoff

# What happens to an item after submission: approve this many stages, then reject or stop.
# ("approve", n) -> passes n stages (n == number of stages: completed);
# ("reject", n)  -> passes n stages, then is rejected at the next.
INSPECTION_FATES = (("approve", 0), ("approve", 1), ("approve", 2), ("reject", 0), ("reject", 1))
CLASS_FATES = (("draft", 0), ("approve", 0), ("approve", 1), ("approve", 2), ("approve", 3),
               ("reject", 0), ("reject", 2))
WRITEOFF_FATES = (("approve", 0), ("approve", 1), ("approve", 2), ("draft", 0), ("reject", 0),
                  ("reject", 1))

STAGE_ACTORS = {"risk_checker", "risk_approver", "reviewer"}
OPINIONS_OK = ("材料真实完整,同意。", "经核实情况属实,同意。", "符合规定,同意通过。")
OPINIONS_NO = ("检查记录过于简略,请补充财务数据后重新提交。", "依据不足,请补充逾期及还款意愿材料。",
               "证明材料不全,请补充诉讼或催收记录。")
FINDINGS = {
    "operation_findings": ("生产经营正常,订单稳定。", "主营业务收入下降,开工率约六成。"),
    "finance_findings": ("资产负债率约45%,现金流可覆盖还款。", "应收账款增加,现金流偏紧。"),
    "fund_usage_findings": ("贷款资金按约定用于采购原材料。", "部分资金用于归还其他借款,已提示。"),
    "collateral_findings": ("抵押房产状况良好,未发现查封。", "无抵质押物。"),
    "guarantor_findings": ("担保人经营正常,担保能力充足。", "担保人新增对外担保,需持续关注。"),
}


def _users() -> dict[str, User]:
    return {u.username: u for u in db.session.execute(select(User)).scalars()}


def _stage_actor(users, wf, index: int) -> User:
    return users[{"risk_checker": "risk_checker", "risk_approver": "risk_approver",
                  "reviewer": "reviewer"}[wf.stages[index].role]]


def _loan_officer(loan, users, n: int) -> User:
    """The loan's own 客户经理 proposes (数据权限: officers work on their own book); a loan
    without one falls to officer / officer2 in turn."""
    by_id = {u.id: u for u in users.values()}
    return by_id.get(loan.officer_id) or (users["officer"], users["officer2"])[n % 2]


def _play(wf_key: str, item, fate, users, rng) -> str:
    """Carry a submitted item through its fate; returns the outcome label."""
    wf = approvals.workflow(wf_key)
    decision, passes = fate
    for i in range(passes):
        approvals.approve(wf_key, item.id, _stage_actor(users, wf, i), rng.choice(OPINIONS_OK))
    if decision == "reject":
        approvals.reject(wf_key, item.id, _stage_actor(users, wf, passes), rng.choice(OPINIONS_NO))
        return "rejected"
    return "approved" if passes == len(wf.stages) else f"waiting_{wf.stages[passes].key}"


def _open_loans(limit: int, overdue: bool) -> list[Loan]:
    """Healthy loans from the oldest id, or overdue loans not yet 损失 from the most overdue."""
    stmt = select(Loan).where(Loan.status.in_(OPEN_LOAN_STATUSES))
    if overdue:
        stmt = stmt.where(Loan.days_overdue > 0, Loan.five_class < 5).order_by(Loan.days_overdue.desc())
    else:
        stmt = stmt.where(Loan.days_overdue == 0).order_by(Loan.id)
    return list(db.session.execute(stmt.limit(limit)).unique().scalars())


def _class_candidates(limit: int) -> list[Loan]:
    """Overdue loans first; a book with few of them is topped up with healthy loans (for
    which 关注 or worse is a legitimate proposal), taken from the newest ids."""
    loans = _open_loans(limit, overdue=True)
    if len(loans) < limit:
        loans += list(db.session.execute(
            select(Loan).where(Loan.status.in_(OPEN_LOAN_STATUSES), Loan.days_overdue == 0,
                               Loan.five_class < 5).order_by(Loan.id.desc()).limit(limit - len(loans))
        ).unique().scalars())
    return loans


def _seed_inspections(loans, users, rng, as_of: date, summary: dict) -> None:
    today = min(as_of, clock.business_date())
    for n, loan in enumerate(loans):
        proposer = _loan_officer(loan, users, n)
        held_on = max(loan.start_date, today - timedelta(days=rng.randint(1, 60)))
        if n % 3 == 0 and held_on <= today:
            inspection.record_interview(
                loan.id, proposer, held_at=datetime.combine(held_on, datetime.min.time()).replace(hour=10),
                place=rng.choice(("客户办公室", "生产车间", "本公司会议室")),
                participants=f"{proposer.display_name}、{loan.customer_name}",
                content="了解近期经营与还款安排。", follow_up=rng.choice(("一个月后回访", "", "要求提供最新报表")))
        on = max(loan.start_date, today - timedelta(days=rng.randint(0, 30)))
        if on > today:
            continue
        fields = {k: rng.choice(v) for k, v in FINDINGS.items()}
        item = inspection.create_inspection(
            loan.id, proposer, kind=rng.choice(("first", "routine", "routine", "special")),
            method=rng.choice(("onsite", "offsite")), inspected_on=on,
            risk_signals=rng.choice(("无", "销售回款放缓", "")), conclusion=rng.choice(
                ("经营正常,风险可控。", "存在一定风险,建议加强监测。")), **fields)
        outcome = _play("inspection", item, INSPECTION_FATES[n % len(INSPECTION_FATES)], users, rng)
        summary[f"inspection_{outcome}"] = summary.get(f"inspection_{outcome}", 0) + 1


def _seed_classification(loans, users, rng, summary: dict) -> None:
    limits = thresholds()
    for n, loan in enumerate(loans):
        target = min(5, max(minimum_class(loan.days_overdue, limits), loan.five_class + 1))
        if target == loan.five_class or classification.open_change(loan.id) is not None:
            continue
        fate = CLASS_FATES[n % len(CLASS_FATES)]
        reason = f"逾期{loan.days_overdue}天,还款意愿下降,建议调整为{('正常', '关注', '次级', '可疑', '损失')[target - 1]}。"
        change = classification.propose(loan.id, target, reason, _loan_officer(loan, users, n), submit=fate[0] != "draft")
        outcome = "draft" if fate[0] == "draft" else _play("classification", change, fate, users, rng)
        summary[f"classification_{outcome}"] = summary.get(f"classification_{outcome}", 0) + 1


def _seed_writeoffs(limit: int, users, rng, as_of: date, summary: dict) -> None:
    for n, loan in enumerate(writeoff.lookup("", limit=limit)):
        fate = WRITEOFF_FATES[n % len(WRITEOFF_FATES)]
        item = writeoff.apply(loan.id, _loan_officer(loan, users, n), submit=fate[0] != "draft", reason=rng.choice((
            "借款人失联超过一年,经诉讼及强制执行无财产可供执行。",
            "借款企业破产清算终结,担保人无代偿能力。",
            "借款人死亡,无遗产可供清偿,依法核销。")))
        outcome = "draft" if fate[0] == "draft" else _play("writeoff", item, fate, users, rng)
        summary[f"writeoff_{outcome}"] = summary.get(f"writeoff_{outcome}", 0) + 1


EXTENSION_FATES = (("approve", 0), ("approve", 1), ("approve", 2), ("reject", 0))


def _seed_extensions(loans, users, rng, as_of: date, summary: dict) -> None:
    """展期申请 at every stage: waiting at 展期风控审查 / 展期风控审核, approved (extended), sent back."""
    from models.money import add_months

    for n, loan in enumerate(loans[:12]):
        if loan.maturity_date <= as_of or loan.status != "active":
            continue
        try:
            with db.session.begin_nested():
                item = extension.apply(loan.id, _loan_officer(loan, users, n),
                                       new_maturity=add_months(loan.maturity_date, rng.choice((3, 6))),
                                       reason=rng.choice(("受行业回款周期影响,申请展期。", "项目延期,资金回笼推迟。")),
                                       as_of=as_of)
                outcome = _play("extension", item, EXTENSION_FATES[n % len(EXTENSION_FATES)], users, rng)
        except BusinessError:
            continue  # a loan the rules do not allow to extend: skip it
        summary[f"extension_{outcome}"] = summary.get(f"extension_{outcome}", 0) + 1


def run(loans: int = 2000, seed: int = 42, as_of: date | None = None) -> dict:
    as_of = as_of or clock.business_date()
    users = _users()
    if not {"officer", "officer2"} <= set(users) or not STAGE_ACTORS <= set(users):
        return {}
    rng = random.Random(seed * 7919 + 3)
    per_kind = max(10, min(60, loans // 40))
    summary: dict = {}
    try:
        _seed_inspections(_open_loans(per_kind, overdue=False), users, rng, as_of, summary)
        _seed_classification(_class_candidates(per_kind + 10), users, rng, summary)
        db.session.flush()
        _seed_writeoffs(max(6, per_kind // 2), users, rng, as_of, summary)
        _seed_extensions(_open_loans(per_kind * 2, overdue=False)[per_kind:], users, rng, as_of, summary)
    except BusinessError as exc:  # the demo book broke a rule: say which, keep what was made
        summary["reviews_stopped"] = str(exc)
    return {"reviews": summary}
