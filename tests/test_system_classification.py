"""五级分类 follows its minimum (jobs.steps.proposals): the daily job opens a system proposal
(提出人 系统) into 五级分类风控审查 for each open loan whose class is below the minimum the
rules require, once per loan; the thresholds refuse a non-ascending set. The finding: after a
month without repayments 1,160 open loans sat below the class the rules require."""
from datetime import date

import pytest
from sqlalchemy import select

from admin_app import settings
from jobs.daily import run_daily
from models import ApprovalStep, ClassificationChange, Loan, User
from services import approvals, classification
from services.loans import open_loan
from tests import book_factory as bf

TODAY = date.today()


def overdue_for(months: int, five_class: int = 1) -> Loan:
    loan = open_loan(customer=bf.customer(), product=bf.product(), principal="24000.00", term_months=12,
                     start_date=bf.months_ago(months))
    loan.five_class = five_class
    return loan


def changes(db, loan_id):
    db.session.expire_all()
    return list(db.session.execute(select(ClassificationChange).where(ClassificationChange.loan_id == loan_id)
                                   .order_by(ClassificationChange.id)).unique().scalars())


def test_a_loan_below_its_minimum_gets_one_system_proposal(app, db):
    lagging = overdue_for(16, five_class=4)  # over 360 days overdue, classed 可疑: must be 损失
    fine = overdue_for(16, five_class=5)
    current = overdue_for(0)
    db.session.commit()
    result = run_daily(TODAY)
    assert result.ok and result.class_proposals == 1
    [change] = changes(db, lagging.id)
    assert (change.from_class, change.to_class, change.suggested_class) == (4, 5, 5)
    assert change.review_status == "pending" and change.review_stage == "risk_review"
    assert str(change.proposer) == "系统" and not change.proposer.active
    assert "逾期" in change.reason
    assert changes(db, fine.id) == [] and changes(db, current.id) == []
    trail = approvals.trail("classification", change.id)
    assert [(s.decision, str(s.actor)) for s in trail] == [("submit", "系统")]
    # Once per loan: the next runs open nothing more.
    assert run_daily(TODAY).class_proposals == 0
    assert len(changes(db, lagging.id)) == 1


def test_the_system_account_cannot_log_in(app, db, client_for):
    overdue_for(16, five_class=4)
    db.session.commit()
    run_daily(TODAY)
    r = client_for().login("system", "!")
    assert r.status_code != 302


def test_no_system_proposal_beside_an_open_change(app, db, users):
    loan = overdue_for(16, five_class=4)
    db.session.commit()
    classification.propose(loan.id, 5, "人工调整", users["officer"], submit=False)
    db.session.commit()
    assert run_daily(TODAY).class_proposals == 0
    assert [c.proposer.username for c in changes(db, loan.id)] == ["officer"]


def test_the_system_proposal_goes_through_the_workflow_and_moves_the_class(app, db, users):
    loan = overdue_for(16, five_class=4)
    db.session.commit()
    run_daily(TODAY)
    [change] = changes(db, loan.id)
    for stage, user in (("risk_review", "risk_checker"), ("risk_approve", "risk_approver"),
                        ("final_review", "reviewer")):
        approvals.approve("classification", change.id, users[user], "同意", stage=stage)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Loan, loan.id).five_class == 5


def test_a_rejected_system_proposal_is_withdrawn_and_not_made_again(app, db, users):
    loan = overdue_for(16, five_class=4)
    db.session.commit()
    run_daily(TODAY)
    [change] = changes(db, loan.id)
    approvals.reject("classification", change.id, users["risk_checker"], "已与客户核实,暂缓")
    db.session.commit()
    assert run_daily(TODAY).class_proposals == 0
    [change] = changes(db, loan.id)
    assert change.review_status == "withdrawn"
    assert [s.decision for s in approvals.trail("classification", change.id)] == ["submit", "reject", "withdraw"]
    # The officer can still propose by hand.
    classification.propose(loan.id, 5, "人工调整", users["officer"], submit=True)


def test_the_stage_screen_lists_the_system_proposal(app, db, client_for):
    overdue_for(16, five_class=4)
    db.session.commit()
    run_daily(TODAY)
    page = client_for("risk_checker").get("/classification_stage_risk_review/").get_data(as_text=True)
    assert "系统" in page


@pytest.mark.parametrize("values, field", [
    ({"class.substandard_days": "300"}, "class.doubtful_days"),
    ({"class.loss_days": "270"}, "class.loss_days"),
    ({"class.attention_days": "90"}, "class.substandard_days"),
])
def test_non_ascending_thresholds_are_refused(app, db, client_for, values, field):
    form = {p.key: p.default for p in settings.PARAMS}
    r = client_for("admin").post("/settings/save/", data={**form, **values})
    assert r.status_code == 200  # the form again, the message under the field
    assert "五级分类参数须逐级递增" in r.get_data(as_text=True)
    assert settings.current_values() == {p.key: p.default for p in settings.PARAMS}
    with pytest.raises(ValueError, match="逐级递增"):
        key, value = next(iter(values.items()))
        settings.set_value(key, value)


def test_thresholds_moved_together_are_accepted(app, db, client_for):
    form = {p.key: p.default for p in settings.PARAMS}
    r = client_for("admin").post("/settings/save/", data={**form, "class.substandard_days": "400",
                                                          "class.doubtful_days": "500",
                                                          "class.loss_days": "600"})
    assert r.status_code == 302
    assert settings.get_int("class.loss_days") == 600
