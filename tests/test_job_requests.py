"""Jobs outside requests (issue 15): 立即运行 records a request and returns at once; the
scheduler process carries it out within seconds (its poll), showing progress by step in
任务运行记录; no web worker runs the job; without a scheduler process the page says so."""
import threading
import time
from datetime import date

from sqlalchemy import select

from jobs import daily, progress, requests as job_requests, scheduler
from jobs.steps import steps
from models.warning import JobRun
from tests import book_factory as bf


def _page(c, url):
    r = c.get(url)
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_run_now_records_a_request_and_never_runs_the_job_in_the_request(client_for, db, monkeypatch):
    ran = []
    monkeypatch.setattr(daily, "_run_steps", lambda *a, **kw: ran.append(a) or {})
    c = client_for("admin")
    started = time.perf_counter()
    r = c.post("/job_runs/run/")
    assert r.status_code == 302 and time.perf_counter() - started < 5
    assert ran == []
    rows = db.session.execute(select(JobRun.outcome, JobRun.requested_by_id)).all()
    assert len(rows) == 1 and rows[0].outcome == "requested"
    html = _page(c, "/job_runs/")
    assert "已请求,等待调度进程" in html and "调度进程未运行" in html and "系统管理员" in html
    c.post("/job_runs/run/")  # a second click does not queue a second run
    assert db.session.query(JobRun).count() == 1


def test_the_scheduler_poll_carries_out_the_request_with_progress_by_step(client_for, db, monkeypatch):
    bf.book()
    db.session.commit()
    c = client_for("admin")
    c.post("/job_runs/run/")
    seen = []
    real_report = progress.report

    def spy(engine, run_id, label, done, total):
        real_report(engine, run_id, label, done, total)
        run = db.session.get(JobRun, run_id)
        seen.append(progress.describe(progress.read(engine, run)))

    monkeypatch.setattr(progress, "report", spy)
    db.session.commit()
    results = job_requests.carry_out_requests(db.engine)
    assert [r.ok for r in results] == [True]
    total = len(steps())
    assert seen == [f"第 {i + 1}/{total} 步:{progress.step_label(s)}" for i, s in enumerate(steps())]
    assert seen[0] == f"第 1/{total} 步:预收款到期冲抵" and any("月末快照" in s for s in seen)
    assert seen[1] == f"第 2/{total} 步:贷款状态、逾期天数与建议分类"
    db.session.expire_all()
    run = db.session.query(JobRun).one()
    assert run.outcome == "ok" and run.as_of == date.today()
    assert f"全部 {total} 步完成" in _page(c, "/job_runs/")


def test_a_failed_run_shows_the_step_it_failed_in(client_for, db, monkeypatch):
    from jobs.steps import warnings as warning_step

    def boom(ctx):
        raise RuntimeError("测试故障")

    step = [progress.step_label(s) for s in steps()].index("预警") + 1
    monkeypatch.setattr(warning_step, "run", boom)
    c = client_for("admin")
    c.post("/job_runs/run/")
    db.session.commit()
    results = job_requests.carry_out_requests(db.engine)
    assert results[0].outcome == "failed"
    html = _page(c, "/job_runs/")
    assert "失败" in html and f"第 {step}/{len(steps())} 步" in html and "测试故障" in html


def test_with_a_scheduler_process_running_the_page_says_nothing_is_missing(client_for, app, db, monkeypatch):
    monkeypatch.delenv("SERVER_SOFTWARE", raising=False)
    monkeypatch.setattr(scheduler, "run_job_for_today", lambda app: None)
    db.session.commit()
    assert not job_requests.scheduler_running(db.engine)
    s = scheduler.start_background_scheduler(app, run_now=False)
    try:
        assert s is not None and job_requests.scheduler_running(db.engine)
        c = client_for("admin")
        assert "调度进程未运行" not in _page(c, "/job_runs/")
        r = c.post("/job_runs/run/", follow_redirects=True)
        assert "调度进程将在几秒内开始运行" in r.get_data(as_text=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            db.session.expire_all()
            if db.session.query(JobRun).filter(JobRun.outcome == "ok").count():
                break
            time.sleep(0.5)
        assert db.session.query(JobRun).filter(JobRun.outcome == "ok").count() == 1
    finally:
        scheduler.stop_background_scheduler(app)
    assert not job_requests.scheduler_running(db.engine)


def test_only_one_scheduler_process_per_deployment(app, db):
    db.session.commit()
    held = job_requests.Presence(db.engine)
    try:
        import pytest

        with pytest.raises(scheduler.SchedulerAlreadyRunning):
            scheduler.run_scheduler(app)
    finally:
        held.release()


def test_only_admins_may_request_a_run(client_for, db):
    for role in ("officer", "risk_approver"):
        assert client_for(role).post("/job_runs/run/").status_code == 403
    assert db.session.query(JobRun).count() == 0
