"""Screens of issue 3 through the test client: every screen opens in Chinese with its search
fields for the roles allowed, refuses the others with 403, and the forms drive the services."""
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from admin_app.extensions import db
from models import ClassificationChange, Inspection, Interview, WriteOff
from models.approval import WORKFLOWS
from services import approvals, classification, inspection, writeoff
from tests import review_factory as make

SCREENS = {
    # url: (search labels, allowed users, refused users)
    "/inspection_loans/": (("客户名称", "贷款编号", "贷款产品"),
                           ("officer", "admin", "risk_checker"), ("collector",)),
    "/classification_manage/": (("客户名称", "贷款编号", "五级分类"),
                                ("officer", "risk_approver", "reviewer"), ("collector",)),
    "/classification_stats/": ((), ("admin", "risk_approver", "reviewer"), ("officer", "collector")),
    "/writeoff_apply/": (("客户名称", "贷款编号"), ("officer", "risk_checker"), ("collector",)),
}
STAGE_SEARCH = {"inspection": ("客户名称", "联系电话", "贷款产品"),
                "classification": ("客户名称", "贷款编号", "五级分类"),
                "writeoff": ("客户名称", "贷款编号"),
                "extension": ("客户名称", "贷款编号"),
                "reversal": ("客户名称", "贷款编号")}


def _stage_url(wf_key, stage_key):
    return f"/{WORKFLOWS[wf_key].stage(stage_key).endpoint}/"


@pytest.fixture
def book(users):
    """One loan per situation, with an item waiting at every stage."""
    cust = make.customer("张三", "13900001111")
    healthy = make.loan(cust=cust)
    bad = make.loan(days_overdue=200, five_class=3, overdue_interest="1200.50", penalty_interest="99.50")
    late = make.loan(days_overdue=120, five_class=2)
    insp = inspection.create_inspection(healthy.id, users["officer"], kind="routine", method="onsite",
                                        inspected_on=date.today(), conclusion="正常")
    change = classification.propose(late.id, 3, "逾期超过90天", users["officer"], submit=True)
    wo = writeoff.apply(bad.id, users["officer"], reason="借款人失联,诉讼终结", submit=True)
    db.session.commit()
    return {"healthy": healthy, "bad": bad, "late": late, "insp": insp, "change": change, "wo": wo}


@pytest.mark.parametrize("url", list(SCREENS))
def test_screens_open_for_allowed_roles_and_refuse_others(client_for, book, url):
    labels, allowed, refused = SCREENS[url]
    for who in allowed:
        page = client_for(who).get(url)
        assert page.status_code == 200, (who, url)
        html = page.get_data(as_text=True)
        for label in labels:
            assert label in html
        if labels:
            assert "查询" in html and "重置" in html
    for who in refused:
        assert client_for(who).get(url).status_code == 403, (who, url)


def test_every_stage_screen_lists_its_waiting_item_with_its_search_fields(client_for, book):
    for wf in WORKFLOWS.values():
        for stage in wf.stages:
            url = f"/{stage.endpoint}/"
            html = client_for(stage.role).get(url).get_data(as_text=True)
            for label in STAGE_SEARCH[wf.key]:
                assert label in html, (url, label)
            assert client_for("collector").get(url).status_code == 403
            assert client_for("officer").get(url).status_code == 403
    first = {"inspection": book["healthy"], "classification": book["late"], "writeoff": book["bad"]}
    for key, loan in first.items():
        stage = WORKFLOWS[key].stages[0]
        html = client_for(stage.role).get(f"/{stage.endpoint}/").get_data(as_text=True)
        assert loan.loan_no in html or loan.customer_name in html
        later = WORKFLOWS[key].stages[1]
        assert loan.loan_no not in client_for(later.role).get(f"/{later.endpoint}/").get_data(as_text=True)


def test_stage_search_by_phone_and_customer(client_for, book):
    url = _stage_url("inspection", "risk_check")
    c = client_for("risk_checker")
    assert "张三" in c.get(url + "?q_phone=1390000").get_data(as_text=True)
    assert "张三" not in c.get(url + "?q_phone=1370000").get_data(as_text=True)
    assert "张三" in c.get(url + "?q_customer=张").get_data(as_text=True)


