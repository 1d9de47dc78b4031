"""`flask --app wsgi loan-quote LOAN_NO --date YYYY-MM-DD`: a loan's position and its
settlement quote (提前结清试算) on a date, as JSON — the same services.ledger figures as
贷款详情 shows (support staff use it)."""
from __future__ import annotations

import json
import sys
from datetime import date, datetime
from decimal import Decimal

import click
from sqlalchemy import select

from admin_app.extensions import db
from models import Loan
from services import BusinessError
from services import ledger


def _plain(value):
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def quote_document(loan: Loan, on: date) -> dict:
    """What the CLI prints: the loan, its position on `on` and the settlement quote."""
    pos = ledger.position(loan, on)
    doc = {"loan_no": loan.loan_no, "customer": loan.customer_name, "date": on.isoformat(),
           "position": {k: _plain(v) for k, v in pos.items() if k != "as_of"}}
    try:
        doc["settlement_quote"] = {k: _plain(v) for k, v in ledger.settlement_quote(loan, on).items()}
    except BusinessError as err:
        doc["settlement_quote"] = None
        doc["message"] = str(err)
    return doc


@click.command("loan-quote")
@click.argument("loan_no")
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="试算日期 YYYY-MM-DD(默认今天)")
def loan_quote_command(loan_no: str, on):
    """打印贷款在指定日期的余额与提前结清试算(JSON)。"""
    loan = db.session.scalar(select(Loan).where(Loan.loan_no == loan_no.strip()))
    if loan is None:
        click.echo(f"没有找到贷款编号为「{loan_no}」的贷款", err=True)
        sys.exit(2)
    day = on.date() if on else ledger.business_today()
    click.echo(json.dumps(quote_document(loan, day), ensure_ascii=False, indent=2))
