"""我的待办: every card of every demo role counts exactly the rows its link lists; the
approval stage screens open on 「待本环节审核」 with 审批状态 first, say 查看 for what the
user cannot decide there, land on the next waiting item after a decision, and say
「该事项尚未到达本环节」 for an item still at an earlier stage."""
import re
from datetime import date, datetime, timedelta

import pytest

from admin_app.extensions import db
from models import JobRun
from models.approval import WORKFLOWS
from services import approvals, classification, collection, inspection, writeoff
from tests import review_factory as make

ROLES = ("admin", "officer", "officer2", "collector", "risk_checker", "risk_approver", "reviewer")


@pytest.fixture
def book(users):
    """Work for every card: officer's rejected, draft, due and newly overdue items; items at
    every stage; collector's follow-ups, promises (today, broken) and receipts to upload."""
    officer, collector = users["officer"], users["collector"]
    today = date.today()
    healthy = make.loan()
    healthy.next_inspection_date = today + timedelta(days=3)
    fresh = make.loan(days_overdue=1)
    fresh.suggested_class = 2  # the daily job suggests 关注: a system suggestion waiting
    late = make.loan(days_overdue=120, five_class=2)
    later = make.loan(days_overdue=150, five_class=2)
    bad = make.loan(days_overdue=400, five_class=5)
    other = make.loan(days_overdue=1, officer=users["officer2"])
    insp = inspection.create_inspection(healthy.id, officer, kind="routine", method="onsite",
                                        inspected_on=today, conclusion="正常")
    insp2 = inspection.create_inspection(late.id, officer, kind="routine", method="onsite",
                                         inspected_on=today, conclusion="正常")
    approvals.reject("inspection", insp2.id, users["risk_checker"], "补充财务数据")
    change = classification.propose(late.id, 3, "逾期超过90天", officer, submit=True)
    approvals.approve("classification", change.id, users["risk_checker"], "同意")
    classification.propose(later.id, 3, "逾期超过90天", officer)  # a draft
    writeoff.apply(bad.id, officer, reason="借款人失联,诉讼终结", submit=True)
    contacted = datetime.combine(today - timedelta(days=3), datetime.min.time()).replace(hour=10)
    collection.record_collection(fresh, target="borrower", method="phone", contacted_at=contacted,
                                 content="电话提醒", next_follow_up=today, collector=collector)
    collection.record_collection(late, target="borrower", method="phone", contacted_at=contacted,
                                 content="承诺今日还款", promised_date=today, promised_amount="1000",
                                 collector=collector)
    collection.record_collection(bad, target="borrower", method="visit", contacted_at=contacted,
                                 content="上门催收", promised_date=today - timedelta(days=1),
                                 promised_amount="500", collector=collector)
    db.session.add(JobRun(as_of=today, started_at=datetime.now(), outcome="failed", error="磁盘已满"))
    db.session.commit()
    return {"insp": insp, "insp2": insp2, "change": change, "other": other, "fresh": fresh}


def _items(app, user) -> list[dict]:
    """The user's cards as their own request computes them (their data scope applies)."""
    from flask_login import login_user

    from views.my_todo import todo_items

    with app.test_request_context("/"):
        login_user(user)
        return todo_items(user)


def _listed_rows(client, url) -> int:
    html = client.get(url).get_data(as_text=True)
    if "/my_todo/" in url:
        return html.count('class="todo-row"')
    if "model-list" not in html:
        return 0  # an empty list has no table
    body = html.split("model-list", 1)[1].split("</thead>", 1)[1].split("</table>", 1)[0]
    return body.count('class="list-buttons-column')


def test_every_card_counts_exactly_the_rows_its_link_lists(app, client_for, book):
    from models import User

    seen = set()
    for username in ROLES:
        c = client_for(username)
        home = c.get("/").get_data(as_text=True)
        page = c.get("/my_todo/").get_data(as_text=True)
        user = db.session.query(User).filter_by(username=username).one()
        for item in _items(app, user):
            assert item["label"] in home and item["label"] in page, (username, item["label"])
            assert f'href="{item["url"]}">{item["count"]}<' in home.replace("&amp;", "&"), (username, item)
            assert _listed_rows(c, item["url"]) == item["count"], (username, item)
            if item["count"]:
                seen.add(item["key"])
    expected = {"inspection_rejected", "classification_draft", "inspection_due", "newly_overdue",
                "follow_up_today", "promise_today", "promise_broken", "receipt_borrower", "failed_runs",
                "stage_inspection_stage_risk_check", "stage_classification_stage_risk_approve",
                "stage_writeoff_stage_risk_apply", "system_suggestions"}
    assert expected <= seen, expected - seen


