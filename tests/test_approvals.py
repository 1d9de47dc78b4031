"""The one approval mechanism (services.approvals): stage order, roles, opinions, four eyes,
once-only under a race, rejection and resubmission, the trail and the audit log."""
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from models import ApprovalStep, AuditLog, ClassificationChange, Inspection, User
from models.approval import WORKFLOWS
from services import BusinessError
from services import approvals, classification, inspection
from tests import review_factory as make


def _inspection(users, loan=None):
    loan = loan or make.loan()
    return inspection.create_inspection(loan.id, users["officer"], kind="routine", method="onsite",
                                        inspected_on=date.today() - timedelta(days=1),
                                        conclusion="经营正常,还款来源稳定")


def _change(users, loan=None, to_class=2):
    loan = loan or make.loan()
    return classification.propose(loan.id, to_class, "行业景气下行", users["officer"], submit=True)


def _user(db, name, roles):
    u = User(username=name, display_name=name)
    u.set_password("demo12345")
    u.roles = roles
    db.session.add(u)
    db.session.flush()
    return u


def test_submit_puts_item_at_first_stage_and_records_the_trail(users):
    item = _inspection(users)
    assert (item.review_status, item.review_stage) == ("pending", "risk_check")
    steps = approvals.trail("inspection", item.id)
    assert [(s.stage, s.decision, s.actor_id) for s in steps] == [("submit", "submit", users["officer"].id)]


def test_stages_pass_in_declared_order_to_final_approval(users):
    item = _change(users)
    seen = []
    for stage, who in zip(WORKFLOWS["classification"].stages, ("risk_checker", "risk_approver", "reviewer")):
        seen.append(item.review_stage)
        approvals.approve("classification", item.id, users[who], "同意")
    assert seen == [s.key for s in WORKFLOWS["classification"].stages]
    assert item.review_status == "approved" and item.review_stage is None and item.decided_at


def test_wrong_role_cannot_decide_a_stage(users):
    item = _change(users)
    with pytest.raises(BusinessError, match="没有「五级分类风控审查」的审核权限"):
        approvals.approve("classification", item.id, users["risk_approver"], "同意")
    with pytest.raises(BusinessError, match="审核权限"):
        approvals.reject("classification", item.id, users["reviewer"], "不同意")
    assert item.review_stage == "risk_review"


def test_opinion_is_required(users):
    item = _change(users)
    for blank in ("", "   ", None):
        with pytest.raises(BusinessError, match="请填写审核意见"):
            approvals.approve("classification", item.id, users["risk_checker"], blank)
        with pytest.raises(BusinessError, match="请填写审核意见"):
            approvals.reject("classification", item.id, users["risk_checker"], blank)


def test_four_eyes_nobody_approves_their_own_proposal(db, users):
    both = _user(db, "officer_checker", {"officer", "risk_checker"})
    loan = make.loan()
    item = classification.propose(loan.id, 2, "关注", both, submit=True)
    with pytest.raises(BusinessError, match="不能审核自己提交的事项"):
        approvals.approve("classification", item.id, both, "同意")


def test_four_eyes_nobody_acts_on_two_stages_of_one_item(db, users):
    multi = _user(db, "multi_risk", {"risk_checker", "risk_approver", "reviewer"})
    item = _change(users)
    approvals.approve("classification", item.id, multi, "审查通过")
    with pytest.raises(BusinessError, match="其他环节"):
        approvals.approve("classification", item.id, multi, "审核通过")
    with pytest.raises(BusinessError, match="其他环节"):
        approvals.reject("classification", item.id, multi, "驳回")
    approvals.approve("classification", item.id, users["risk_approver"], "同意")
    with pytest.raises(BusinessError, match="其他环节"):
        approvals.approve("classification", item.id, multi, "同意")


def test_same_stage_cannot_be_passed_twice(users):
    item = _inspection(users)
    approvals.approve("inspection", item.id, users["risk_checker"], "属实")
    with pytest.raises(BusinessError):
        approvals.approve("inspection", item.id, users["risk_checker"], "属实")


def test_stale_version_loses_with_already_handled(users):
    item = _inspection(users)
    wf = WORKFLOWS["inspection"]
    approvals.approve("inspection", item.id, users["risk_checker"], "属实")
    # What a second screen saw before the first click landed:
    with pytest.raises(BusinessError, match="该事项已被他人处理"):
        approvals._move(wf, item, status="pending", stage="risk_check", version=1,
                        values={"review_stage": "risk_approve"})


def test_two_simultaneous_approvals_of_one_stage_exactly_one_succeeds(app, db, users, monkeypatch):
    second = _user(db, "risk_checker_b", {"risk_checker"})
    item = _inspection(users)
    db.session.commit()
    item_id, actors = item.id, (users["risk_checker"].id, second.id)

    barrier = threading.Barrier(2, timeout=20)
    real_move = approvals._move

    def move_after_both_checked(*args, **kwargs):
        barrier.wait()  # both have read the item at the same version and passed every check
        return real_move(*args, **kwargs)

    monkeypatch.setattr(approvals, "_move", move_after_both_checked)
    results = {}

    def click(actor_id):
        with app.app_context():
            from admin_app.extensions import db as tdb

            try:
                actor = tdb.session.get(User, actor_id)
                approvals.approve("inspection", item_id, actor, "核实无误")
                tdb.session.commit()
                results[actor_id] = "ok"
            except BusinessError as exc:
                tdb.session.rollback()
                results[actor_id] = str(exc)
            finally:
                tdb.session.remove()

    threads = [threading.Thread(target=click, args=(a,)) for a in actors]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results.values()) == ["ok", "该事项已被他人处理"]
    db.session.expire_all()
    fresh = db.session.get(Inspection, item_id)
    assert (fresh.review_stage, fresh.version) == ("risk_approve", 2)
    decided = db.session.execute(select(func.count()).select_from(ApprovalStep).where(
        ApprovalStep.item_id == item_id, ApprovalStep.decision == "approve")).scalar()
    assert decided == 1


