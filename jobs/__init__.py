"""The daily job (日终任务) and its scheduling.

- daily.run_daily(as_of): one run for a business date — loan positions, states and
  suggested classes, then all six warning kinds — in one transaction, recorded in job_run.
- steps/: the set-based SQL of each step (no Python loop over loans).
- lock: one run at a time (PostgreSQL advisory lock, a lock file beside a SQLite database).
- scheduler: the dedicated APScheduler process, and the development server's background one.
"""
