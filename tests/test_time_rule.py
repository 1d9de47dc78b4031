"""One time rule: every timestamp is stored as UTC (naive) and shown in DISPLAY_TIMEZONE
(Asia/Shanghai), whatever the server's or the database's zone.

Issue 13 found 利率调整记录 and 展期记录 at 23:24 while the audit log and an inspection read
07:24 the next day, made in the same minute: the first two were stamped by the database
(CURRENT_TIMESTAMP, UTC), the others by Python's local clock. Here the same four records are
made under TZ=UTC and under TZ=Asia/Shanghai (and, on PostgreSQL, with the session's TimeZone
set to the same zone) and every time they show must be the Shanghai minute of the moment."""
import re
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from admin_app import clock
from admin_app.extensions import db
from models.approval import WORKFLOWS
from services import extension, inspection
from services.loans import change_rate
from tests import book_factory as make

SHANGHAI = ZoneInfo("Asia/Shanghai")
MINUTE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")


@pytest.fixture
def server_zone(monkeypatch):
    """Run the code as on a server whose zone is `name` (process TZ and database session)."""
    def use(name: str):
        monkeypatch.setenv("TZ", name)
        time.tzset()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text(f"SET TIME ZONE '{name}'"))
    yield use
    monkeypatch.undo()
    time.tzset()


def _shanghai_minute(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _cells(html: str, after: str, rows: int = 1) -> list[str]:
    """The times shown in the table that follows the section heading `after` (the heading,
    not the first mention: the menu names 基础数据's 利率调整记录 and 展期记录 too)."""
    part = html.split(f'class="panel-title">{after}</h3>', 1)[1].split("</table>", 1)[0]
    return MINUTE.findall(part)


def _make_records(users):
    loan = make.active_loan(officer=users["officer"])
    db.session.commit()
    change_rate(loan, Decimal("10.5"), loan.start_date + timedelta(days=1), "市场利率调整", users["officer"])
    app = extension.apply(loan.id, users["officer"], new_maturity=loan.maturity_date + timedelta(days=90),
                          reason="经营周转困难")
    from services import approvals
    approvals.approve("extension", app.id, users["risk_checker"], "同意")
    approvals.approve("extension", app.id, users["risk_approver"], "同意")
    item = inspection.create_inspection(loan.id, users["officer"], kind="routine", method="onsite",
                                        inspected_on=clock.business_date(), conclusion="经营正常")
    db.session.commit()
    return loan, item


def _shown_times(client_for, loan) -> dict[str, list[str]]:
    admin = client_for("admin")
    detail = admin.get(f"/loan_detail/{loan.id}/").get_data(as_text=True)
    audit = admin.get("/audit_log/").get_data(as_text=True)
    stage = WORKFLOWS["inspection"].stages[0].endpoint
    checker = client_for("risk_checker")
    inspections = checker.get(f"/{stage}/").get_data(as_text=True)
    body = audit.split("</thead>", 1)[1]
    return {
        "利率调整记录": _cells(detail, "利率调整记录"),
        "展期记录": _cells(detail, "展期记录"),
        "操作日志": MINUTE.findall(body.split("</table>", 1)[0]),
        "贷后检查": MINUTE.findall(inspections.split("</thead>", 1)[1].split("</table>", 1)[0]),
    }


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
def test_records_made_in_one_minute_show_one_shanghai_time(zone, server_zone, users, client_for):
    server_zone(zone)
    for _ in range(3):  # a minute boundary inside the test is retried
        before = datetime.now(timezone.utc)
        loan, _item = _make_records(users)
        shown = _shown_times(client_for, loan)
        after = datetime.now(timezone.utc)
        if _shanghai_minute(before) == _shanghai_minute(after):
            break
    expected = _shanghai_minute(before)
    for screen, times in shown.items():
        assert times, f"{screen}: no time shown"
        assert set(times) == {expected}, f"{screen} under TZ={zone}: {times}, expected {expected}"


def test_timestamps_are_stored_as_utc(server_zone, users):
    """Storage convention: naive UTC, by Python and by the database alike."""
    server_zone("Asia/Shanghai")
    before = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    loan, item = _make_records(users)
    after = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(seconds=1)
    from models import AuditLog, Extension, RateChange

    for model, column in ((RateChange, "created_at"), (Extension, "created_at"), (AuditLog, "at")):
        stamp = db.session.execute(db.select(getattr(model, column)).order_by(model.id.desc()).limit(1)).scalar()
        assert before <= stamp <= after, f"{model.__name__}.{column} = {stamp}, not UTC in [{before}, {after}]"
    assert before <= item.submitted_at <= after


def test_shown_time_converts_utc_to_the_configured_zone(app):
    stored = datetime(2026, 3, 1, 23, 24, 30)  # UTC
    assert clock.shown(stored) == datetime(2026, 3, 2, 7, 24, 30)
    from admin_app.formats import minute_text

    assert minute_text(stored) == "2026-03-02 07:24"
    app.config["DISPLAY_TIMEZONE"] = "UTC"
    try:
        assert minute_text(stored) == "2026-03-01 23:24"
    finally:
        app.config["DISPLAY_TIMEZONE"] = "Asia/Shanghai"


def test_business_date_is_the_shanghai_date(server_zone, app, monkeypatch):
    """At 23:30 UTC it is already tomorrow in Shanghai: the business date follows Shanghai."""
    server_zone("UTC")
    late = datetime(2026, 3, 1, 23, 30, tzinfo=timezone.utc)
    monkeypatch.setattr(clock, "utc_now", lambda: late.replace(tzinfo=None))
    assert clock.business_date() == date(2026, 3, 2)
    app.config["BUSINESS_DATE"] = "2026-01-15"
    try:
        assert clock.business_date() == date(2026, 1, 15)
    finally:
        app.config.pop("BUSINESS_DATE")


def test_typed_local_time_is_stored_as_utc_and_shown_back(app):
    typed = datetime(2026, 3, 2, 7, 24)  # what a user in Shanghai types
    stored = clock.stored(typed)
    assert stored == datetime(2026, 3, 1, 23, 24)
    assert clock.shown(stored) == typed


def test_day_of_a_stored_time_is_the_shanghai_day(app):
    """A contact at 07:24 Shanghai (23:24 UTC the day before) happened on the Shanghai day."""
    from sqlalchemy import literal_column, select

    stored = "2026-03-01 23:24:00"
    expr = clock.day_of(literal_column(f"CAST('{stored}' AS TIMESTAMP)" if db.engine.dialect.name == "postgresql"
                                       else f"'{stored}'"))
    day = db.session.execute(select(expr)).scalar()
    assert str(day) == "2026-03-02"
