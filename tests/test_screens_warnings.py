"""The six 贷后预警 screens, 跟进, and the 系统管理 pages 预警参数 and 任务运行记录, through
the test client: rows of the newest run only, search with 查询/重置, urgency order, export
of the filtered rows, 贷款详情 links, handling, and who may do what."""
import csv
import io
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from jobs.daily import run_daily
from models import JobRun, Setting, Warning
from models.enums import WARNING_KINDS
from tests.warning_book import Book
from views.warnings import SCREENS

AS_OF = date(2025, 6, 30)


@pytest.fixture
def book(db):
    """Two customers, each with something on every screen, then the daily job."""
    b = Book(AS_OF)
    p = b.product()
    for name, phone, contact, overdue_days in (("赵一", "13911110001", "钱联系", 40), ("孙二", "13922220002", "李联系", 5)):
        c = b.customer(name, phone=phone, contact=contact, kind="company")
        loan = b.loan(c, p, start=b.day(-120), installments=[(b.day(-overdue_days), 1000, 50), (b.day(3), 1000, 50)])
        b.collateral(loan, "mortgage", b.day(10))
        b.collateral(loan, "pledge", b.day(-1))
        b.credit_line(c, b.day(-overdue_days))
        b.loans = getattr(b, "loans", []) + [loan]
    db.session.commit()
    assert run_daily(AS_OF).ok
    db.session.expire_all()
    return b


def page(client, url):
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code)
    return r.get_data(as_text=True)


def test_menu_category_and_screen_names_are_those_of_the_spec(client_for, book):
    html = page(client_for("officer"), "/")
    assert "贷后预警" in html
    for screen in SCREENS:
        assert screen.name in html
    assert [s.endpoint for s in SCREENS] == ["warn_credit_expiry", "warn_mortgage_expiry", "warn_pledge_expiry",
                                             "warn_inspection_due", "warn_repayment_overdue", "warn_repayment_due"]


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: s.kind)
def test_each_screen_lists_rows_with_search_and_reset(client_for, book, screen):
    c = client_for("officer")
    html = page(c, f"/{screen.endpoint}/")
    assert screen.name in html and "赵一" in html and "孙二" in html
    assert 'id="search-submit"' in html and "查询" in html and "重置" in html
    assert f"预警日期" in html and str(AS_OF) in html
    for field in screen.search:
        assert f'name="q_{field}"' in html
    filtered = page(c, f"/{screen.endpoint}/?q_customer=赵")
    assert "赵一" in filtered and "孙二" not in filtered
    if "loan_no" in screen.search:
        loan = book.loans[1]
        by_no = page(c, f"/{screen.endpoint}/?q_loan_no={loan.loan_no}")
        assert "孙二" in by_no and "赵一" not in by_no
        assert f"/loan_detail/{book.loans[0].id}/" in html  # 贷款详情


def test_credit_screen_searches_phone_and_contact(client_for, book):
    c = client_for("officer")
    assert "孙二" not in page(c, "/warn_credit_expiry/?q_phone=1391111")
    assert "赵一" in page(c, "/warn_credit_expiry/?q_phone=1391111")
    html = page(c, "/warn_credit_expiry/?q_contact=李")
    assert "孙二" in html and "赵一" not in html


def test_rows_are_sorted_by_urgency_and_show_days_and_level(client_for, book):
    html = page(client_for("officer"), "/warn_repayment_overdue/")
    assert html.index("赵一") < html.index("孙二")  # 40 days overdue before 5
    assert "逾期 40 天" in html and "badge-danger" in html
    due = page(client_for("officer"), "/warn_mortgage_expiry/")
    assert "剩余 10 天" in due and ">中<" in due


def test_only_rows_of_the_newest_run_are_shown(client_for, book, db):
    loan = book.loans[1]
    for inst in loan.installments:  # 孙二 pays everything before the next day's run
        inst.principal_paid, inst.interest_paid, inst.paid_off_date = inst.principal_due, inst.interest_due, AS_OF
    db.session.commit()
    assert run_daily(AS_OF + timedelta(days=1)).ok
    html = page(client_for("officer"), "/warn_repayment_overdue/")
    assert "赵一" in html and "孙二" not in html and str(AS_OF + timedelta(days=1)) in html
    assert db.session.scalar(select(func.count()).select_from(Warning).where(
        Warning.kind == "repayment_overdue", Warning.customer_name == "孙二")) == 1  # history kept


def test_export_csv_and_xlsx_contain_exactly_the_filtered_rows(client_for, book):
    c = client_for("officer")
    r = c.get("/warn_repayment_overdue/export/csv/?q_customer=赵")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["贷款编号", "客户名称", "联系电话", "应还日期"]
    assert len(rows) == 2 and rows[1][1] == "赵一" and "逾期 40 天" in rows[1] and "高" in rows[1]
    r = c.get("/warn_credit_expiry/export/xlsx/")
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["客户名称", "联系电话", "联系人"] and len(values) == 3


