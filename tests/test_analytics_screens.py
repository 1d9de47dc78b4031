"""The portfolio report screens through the test client: who may open them, figures that
reconcile with the snapshot summed loan by loan (to the cent), the loans behind a figure,
exports with the as-of date and filters in the first rows, and the 100.01% share finding."""
import csv
import io
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from admin_app.extensions import db as _db
from jobs.daily import run_daily
from models import PortfolioSnapshot
from models.enums import FIVE_CLASSES, OPEN_LOAN_STATUSES
from models.portfolio_math import largest_remainder_shares
from services import snapshots
from tests import book_factory as f
from tests import review_factory as make

D = Decimal
AS_OF = date(2025, 6, 30)
REPORTS = ("/classification_stats/", "/classification_migration/", "/overdue_ageing/", "/vintage/",
           "/writeoff_recovery/", "/snapshot_loans/", "/portfolio_loans/")


@pytest.fixture
def seeded(db):
    """A seeded book as of 2025-06-30 (the daily job writes that month-end) and the two
    month-ends before it rebuilt from history."""
    from admin_app.seed import book

    book.run(loans=150, seed=5, as_of=AS_OF)
    db.session.commit()
    assert run_daily(AS_OF).ok
    for day in (date(2025, 4, 30), date(2025, 5, 31)):
        snapshots.rebuild(day, "测试", as_of=date(2025, 7, 1))
    return AS_OF


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def _table(rows, title_start: str) -> tuple[list[str], list[list[str]]]:
    """(header, body rows) of the exported table whose title row starts with title_start."""
    at = next(i for i, r in enumerate(rows) if r and r[0].startswith(title_start))
    body = []
    for r in rows[at + 2:]:
        if not r:
            break
        body.append(r)
    return rows[at + 1], body


def _snapshot_rows(month: date):
    return _db.session.execute(select(PortfolioSnapshot).where(
        PortfolioSnapshot.month_end == month, PortfolioSnapshot.status.in_(OPEN_LOAN_STATUSES))).unique().scalars().all()


@pytest.mark.parametrize("url", REPORTS)
def test_reports_open_for_admin_and_risk_staff_and_refuse_others(client_for, url):
    for who in ("admin", "risk_approver", "risk_checker", "reviewer"):
        assert client_for(who).get(url).status_code == 200, (who, url)
    for who in ("officer", "collector"):
        assert client_for(who).get(url).status_code == 403, (who, url)
    if "loans" not in url:
        assert client_for("collector").get(url + "export/csv/").status_code == 403
        assert client_for("risk_checker").get(url + "export/xlsx/").status_code == 200


def test_class_statistics_reconcile_loan_by_loan(client_for, seeded):
    rows = _snapshot_rows(AS_OF)
    per_class = defaultdict(lambda: [0, D("0.00")])
    per_product = defaultdict(lambda: D("0.00"))
    for r in rows:
        per_class[r.five_class][0] += 1
        per_class[r.five_class][1] += D(r.outstanding_principal).quantize(D("0.01"))
        per_product[r.product.name] += D(r.outstanding_principal).quantize(D("0.01"))
    total = sum((v[1] for v in per_class.values()), D("0.00"))
    npl = sum((per_class[c][1] for c in (3, 4, 5)), D("0.00"))
    c = client_for("risk_approver")
    exported = _csv(c.get(f"/classification_stats/export/csv/?as_of={AS_OF}&by=product"))
    assert exported[0] == ["五级分类统计"] and exported[1] == ["统计时点", "2025-06-30 月末"]
    assert exported[2] == ["分组", "按贷款产品"]
    _head, body = _table(exported, "五级分类统计(")
    for code, label in FIVE_CLASSES.items():
        line = next(b for b in body if b[0] == label)
        assert (int(line[1]), D(line[3])) == (per_class[code][0], per_class[code][1]), label
    assert sum(D(b[2]) for b in body[:5]) == D("100.00") and sum(D(b[4]) for b in body[:5]) == D("100.00")
    total_line = next(b for b in body if b[0] == "合计")
    assert (int(total_line[1]), D(total_line[3])) == (len(rows), total)
    npl_line = next(b for b in body if b[0] == "不良贷款")
    assert D(npl_line[3]) == npl and D(npl_line[4]) == (npl * 100 / total).quantize(D("0.01"))
    _head, groups = _table(exported, "按贷款产品(")
    assert {g[0]: D(g[2]) for g in groups} == dict(per_product)
    _head, trend = _table(exported, "不良贷款率趋势")
    assert [t[0] for t in trend] == ["2025-06-30", "2025-05-31", "2025-04-30"]
    assert D(trend[0][1]) == total and D(trend[0][-2]) == npl


