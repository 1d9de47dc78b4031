"""The retention run outside the daily job: `flask --app wsgi retention [--date D]
[--dry-run]`. A dry run lists who would be anonymised and changes nothing; either way the
run is recorded in 任务运行记录 (job_run, job "retention")."""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy import insert, select

from models.warning import JobRun, Setting
from services.retention import RetentionReport, anonymise, dry_run, remove_files, retention_key, upload_folder
from models.clock import utc_now

JOB_NAME = "retention"


def retention_years(conn) -> int:
    from admin_app.settings import PARAMS_BY_KEY

    key = "privacy.retention_years"
    stored = conn.execute(select(Setting.value).where(Setting.key == key)).scalar()
    return int(stored if stored is not None else PARAMS_BY_KEY[key].default)


def run_retention(engine, as_of: date, dry: bool) -> RetentionReport:
    started = utc_now()
    with engine.begin() as conn:
        years = retention_years(conn)
        if dry:
            report = dry_run(conn, as_of, years)
            summary = {"retention_dry_run": len(report.customers)}
        else:
            report = anonymise(conn, as_of, years, retention_key)
            summary = {"anonymised": report.counts["customers"], "retention": report.counts}
        conn.execute(insert(JobRun.__table__).values(
            job=JOB_NAME, as_of=as_of, started_at=started, finished_at=utc_now(), outcome="ok",
            summary=json.dumps(summary, ensure_ascii=False)))
    if report.files:
        remove_files(report.files, upload_folder())
    return report
