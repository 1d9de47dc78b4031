"""The five-level classification rule (SPEC §4) and proposals against it."""
import pytest
from hypothesis import given, strategies as st
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.settings import set_value
from models import Loan
from models.classification import (Thresholds, below_minimum_message, minimum_class,
                                   minimum_class_sql, rule_message, thresholds)
from services import BusinessError, approvals, classification
from tests import review_factory as make

DEFAULT = Thresholds()


@pytest.mark.parametrize("days, cls", [(0, 1), (1, 2), (90, 2), (91, 3), (270, 3), (271, 4),
                                       (360, 4), (361, 5), (5000, 5), (None, 1)])
def test_minimum_class_follows_the_2023_rules_over_n_days(days, cls):
    assert minimum_class(days, DEFAULT) == cls


@given(st.integers(min_value=0, max_value=4000), st.integers(min_value=0, max_value=4000))
def test_minimum_class_never_falls_as_days_grow(a, b):
    lo, hi = sorted((a, b))
    assert minimum_class(lo, DEFAULT) <= minimum_class(hi, DEFAULT)


def test_messages_name_the_rule():
    assert rule_message(100, DEFAULT) == "逾期超过90天的贷款至少应分为次级"
    assert rule_message(5, DEFAULT) == "存在逾期的贷款至少应分为关注"
    assert rule_message(400, DEFAULT) == "逾期超过360天的贷款应分为损失"
    assert below_minimum_message(100, 3, DEFAULT) is None
    assert below_minimum_message(300, 3, DEFAULT).startswith("逾期超过270天的贷款至少应分为可疑")


def test_thresholds_come_from_the_admin_settings():
    assert thresholds() == DEFAULT
    set_value("class.substandard_days", "60")
    db.session.flush()
    assert thresholds().substandard == 60
    assert minimum_class(61, thresholds()) == 3


def test_sql_rule_matches_the_python_rule():
    days = [0, 1, 90, 91, 270, 271, 360, 361]
    loans = [make.loan(days_overdue=d) for d in days]
    got = dict(db.session.execute(select(Loan.id, minimum_class_sql(Loan.days_overdue, DEFAULT))
                                  .where(Loan.id.in_([ln.id for ln in loans]))).all())
    assert [got[ln.id] for ln in loans] == [minimum_class(d, DEFAULT) for d in days]


def test_proposal_below_minimum_is_refused_with_the_rule(users):
    loan = make.loan(days_overdue=280, five_class=3)
    with pytest.raises(BusinessError, match="逾期超过270天的贷款至少应分为可疑"):
        classification.propose(loan.id, 3 - 1, "改善", users["officer"])
    change = classification.propose(loan.id, 4, "逾期超过270天", users["officer"])
    assert (change.from_class, change.to_class, change.suggested_class) == (3, 4, 4)


def test_proposal_checks(users):
    loan = make.loan()
    with pytest.raises(BusinessError, match="无需调整"):
        classification.propose(loan.id, 1, "同类", users["officer"])
    with pytest.raises(BusinessError, match="请填写调整原因"):
        classification.propose(loan.id, 2, "  ", users["officer"])
    with pytest.raises(BusinessError, match="请选择"):
        classification.propose(loan.id, 9, "x", users["officer"])
    settled = make.loan(status="settled")
    with pytest.raises(BusinessError, match="未结清"):
        classification.propose(settled.id, 2, "x", users["officer"])


def test_one_open_change_per_loan_whatever_its_state(users):
    loan = make.loan()
    first = classification.propose(loan.id, 2, "关注", users["officer"])
    for state in ("draft", "pending", "rejected"):
        with pytest.raises(BusinessError, match="已有一笔未完成"):
            classification.propose(loan.id, 3, "再提", users["officer2"])
        if state == "draft":
            classification.submit_change(first.id, users["officer"])
        elif state == "pending":
            approvals.reject("classification", first.id, users["risk_checker"], "不同意")
    approvals.withdraw("classification", first.id, users["officer"])
    assert classification.propose(loan.id, 3, "再提", users["officer2"]).review_status == "draft"


def test_database_index_also_refuses_a_second_open_change(users):
    from sqlalchemy.exc import IntegrityError

    from models import ClassificationChange

    loan = make.loan()
    classification.propose(loan.id, 2, "关注", users["officer"])
    db.session.add(ClassificationChange(loan_id=loan.id, from_class=1, to_class=3, suggested_class=1,
                                        reason="绕过服务", proposer_id=users["officer2"].id,
                                        review_status="pending", review_stage="risk_review"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_final_approval_is_refused_when_the_loan_fell_below_the_rule_meanwhile(users):
    loan = make.loan(days_overdue=10, five_class=1)
    change = classification.propose(loan.id, 2, "关注", users["officer"], submit=True)
    approvals.approve("classification", change.id, users["risk_checker"], "同意")
    approvals.approve("classification", change.id, users["risk_approver"], "同意")
    loan.days_overdue = 200  # the daily job moved on while the change waited
    db.session.flush()
    with pytest.raises(BusinessError, match="至少应分为次级"):
        approvals.approve("classification", change.id, users["reviewer"], "同意")
    assert loan.five_class == 1


def test_statistics_count_open_loans_only():
    make.loan(five_class=1, principal="1000.00")
    make.loan(five_class=3, principal="3000.00", days_overdue=100)
    make.loan(five_class=5, principal="9999.00", status="settled")
    from services.portfolio import AsOf, class_statistics

    whole, _ = class_statistics(AsOf(None))
    by = {c.code: c for c in whole.cells}
    n, bal = whole.count, whole.balance
    assert n == 2 and str(bal) == "4000.00"
    assert str(by[3].balance_share) == "75.00" and str(by[1].count_share) == "50.00"
    assert by[5].count == 0 and str(by[5].balance_share) == "0.00"
