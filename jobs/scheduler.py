"""Scheduling of the daily job.

- run_scheduler(app): the dedicated process (`flask --app wsgi scheduler`, one per
  deployment beside the gunicorn web workers): an APScheduler BlockingScheduler running the
  daily job every day at app.config["JOB_DAILY_AT"] (HH:MM, in app.config["JOB_TIMEZONE"],
  default DISPLAY_TIMEZONE: the business zone, not the server's).
- start_background_scheduler(app): for the development server only — runs the job once at
  start, then daily. It starts only when called explicitly, never under gunicorn, once per
  process, and not in the parent process of the Werkzeug reloader.
Two schedulers firing at once are harmless: the run lock (jobs.lock) lets one run."""
from __future__ import annotations

import logging
import os
import sys
import threading
from datetime import datetime, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

log = logging.getLogger(__name__)
JOB_ID = "daily_job"
_background = None
_background_lock = threading.Lock()


def daily_at(app) -> tuple[int, int]:
    value = str(app.config.get("JOB_DAILY_AT") or "01:30")
    try:
        hh, mm = value.split(":")
        hour, minute = int(hh), int(mm)
        if not (0 <= hour < 24 and 0 <= minute < 60):
            raise ValueError
    except ValueError:
        raise ValueError(f"JOB_DAILY_AT 应为 HH:MM(如 01:30),当前为 {value!r}") from None
    return hour, minute


def run_job_for_today(app):
    """Run the daily job for today's date in an app context and log its summary."""
    from jobs.daily import run_daily

    with app.app_context():
        from admin_app import clock

        result = run_daily(clock.business_date())
    (log.info if result.ok else log.warning)("%s", result.describe())
    return result


def pick_up_requests(app):
    """Carry out the 立即运行 requests waiting in job_run (every POLL_SECONDS)."""
    from jobs.requests import carry_out_requests

    with app.app_context():
        from admin_app.extensions import db

        for result in carry_out_requests(db.engine):
            (log.info if result.ok else log.warning)("%s", result.describe())


def _add_request_poll(scheduler, app) -> None:
    from apscheduler.triggers.interval import IntervalTrigger

    from jobs.requests import POLL_SECONDS

    scheduler.add_job(pick_up_requests, IntervalTrigger(seconds=POLL_SECONDS), args=(app,),
                      id=JOB_ID + "_requests", name="立即运行请求", max_instances=1, coalesce=True,
                      replace_existing=True)


def _presence(app):
    from jobs.requests import Presence

    with app.app_context():
        from admin_app.extensions import db

        return Presence(db.engine)


def job_zone(app) -> str:
    """The zone of JOB_DAILY_AT: JOB_TIMEZONE, else the business zone (DISPLAY_TIMEZONE)."""
    return app.config.get("JOB_TIMEZONE") or app.config["DISPLAY_TIMEZONE"]


def _add_daily(scheduler, app, **extra) -> None:
    hour, minute = daily_at(app)
    trigger = CronTrigger(hour=hour, minute=minute, timezone=job_zone(app))
    scheduler.add_job(run_job_for_today, trigger, args=(app,), id=JOB_ID, name="日终任务",
                      max_instances=1, coalesce=True, misfire_grace_time=6 * 3600,
                      replace_existing=True, **extra)


def run_scheduler(app) -> None:
    """Block forever, running the daily job daily. Ctrl-C or SIGTERM stops it."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    from jobs.lock import JobAlreadyRunning

    try:
        presence = _presence(app)
    except JobAlreadyRunning:
        raise SchedulerAlreadyRunning("另一个调度进程正在运行(每个部署只运行一个) / "
                                      "another scheduler process is running") from None
    scheduler = BlockingScheduler(timezone=job_zone(app))
    _add_daily(scheduler, app)
    _add_request_poll(scheduler, app)
    hour, minute = daily_at(app)
    print(f"日终任务调度已启动:每天 {hour:02d}:{minute:02d} 运行,并执行页面上的「立即运行」请求(Ctrl-C 退出)",
          flush=True)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        presence.release()


class SchedulerAlreadyRunning(RuntimeError):
    pass


def _refuse_reason(app) -> str | None:
    if "gunicorn" in os.environ.get("SERVER_SOFTWARE", "") or "gunicorn" in sys.modules:
        return "gunicorn web workers never run the scheduler; run `flask --app wsgi scheduler`"
    if app.debug and os.environ.get("WERKZEUG_RUN_MAIN") != "true" and "werkzeug.serving" in sys.modules:
        return "reloader parent process"
    return None


def start_background_scheduler(app, *, run_now: bool = True):
    """Start (once per process) a background scheduler running the job now and daily.
    Returns the scheduler, or None when this process must not run one."""
    global _background
    reason = _refuse_reason(app)
    if reason:
        log.info("background scheduler not started: %s", reason)
        return None
    with _background_lock:
        if _background is not None:
            return _background
        from jobs.lock import JobAlreadyRunning

        try:
            app.extensions["postloan_scheduler_presence"] = _presence(app)
        except JobAlreadyRunning:
            log.info("background scheduler not started: a scheduler process is running")
            return None
        scheduler = BackgroundScheduler(timezone=job_zone(app), daemon=True)
        _add_daily(scheduler, app)
        _add_request_poll(scheduler, app)
        if run_now:
            scheduler.add_job(run_job_for_today, args=(app,), id=JOB_ID + "_at_start",
                              name="日终任务(启动时)", next_run_time=datetime.now(timezone.utc))
        scheduler.start()
        _background = scheduler
        return scheduler


def stop_background_scheduler(app=None) -> None:
    global _background
    with _background_lock:
        if _background is not None:
            _background.shutdown(wait=False)
            _background = None
        presence = app.extensions.pop("postloan_scheduler_presence", None) if app is not None else None
        if presence is not None:
            presence.release()
