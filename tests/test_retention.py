"""Retention (issue 18): after the retention period a settled customer with nothing open is
anonymised by the daily job — names 「张*」, identifiers hashed, addresses to the district,
files removed — and every money figure and every 首页 count stays as it was."""
import json
import os
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import Numeric, func, select

from admin_app.extensions import db as _db
from models import Collection, Customer, Guarantor, JobRun, Loan
from services.retention import cutoff_date, dry_run

AS_OF = date(2025, 6, 30)


@pytest.fixture
def book(db):
    from admin_app.seed import seed_demo

    seed_demo(loans=120, seed=7, as_of=AS_OF)
    db.session.commit()


def expected_customers(as_of: date, years: int) -> set[int]:
    """Who is past retention, worked out loan by loan in Python (apart from the SQL)."""
    cutoff = cutoff_date(as_of, years)
    out = set()
    for customer in _db.session.query(Customer):
        loans = _db.session.query(Loan).filter(Loan.customer_id == customer.id).all()
        if not loans or customer.anonymised_on:
            continue
        closed = [ln.settled_date or ln.written_off_date for ln in loans]
        if any(ln.status not in ("settled", "written_off") for ln in loans) or any(d is None for d in closed):
            continue
        if max(closed) > cutoff:
            continue
        open_collections = _db.session.query(Collection).filter(
            Collection.loan_id.in_([ln.id for ln in loans]), Collection.status != "done").count()
        if open_collections == 0:
            out.add(customer.id)
    return out


def _split_as_of() -> date:
    """A date on which about half the closed customers are past five years."""
    closed = sorted(d for (d,) in _db.session.query(func.coalesce(Loan.settled_date, Loan.written_off_date))
                    if d is not None)
    assert len(closed) > 10
    return closed[len(closed) // 2].replace(year=closed[len(closed) // 2].year + 5) + timedelta(days=1)


def test_the_dry_run_lists_exactly_the_customers_past_retention(book, db):
    as_of = _split_as_of()
    with db.engine.connect() as conn:
        report = dry_run(conn, as_of, 5)
    listed = {c["id"] for c in report.customers}
    assert listed == expected_customers(as_of, 5)
    assert 0 < len(listed) < db.session.query(Customer).count()
    assert all(re.fullmatch(r".\*", c["name"]) for c in report.customers)  # the report names no one
    # Nothing changed.
    assert db.session.query(Customer).filter(Customer.anonymised_on.isnot(None)).count() == 0


def test_an_open_collection_keeps_the_customer(book, db):
    as_of = _split_as_of()
    listed = expected_customers(as_of, 5)
    settled = db.session.query(Loan).filter(Loan.customer_id.in_(listed)).first()
    # A lawsuit (诉讼) still being followed on a settled loan.
    from datetime import datetime

    db.session.add(Collection(collection_no="CS-TEST-1", loan_id=settled.id, target="borrower", method="lawsuit",
                              contacted_at=datetime(2025, 1, 1, 10), content="诉讼中", status="following"))
    db.session.commit()
    with db.engine.connect() as conn:
        assert settled.customer_id not in {c["id"] for c in dry_run(conn, as_of, 5).customers}


def _money_and_counts(client_for) -> tuple[dict, dict]:
    money = {}
    for table in _db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, Numeric):
                money[f"{table.name}.{column.name}"] = _db.session.execute(select(func.sum(column))).scalar()
        if table.name not in ("job_run", "user_session", "form_submission"):  # the run; the logins
            money[f"{table.name}.rows"] = _db.session.execute(select(func.count()).select_from(table)).scalar()
    pages = {}
    for username in ("admin", "officer", "collector", "risk_checker", "risk_approver", "reviewer"):
        html = client_for(username).get("/").get_data(as_text=True)
        html = re.sub(r'(nonce|value)="[^"]*"', "", html)
        pages[username] = re.findall(r"[\d,]+\.\d\d|\b\d[\d,]*\b", html)
    return money, pages