def test_review_page_decides_and_refuses_without_opinion(client_for, book):
    insp = book["insp"]
    url = _stage_url("inspection", "risk_check")
    c = client_for("risk_checker")
    page = c.get(f"{url}review/{insp.id}/").get_data(as_text=True)
    assert "通过" in page and "驳回" in page and "审核意见" in page and "审批记录" in page
    r = c.post(f"{url}review/{insp.id}/decide", {"decision": "approve", "opinion": ""}, follow_redirects=True)
    assert "请填写审核意见" in r.get_data(as_text=True)
    r = c.post(f"{url}review/{insp.id}/decide", {"decision": "approve", "opinion": "现场核实无误"},
               follow_redirects=True)
    assert "已通过" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Inspection, insp.id).review_stage == "risk_approve"
    # A second click of the same stage is refused.
    r = c.post(f"{url}review/{insp.id}/decide", {"decision": "approve", "opinion": "再次"}, follow_redirects=True)
    assert "该事项已被他人处理" in r.get_data(as_text=True)
    # The handled scope shows it.
    assert book["healthy"].loan_no in c.get(url + "?q_scope=handled").get_data(as_text=True)


def test_decide_is_refused_for_a_role_that_may_only_look(client_for, book):
    url = _stage_url("inspection", "risk_check")
    c = client_for("risk_approver")
    assert c.get(f"{url}review/{book['insp'].id}/").status_code == 200
    assert c.post(f"{url}review/{book['insp'].id}/decide",
                  {"decision": "approve", "opinion": "x"}).status_code == 403


def test_interview_list_and_add(client_for, book):
    loan = book["healthy"]
    c = client_for("officer")
    assert "约谈记录" in c.get(f"/inspection_loans/loan/{loan.id}/interviews/").get_data(as_text=True)
    r = c.post(f"/inspection_loans/loan/{loan.id}/interviews/add", {
        "held_at": (date.today() - timedelta(days=1)).strftime("%Y-%m-%dT10:30"), "place": "客户公司会议室",
        "participants": "王经理、张三", "content": "了解经营情况", "follow_up": "一个月后回访"},
        follow_redirects=True)
    assert "约谈记录已保存" in r.get_data(as_text=True) and "客户公司会议室" in r.get_data(as_text=True)
    assert db.session.query(Interview).count() == 1
    r = client_for("risk_checker").post(f"/inspection_loans/loan/{loan.id}/interviews/add", {"place": "x"})
    assert r.status_code == 403


def test_inspection_add_view_and_resubmit(client_for, users, book):
    loan = book["healthy"]
    c = client_for("officer")
    assert "检查结论" in c.get(f"/inspection_loans/loan/{loan.id}/inspections/new").get_data(as_text=True)
    r = c.post(f"/inspection_loans/loan/{loan.id}/inspections/new", {
        "kind": "special", "inspected_on": date.today().isoformat(), "method": "offsite",
        "operation_findings": "订单下滑", "risk_signals": "应收账款增加", "conclusion": "需关注"},
        follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "贷后检查已提交" in html and "专项" in html and "审批记录" in html
    item = db.session.query(Inspection).filter_by(kind="special").one()
    approvals.reject("inspection", item.id, users["risk_checker"], "请补充财务数据")
    db.session.commit()
    page = c.get(f"/inspection_loans/inspection/{item.id}/").get_data(as_text=True)
    assert "请补充财务数据" in page and "重新提交" in page
    r = c.post(f"/inspection_loans/inspection/{item.id}/resubmit", {
        "kind": "special", "inspected_on": date.today().isoformat(), "method": "offsite",
        "finance_findings": "营收同比下降20%", "conclusion": "需关注"}, follow_redirects=True)
    assert "已修改并重新提交" in r.get_data(as_text=True)
    db.session.expire_all()
    item = db.session.get(Inspection, item.id)
    assert (item.review_status, item.finance_findings) == ("pending", "营收同比下降20%")
    assert client_for("risk_checker").get(f"/inspection_loans/loan/{loan.id}/inspections/new").status_code == 403


def test_classification_adjust_refuses_below_minimum_and_second_open(client_for, users, book):
    loan = make.loan(days_overdue=100, five_class=1)
    db.session.commit()
    c = client_for("officer")
    page = c.get(f"/classification_manage/adjust/{loan.id}/").get_data(as_text=True)
    assert "次级" in page and "逾期超过90天的贷款至少应分为次级" in page
    r = c.post(f"/classification_manage/adjust/{loan.id}/save", {"to_class": "2", "reason": "轻微"},
               follow_redirects=True)
    assert "逾期超过90天的贷款至少应分为次级" in r.get_data(as_text=True)
    r = c.post(f"/classification_manage/adjust/{loan.id}/save", {"to_class": "3", "reason": "逾期严重"},
               follow_redirects=True)
    assert "请点击「提交分类」" in r.get_data(as_text=True)
    change = db.session.query(ClassificationChange).filter_by(loan_id=loan.id).one()
    assert change.review_status == "draft"
    with pytest.raises(Exception, match="已有一笔未完成"):
        classification.propose(loan.id, 4, "再来一笔", users["officer2"])
    r = c.post(f"/classification_manage/change/{change.id}/submit", {}, follow_redirects=True)
    assert "已提交分类" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ClassificationChange, change.id).review_stage == "risk_review"
    history = c.get(f"/classification_manage/history/{loan.id}/").get_data(as_text=True)
    assert "正常 → 次级" in history and "提交" in history
    assert client_for("reviewer").post(f"/classification_manage/adjust/{loan.id}/save",
                                       {"to_class": "3", "reason": "x"}).status_code == 403


