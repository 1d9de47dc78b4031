"""Every CLI command (issue 15): exit status 0 on success, non-zero on failure with one line
saying why (no traceback), no secret printed; run-jobs fails loudly when the job fails
(cron and systemd notice); seed-demo, run-jobs and backup report progress (one line per step
when not on a terminal)."""
import os
import sqlite3

import pytest
from click.testing import CliRunner

from admin_app import create_app
from models import User


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def _one_line_failure(result):
    assert result.exit_code != 0, result.output
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert "Traceback" not in result.output
    return lines[-1]


def test_every_command_has_a_test(app):
    tested_here = {"init-db", "create-user", "seed-demo", "run-jobs", "scheduler", "backup", "snapshot"}
    tested_elsewhere = {"import": "tests/test_import_cli.py", "retention": "tests/test_retention.py"}
    ours = {name for name, cmd in app.cli.commands.items() if getattr(cmd.callback, "one_line_errors", False)}
    assert ours == tested_here | set(tested_elsewhere)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    assert all(os.path.exists(os.path.join(root, path)) for path in tested_elsewhere.values())


def test_init_db_prints_the_url_without_its_password(tmp_path, monkeypatch):
    url = "sqlite:///" + str(tmp_path / "fresh.db")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "UPLOAD_FOLDER": str(tmp_path / "up")})
    with app.app_context():  # not the suite's app, whose context the `db` fixture pushed
        result = app.test_cli_runner().invoke(args=["init-db"])
        from admin_app.extensions import db

        db.engine.dispose()
    assert result.exit_code == 0 and "数据库已就绪" in result.output
    from sqlalchemy.engine import make_url

    secret = make_url("postgresql://postloan:s3cr3t-pw@db:5432/postloan")
    assert "s3cr3t-pw" not in secret.render_as_string(hide_password=True)


def test_init_db_failure_is_one_line(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql://u:s3cr3t-pw@127.0.0.1:1/none",
                      "UPLOAD_FOLDER": str(tmp_path / "up")})
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["init-db"])
    line = _one_line_failure(result)
    assert "OperationalError" in line and "s3cr3t-pw" not in result.output


def test_create_user_applies_the_password_rules_and_never_echoes_the_password(cli, db):
    weak = cli.invoke(args=["create-user", "alice", "--role", "officer"], input="12345678\n12345678\n")
    assert weak.exit_code == 2 and "至少 10 位" in weak.output
    ok = cli.invoke(args=["create-user", "alice", "--role", "officer", "--role", "collector"],
                    input="Desk-key-2026x\nDesk-key-2026x\n")
    assert ok.exit_code == 0 and "Desk-key-2026x" not in ok.output
    assert "用户 alice 已保存" in ok.output
    user = db.session.query(User).filter_by(username="alice").one()
    assert user.roles == {"officer", "collector"} and user.check_password("Desk-key-2026x")
    bad_role = cli.invoke(args=["create-user", "bob", "--role", "boss"], input="x\nx\n")
    assert bad_role.exit_code == 2


def test_run_jobs_reports_each_step_and_exits_0(cli, db):
    db.session.commit()
    result = cli.invoke(args=["run-jobs", "--date", "2026-11-30"])
    assert result.exit_code == 0, result.output
    from jobs.progress import step_label
    from jobs.steps import steps

    total = len(steps())
    for done, step in enumerate(steps()):
        assert f"[{done}/{total} 步] 日终任务:{step_label(step)}" in result.output
    assert "日终任务完成" in result.output


def test_run_jobs_exits_1_with_the_reason_when_the_job_fails(cli, db, monkeypatch):
    from jobs.steps import warnings as warning_step

    def boom(ctx):
        raise RuntimeError("预警步骤故障")

    monkeypatch.setattr(warning_step, "run", boom)
    db.session.commit()
    result = cli.invoke(args=["run-jobs", "--date", "2026-11-30"])
    line = _one_line_failure(result)
    assert result.exit_code == 1 and "日终任务失败" in line and "预警步骤故障" in line


def test_run_jobs_refuses_a_bad_date_in_one_line(cli, db):
    result = cli.invoke(args=["run-jobs", "--date", "2026-13-01"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


def test_seed_demo_reports_its_steps(cli, db):
    from tests.conftest import _truncate_all

    _truncate_all()
    result = cli.invoke(args=["seed-demo", "--loans", "30", "--seed", "7", "--as-of", "2026-11-30"])
    assert result.exit_code == 0, result.output
    for label in ("演示账户", "客户、产品、贷款与还款", "日终任务", "月末快照"):
        assert label in result.output
    assert "演示数据已生成" in result.output


def test_seed_demo_refuses_a_negative_count(cli, db):
    assert cli.invoke(args=["seed-demo", "--loans", "-5"]).exit_code == 2


def test_backup_copies_with_progress_and_fails_in_one_line(cli, app, db, tmp_path):
    if db.engine.dialect.name != "sqlite":
        result = cli.invoke(args=["backup", str(tmp_path / "b.db")])
        assert "pg_dump" in _one_line_failure(result)
        return
    db.session.commit()
    target = tmp_path / "copy.db"
    result = cli.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert "复制数据页" in result.output and "备份完成" in result.output
    assert sqlite3.connect(target).execute("SELECT count(*) FROM user_account").fetchone()[0] == 7
    bad = cli.invoke(args=["backup", "/proc/no-such-dir/x.db"])
    assert "备份失败" in _one_line_failure(bad)


def test_scheduler_refuses_a_second_process_in_one_line(cli, db):
    from jobs.requests import Presence

    db.session.commit()
    held = Presence(db.engine)
    try:
        result = cli.invoke(args=["scheduler"])
    finally:
        held.release()
    assert "另一个调度进程正在运行" in _one_line_failure(result)


def test_snapshot_needs_a_month_and_runs_for_one(cli, db):
    assert cli.invoke(args=["snapshot"]).exit_code == 2
    db.session.commit()
    ok = cli.invoke(args=["snapshot", "--month-end", "2026-10-31"])
    assert ok.exit_code == 0, ok.output
    bad = cli.invoke(args=["snapshot", "--month-end", "2026-02-30"])
    assert bad.exit_code != 0 and "Traceback" not in bad.output


def test_progress_is_a_bar_on_a_terminal():
    import io

    from admin_app.cli_progress import StepProgress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = Tty()
    bar = StepProgress("测试", stream=out)
    for i in range(3):
        bar.update(f"步骤{i}", i, 3)
    bar.update("完成", 3, 3)
    bar.close()
    assert "3/3" in out.getvalue()