def test_the_daily_job_anonymises_and_leaves_money_and_home_counts_unchanged(book, db, client_for, app):
    from jobs.daily import run_daily

    as_of = _split_as_of()
    due = expected_customers(as_of, 5)
    kept = db.session.query(Customer).filter(Customer.id.notin_(due)).first()
    kept_values = (kept.name, kept.id_number, kept.phone)
    # A receipt file on one of the loans to be anonymised is removed.
    folder = app.config["UPLOAD_FOLDER"]
    loan_ids = [i for (i,) in db.session.query(Loan.id).filter(Loan.customer_id.in_(due))]
    guarantors = db.session.query(Guarantor).filter(Guarantor.loan_id.in_(loan_ids)).all()
    before_people = {c.id: (c.name, c.id_number, c.phone) for c in db.session.query(Customer).filter(Customer.id.in_(due))}
    inspection = _attach_file(db, loan_ids, folder)

    result = run_daily(as_of)
    assert result.ok, result.error
    assert result.anonymised == len(due) and "匿名化客户" in result.describe()
    db.session.expire_all()
    for cid, (name, id_number, phone) in before_people.items():
        c = db.session.get(Customer, cid)
        assert c.name == name[0] + "*" and c.anonymised_on == as_of
        assert c.id_number.startswith("#") and c.id_number != id_number and c.phone.startswith("#")
        assert id_number not in c.id_number
        assert all(ln.customer_name == c.name for ln in db.session.query(Loan).filter(Loan.customer_id == cid))
    for g in guarantors:
        db.session.refresh(g)
        assert g.name.endswith("*") and g.id_number.startswith("#")
    kept = db.session.get(Customer, kept.id)
    assert (kept.name, kept.id_number, kept.phone) == kept_values
    if inspection:
        assert not os.path.exists(os.path.join(folder, inspection))
    run = db.session.query(JobRun).order_by(JobRun.id.desc()).first()
    assert json.loads(run.summary)["anonymised"] == len(due)
    # A second run finds no one left.
    assert run_daily(as_of).anonymised == 0


def test_anonymisation_changes_no_money_figure_and_no_home_page_count(book, db, client_for, app):
    from jobs.retention import run_retention

    as_of = _split_as_of()
    due = expected_customers(as_of, 5)
    money_before, pages_before = _money_and_counts(client_for)
    db.session.commit()
    report = run_retention(db.engine, as_of, dry=False)
    assert report.counts["customers"] == len(due) > 0
    db.session.expire_all()
    money_after, pages_after = _money_and_counts(client_for)
    assert money_after == money_before
    assert pages_after == pages_before
    runs = db.session.query(JobRun).filter(JobRun.job == "retention").all()
    assert len(runs) == 1 and json.loads(runs[0].summary)["anonymised"] == len(due)


def test_retention_cli_dry_run_lists_and_records(book, db, app):
    as_of = _split_as_of()
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["retention", "--dry-run", "--date", as_of.isoformat()])
    assert result.exit_code == 0, result.output
    due = expected_customers(as_of, 5)
    assert f"客户 {len(due):,} 名" in result.output
    assert len([line for line in result.output.splitlines() if "\t" in line]) == len(due)
    run = db.session.query(JobRun).filter(JobRun.job == "retention").one()
    assert json.loads(run.summary) == {"retention_dry_run": len(due)}
    assert db.session.query(Customer).filter(Customer.anonymised_on.isnot(None)).count() == 0


def _attach_file(db, loan_ids, folder) -> str | None:
    from models import Inspection

    inspection = db.session.query(Inspection).filter(Inspection.loan_id.in_(loan_ids)).first()
    if inspection is None:
        return None
    name = "0" * 32 + ".pdf"
    with open(os.path.join(folder, name), "wb") as f:
        f.write(b"%PDF-1.4\n")
    inspection.attachment_path, inspection.attachment_name = name, "检查照片.pdf"
    db.session.commit()
    return name