def test_classification_manage_export_and_search(client_for, book):
    c = client_for("officer")
    r = c.get("/classification_manage/export/csv/")
    assert r.status_code == 200 and "贷款编号" in r.get_data(as_text=True)
    html = c.get("/classification_manage/?q_five_class=3").get_data(as_text=True)
    assert book["bad"].loan_no in html and book["healthy"].loan_no not in html


def test_classification_stats_table_chart_and_exports(client_for, book):
    c = client_for("risk_approver")
    html = c.get("/classification_stats/?as_of=today").get_data(as_text=True)
    assert "<svg" in html and "损失" in html and "余额占比" in html
    csv_text = c.get("/classification_stats/export/csv/?as_of=today").get_data(as_text=True)
    lines = csv_text.lstrip("\ufeff").splitlines()
    assert lines[0] == "五级分类统计" and lines[1] == "统计时点,今日(实时)"
    head = lines.index("五级分类,笔数,笔数占比(%),贷款余额(元),余额占比(%)")
    assert lines[head + 1].startswith("正常,1,33.34")  # 1 of the 3 open loans (largest remainder)
    assert lines[head + 6].startswith("合计,3,100")
    x = c.get("/classification_stats/export/xlsx/")
    assert x.status_code == 200 and x.data[:2] == b"PK"


def test_classification_stats_numbers(book):
    from services.portfolio import AsOf, class_statistics

    whole, _ = class_statistics(AsOf(None))
    by = {c.label: c for c in whole.cells}
    assert whole.count == 3 and whole.balance == Decimal("300000.00")
    assert by["次级"].count == 1 and str(by["次级"].balance_share) == "33.33"
    assert sum(c.balance_share for c in whole.cells) == Decimal("100.00")


def test_writeoff_lookup_only_offers_eligible_loans(client_for, users, book):
    fresh_bad = make.loan(days_overdue=400, five_class=5)
    db.session.commit()
    data = client_for("officer").get("/writeoff_apply/lookup?q=").get_json()["results"]
    ids = {r["id"] for r in data}
    assert fresh_bad.id in ids
    assert book["bad"].id not in ids  # has a write-off already
    assert book["healthy"].id not in ids and book["late"].id not in ids  # not 次级 or worse
    assert client_for("risk_checker").get("/writeoff_apply/lookup?q=").status_code == 403


def test_writeoff_add_defaults_amounts_and_submits(client_for, book):
    loan = make.loan(days_overdue=400, five_class=5, principal="50000.00", overdue_interest="800.00")
    db.session.commit()
    c = client_for("officer")
    page = c.get("/writeoff_apply/new/").get_data(as_text=True)
    assert "核销原因说明" in page
    # the write-off rule (账销案存: accrual stops on the write-off date) where the user acts
    from models.ledger import RULES

    assert RULES["write_off"] in page
    r = c.post("/writeoff_apply/new/", {"loan_id": str(loan.id), "reason": "借款人死亡,无遗产",
                                        "submit_now": "1"}, follow_redirects=True)
    assert "核销申请已提交" in r.get_data(as_text=True)
    item = db.session.query(WriteOff).filter_by(loan_id=loan.id).one()
    assert (str(item.principal_amount), str(item.interest_amount)) == ("50000.00", "800.00")
    r = c.post("/writeoff_apply/new/", {"loan_id": str(loan.id), "reason": "再次"}, follow_redirects=True)
    assert "不能重复申请" in r.get_data(as_text=True) or "只能核销" in r.get_data(as_text=True)
    r = c.post("/writeoff_apply/new/", {"loan_id": str(book["healthy"].id), "reason": "x"},
               follow_redirects=True)
    assert "只能核销五级分类为次级" in r.get_data(as_text=True)
    assert client_for("risk_checker").post("/writeoff_apply/new/", {"loan_id": str(loan.id)}).status_code == 403


