"""The demo book (a small one) exported as the admin — every importable screen by its
完整信息导出, the loans' 利率调整记录, 展期记录 and 核销记录 by their import kind — and imported
into an empty database gives the same 首页 and the same figures on every loan after the daily
job of the same date (bench/import_round_trip.py; the benchmark runs the full demo book).

Two SQLite files of their own (a source and a target database), whatever TEST_DATABASE_URL
says."""
from datetime import date

from bench.import_round_trip import ORDER, round_trip

LOANS = 90


def test_demo_book_round_trip_gives_the_same_home_page_and_loan_figures(tmp_path):
    as_of = date.today()
    out = round_trip(LOANS, f"sqlite:///{tmp_path / 'source.db'}", f"sqlite:///{tmp_path / 'target.db'}", as_of,
                     say=lambda *_: None)
    before, after = out["loans_before"], out["loans_after"]
    for kind in ORDER:
        result = out["outcomes"][kind].result
        assert result.committed and not result.error_rows, (kind, [(r.number, r.errors) for r in result.error_rows][:5])
    # Every loan and its history came back: rate changes, extensions and write-offs included.
    for kind in ("rate_changes", "extensions", "write_offs"):
        assert out["outcomes"][kind].result.counts["create"] > 0, kind
    assert set(after) == set(before)
    assert {no: (before[no], after[no]) for no in before if after[no] != before[no]} == {}
    assert out["after"] == out["before"]  # 首页: loans and balance by status, by class, aging