def test_rejection_returns_to_proposer_who_amends_and_resubmits(users):
    loan = make.loan()
    item = classification.propose(loan.id, 2, "初步判断", users["officer"], submit=True)
    approvals.approve("classification", item.id, users["risk_checker"], "同意")
    approvals.reject("classification", item.id, users["risk_approver"], "理由不充分,请补充")
    assert item.review_status == "rejected" and item.review_stage == "risk_approve"
    with pytest.raises(BusinessError, match="只有提出人"):
        approvals.resubmit("classification", item.id, users["officer2"], reason="x")
    with pytest.raises(BusinessError, match="该事项已被他人处理"):
        approvals.approve("classification", item.id, users["risk_approver"], "同意")
    approvals.resubmit("classification", item.id, users["officer"], to_class=3,
                       reason="借款人主营业务停产,已补充材料")
    assert (item.review_status, item.review_stage, item.to_class) == ("pending", "risk_review", 3)
    # The same people act on the same stages in the new round.
    approvals.approve("classification", item.id, users["risk_checker"], "同意")
    approvals.approve("classification", item.id, users["risk_approver"], "同意")
    approvals.approve("classification", item.id, users["reviewer"], "同意")
    assert loan.five_class == 3
    decisions = [(s.stage, s.decision) for s in approvals.trail("classification", item.id)]
    assert decisions == [("submit", "submit"), ("risk_review", "approve"), ("risk_approve", "reject"),
                         ("submit", "resubmit"), ("risk_review", "approve"),
                         ("risk_approve", "approve"), ("final_review", "approve")]
    opinions = [s.opinion for s in approvals.trail("classification", item.id) if s.decision == "reject"]
    assert opinions == ["理由不充分,请补充"]


def test_resubmission_is_validated_like_a_proposal(users):
    loan = make.loan(days_overdue=120, five_class=3)
    item = classification.propose(loan.id, 4, "担保失效", users["officer"], submit=True)
    approvals.reject("classification", item.id, users["risk_checker"], "依据不足")
    with pytest.raises(BusinessError, match="逾期超过90天的贷款至少应分为次级"):
        approvals.resubmit("classification", item.id, users["officer"], to_class=2)
    with pytest.raises(BusinessError, match="不能修改"):
        approvals.resubmit("classification", item.id, users["officer"], loan_id=99)
    assert item.review_status == "rejected"


def test_withdraw_frees_the_loan_for_a_new_proposal(users):
    loan = make.loan()
    item = classification.propose(loan.id, 2, "关注", users["officer"], submit=True)
    approvals.reject("classification", item.id, users["risk_checker"], "不需要调整")
    approvals.withdraw("classification", item.id, users["officer"])
    assert item.review_status == "withdrawn"
    again = classification.propose(loan.id, 2, "再次提出", users["officer"])
    assert again.review_status == "draft"


def test_every_step_is_in_the_audit_log(db, users):
    item = _inspection(users)
    approvals.approve("inspection", item.id, users["risk_checker"], "属实")
    approvals.reject("inspection", item.id, users["risk_approver"], "附件不清")
    rows = db.session.execute(select(AuditLog.action, AuditLog.summary).where(
        AuditLog.table_name == "inspection", AuditLog.action.in_(("submit", "approve", "reject")))
        .order_by(AuditLog.id)).all()
    assert [a for a, _ in rows] == ["submit", "approve", "reject"]
    assert "risk_approver" in rows[-1][1] and "驳回" in rows[-1][1]


def test_inspection_final_approval_moves_the_loan_dates(users):
    prod = make.product(interval_days=60)
    loan = make.loan(prod=prod)
    on = date.today() - timedelta(days=3)
    item = inspection.create_inspection(loan.id, users["officer"], kind="first", method="offsite",
                                        inspected_on=on, conclusion="正常")
    approvals.approve("inspection", item.id, users["risk_checker"], "属实")
    assert loan.last_inspection_date is None  # only the last stage has an effect
    approvals.approve("inspection", item.id, users["risk_approver"], "同意")
    assert loan.last_inspection_date == on and loan.next_inspection_date == on + timedelta(days=60)


def test_a_late_approved_older_inspection_does_not_move_dates_back(users):
    loan = make.loan()
    newer = date.today() - timedelta(days=2)
    older = date.today() - timedelta(days=40)
    items = [inspection.create_inspection(loan.id, users["officer"], kind="routine", method="onsite",
                                          inspected_on=d, conclusion="正常") for d in (older, newer)]
    for item in reversed(items):
        approvals.approve("inspection", item.id, users["risk_checker"], "属实")
        approvals.approve("inspection", item.id, users["risk_approver"], "同意")
    assert loan.last_inspection_date == newer


def test_classification_changes_the_loan_only_at_the_last_stage(users):
    loan = make.loan(days_overdue=100, five_class=2)
    item = classification.propose(loan.id, 3, "逾期超过90天", users["officer"], submit=True)
    approvals.approve("classification", item.id, users["risk_checker"], "同意")
    approvals.approve("classification", item.id, users["risk_approver"], "同意")
    assert loan.five_class == 2
    approvals.approve("classification", item.id, users["reviewer"], "同意")
    assert loan.five_class == 3
    assert db_change(item.id).review_status == "approved"


def db_change(change_id):
    from admin_app.extensions import db

    return db.session.get(ClassificationChange, change_id)
