"""The one approval mechanism for every workflow of models.approval.WORKFLOWS.

An item (Inspection, ClassificationChange, WriteOff) moves
    draft -> pending@stage1 -> pending@stage2 ... -> approved
and any stage may send it back: rejected -> (proposer amends) -> pending@stage1.

Rules enforced here, on the server, for all workflows alike:
- an opinion is required for every decision;
- only the stage's role may decide at that stage;
- four eyes: nobody decides on their own proposal, nobody decides at two stages of one item
  (read from the ApprovalStep trail);
- once only: the state moves with a conditional UPDATE on (id, stage, status, version);
  the loser of a race finds rowcount 0 and gets "该事项已被他人处理".

Each workflow's own rules live in its service module (see HOOKS): `clean_amendments`
validates what a proposer changes on resubmission, `check_final` re-checks the business rule
before the last approval, `on_approved` applies the effect to the loan.

Functions flush but do not commit: the caller (view, seeder, test) owns the transaction."""
from __future__ import annotations

import importlib
from datetime import datetime

from sqlalchemy import exists, select, update
from sqlalchemy.exc import OperationalError

from admin_app.audit import log_action
from admin_app.extensions import db
from models import ApprovalStep
from models.approval import WORKFLOWS, Workflow
from models.clock import utc_now
from services import BusinessError

ALREADY_HANDLED = "该事项已被他人处理"
NOT_REACHED = "该事项尚未到达本环节"
DECIDING = ("approve", "reject")

# Workflow key -> the service module holding its hooks.
HOOKS = {
    "inspection": "services.inspection",
    "classification": "services.classification",
    "writeoff": "services.writeoff",
    "reversal": "services.reversal",
    "extension": "services.extension",
}


def workflow(key: str) -> Workflow:
    try:
        return WORKFLOWS[key]
    except KeyError:
        raise BusinessError("未知的审批流程") from None


def _hooks(wf: Workflow):
    return importlib.import_module(HOOKS[wf.key])


def _now() -> datetime:
    return utc_now().replace(microsecond=0)


def _load(wf: Workflow, item_id: int):
    item = db.session.execute(
        select(wf.model).where(wf.model.id == item_id).execution_options(populate_existing=True)
    ).unique().scalar_one_or_none()
    if item is None:
        raise BusinessError(f"{wf.label}事项不存在")
    return item


def _opinion(opinion: str | None) -> str:
    text = (opinion or "").strip()
    if not text:
        raise BusinessError("请填写审核意见")
    if len(text) > 2000:
        raise BusinessError("审核意见不能超过2000字")
    return text


def trail(workflow_key: str, item_id: int) -> list[ApprovalStep]:
    """Every step of one item, oldest first."""
    return list(db.session.execute(
        select(ApprovalStep).where(ApprovalStep.workflow == workflow_key,
                                   ApprovalStep.item_id == item_id).order_by(ApprovalStep.id)
    ).scalars())


def _acted_elsewhere(wf: Workflow, item_id: int, actor_id: int, stage_key: str) -> bool:
    return db.session.execute(select(exists().where(
        ApprovalStep.workflow == wf.key, ApprovalStep.item_id == item_id,
        ApprovalStep.actor_id == actor_id, ApprovalStep.decision.in_(DECIDING),
        ApprovalStep.stage != stage_key))).scalar()


def decision_refusal(wf: Workflow, item, actor) -> str | None:
    """The reason `actor` may not approve/reject `item` at its current stage, or None.
    Views use it to show or hide the decision form; approve/reject enforce it."""
    if item.review_status != "pending" or not item.review_stage:
        return f"该事项当前状态为「{status_label(item)}」,不在审核中"
    stage = wf.stage(item.review_stage)
    if stage.role not in actor.roles:
        return f"您没有「{stage.name}」的审核权限"
    if item.proposer_id == actor.id:
        return "不能审核自己提交的事项(四眼原则)"
    if _acted_elsewhere(wf, item.id, actor.id, stage.key):
        return "您已在本事项的其他环节审核过,不能再审核本环节(四眼原则)"
    return None


def not_reached(wf: Workflow, item, stage_key: str) -> bool:
    """True while `item` has yet to come to stage `stage_key` (it waits at an earlier stage,
    or is still with its proposer as a draft)."""
    keys = [s.key for s in wf.stages]
    if item.review_status == "draft":
        return True
    return (item.review_status == "pending" and item.review_stage in keys
            and keys.index(item.review_stage) < keys.index(stage_key))


def status_label(item) -> str:
    from models.enums import REVIEW_STATUSES

    return REVIEW_STATUSES.get(item.review_status, item.review_status)


def stage_label(wf: Workflow, item) -> str:
    if item.review_status == "pending" and item.review_stage:
        return f"待{wf.stage(item.review_stage).name}"
    if item.review_status == "rejected" and item.review_stage:
        return f"被{wf.stage(item.review_stage).name}驳回"
    return status_label(item)


def _move(wf: Workflow, item, *, status: str, stage: str | None, version: int, values: dict) -> None:
    """The once-only state change: UPDATE ... WHERE id, stage, status and version still are
    what this actor saw. Anything else means somebody else got there first."""
    model = wf.model
    stmt = (update(model)
            .where(model.id == item.id, model.review_status == status, model.version == version,
                   model.review_stage.is_(None) if stage is None else model.review_stage == stage)
            .values(version=model.version + 1, **values)
            .execution_options(synchronize_session=False))
    try:
        rowcount = db.session.execute(stmt).rowcount
    except OperationalError as exc:  # SQLite: a writer held the lock past the busy timeout
        if "locked" in str(exc).lower():
            raise BusinessError(ALREADY_HANDLED) from None
        raise
    if rowcount != 1:
        raise BusinessError(ALREADY_HANDLED)
    db.session.expire(item)


