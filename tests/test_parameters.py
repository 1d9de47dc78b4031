"""预警参数 validation (issue 15): every value checked with a Chinese message — numbers plain
ASCII digits within their bounds (`²` is not a number), collection hours within the conduct
rules' 06:00–22:00 with the start before the end. (The five-class thresholds' order is the
controls area's rule, tested there.)"""
import pytest
from sqlalchemy import func, select

from admin_app import settings
from models.warning import Setting


def _all(**changes):
    values = {p.key: p.default for p in settings.PARAMS}
    values.update(changes)
    return values


@pytest.mark.parametrize("key,value,message", [
    ("lead_days.credit_expiry", "²", "必须是整数"),
    ("lead_days.credit_expiry", "３０", "必须是整数"),  # full-width digits
    ("lead_days.credit_expiry", "1e3", "必须是整数"),
    ("class.loss_days", "4000", "之间"),
    ("collection.start", "22:00:00", "时:分"),
    ("collection.start", "²:00", "时:分"),
    ("collection.start", "05:59", "06:00 到 22:00"),
    ("collection.end", "23:59", "06:00 到 22:00"),
    ("collection.start", "00:00", "06:00 到 22:00"),
])
def test_each_bad_value_gets_a_chinese_message(key, value, message):
    with pytest.raises(ValueError) as err:
        settings.validate(key, value)
    assert message in str(err.value)


@pytest.mark.parametrize("start,end", [("22:00", "06:00"), ("09:00", "09:00"), ("21:00", "08:00")])
def test_the_screen_refuses_a_window_that_does_not_run_forwards(client_for, db, start, end):
    r = client_for("admin").post("/settings/save/", _all(**{"collection.start": start, "collection.end": end}))
    assert r.status_code == 200  # the form again, the message under the field
    assert "必须晚于开始时间" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Setting)) == 0


def test_the_screen_shows_superscript_two_as_a_chinese_message_not_a_python_error(client_for, db):
    r = client_for("admin").post("/settings/save/", _all(**{"lead_days.credit_expiry": "²"}))
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and "必须是整数" in text and "invalid literal" not in text


def test_set_value_checks_the_window_against_the_stored_other_end(db):
    settings.set_value("collection.start", "09:00")
    with pytest.raises(ValueError, match="必须晚于开始时间"):
        settings.set_value("collection.end", "08:30")
    settings.set_value("collection.end", "20:00")
    assert settings.get_time("collection.end").hour == 20


def test_a_narrower_window_within_the_rules_is_accepted(client_for, db):
    r = client_for("admin").post("/settings/save/", _all(**{"collection.start": "06:00", "collection.end": "22:00"}))
    assert r.status_code == 302
