"""Interviews and inspections: validation, attachments through services.uploads, approval
effect on the loan's inspection dates."""
import io
from datetime import date, datetime, timedelta

import pytest

from admin_app.extensions import db
from models import Inspection
from services import BusinessError, approvals, inspection
from tests import review_factory as make

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_interview_is_recorded_with_its_recorder(users):
    loan = make.loan()
    iv = inspection.record_interview(loan.id, users["officer"], held_at=datetime.now() - timedelta(hours=2),
                                     place="客户厂区", participants="王经理、借款人", content="经营正常",
                                     follow_up="下月回访")
    assert iv.recorded_by_id == users["officer"].id
    assert inspection.interviews_of(loan.id) == [iv]


@pytest.mark.parametrize("kw, message", [
    ({"held_at": datetime.now() + timedelta(days=2)}, "不能晚于当前时间"),
    ({"held_at": datetime(2020, 1, 1)}, "不能早于放款日"),
    ({"place": " "}, "请填写约谈地点"),
    ({"content": ""}, "请填写约谈内容"),
])
def test_interview_checks(users, kw, message):
    loan = make.loan()
    base = dict(held_at=datetime.now() - timedelta(hours=1), place="A", participants="B", content="C")
    base.update(kw)
    with pytest.raises(BusinessError, match=message):
        inspection.record_interview(loan.id, users["officer"], **base)


@pytest.mark.parametrize("kw, message", [
    ({"kind": "x"}, "请选择检查类型"), ({"method": "x"}, "请选择检查方式"),
    ({"inspected_on": date.today() + timedelta(days=1)}, "不能晚于今天"),
    ({"inspected_on": date(2020, 1, 1)}, "不能早于放款日"), ({"conclusion": " "}, "请填写检查结论"),
])
def test_inspection_checks(users, kw, message):
    loan = make.loan()
    base = dict(kind="routine", method="onsite", inspected_on=date.today(), conclusion="正常")
    base.update(kw)
    with pytest.raises(BusinessError, match=message):
        inspection.create_inspection(loan.id, users["officer"], **base)


def test_inspection_of_a_settled_loan_is_refused(users):
    loan = make.loan(status="settled")
    with pytest.raises(BusinessError, match="未结清"):
        inspection.create_inspection(loan.id, users["officer"], kind="routine", method="onsite",
                                     inspected_on=date.today(), conclusion="x")


def test_attachment_upload_is_stored_and_served_to_reviewers(client_for):
    loan = make.loan()
    db.session.commit()
    c = client_for("officer")
    r = c.post(f"/inspection_loans/loan/{loan.id}/inspections/new", {
        "kind": "first", "inspected_on": date.today().isoformat(), "method": "onsite", "conclusion": "正常",
        "attachment": (io.BytesIO(PNG), "现场照片.png")}, content_type="multipart/form-data",
        follow_redirects=True)
    assert "贷后检查已提交" in r.get_data(as_text=True)
    item = db.session.query(Inspection).one()
    assert item.attachment_name == "现场照片.png" and item.attachment_path.endswith(".png")
    got = client_for("risk_checker").get(f"/inspection_stage_risk_check/review/{item.id}/attachment")
    assert got.status_code == 200 and got.data == PNG
    assert client_for("collector").get(f"/inspection_stage_risk_check/review/{item.id}/attachment").status_code == 403


def test_a_disguised_file_is_refused_and_nothing_is_recorded(client_for):
    loan = make.loan()
    db.session.commit()
    r = client_for("officer").post(f"/inspection_loans/loan/{loan.id}/inspections/new", {
        "kind": "first", "inspected_on": date.today().isoformat(), "method": "onsite", "conclusion": "正常",
        "attachment": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "报告.pdf")}, content_type="multipart/form-data",
        follow_redirects=True)
    assert "文件类型不支持" in r.get_data(as_text=True)
    assert db.session.query(Inspection).count() == 0


def test_approved_inspection_sets_next_date_by_product_interval(users):
    loan = make.loan(prod=make.product(interval_days=30))
    on = date.today() - timedelta(days=5)
    item = inspection.create_inspection(loan.id, users["officer"], kind="routine", method="offsite",
                                        inspected_on=on, conclusion="正常")
    approvals.approve("inspection", item.id, users["risk_checker"], "属实")
    approvals.approve("inspection", item.id, users["risk_approver"], "同意")
    assert (loan.last_inspection_date, loan.next_inspection_date) == (on, on + timedelta(days=30))