def test_handle_records_state_note_user_and_time(client_for, book, users, db):
    c = client_for("officer")
    w = db.session.scalars(select(Warning).where(Warning.kind == "repayment_overdue",
                                                 Warning.customer_name == "赵一")).one()
    form = page(c, f"/warn_repayment_overdue/handle/?id={w.id}")
    assert "跟进" in form and "跟进中" in form and "已处理" in form and "赵一" in form
    r = c.post(f"/warn_repayment_overdue/handle/?id={w.id}", {"state": "done", "note": "客户已承诺明日还款"})
    assert r.status_code == 302
    db.session.expire_all()
    w = db.session.get(Warning, w.id)
    assert (w.handling_state, w.handled_by_id) == ("done", users["officer"].id) and w.handled_at is not None
    assert "客户已承诺明日还款" in w.note
    html = page(c, "/warn_repayment_overdue/")
    assert "已处理" in html


def test_handle_refuses_an_empty_note_and_a_foreign_kind(client_for, book, db):
    c = client_for("officer")
    w = db.session.scalars(select(Warning).where(Warning.kind == "repayment_overdue")).first()
    r = c.post(f"/warn_repayment_overdue/handle/?id={w.id}", {"state": "following", "note": "  "})
    assert r.status_code == 200 and "请填写跟进说明" in r.get_data(as_text=True)
    assert c.post(f"/warn_repayment_overdue/handle/?id={w.id}", {"state": "open", "note": "x"}).status_code == 200
    db.session.expire_all()
    assert db.session.get(Warning, w.id).handling_state == "open"
    assert c.get(f"/warn_credit_expiry/handle/?id={w.id}").status_code == 404


def test_handling_permissions_follow_the_table(client_for, book, db):
    w = db.session.scalars(select(Warning).where(Warning.kind == "inspection_due")).first()
    risk = client_for("risk_checker")
    assert risk.get("/warn_inspection_due/").status_code == 200
    assert risk.get(f"/warn_inspection_due/handle/?id={w.id}").status_code == 403
    assert "跟进</a>" not in page(risk, "/warn_inspection_due/")
    collector = client_for("collector")
    assert collector.post(f"/warn_inspection_due/handle/?id={w.id}", {"state": "done", "note": "x"}).status_code == 403
    assert collector.get("/warn_repayment_overdue/").status_code == 200
    assert client_for().get("/warn_repayment_overdue/").status_code == 302  # anonymous: to the login page


# ---- 预警参数 ---------------------------------------------------------------------------------
def test_parameter_page_lists_parameters_for_admins_only(client_for):
    html = page(client_for("admin"), "/settings/")
    for label in ("授信到期预警提前天数", "还款到期预警提前天数", "次级类逾期天数下限(超过)", "催收允许开始时间"):
        assert label in html
    for user in ("officer", "risk_approver", "collector"):
        assert client_for(user).get("/settings/").status_code == 403
        assert client_for(user).post("/settings/save/", {"lead_days.credit_expiry": "10"}).status_code == 403


def _all_params(**changes):
    from admin_app.settings import PARAMS

    values = {p.key: p.default for p in PARAMS}
    values.update(changes)
    return values


def test_admin_saves_valid_parameters_and_the_job_uses_them(client_for, db, users):
    c = client_for("admin")
    r = c.post("/settings/save/", _all_params(**{"lead_days.credit_expiry": "45", "collection.end": "20:30"}))
    assert r.status_code == 302
    saved = dict(db.session.execute(select(Setting.key, Setting.value)).all())
    assert saved == {"lead_days.credit_expiry": "45", "collection.end": "20:30"}
    assert db.session.get(Setting, "lead_days.credit_expiry").updated_by_id == users["admin"].id
    assert 'value="45"' in page(c, "/settings/")


@pytest.mark.parametrize("key,value", [("lead_days.credit_expiry", "abc"), ("lead_days.repayment_due", "-1"),
                                       ("lead_days.pledge_expiry", "99999"), ("collection.start", "25:00")])
def test_invalid_parameters_are_refused_and_nothing_is_saved(client_for, db, key, value):
    c = client_for("admin")
    r = c.post("/settings/save/", _all_params(**{key: value, "lead_days.mortgage_expiry": "20"}))
    assert r.status_code == 200  # the form again, on the shared grid, the message under the field
    html = r.get_data(as_text=True)
    assert "参数未保存" in html and 'id="settings-form"' in html and "novalidate" in html
    assert re.search(r'<input class="form-control is-invalid" id="%s"[^>]*>\s*<div class="invalid-feedback d-block">'
                     % re.escape(key), html), html
    assert db.session.scalar(select(func.count()).select_from(Setting)) == 0


# ---- 任务运行记录 -------------------------------------------------------------------------------
def test_job_runs_list_and_run_now_for_admins(client_for, book, db):
    c = client_for("admin")
    html = page(c, "/job_runs/")
    assert "任务运行记录" in html and "成功" in html and str(AS_OF) in html and "立即运行" in html
    assert "还款逾期预警 2" in html
    r = c.post("/job_runs/run/")
    assert r.status_code == 302
    assert "调度进程未运行" in page(c, "/job_runs/")  # the request waits for the scheduler process
    from jobs.requests import carry_out_requests

    db.session.commit()
    assert [res.ok for res in carry_out_requests(db.engine)] == [True]
    from jobs.steps import steps

    assert f"全部 {len(steps())} 步完成" in page(c, "/job_runs/")
    assert db.session.scalar(select(func.max(JobRun.as_of))) == date.today()
    officer = client_for("officer")
    assert officer.get("/job_runs/").status_code == 403
    assert officer.post("/job_runs/run/").status_code == 403
