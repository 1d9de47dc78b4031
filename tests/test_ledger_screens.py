"""Where the user meets the ledger's rules: 提前结清试算 on 贷款详情 (a date → principal,
interest, 罚息, 复利, fee, total), the `loan-quote` CLI printing the same figures as JSON,
the rule lines under the rate-change, extension and repayment forms and in the previews,
and a repayment on a written-off loan booked as 核销后收回."""
import json
from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from services import ledger
from services.loans import open_loan, post_repayment
from tests import book_factory as bf


@pytest.fixture
def loan(db, users):
    """等额本息 120,000 at 12% from 2026-01-15, period 1 paid on its due date."""
    product = bf.product("结清试算产品")
    customer = bf.customer("试算客户")
    loan = open_loan(customer=customer, product=product, principal=D("120000"), rate=D("12"), term_months=12,
                     start_date=date(2026, 1, 15), officer=users["officer"])
    post_repayment(loan, D("10661.85"), date(2026, 2, 15), users["officer"])
    db.session.commit()
    return loan


def test_loan_detail_shows_the_settlement_quote_for_the_chosen_date(client_for, loan):
    page = client_for("officer").get(f"/loan_detail/{loan.id}/?quote_date=2026-02-20").get_data(as_text=True)
    assert 'id="settlement-quote"' in page
    quote = ledger.settlement_quote(loan, date(2026, 2, 20))
    # as of 02-20 the loan is current (the 03-15 period not yet due): the 110,722.38
    assert quote["total"] == D("110722.38")
    table = page[page.index('id="settlement-quote"'):]
    table = table[:table.index("</table>")]
    # one money rule (admin_app.formats): thousands separators, right-aligned cells
    for label, value in (("本金", "110,538.15"), ("利息", "184.23"), ("结清合计", "110,722.38")):
        assert f"<th>{label}(元)</th>" in table and f'<td class="num">{value}</td>' in table
    assert ledger.rules()["prepayment"] in page and ledger.rules()["penalty"] in page


def test_loan_detail_refuses_a_bad_quote_date_with_a_message(client_for, loan):
    page = client_for("officer").get(f"/loan_detail/{loan.id}/?quote_date=2026-13-40").get_data(as_text=True)
    assert "试算日期格式不正确" in page and 'id="settlement-quote"' not in page
    page = client_for("officer").get(f"/loan_detail/{loan.id}/?quote_date=2020-01-01").get_data(as_text=True)
    assert "不能早于贷款起始日" in page


def test_loan_quote_cli_prints_the_figures_of_the_screen(app, loan):
    result = app.test_cli_runner().invoke(args=["loan-quote", loan.loan_no, "--date", "2026-02-20"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    quote = ledger.settlement_quote(loan, date(2026, 2, 20))
    assert doc["settlement_quote"] == {k: (f"{v:.2f}" if k != "date" else v.isoformat()) for k, v in quote.items()}
    assert doc["settlement_quote"]["total"] == "110722.38"
    pos = ledger.position(loan, date(2026, 2, 20))
    assert doc["position"]["outstanding_principal"] == f"{pos['outstanding_principal']:.2f}" == "110538.15"
    missing = app.test_cli_runner().invoke(args=["loan-quote", "DK-NONE", "--date", "2026-02-20"])
    assert missing.exit_code != 0 and "没有找到" in missing.output


def test_the_rules_are_stated_under_the_forms_and_in_the_previews(client_for, loan):
    c = client_for("officer")
    rules = ledger.rules()
    rate_form = c.get(f"/contract_change/rate/{loan.id}/").get_data(as_text=True)
    assert rules["rate_change"] in rate_form and rules["interest"] in rate_form and rules["penalty"] in rate_form
    ext_form = c.get(f"/contract_change/extension/{loan.id}/").get_data(as_text=True)
    assert rules["extension"] in ext_form
    effective = date.today()
    preview = c.post(f"/contract_change/rate/{loan.id}/", data={
        "new_rate": "9", "effective_date": effective.isoformat(), "reason": "利率下调", "preview": "1"})
    body = preview.get_data(as_text=True)
    assert rules["rate_change"] in body or "不能早于" in body
    repayment_form = c.get("/repayments/new/").get_data(as_text=True)
    assert rules["allocation"] in repayment_form and "缩短期限" in repayment_form and "减少月供" in repayment_form


def test_a_repayment_on_a_written_off_loan_is_a_recovery(db, loan, users):
    ledger.write_off(loan, date.today() - timedelta(days=10), users["risk_approver"])
    db.session.commit()
    recovery = post_repayment(loan, D("500"), date.today(), users["collector"])
    assert recovery.kind == "recovery" and loan.status == "written_off"
    assert ledger.recovered_total(loan) == D("500.00")