def _record(wf: Workflow, item, actor, stage_key: str, decision: str, opinion: str, summary: str):
    step = ApprovalStep(workflow=wf.key, item_id=item.id, loan_id=item.loan_id, stage=stage_key,
                        decision=decision, opinion=opinion, actor_id=actor.id, acted_at=_now())
    db.session.add(step)
    db.session.flush()
    log_action(db.session, item, decision, f"{wf.label}#{item.id} {summary}({actor.username})",
               after={"workflow": wf.key, "stage": stage_key, "decision": decision,
                      "opinion": opinion, "actor": actor.username})
    return step


# ---- the proposer's side ---------------------------------------------------------------
def submit(workflow_key: str, item, actor):
    """Send a new item (not yet in the session) or a draft into the first stage."""
    wf = workflow(workflow_key)
    first = wf.stages[0]
    if item.id is None:
        item.proposer_id = actor.id
        item.review_status = "pending"
        item.review_stage = first.key
        item.submitted_at = _now()
        item.version = 1
        db.session.add(item)
        db.session.flush()
    else:
        if item.proposer_id != actor.id:
            raise BusinessError("只有提出人可以提交该事项")
        if item.review_status != "draft":
            raise BusinessError(f"该事项当前状态为「{status_label(item)}」,不能提交")
        _move(wf, item, status="draft", stage=None, version=item.version,
              values={"review_status": "pending", "review_stage": first.key, "submitted_at": _now()})
    _record(wf, item, actor, "submit", "submit", "", f"提交至{first.name}")
    return item


def save_draft(workflow_key: str, item, actor):
    """Keep a new item as a draft (待提交) for its proposer to submit later."""
    workflow(workflow_key)
    item.proposer_id = actor.id
    item.review_status = "draft"
    item.review_stage = None
    item.version = 1
    db.session.add(item)
    db.session.flush()
    return item


def resubmit(workflow_key: str, item_id: int, actor, **amendments):
    """The proposer amends a rejected item and sends it back to the first stage."""
    wf = workflow(workflow_key)
    item = _load(wf, item_id)
    if item.proposer_id != actor.id:
        raise BusinessError("只有提出人可以修改并重新提交该事项")
    if item.review_status != "rejected":
        raise BusinessError(f"该事项当前状态为「{status_label(item)}」,不能重新提交")
    values = _hooks(wf).clean_amendments(item, amendments)
    first = wf.stages[0]
    _move(wf, item, status="rejected", stage=item.review_stage, version=item.version,
          values={**values, "review_status": "pending", "review_stage": first.key,
                  "submitted_at": _now(), "decided_at": None})
    _record(wf, item, actor, "submit", "resubmit", "", f"修改后重新提交至{first.name}")
    return item


def withdraw(workflow_key: str, item_id: int, actor):
    """The proposer gives up a draft or a rejected item (it stays on record as 已撤回)."""
    wf = workflow(workflow_key)
    item = _load(wf, item_id)
    if item.proposer_id != actor.id:
        raise BusinessError("只有提出人可以撤回该事项")
    if item.review_status not in ("draft", "rejected"):
        raise BusinessError(f"该事项当前状态为「{status_label(item)}」,不能撤回")
    _move(wf, item, status=item.review_status, stage=item.review_stage, version=item.version,
          values={"review_status": "withdrawn", "decided_at": _now()})
    _record(wf, item, actor, "withdraw", "withdraw", "", "撤回")
    return item


# ---- the reviewers' side ---------------------------------------------------------------
def _decide(wf: Workflow, item_id: int, actor, opinion: str | None, expected_stage: str | None):
    text = _opinion(opinion)
    item = _load(wf, item_id)
    if expected_stage is not None and (item.review_status != "pending"
                                       or item.review_stage != expected_stage):
        if not_reached(wf, item, expected_stage):
            raise BusinessError(NOT_REACHED)
        raise BusinessError(ALREADY_HANDLED)  # the screen showed it at a stage it has left
    refusal = decision_refusal(wf, item, actor)
    if refusal:
        if item.review_status != "pending":
            # What the actor saw is gone: somebody else decided first.
            raise BusinessError(ALREADY_HANDLED if item.review_status in ("approved", "rejected")
                                else refusal)
        raise BusinessError(refusal)
    return item, wf.stage(item.review_stage), text


def approve(workflow_key: str, item_id: int, actor, opinion: str | None, *, stage: str | None = None):
    """Pass the item's current stage (`stage`: the one the actor's screen showed); the last
    stage applies the workflow's effect."""
    wf = workflow(workflow_key)
    item, stage, text = _decide(wf, item_id, actor, opinion, stage)
    version = item.version
    nxt = wf.next_stage(stage.key)
    hooks = _hooks(wf)
    if nxt is None:
        hooks.check_final(item)
        values = {"review_status": "approved", "review_stage": None, "decided_at": _now()}
    else:
        values = {"review_stage": nxt.key}
    _move(wf, item, status="pending", stage=stage.key, version=version, values=values)
    _record(wf, item, actor, stage.key, "approve", text,
            f"{stage.name}通过" + (f",转{nxt.name}" if nxt else ",审批完成"))
    if nxt is None:
        hooks.on_approved(item, actor)
        db.session.flush()
    return item


def reject(workflow_key: str, item_id: int, actor, opinion: str | None, *, stage: str | None = None):
    """Send the item back to its proposer with the opinion."""
    wf = workflow(workflow_key)
    item, stage, text = _decide(wf, item_id, actor, opinion, stage)
    _move(wf, item, status="pending", stage=stage.key, version=item.version,
          values={"review_status": "rejected", "decided_at": _now()})
    _record(wf, item, actor, stage.key, "reject", text, f"{stage.name}驳回")
    return item