def test_ageing_and_migration_reconcile_loan_by_loan(client_for, seeded):
    rows = _snapshot_rows(AS_OF)
    per_bucket = defaultdict(lambda: D("0.00"))
    for r in rows:
        per_bucket[r.bucket] += D(r.outstanding_principal).quantize(D("0.01"))
    c = client_for("admin")
    _head, body = _table(_csv(c.get(f"/overdue_ageing/export/csv/?as_of={AS_OF}")), "逾期账龄·余额")
    total = body[-1]
    assert total[0] == "合计"
    assert [D(x) for x in total[1:7]] == [per_bucket[b] for b in range(6)]
    assert D(total[7]) == sum(per_bucket.values(), D("0.00"))
    # Migration May -> June: each start class's row total is May's class balance; the June
    # classes of the loans open in both months plus the new loans give June's balances.
    may = defaultdict(lambda: D("0.00"))
    for r in _snapshot_rows(date(2025, 5, 31)):
        may[r.five_class] += D(r.outstanding_principal).quantize(D("0.01"))
    exported = _csv(c.get("/classification_migration/export/csv/?start=2025-05-31&end=2025-06-30"))
    assert exported[1] == ["期初", "2025-05-31 月末"] and exported[2] == ["期末", "2025-06-30 月末"]
    _head, balances = _table(exported, "迁徙矩阵·期初余额")
    for code, label in FIVE_CLASSES.items():
        line = next(b for b in balances if b[0] == label)
        assert D(line[-1]) == may[code] == sum((D(x) for x in line[1:-1]), D("0.00")), label


def test_a_figure_opens_exactly_the_loans_behind_it(client_for, seeded):
    c = client_for("risk_approver")
    html = c.get(f"/classification_stats/?as_of={AS_OF}").get_data(as_text=True)
    assert f"/snapshot_loans/?q_five_class=3&amp;q_month={AS_OF}" in html
    listed = _csv(c.get(f"/snapshot_loans/export/csv/?q_five_class=3&q_month={AS_OF}"))[1:]
    expected = [r for r in _snapshot_rows(AS_OF) if r.five_class == 3]
    assert len(listed) == len(expected) > 0
    header = _csv(c.get(f"/snapshot_loans/export/csv/?q_five_class=3&q_month={AS_OF}"))[0]
    col = header.index("剩余本金(核销为核销本金)")
    assert sum(D(r[col]) for r in listed) == sum(D(r.outstanding_principal).quantize(D("0.01")) for r in expected)
    # 迁徙 cells: the loans that were 正常 at May's end and 关注 at June's.
    moved = _csv(c.get("/snapshot_loans/export/csv/?q_month=2025-05-31&q_five_class=1&q_moved_to=2025-06-30:2"))[1:]
    june = {r.loan_id: r.five_class for r in _snapshot_rows(AS_OF)}
    may_normal = [r.loan_id for r in _snapshot_rows(date(2025, 5, 31)) if r.five_class == 1]
    assert len(moved) == sum(1 for i in may_normal if june.get(i) == 2)
    # 「今日」 figures open the loans as they are now.
    assert "/portfolio_loans/?q_five_class=1" in c.get("/classification_stats/?as_of=today").get_data(as_text=True)


def test_shares_add_up_to_exactly_100_percent(client_for, db):
    """The finding: 4 正常, 1 关注, 1 次级 loans — each share rounded on its own gives
    66.67 + 16.67 + 16.67 = 100.01%. Largest remainder: 66.67 + 16.67 + 16.66 = 100.00%."""
    rounded_alone = [(D(n) * 100 / 6).quantize(D("0.01")) for n in (4, 1, 1)]
    assert sum(rounded_alone) == D("100.01")
    assert largest_remainder_shares([4, 1, 1, 0, 0]) == [D("66.67"), D("16.67"), D("16.66"), D("0.00"), D("0.00")]
    for _ in range(4):
        make.loan(five_class=1, principal="1000.00")
    make.loan(five_class=2, principal="1000.00", days_overdue=10)
    make.loan(five_class=3, principal="1000.00", days_overdue=100)
    _db.session.commit()
    _head, body = _table(_csv(client_for("admin").get("/classification_stats/export/csv/?as_of=today")), "五级分类统计(")
    assert [b[2] for b in body[:5]] == ["66.67", "16.67", "16.66", "0.00", "0.00"]
    assert sum(D(b[2]) for b in body[:5]) == D("100.00") == sum(D(b[4]) for b in body[:5])


