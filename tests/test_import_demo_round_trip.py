"""The demo book (a small one) exported as the admin — every importable screen by its
完整信息导出, the loans' 利率调整记录 and 展期记录 by their import kind — and imported into an
empty database gives the same 首页 and the same figures on every loan after the daily job
of the same date (bench/import_round_trip.py; the benchmark runs the full demo book).

Two SQLite files of their own (a source and a target database), whatever TEST_DATABASE_URL
says. Written-off loans are the one known gap: no import kind carries a write-off (its
approval record and date), so such a loan comes back overdue; the test names them."""
from datetime import date

from bench.import_round_trip import ORDER, round_trip

LOANS = 90


def test_demo_book_round_trip_gives_the_same_home_page_and_loan_figures(tmp_path):
    as_of = date.today()
    out = round_trip(LOANS, f"sqlite:///{tmp_path / 'source.db'}", f"sqlite:///{tmp_path / 'target.db'}", as_of,
                     say=lambda *_: None)
    before, after = out["loans_before"], out["loans_after"]
    written_off = {no for no, figures in before.items() if figures[0] == "written_off"}
    assert len(written_off) <= 2
    for kind in ORDER:
        result = out["outcomes"][kind].result
        assert result.committed, kind
        refused = [(r.number, r.errors) for r in result.error_rows
                   if r.values.get("loan_no") not in written_off]
        assert not refused, (kind, refused[:5])
    # Every loan and its history came back: rate changes and extensions included.
    assert out["outcomes"]["rate_changes"].result.counts["create"] > 0
    assert out["outcomes"]["extensions"].result.counts["create"] > 0
    assert set(after) == set(before)
    differ = {no for no in before if after[no] != before[no]}
    assert differ == written_off, {no: (before[no], after[no]) for no in differ - written_off}
    # 首页: every table equal, once the written-off loans' rows are set aside.
    home_before, home_after = out["before"], out["after"]
    if not written_off:
        assert home_after == home_before
    else:
        assert home_after["status"][:2] == home_before["status"][:2]  # 还款中, 已展期
        assert home_after["status"][3] == home_before["status"][3]  # 已结清
        assert [r for r in home_after["classes"][:4]] == [r for r in home_before["classes"][:4]]  # 正常…可疑