def test_writeoff_list_search_and_item_page(client_for, book):
    c = client_for("officer")
    html = c.get("/writeoff_apply/").get_data(as_text=True)
    assert "添加" in html and book["bad"].loan_no in html
    assert book["bad"].loan_no not in c.get("/writeoff_apply/?q_loan_no=ZZ").get_data(as_text=True)
    page = c.get(f"/writeoff_apply/item/{book['wo'].id}/").get_data(as_text=True)
    assert "核销原因说明" in page and "借款人失联" in page and "审批记录" in page


def test_home_todo_counts_link_to_stage_screens(client_for, book):
    html = client_for("risk_checker").get("/").get_data(as_text=True)
    for name in ("贷后检查风控检查", "五级分类风控审查", "核销风控申请"):
        assert name in html
    assert re.search(r'href="/inspection_stage_risk_check/[^"]*">1<', html)


def test_home_shows_the_proposers_rejected_and_draft_items(client_for, users, book):
    approvals.reject("inspection", book["insp"].id, users["risk_checker"], "补充材料")
    make_loan = make.loan(days_overdue=5)
    classification.propose(make_loan.id, 2, "关注", users["officer"])
    db.session.commit()
    html = client_for("officer").get("/").get_data(as_text=True)
    assert "贷后检查被驳回待修改" in html and "五级分类调整待提交" in html
    # officer2 has the same cards, with nothing in them.
    other = client_for("officer2").get("/").get_data(as_text=True)
    assert re.search(r"贷后检查被驳回待修改</div>\s*<div class=\"count\"><a [^>]*>0<", other)


def test_home_portfolio_equals_the_loans_summed_one_by_one(app, db):
    """首页's tables (one pass over the portfolio index, summed per status and per class of
    open loans; aging by overdue days) equal the book added up loan by loan."""
    from datetime import date
    from decimal import Decimal

    from admin_app.seed import seed_demo
    from models import Loan
    from models.enums import FIVE_CLASSES, LOAN_STATUSES, OPEN_LOAN_STATUSES
    from views.home import AGING_BUCKETS, portfolio

    seed_demo(loans=80, seed=11, as_of=date(2025, 6, 30))
    db.session.commit()
    loans = db.session.query(Loan).all()
    def total(rows):
        return len(rows), sum((Decimal(l.outstanding_principal) for l in rows), Decimal("0.00"))
    want_status = [(label, *total([l for l in loans if l.status == k])) for k, label in LOAN_STATUSES.items()]
    open_loans = [l for l in loans if l.status in OPEN_LOAN_STATUSES]
    want_class = [(label, *total([l for l in open_loans if l.five_class == k])) for k, label in FIVE_CLASSES.items()]
    want_aging = [(label, sum(1 for l in open_loans if l.days_overdue >= lo and (hi is None or l.days_overdue <= hi)))
                  for label, lo, hi in AGING_BUCKETS]
    got = portfolio()
    assert [(a, n, Decimal(b)) for a, n, b in got["status"]] == want_status
    assert [(a, n, Decimal(b)) for a, n, b in got["classes"]] == want_class
    assert got["aging"] == want_aging
    assert sum(n for _, n, _ in got["status"]) == len(loans) and sum(n for _, n in got["aging"]) > 0


def test_home_chart_labels_never_run_into_their_bars(client_for, db):
    """首页's ageing chart took 逾期账龄's labels (「M4–M6(91–180天)」) into a label column fixed at
    80 px: the labels ran under the bars. Each chart's bars start past its longest label."""
    import re
    from datetime import date

    from admin_app.seed import seed_demo

    seed_demo(loans=80, seed=11, as_of=date(2025, 6, 30))
    db.session.commit()
    page = client_for("admin").get("/").get_data(as_text=True)
    charts = re.findall(r'<svg class="chart bar-chart".*?</svg>', page, re.S)
    assert len(charts) >= 5
    for svg in charts:
        labels = re.findall(r'<text x="0"[^>]*>([^<]*)</text>', svg)
        starts = {float(x) for x in re.findall(r'<rect class="chart-bar" x="([\d.]+)"', svg)}
        assert labels and len(starts) == 1
        need = max(sum(12 if ch > "\u2e7f" else 7 for ch in label) for label in labels)
        assert min(starts) >= need, (labels, starts)
