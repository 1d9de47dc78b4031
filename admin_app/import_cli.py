"""`flask --app wsgi import KIND FILE [--commit] [--skip-invalid]`: the screens' import for
large migrations, with the same checks. Without --commit it previews (writes nothing);
--commit imports all rows or none; with --skip-invalid it imports the valid rows. The error
report is written beside the file; the exit code is 0 only when no row was refused."""
import os

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from admin_app.extensions import db

SHOWN_ERRORS = 30


@click.command("import")
@click.argument("kind", type=click.Choice(["customers", "bank_cards", "credit_lines", "loans", "rate_changes",
                                           "extensions", "repayments", "write_offs", "guarantors",
                                           "collaterals"]))
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--commit", is_flag=True, help="写入数据库(不加则只预览)")
@click.option("--skip-invalid", is_flag=True, help="仅导入无误的行(默认:有任何错误则全部不导入)")
@click.option("--refresh", is_flag=True,
              help="导入后立即运行日终任务(状态、建议分类、预警);贷款不再逐笔计算状态,大批量导入更快")
@click.option("--user", "username", default=None, help="记为导入人的用户名(默认 system)")
@with_appcontext
def import_command(kind, path, commit, skip_invalid, refresh, username):
    """导入客户、银行卡、授信、贷款、利率调整记录、展期记录、还款记录、核销记录、担保人或抵质押物(.xlsx 或 .csv)。"""
    from models import User
    from services.importing import FileRefused, import_path
    from services.importing.engine import ACTIONS
    from services.importing.reading import XLSX_MAGIC

    user = None
    if username:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"用户 {username} 不存在")
    mode = ("valid" if skip_invalid else "all") if commit else "preview"
    with open(path, "rb") as fh:
        ext = "xlsx" if fh.read(len(XLSX_MAGIC)) == XLSX_MAGIC else "csv"
    target = f"{os.path.splitext(path)[0]}_错误报告.{ext}"
    # The file is streamed: checked and written in chunks, each refused row written to the
    # report as it is found (services.importing.import_path).
    with click.progressbar(length=1, label="导入中", show_pos=True, show_percent=True) as bar:
        try:
            outcome = import_path(kind, path, user=user, mode=mode, refresh=refresh, report_path=target,
                                  report_folder=current_app.config["UPLOAD_FOLDER"], progress=_Progress(bar))
        except FileRefused as err:
            db.session.rollback()
            click.echo(f"无法导入 {path}:{err}", err=True)
            raise SystemExit(1)
    result = outcome.result
    click.echo(outcome.message)
    counts = result.counts
    click.echo("、".join(f"{ACTIONS[k]} {counts[k]}" for k in ACTIONS) + f"(共 {result.row_count} 行)")
    if result.extra_headers:
        click.echo("忽略的列(不在模板中):" + "、".join(result.extra_headers))
    if result.file_error:
        raise SystemExit(1)
    for number, text in result.first_errors[:SHOWN_ERRORS]:
        click.echo(f"  第 {number} 行:{text}", err=True)
    if result.error_count > SHOWN_ERRORS:
        click.echo(f"  ……另有 {result.error_count - SHOWN_ERRORS} 行错误,见错误报告", err=True)
    if result.error_count:
        click.echo(f"错误报告:{target}", err=True)
        raise SystemExit(2)


class _Progress:
    """Feeds click's progress bar: its length once the rows are read, then rows as they are written."""

    def __init__(self, bar):
        self.bar = bar

    def begin(self, total: int) -> None:
        self.bar.length = max(total, 1)

    def __call__(self, n: int) -> None:
        self.bar.update(n)
