"""Every list screen's total (the count query, which may phrase its filters differently for
speed) equals the number of rows the list itself selects, on a demo book with every state."""
import re
from datetime import date

from flask_login import login_user

from admin_app.screens import ScreenView
from admin_app.seed import seed_demo
from models import User


def test_every_screen_counts_exactly_the_rows_it_lists(app, db):
    seed_demo(loans=60, seed=5, as_of=date(2025, 6, 30))
    db.session.commit()
    views = [v for v in app.extensions["postloan_admin"]._views if isinstance(v, ScreenView)]
    assert len(views) > 20
    checked = 0
    for view in views:
        with app.test_request_context(f"/{view.endpoint}/"):
            login_user(db.session.query(User).filter_by(username="admin").one())
            listed = view.get_query().count()
            counted = view.get_count_query().scalar()
            assert counted == listed, view.endpoint
            checked += listed > 0
    assert checked > 15  # most screens have rows on the demo book


def test_deep_pages_select_the_same_rows_through_the_deferred_join(app, db, monkeypatch):
    """A deep page loads its ids first, then the rows: the same rows in the same order as a
    plain OFFSET, for every screen, sorted by default and by each sortable column."""
    seed_demo(loans=60, seed=5, as_of=date(2025, 6, 30))
    db.session.commit()
    views = [v for v in app.extensions["postloan_admin"]._views if isinstance(v, ScreenView)]
    checked = 0
    for view in views:
        with app.test_request_context(f"/{view.endpoint}/"):
            login_user(db.session.query(User).filter_by(username="admin").one())
            sorts = [(None, False)] + [(name, desc) for name, _ in view._sortable_columns.items()
                                       for desc in (False, True)]
            for column, desc in sorts:
                pages = {}
                for offset in (10**9, 0):  # plain OFFSET, then the deferred join from page 1
                    monkeypatch.setattr(view, "DEFERRED_JOIN_OFFSET", offset)
                    pages[offset] = [[r.id for r in view.get_list(page, column, desc, None, None, page_size=7)[1]]
                                     for page in (1, 2)]
                assert pages[0] == pages[10**9], (view.endpoint, column, desc)
                checked += bool(pages[0][0])
    assert checked > 40


def test_a_total_past_the_cap_reads_more_than_the_cap(client_for, db, monkeypatch):
    seed_demo(loans=60, seed=5, as_of=date(2025, 6, 30))
    db.session.commit()
    client = client_for("admin")
    exact = client.get("/query_active/").get_data(as_text=True)
    total = int(re.search(r"共 ([\d,]+) 条", exact).group(1).replace(",", ""))
    assert total > 10
    monkeypatch.setattr(ScreenView, "COUNT_CAP", 10)
    capped = client.get("/query_active/").get_data(as_text=True)
    assert "超过 10 条" in capped
    # Paging on past the cap never dead-ends: a full page offers the next one, and the total
    # reads the rows known to exist.
    monkeypatch.setattr(ScreenView, "page_size", 5)
    deep = total // 5 - 2  # a full page past the cap, with one more full page after it
    page = client.get(f"/query_active/?page={deep}").get_data(as_text=True)
    assert f"超过 {deep * 5:,} 条" in page and f"?page={deep + 1}&" in page
    monkeypatch.setattr(ScreenView, "COUNT_CAP", total)
    assert f"共 {total:,} 条" in client.get("/query_active/").get_data(as_text=True)