def test_xlsx_has_numbers_as_numbers_and_neutralised_text(client_for, db):
    prod = f.product("=HYPERLINK(\"http://x\",\"点我\")")
    f.active_loan(prod=prod)
    _db.session.commit()
    x = client_for("admin").get("/classification_stats/export/xlsx/?as_of=today&by=product")
    assert x.status_code == 200 and x.data[:2] == b"PK"
    ws = load_workbook(io.BytesIO(x.data)).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0][0] == "五级分类统计" and values[1][:2] == ["统计时点", "今日(实时)"]
    assert values[2][:2] == ["分组", "按贷款产品"]
    normal = next(v for v in values if v[0] == "正常")
    assert normal[1] == 1 and isinstance(normal[3], (int, float)) and normal[3] == 120000
    assert any(v[0] == "'=HYPERLINK(\"http://x\",\"点我\")" for v in values)


def test_only_admins_rebuild_a_past_month_end(client_for, db, monkeypatch):
    f.book()
    monkeypatch.setattr(snapshots, "today", lambda: date(2025, 7, 10))
    refused = client_for("risk_approver").post("/classification_stats/rebuild", data={"month_end": "2025-06-30"})
    assert refused.status_code == 403
    admin = client_for("admin")
    assert admin.post("/classification_stats/rebuild", data={"month_end": "2025-06-30"}, csrf=False).status_code == 400
    done = admin.post("/classification_stats/rebuild", data={"month_end": "2025-06-30"})
    assert done.status_code == 302 and "as_of=2025-06-30" in done.headers["Location"]
    assert [m.month_end for m in snapshots.months()] == [date(2025, 6, 30)]
    page = admin.get(done.headers["Location"]).get_data(as_text=True)
    assert "月末快照已重算" in page and "按历史记录重算" in page
    wrong = admin.post("/classification_stats/rebuild", data={"month_end": "2025-06-29"}, follow_redirects=True)
    assert "不是月末日期" in wrong.get_data(as_text=True)


def test_vintage_and_writeoff_screens_show_the_seeded_months(client_for, seeded):
    c = client_for("admin")
    _head, body = _table(_csv(c.get("/vintage/export/csv/")), "曾逾期30天以上本金占比")
    assert body and all(len(b) == len(_head) for b in body)
    exported = _csv(c.get("/writeoff_recovery/export/csv/"))
    _head, months = _table(exported, "核销与收回(按月)")
    assert len(months) == 13 and months[-1][0] == "合计"


@pytest.mark.skipif(not __import__("shutil").which("soffice"), reason="LibreOffice (soffice) not installed")
@pytest.mark.parametrize("report", ["/classification_stats/", "/classification_migration/", "/overdue_ageing/",
                                    "/vintage/", "/writeoff_recovery/"])
def test_libreoffice_opens_each_report_xlsx_with_the_csv_figures(client_for, seeded, tmp_path, report):
    import subprocess

    c = client_for("admin")
    (tmp_path / "r.xlsx").write_bytes(c.get(report + "export/xlsx/").get_data())
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to",
                    "csv:Text - txt - csv (StarCalc):44,34,76", "r.xlsx", "--outdir", str(tmp_path)],
                   cwd=tmp_path, check=True, capture_output=True, timeout=120)
    theirs = list(csv.reader(io.StringIO((tmp_path / "r.csv").read_text("utf-8"))))
    ours = _csv(c.get(report + "export/csv/"))
    assert len(theirs) == len(ours)
    for a, b in zip(ours, theirs):
        if a and a[0] == "导出时间":
            continue
        b = b[:len(a)] if a else [x for x in b if x]
        assert len(b) == len(a) and all(x == y or D(x or 0) == D(y or 0) for x, y in zip(a, b)
                                        if x != y), (a, b)