def test_officer_cards_show_only_their_own_book(app, client_for, users, book):
    mine = {i["key"]: i["count"] for i in _items(app, users["officer"])}
    assert mine["inspection_rejected"] == 1 and mine["classification_draft"] == 1
    c = client_for("officer2")
    listed = c.get("/my_todo/newly_overdue/").get_data(as_text=True)
    assert book["other"].loan_no in listed and book["fresh"].loan_no not in listed
    assert "inspection_rejected" not in {i["key"] for i in _items(app, users["officer2"]) if i["count"]}


def test_a_rejected_inspection_row_leads_to_its_amend_page(client_for, book):
    c = client_for("officer")
    rows = c.get("/my_todo/inspection_rejected/").get_data(as_text=True)
    url = f'/inspection_loans/inspection/{book["insp2"].id}/'
    assert url in rows
    assert "重新提交" in c.get(url).get_data(as_text=True)


def test_stage_screens_open_on_waiting_with_status_first_and_view_for_the_rest(client_for, users, book):
    stage = WORKFLOWS["classification"].stages[0]
    c = client_for("risk_checker")
    html = c.get(f"/{stage.endpoint}/").get_data(as_text=True)
    # The decided item is not listed by default; under 本人已处理 it says 查看, never 审核.
    assert book["change"].loan.loan_no not in html.split("</thead>", 1)[1]
    handled = c.get(f"/{stage.endpoint}/?q_scope=handled").get_data(as_text=True)
    body = handled.split("</thead>", 1)[1].split("</table>", 1)[0]
    assert "查看" in body and ">审核<" not in body
    head = html.split("<thead", 1)[1].split("</thead>", 1)[0]
    # 审批状态 comes first after the fixed identity columns (贷款编号, 客户名称).
    assert head.index("审批状态") < head.index("贷款产品") and head.index("审批状态") < head.index("提交时间")
    assert 'selected' in re.search(r'<option value="waiting"[^>]*>', html).group(0)
    # Waiting here: 审核.
    ins = WORKFLOWS["inspection"].stages[0]
    waiting = c.get(f"/{ins.endpoint}/").get_data(as_text=True).split("</thead>", 1)[1]
    assert ">审核<" in waiting


def test_an_item_not_yet_at_a_stage_says_so(client_for, book):
    later = WORKFLOWS["inspection"].stages[1]
    c = client_for("risk_approver")
    page = c.get(f"/{later.endpoint}/review/{book['insp'].id}/").get_data(as_text=True)
    assert "该事项尚未到达本环节" in page and "decision-form" not in page
    r = c.post(f"/{later.endpoint}/review/{book['insp'].id}/decide", {"decision": "approve", "opinion": "同意"},
               follow_redirects=True)
    assert "该事项尚未到达本环节" in r.get_data(as_text=True)


def test_after_a_decision_the_user_lands_on_the_next_waiting_item(client_for, users, book):
    second = inspection.create_inspection(book["fresh"].id, users["officer"], kind="routine", method="onsite",
                                          inspected_on=date.today(), conclusion="正常")
    db.session.commit()
    stage = WORKFLOWS["inspection"].stages[0]
    c = client_for("risk_checker")
    r = c.post(f"/{stage.endpoint}/review/{book['insp'].id}/decide", {"decision": "approve", "opinion": "同意"})
    assert r.status_code == 302 and r.location.endswith(f"/{stage.endpoint}/review/{second.id}/")
    r = c.post(f"/{stage.endpoint}/review/{second.id}/decide", {"decision": "approve", "opinion": "同意"})
    assert r.status_code == 302 and f"/{stage.endpoint}/" in r.location and "q_scope=waiting" in r.location
