"""五级分类 follows its minimum: for each open loan whose class is below the minimum the rules
require (loan.suggested_class, set by the positions step from models.classification), the
job opens a system proposal (提出人 系统) into the classification workflow's first stage, to
the minimum class. Set-based, once per loan and minimum:

- never beside an open change of the loan (the workflow's one-open-item rule);
- never twice to the same class for one loan: a system proposal the reviewers rejected is
  withdrawn by the next run (nobody else may amend it) and not proposed again unless the
  minimum rises further — the officer may still propose by hand."""
from __future__ import annotations


from models.approval import WORKFLOWS
from models.clock import utc_now

from .sql import OPEN_STATUSES_SQL

WORKFLOW = "classification"
SYSTEM_USERNAME = "system"
SYSTEM_NAME = "系统"
OPEN_STATES_SQL = "('draft', 'pending', 'rejected')"


def system_user_id(ctx) -> int:
    """The account system proposals are made by: inactive, no roles, no usable password."""
    from sqlalchemy import insert, select

    from models.user import User

    table = User.__table__
    found = ctx.conn.execute(select(table.c.id).where(table.c.username == SYSTEM_USERNAME)).scalar()
    if found is None:
        found = ctx.conn.execute(insert(table).values(
            username=SYSTEM_USERNAME, display_name=SYSTEM_NAME, password_hash="!", roles_csv="",
            active=False, created_at=utc_now().replace(microsecond=0))).inserted_primary_key[0]
    return found


def run(ctx) -> None:
    system = system_user_id(ctx)
    now = utc_now().replace(microsecond=0)
    first = WORKFLOWS[WORKFLOW].stages[0].key
    withdrawn = ctx.execute(
        "INSERT INTO approval_step (workflow, item_id, loan_id, stage, decision, opinion, actor_id, acted_at) "
        "SELECT :wf, c.id, c.loan_id, 'withdraw', 'withdraw', '系统提出的分类调整被驳回,自动撤回', :sys, :now "
        "FROM classification_change c WHERE c.proposer_id = :sys AND c.review_status = 'rejected'",
        wf=WORKFLOW, sys=system, now=now).rowcount
    ctx.execute("UPDATE classification_change SET review_status = 'withdrawn', decided_at = :now, "
                "version = version + 1 WHERE proposer_id = :sys AND review_status = 'rejected'",
                sys=system, now=now)
    opened = ctx.execute(
        f"""INSERT INTO classification_change (loan_id, from_class, to_class, suggested_class, reason,
                proposer_id, review_status, review_stage, version, submitted_at, created_at)
            SELECT l.id, l.five_class, l.suggested_class, l.suggested_class,
                   '系统按五级分类规则提出:逾期 ' || l.days_overdue || ' 天,当前分类低于规则要求的最低分类',
                   :sys, 'pending', :stage, 1, :now, :now
            FROM loan l
            WHERE l.status IN {OPEN_STATUSES_SQL} AND l.five_class < l.suggested_class
              AND NOT EXISTS (SELECT 1 FROM classification_change c WHERE c.loan_id = l.id
                              AND (c.review_status IN {OPEN_STATES_SQL}
                                   OR (c.proposer_id = :sys AND c.to_class = l.suggested_class)))""",
        sys=system, stage=first, now=now).rowcount
    # The trail shows each new proposal submitted by 系统.
    ctx.execute(
        "INSERT INTO approval_step (workflow, item_id, loan_id, stage, decision, opinion, actor_id, acted_at) "
        "SELECT :wf, c.id, c.loan_id, 'submit', 'submit', '', :sys, :now FROM classification_change c "
        "WHERE c.proposer_id = :sys AND c.review_status = 'pending' AND c.submitted_at = :now "
        "AND NOT EXISTS (SELECT 1 FROM approval_step s WHERE s.workflow = :wf AND s.item_id = c.id)",
        wf=WORKFLOW, sys=system, now=now)
    ctx.stats["class_proposals"] = opened
    ctx.stats["class_proposals_withdrawn"] = withdrawn
