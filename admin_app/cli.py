"""CLI commands of SPEC §5: `flask --app wsgi init-db | seed-demo | create-user | run-jobs |
scheduler | backup | snapshot`."""
import functools
import sqlite3
import time
from datetime import date

import click
from flask import current_app
from flask.cli import with_appcontext

from admin_app import clock
from admin_app.cli_progress import StepProgress
from admin_app.extensions import db
from admin_app.permissions import ROLES


def init_schema() -> None:
    """Bring the schema to the newest migration (creates every table on a new database)."""
    from flask_migrate import upgrade

    upgrade()


@click.command("init-db")
@with_appcontext
def init_db_command():
    """创建或升级数据库结构(Alembic 迁移)。"""
    init_schema()
    # The URL without its password: command output ends up in logs.
    click.echo(f"数据库已就绪: {db.engine.url.render_as_string(hide_password=True)}")


@click.command("create-user")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(sorted(ROLES)))
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", default="")
@with_appcontext
def create_user_command(username, roles, password, display_name):
    """创建员工账户(可多个 --role)。"""
    from admin_app.auth import find_user
    from admin_app.passwords import password_problems
    from models.user import User

    problems = password_problems(password, username)
    if problems:
        raise click.BadParameter(";".join(problems), param_hint="--password")
    user = find_user(username)
    if user is None:
        user = User(username=username)
        db.session.add(user)
    user.display_name = display_name or username
    user.roles = roles
    user.set_password(password)
    db.session.commit()
    click.echo(f"用户 {username} 已保存,角色: {', '.join(ROLES[r] for r in roles)}")


@click.command("seed-demo")
@click.option("--loans", default=2000, show_default=True, type=int)
@click.option("--seed", "seed_value", default=42, show_default=True, type=int)
@click.option("--as-of", "as_of", default=None, help="演示数据的业务日期 YYYY-MM-DD(默认今天)")
@with_appcontext
def seed_demo_command(loans, seed_value, as_of):
    """生成确定性的演示贷款账簿与演示账户。"""
    from admin_app.seed import seed_demo

    started = time.perf_counter()
    as_of_date = _date_option(as_of, "--as-of")
    if loans < 0:
        raise click.BadParameter("贷款笔数不能为负", param_hint="--loans")
    bar = StepProgress("生成演示数据")
    try:
        summary = seed_demo(loans=loans, seed=seed_value, as_of=as_of_date, on_step=bar.update)
    finally:
        bar.close()
    click.echo(f"演示数据已生成({time.perf_counter() - started:.1f} 秒): {summary}")
    click.echo("演示账户(密码均为 demo12345): admin, officer, officer2, collector, "
               "risk_checker, risk_approver, reviewer")


@click.command("run-jobs")
@click.option("--date", "as_of", default=None, help="业务日期 YYYY-MM-DD(默认今天)")
@with_appcontext
def run_jobs_command(as_of):
    """运行一次日终任务:贷款状态、逾期天数、建议分类、全部预警。"""
    from jobs.daily import run_daily

    as_of_date = _date_option(as_of, "--date")
    bar = StepProgress("日终任务")
    try:
        result = run_daily(as_of_date, on_step=bar.update)
    finally:
        bar.close()
    if not result.ok:  # cron and systemd see the failure
        raise click.ClickException(result.describe().replace("\n", " "))
    click.echo(result.describe())


@click.command("retention")
@click.option("--date", "as_of", default=None, help="业务日期 YYYY-MM-DD(默认今天)")
@click.option("--dry-run", "dry", is_flag=True, help="只列出将被匿名化的客户,不修改数据")
@with_appcontext
def retention_command(as_of, dry):
    """个人信息保留期满的客户匿名化(日终任务也会运行);--dry-run 只列出名单。"""
    from jobs.retention import run_retention

    as_of_date = date.fromisoformat(as_of) if as_of else clock.business_date()
    report = run_retention(db.engine, as_of_date, dry)
    if dry:
        for c in report.customers:
            click.echo(f"{c['id']}\t{c['name']}\t贷款 {c['loans']} 笔\t最后结清/核销 {c['closed_on']}")
    click.echo(report.describe())


@click.command("scheduler")
@with_appcontext
def scheduler_command():
    """独立的调度进程:每日定时运行日终任务(每个部署只运行一个)。"""
    from jobs.scheduler import SchedulerAlreadyRunning, run_scheduler

    try:
        run_scheduler(current_app._get_current_object())
    except (SchedulerAlreadyRunning, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


@click.command("backup")
@click.argument("target")
@with_appcontext
def backup_command(target):
    """在线备份 SQLite 数据库到 TARGET(PostgreSQL 请用 pg_dump)。"""
    from admin_app.backup import backup_sqlite

    bar = StepProgress("备份", unit="页")
    try:
        path = backup_sqlite(db.engine, target, on_pages=lambda done, total: bar.update("复制数据页", done, total))
    except (RuntimeError, OSError, sqlite3.Error) as exc:
        raise click.ClickException(f"备份失败 / backup failed: {exc}") from None
    finally:
        bar.close()
    click.echo(f"备份完成: {path}")


@click.command("snapshot")
@click.option("--month-end", "month_end", default=None, help="重算该月末的快照 YYYY-MM-DD")
@click.option("--last", "last", default=0, type=int, help="重算最近 N 个已过去的月末")
@with_appcontext
def snapshot_command(month_end, last):
    """按历史记录重算月末快照(五级分类统计、迁徙、账龄的数据来源)。"""
    from services import BusinessError
    from services.snapshots import rebuild, rebuild_last, today

    if not month_end and not last:
        raise click.UsageError("请给出 --month-end YYYY-MM-DD 或 --last N")
    try:
        results = [rebuild(date.fromisoformat(month_end), "命令行")] if month_end else \
            rebuild_last(last, today(), "命令行")
    except (BusinessError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    for result in results:
        click.echo(result.describe())


def _date_option(value: str | None, hint: str) -> date:
    if not value:
        return clock.business_date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"日期格式应为 YYYY-MM-DD,收到 {value!r}", param_hint=hint) from None


def one_line_errors(callback):
    """Any failure ends the command with exit status 1 and one line saying why (no traceback,
    no secret: database errors are named by their class and first line only)."""
    @functools.wraps(callback)
    def wrapper(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except (click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the reason is reported, the status is 1
            first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
            raise click.ClickException(f"{type(exc).__name__}: {first[:300]}") from None
    wrapper.one_line_errors = True
    return wrapper


COMMANDS = (init_db_command, create_user_command, seed_demo_command, run_jobs_command,
            scheduler_command, backup_command, snapshot_command, retention_command)


def register_cli(app) -> None:
    from services.ledger_cli import loan_quote_command

    app.cli.add_command(loan_quote_command)
    from admin_app.import_cli import import_command

    for cmd in COMMANDS + (import_command,):
        if not getattr(cmd.callback, "one_line_errors", False):
            cmd.callback = one_line_errors(cmd.callback)
        app.cli.add_command(cmd)
